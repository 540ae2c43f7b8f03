# One bar per point (ours, with the seeds' std as an error bar) and, where the paper gives a
# number, its value as a marker on the right axis (another data set and scale: compare trends).
load 'plots/lib/style.gp'
set style data histogram
set boxwidth 0.6
set xtics rotate by -25 left noenhanced
set yrange [*:*]
stats data using 5 nooutput
lo = STATS_min - 3 * (STATS_max - STATS_min + 0.5)
set yrange [(lo > 0 ? lo : 0):STATS_max + 0.35 * (STATS_max - STATS_min + 1)]
if (strlen(yl2) > 0) {
    set y2label yl2
    set y2tics nomirror out
    set y2range [*:*]
}
if (strlen(yl2) > 0) {
    plot data using 0:5:xtic(1) every ::1 with boxes ls 1 title 'kdlab (ours)', \
         '' using 0:5:6 every ::1 with yerrorbars lc rgb '#222222' pt -1 notitle, \
         '' using 0:($7 == $7 ? $7 : 1/0) every ::1 axes x1y2 with points ls 2 ps 1.8 \
            title (strlen(yl2) > 0 ? 'paper (right axis)' : '')
} else {
    plot data using 0:5:xtic(1) every ::1 with boxes ls 1 title 'kdlab (ours)', \
         '' using 0:5:6 every ::1 with yerrorbars lc rgb '#222222' pt -1 notitle
}
set terminal svg size 960,560 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('plots/%s.svg', id)
replot
