# DC-ViT: which metric set chooses the blocks.
id = 'dcvit-metric'
ttl = 'DC-ViT: metric set of the block choice (ViT-s, remove 1.5 blocks of MACs)'
xl = 'metric set'
yl = 'test top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
