# DC-ViT: accuracy against the number of few-shot images.
id = 'dcvit-samples'
ttl = 'DC-ViT: number of few-shot images (ViT-s, remove 1.5 blocks of MACs)'
xl = 'few-shot images (data.train_n)'
yl = 'test top-1 (%)'
yl2 = ''
set logscale x
load 'plots/lib/curve.gp'
