# DC-ViT's dense curve against PRACTISE's whole-block points on the 12-block ViT-d teacher.
id = 'dcvit-macs-deep'
ttl = 'Few-shot compression of ViT-d (12 blocks): DC-ViT (dense) vs PRACTISE (whole blocks)'
xl = 'MACs removed, in blocks of the original (1 block = 8.3% of ViT-d)'
yl = 'test top-1 (%)'
yl2 = ''
load 'plots/lib/style.gp'
dc = sprintf("< grep '^dcvit_' %s | sort -t, -k3 -g", data)
pr = sprintf("< grep '^practise_' %s | sort -t, -k3 -g", data)
orig = sprintf("< sed -n 2p results/%s/dcvit/macs_deep/dcvit_r1-s0.csv", scale)
set key top right
set xrange [-0.3:8.3]
set offsets 0, 0, graph 0.05, graph 0.05
set style line 3 lc rgb '#222222' pt 9 ps 1.6
plot dc using 3:5:6 with yerrorlines ls 1 title 'DC-ViT: attention removed, MLP narrowed', \
     pr using 3:5:6 with yerrorlines ls 2 title 'PRACTISE: whole blocks dropped', \
     orig using (0):($6 * 100) with points ls 3 title 'original ViT-d (seed 0)'
set terminal svg size 960,560 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('plots/%s.svg', id)
replot
