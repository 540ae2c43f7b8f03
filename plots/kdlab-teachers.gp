# Teacher zoo: test accuracy against width.
id = 'kdlab-teachers'
ttl = 'Supervised ViT teachers on Fashion-MNIST'
xl = 'width (model.dim)'
yl = 'test top-1 (%)'
yl2 = ''
load 'plots/lib/curve.gp'
