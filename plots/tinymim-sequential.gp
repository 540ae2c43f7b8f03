# TinyMIM: ours after fine-tuning (bars) beside the paper's ImageNet top-1 (right axis).
id = 'tinymim-sequential'
ttl = 'TinyMIM Table 11: teacher size and sequential distillation'
xl = ''
yl = 'Fashion-MNIST top-1 after fine-tune (%)'
yl2 = 'paper ImageNet top-1 (%)'
load 'plots/lib/bars.gp'
