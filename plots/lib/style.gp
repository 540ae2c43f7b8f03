# Shared look of every kdlab figure. The caller sets: id (table target), scale, ttl (title),
# xl (x axis label), yl (y axis label), yl2 (paper's axis label, or "" when none).
data = sprintf('results/%s/tables/%s.csv', scale, id)
set datafile separator ','
set terminal pngcairo size 960,560 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('plots/%s.png', id)
set title sprintf("%s\n{/*0.8 kdlab at scale %s: mean ± std over seeds, last epoch}", ttl, scale)
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#dddddd' lw 1 dt 1
set key top left box opaque samplen 2 spacing 1.2
set xlabel xl
set ylabel yl
set style line 1 lc rgb '#1f6fb4' lw 2 pt 7 ps 1.2
set style line 2 lc rgb '#d9541a' lw 2 pt 5 ps 1.2 dt 2
set style fill solid 0.75 border -1
