# DC-ViT: accuracy against the number of few-shot images.
id = 'dcvit-samples'
ttl = 'DC-ViT: number of few-shot images (ViT-s, remove 1.5 blocks of MACs)'
xl = 'few-shot images (data.train_n)'
yl = 'test top-1 (%)'
yl2 = ''
logx = 1
load 'plots/lib/curve.gp'
