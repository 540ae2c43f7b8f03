# SEED queue length: linear probe against the number of queued teacher embeddings.
id = 'seed-queue'
ttl = 'SEED: queue length'
xl = 'queue length (seed.queue)'
yl = 'linear probe top-1 (%)'
yl2 = ''
load 'plots/lib/curve.gp'
