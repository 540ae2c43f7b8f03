# SEED teacher size: MoCo-v2 ViT-t vs ViT-s teacher for a ViT-t student.
id = 'seed-teacher'
ttl = 'SEED: teacher size'
xl = ''
yl = 'linear probe top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
