# TinyViT: from scratch vs pretraining distillation
id = 'tinyvit-scratch'
ttl = 'TinyViT: from scratch vs pretraining distillation'
xl = 'training'
yl = 'student test top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
