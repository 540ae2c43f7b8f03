# TinyViT: top-K stored soft labels (ViT-s teacher -> ViT-t student)
id = 'tinyvit-topk'
ttl = 'TinyViT: top-K stored soft labels (ViT-s teacher -> ViT-t student)'
xl = 'K (classes kept per record, of 10)'
yl = 'student test top-1 (%)'
yl2 = ''
load 'plots/lib/curve.gp'
