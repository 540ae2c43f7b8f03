# Shared look of every kdlab figure. The caller sets: id (table target), scale, ttl (title),
# xl (x axis label), yl (y axis label), yl2 (paper's axis label, or "" for the default).
# The figure goes beside its scale's tables, results/<scale>/figures/<id>.png, so drawing one
# scale never replaces another's; its subtitle names the scale, the seeds of the table's summary
# CSV and the revision it was drawn from (KD_REVISION, which the Makefile exports).
data = sprintf('results/%s/tables/%s.csv', scale, id)
figdir = sprintf('results/%s/figures', scale)
system sprintf('mkdir -p %s', figdir)
set datafile separator ','
stats data using 4 nooutput name 'SEEDS'
seeds = SEEDS_min == SEEDS_max ? sprintf('%d seed%s', SEEDS_max, SEEDS_max == 1 ? '' : 's') : \
        sprintf('%d to %d seeds', SEEDS_min, SEEDS_max)
rev = system('printf %s "${KD_REVISION:-unknown}"')
set terminal pngcairo size 960,600 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('%s/%s.png', figdir, id)
set title sprintf("%s\n{/*0.8 kdlab at scale %s, %s (mean ± std, last epoch), revision %s}", \
                  ttl, scale, seeds, rev)
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#dddddd' lw 1 dt 1
# below the plot: a legend inside the frame would hide the points under it
set key outside below center horizontal nobox samplen 2 spacing 1.2 width 1
set xlabel xl noenhanced  # config keys (seed.tau_t) are names, not subscripts
set ylabel yl noenhanced
set style line 1 lc rgb '#1f6fb4' lw 2 pt 7 ps 1.2
set style line 2 lc rgb '#d9541a' lw 2 pt 5 ps 1.2 dt 2
set style line 3 lc rgb '#d9541a' lw 2 pt 9 ps 1.6
set style fill solid 0.75 border -1
