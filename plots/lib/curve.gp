# Ours against a numeric x (the catalogue's x key), with the paper's values on the right axis at
# the same scale. The caller may set logx = 1 (a log x axis; values a decade or more apart).
load 'plots/lib/style.gp'
set xtics nomirror
stats data using 3 nooutput name 'X'
if (exists('logx')) {
    set logscale x
    set format x '%g'
    set xrange [X_min / 1.5:X_max * 1.5]
} else {
    set offsets graph 0.03, graph 0.03, 0, 0
}
load 'plots/lib/paper.gp'
if (npaper > 0) {
    plot data using 3:5:6 every ::1 with yerrorlines ls 1 title 'kdlab (ours)', \
         '' using 3:7 every ::1 axes x1y2 with linespoints ls 2 title paper_title
} else {
    plot data using 3:5:6 every ::1 with yerrorlines ls 1 title 'kdlab (ours)'
}
load 'plots/lib/svg.gp'
