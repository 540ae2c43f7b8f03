# SEED Table 3: MoCo-v2 alone vs SEED from a short / long trained teacher.
id = 'seed-table3'
ttl = 'SEED Table 3: teacher training length'
xl = ''
yl = 'linear probe top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
