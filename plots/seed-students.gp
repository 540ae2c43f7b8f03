# SEED students: MoCo-v2 alone vs SEED for ViT-t and ViT-xt (paper: EfficientNet-B0, MobileNetV3-L).
id = 'seed-students'
ttl = 'SEED vs MoCo-v2 alone, two student sizes'
xl = ''
yl = 'linear probe top-1 (%)'
yl2 = 'paper: ImageNet linear top-1 (%)'
load 'plots/lib/bars.gp'
