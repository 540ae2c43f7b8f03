# TinyMIM: ours after fine-tuning (bars) beside the paper's ImageNet top-1 (right axis).
id = 'tinymim-targets'
ttl = 'TinyMIM Table 8: what is distilled (ViT-T student)'
xl = ''
yl = 'Fashion-MNIST top-1 after fine-tune (%)'
yl2 = 'paper ImageNet top-1 (%)'
load 'plots/lib/bars.gp'
