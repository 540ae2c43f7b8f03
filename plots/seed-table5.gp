# SEED Table 5: linear probe against the teacher temperature.
id = 'seed-table5'
ttl = 'SEED Table 5: teacher temperature'
xl = 'tau_T (seed.tau_t)'
yl = 'linear probe top-1 (%)'
yl2 = ''
logx = 1
load 'plots/lib/curve.gp'
