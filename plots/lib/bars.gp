# One marker per point (ours: mean with the seeds' std as an error bar) and, where the paper
# gives a number, its value on the right axis (another data set and scale: compare trends).
# Markers, not bars: the y axis does not start at zero, and a bar would exaggerate the gaps.
load 'plots/lib/style.gp'
set xtics rotate by -25 left noenhanced
stats data using 5 nooutput
pad = 0.5 * (STATS_max - STATS_min) + 0.5
lo = STATS_min - pad
if (exists('ymin0') && lo < 0) lo = 0  # a table of costs (seconds, bytes) never goes below zero
set yrange [lo:STATS_max + pad]
set xrange [-0.5:STATS_records - 0.5]
set grid xtics ytics lc rgb '#eeeeee'
if (strlen(yl2) > 0) {
    set y2label yl2
    set y2tics nomirror out
    set y2range [*:*]
    plot data using 0:5:6:xtic(1) every ::1 with yerrorbars ls 1 ps 1.6 title 'kdlab (ours)', \
         '' using 0:($7 == $7 ? $7 : 1/0) every ::1 axes x1y2 with points ls 2 ps 1.8 \
            title 'paper (right axis)'
} else {
    plot data using 0:5:6:xtic(1) every ::1 with yerrorbars ls 1 ps 1.6 title 'kdlab (ours)'
}
set terminal svg size 960,560 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('plots/%s.svg', id)
replot
