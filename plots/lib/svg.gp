# Load last: the figure drawn again as SVG beside its PNG (same name, same folder).
set terminal svg size 960,600 enhanced font 'DejaVu Sans,11' background '#ffffff'
set output sprintf('%s/%s.svg', figdir, id)
replot
