# The MoCo-v2 teachers SEED distills: linear probe of each.
id = 'seed-teachers'
ttl = 'MoCo-v2 teachers (frozen features)'
xl = ''
yl = 'linear probe top-1 (%)'
yl2 = ''
load 'plots/lib/bars.gp'
