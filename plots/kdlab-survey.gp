# Survey: accuracy of every distillation method on one student (markers, left axis), the cost of
# its whole pipeline (grey bars, right axis), its model's MACs (label above each marker) and the
# ViT-s teacher's own test top-1 (dashed; at smoke on its own, larger test subset).
id = 'kdlab-survey'
ttl = 'Every kdlab distillation method: ViT-t student, supervised ViT-s teacher'
xl = 'method (pretraining points fine-tuned with labels for as many epochs as scratch)'
yl = 'test top-1 (%)'
yl2 = 'cost: wall seconds of the pipeline (teacher not counted)'
load 'plots/lib/style.gp'
set xtics rotate by -25 left noenhanced
# both stats before any range is set: stats skips values outside the current y range
stats data using 11 nooutput
cmax = STATS_max
stats data using 5 nooutput
tcsv = sprintf('results/%s/teachers/vit_s-s0.csv', scale)
tacc = 100 * real(system(sprintf("tail -1 %s 2>/dev/null | cut -d, -f5", tcsv)))
top = tacc > STATS_max ? tacc : STATS_max
pad = 0.6 * (top - STATS_min) + 0.5
set yrange [STATS_min - pad:top + pad]
set arrow from graph 0, first tacc to graph 1, first tacc nohead dt 2 lc rgb '#555555'
# the teacher's MACs: stage 0 (the original) of the dcvit point's CSV
tmacs = real(system(sprintf("sed -n 2p results/%s/survey/dcvit-s0.csv 2>/dev/null | cut -d, -f8", \
                            scale))) / 1e6
set label sprintf('ViT-s teacher %.1f%% (%.1fM MACs)', tacc, tmacs) at graph 0.01, first tacc \
    left offset 0,0.6 font ',9' tc rgb '#555555'
set y2range [0:cmax * 2.2]
set xrange [-0.6:STATS_records - 0.4]
set y2label yl2
set y2tics nomirror out
set grid noxtics ytics lc rgb '#eeeeee'
set boxwidth 0.5
set style fill solid 0.35 border rgb '#999999'
plot data using 0:11 every ::1 axes x1y2 with boxes lc rgb '#bbbbbb' title 'cost (right axis)', \
     '' using 0:5:6:xtic(1) every ::1 with yerrorbars ls 1 ps 1.6 title 'test top-1 (left axis)', \
     '' using 0:($5 + $6):(sprintf('%.1fM MACs', $10 / 1e6)) every ::1 with labels \
        offset 0,1.1 font ',9' tc rgb '#1f6fb4' notitle
load 'plots/lib/svg.gp'
