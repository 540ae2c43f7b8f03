# One marker per point (ours: mean with the seeds' std as an error bar) and, where the paper
# gives a number, its value on the right axis at the same scale (another data set: compare
# trends), a little right of ours so neither hides the other. Markers, not bars: the y axis
# does not start at zero, and a bar would exaggerate the gaps.
load 'plots/lib/style.gp'
set xtics rotate by 25 right noenhanced  # long names run left, into the y label's margin
# gnuplot reserves too little height for slanted names: an empty x label keeps the legend off them
if (strlen(xl) == 0) set xlabel ' '
load 'plots/lib/paper.gp'
set xrange [-0.5:LO_records - 0.5]
set grid xtics ytics lc rgb '#eeeeee'
if (npaper > 0) {
    plot data using 0:5:6:xtic(1) every ::1 with yerrorbars ls 1 ps 1.6 title 'kdlab (ours)', \
         '' using ($0 + 0.12):7 every ::1 axes x1y2 with points ls 3 ps 1.8 title paper_title
} else {
    plot data using 0:5:6:xtic(1) every ::1 with yerrorbars ls 1 ps 1.6 title 'kdlab (ours)'
}
load 'plots/lib/svg.gp'
