# TinyViT: teacher size -> distilled ViT-t student
id = 'tinyvit-teacher'
ttl = 'TinyViT: teacher size -> distilled ViT-t student'
xl = 'teacher'
yl = 'student test top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
