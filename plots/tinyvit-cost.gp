# TinyViT: stored soft labels vs teacher in the loop
id = 'tinyvit-cost'
ttl = 'TinyViT: stored soft labels vs teacher in the loop'
xl = 'labels'
yl = 'seconds per training epoch'
yl2 = ''
ymin0 = 1
load 'plots/lib/bars.gp'
