# Training speed against tokens (patch 7, 4, 2 at width 192) and width (96, 192, 384 at patch 4):
# kdlab and PyTorch (--malloc-tune, its faster setting here), same machine, same OpenBLAS, same
# run. Top: wall-clock images/s; bottom: CPU time per trained image, which a shared machine's
# load disturbs much less. Data: results/bench-scaling.csv from `make bench-scaling`; figure:
# results/bench-scaling.png beside it (generated files stay out of plots/).
data = 'results/bench-scaling.csv'
set datafile separator ','
set terminal pngcairo size 1200,900 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'results/bench-scaling.png'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set key top right box opaque samplen 2 spacing 1.2
set logscale xy 2
set style line 1 lc rgb '#1f6fb4' lw 2 pt 7 ps 1.2
set style line 2 lc rgb '#d9541a' lw 2 pt 5 ps 1.2 dt 2
th = system("awk -F, 'NR == 2 {print $2}' " . data)
ld = system("awk -F, 'NR > 1 {s += $12; n++} END {if (n) printf \"%.1f\", s / n}' " . data)
t1 = sprintf("Reference ViT (depth 6, batch 128, AdamW) training, %s threads", th)
rev = system('printf %s "${KD_REVISION:-unknown}"')
t2 = sprintf("load average %s during the run (other jobs share the machine); revision %s", ld, rev)
set multiplot layout 2,2 title sprintf("%s\n{/*0.8 %s}", t1, t2)
# rows of one engine: by tokens at width 192, or by width at 50 tokens
tokens(e) = sprintf("< awk -F, '$1 == \"%s\" && $5 == 192' %s | sort -t, -k4,4n", e, data)
width(e) = sprintf("< awk -F, '$1 == \"%s\" && $4 == 50' %s | sort -t, -k5,5n", e, data)
kd = 'kdlab'
pt = 'pytorch-mt'
ptt = 'PyTorch (--malloc-tune)'
set title 'against tokens (width 192; patch 7, 4, 2)'
set xlabel 'tokens per image (patches + CLS)'
set ylabel 'training images / s (wall clock)'
set xrange [12:256]
plot tokens(kd) using 4:7 with linespoints ls 1 title 'kdlab', \
     tokens(pt) using 4:7 with linespoints ls 2 title ptt
set title 'against width (patch 4: 50 tokens)'
set xlabel 'width (model.dim)'
set xrange [64:512]
plot width(kd) using 5:7 with linespoints ls 1 title 'kdlab', \
     width(pt) using 5:7 with linespoints ls 2 title ptt
set key top left
set title 'CPU time per trained image (all threads), against tokens'
set xlabel 'tokens per image (patches + CLS)'
set ylabel 'CPU ms / trained image'
set xrange [12:256]
plot tokens(kd) using 4:9 with linespoints ls 1 title 'kdlab', \
     tokens(pt) using 4:9 with linespoints ls 2 title ptt
set title 'CPU time per trained image (all threads), against width'
set xlabel 'width (model.dim)'
set xrange [64:512]
plot width(kd) using 5:9 with linespoints ls 1 title 'kdlab', \
     width(pt) using 5:9 with linespoints ls 2 title ptt
unset multiplot
