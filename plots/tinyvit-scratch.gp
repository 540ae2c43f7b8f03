# TinyViT: from scratch vs pretraining distillation
id = 'tinyvit-scratch'
ttl = 'TinyViT: from scratch vs pretraining distillation'
xl = 'training'
yl = 'student test top-1 (%)'
yl2 = 'paper: TinyViT-5M IN-1k top-1 (%)'
load 'plots/lib/bars.gp'
