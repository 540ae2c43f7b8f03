# DC-ViT's dense curve against PRACTISE's whole-block points on the 12-block ViT-d teacher, with
# the paper's DeiT-B numbers at -16.6% of the MACs (2 of 12 blocks, as here) on the right axis.
id = 'dcvit-macs-deep'
ttl = 'Few-shot compression of ViT-d (12 blocks): DC-ViT (dense) vs PRACTISE (whole blocks)'
xl = 'MACs removed, in blocks of the original (1 block = 8.3% of ViT-d)'
yl = 'test top-1 (%)'
yl2 = 'paper: DeiT-B ImageNet top-1 (%)'
load 'plots/lib/style.gp'
dc = sprintf("< grep '^dcvit_' %s | sort -t, -k3 -g", data)
pr = sprintf("< grep '^practise_' %s | sort -t, -k3 -g", data)
ocsv = sprintf('results/%s/dcvit/macs_deep/dcvit_r1-s0.csv', scale)
orig = sprintf("< sed -n 2p %s", ocsv)
yalso = 100 * real(system(sprintf("sed -n 2p %s | cut -d, -f6", ocsv)))
load 'plots/lib/paper.gp'
set xrange [-0.3:8.3]
set style line 4 lc rgb '#222222' pt 9 ps 1.6
set style line 5 lc rgb '#1f6fb4' lw 2 pt 6 ps 2.2
set style line 6 lc rgb '#d9541a' lw 2 pt 4 ps 2.2
plot dc using 3:5:6 with yerrorlines ls 1 title 'DC-ViT: attention removed, MLP narrowed', \
     pr using 3:5:6 with yerrorlines ls 2 title 'PRACTISE: whole blocks dropped', \
     orig using (0):($6 * 100) with points ls 4 title 'original ViT-d (seed 0)', \
     dc using 3:7 axes x1y2 with points ls 5 title 'paper: DC-ViT (right axis, same scale)', \
     pr using 3:7 axes x1y2 with points ls 6 title 'paper: PRACTISE (right axis, same scale)'
load 'plots/lib/svg.gp'
