# TinyViT: soft labels with vs without ground truth
id = 'tinyvit-gt'
ttl = 'TinyViT: soft labels with vs without ground truth'
xl = 'loss'
yl = 'student test top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
