# Ours against a numeric x (the catalogue's x key), with the paper's values on the right axis.
load 'plots/lib/style.gp'
set xtics nomirror
if (strlen(yl2) > 0) {
    set y2label yl2
    set y2tics nomirror out
}
if (strlen(yl2) > 0) {
    plot data using 3:5:6 every ::1 with yerrorlines ls 1 title 'kdlab (ours)', \
         '' using 3:($7 == $7 ? $7 : 1/0) every ::1 axes x1y2 with linespoints ls 2 \
            title (strlen(yl2) > 0 ? 'paper (right axis)' : '')
} else {
    plot data using 3:5:6 every ::1 with yerrorlines ls 1 title 'kdlab (ours)'
}
set terminal svg size 960,560 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('plots/%s.svg', id)
replot
