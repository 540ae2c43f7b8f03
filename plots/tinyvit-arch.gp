# TinyViT architecture vs a ViT of similar MACs, both from scratch.
id = 'tinyvit-arch'
ttl = 'From scratch: TinyViT vs ViT of similar MACs'
xl = ''
yl = 'test top-1 (%)'
yl2 = 'paper IN-1k top-1 (%)'
load 'plots/lib/bars.gp'
