# Training speed against tokens (patch 7, 4, 2 at width 192) and width (96, 192, 384 at patch 4):
# kdlab and PyTorch (plain and --malloc-tune), same machine, same OpenBLAS, same run.
# Data: results/bench-scaling.csv from `make bench-scaling` (bin/bench --scaling).
data = 'results/bench-scaling.csv'
set datafile separator ','
set terminal pngcairo size 1200,520 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'plots/perf-scaling.png'
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set key top right box opaque samplen 2 spacing 1.2
set logscale xy 2
set style line 1 lc rgb '#1f6fb4' lw 2 pt 7 ps 1.2
set style line 2 lc rgb '#d9541a' lw 2 pt 5 ps 1.2 dt 2
set style line 3 lc rgb '#7a7a7a' lw 2 pt 9 ps 1.2 dt 3
th = system("awk -F, 'NR == 2 {print $2}' " . data)
ld = system("awk -F, 'NR > 1 {s += $12; n++} END {if (n) printf \"%.1f\", s / n}' " . data)
t1 = sprintf("Reference ViT (depth 6, batch 128, AdamW): training throughput, %s threads", th)
t2 = sprintf("load average %s during the run (wall clock: compare lines, not runs)", ld)
set multiplot layout 1,2 title sprintf("%s\n{/*0.8 %s}", t1, t2)
eng(e, dim) = (strcol(1) eq e && $5 == dim)
set title 'against tokens (width 192; patch 7, 4, 2)'
set xlabel 'tokens per image (patches + CLS)'
set ylabel 'training images / s'
set xrange [12:256]
plot data using 4:(eng('kdlab', 192) ? $7 : 1/0) every ::1 with linespoints ls 1 title 'kdlab', \
     '' using 4:(eng('pytorch', 192) ? $7 : 1/0) every ::1 with linespoints ls 2 title 'PyTorch', \
     '' using 4:(eng('pytorch-mt', 192) ? $7 : 1/0) every ::1 with linespoints ls 3 \
        title 'PyTorch --malloc-tune'
set title 'against width (patch 4: 50 tokens)'
set xlabel 'width (model.dim)'
set xrange [64:512]
set autoscale y
tok(e) = (strcol(1) eq e && $4 == 50)
plot data using 5:(tok('kdlab') ? $7 : 1/0) every ::1 with linespoints ls 1 title 'kdlab', \
     '' using 5:(tok('pytorch') ? $7 : 1/0) every ::1 with linespoints ls 2 title 'PyTorch', \
     '' using 5:(tok('pytorch-mt') ? $7 : 1/0) every ::1 with linespoints ls 3 \
        title 'PyTorch --malloc-tune'
unset multiplot
