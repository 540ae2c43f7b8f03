# SEED Table 4: l2, cosine, SEED + MoCo-v2, SEED.
id = 'seed-table4'
ttl = 'SEED Table 4: distillation strategies'
xl = ''
yl = 'linear probe top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
