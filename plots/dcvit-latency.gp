# Accuracy against measured latency of the compressed models (last row of each latency run).
id = 'dcvit-latency'
ttl = 'Few-shot compression of ViT-s: accuracy vs latency (batch 64, mean over runs)'
xl = 'latency (ms per batch of 64, 2 threads)'
yl = 'test top-1 (%)'
yl2 = ''
load 'plots/lib/style.gp'
runs(kind) = sprintf("< tail -q -n 1 results/%s/dcvit/latency/%s_*-s*.csv | sort -t, -k10 -g", \
                     scale, kind)
set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.05  # no point on the frame
plot runs('dcvit') using 10:($6 * 100) with linespoints ls 1 title 'DC-ViT', \
     runs('practise') using 10:($6 * 100) with linespoints ls 2 title 'PRACTISE'
load 'plots/lib/svg.gp'
