# TinyMIM: ours after fine-tuning (bars) beside the paper's ImageNet top-1 (right axis).
id = 'tinymim-relations'
ttl = 'TinyMIM Table 7: which relations'
xl = ''
yl = 'Fashion-MNIST top-1 after fine-tune (%)'
yl2 = 'paper ImageNet top-1 (%)'
load 'plots/lib/bars.gp'
