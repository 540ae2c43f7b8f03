# The paper's values beside ours, at the same scale. Ours (columns 5 and 6 of the summary CSV:
# mean, std) on the left axis; the paper's (column 7, NaN where it gives none) on the right
# axis, which is the left one shifted: another data set, so another offset, but one unit spans
# the same height on both, so a gap between two settings reads the same in ours and the paper's.
# Sets npaper (points with a paper value), the y range and the linked y2 axis. The caller may
# set yalso (a value the left axis must show too) and ymin0 (a cost: the axis starts at zero).
npaper = int(system(sprintf("awk -F, 'NR > 1 && $7 != \"NaN\"' %s | wc -l", data)))
stats data using ($5 - $6) nooutput name 'LO'
stats data using ($5 + $6) nooutput name 'HI'
lo = exists('yalso') && yalso < LO_min ? yalso : LO_min
hi = exists('yalso') && yalso > HI_max ? yalso : HI_max
span = hi - lo
if (npaper > 0) {
    stats data using 7 nooutput name 'PAPER'
    span = PAPER_max - PAPER_min > span ? PAPER_max - PAPER_min : span
}
span = 2 * span + 1
mid = (lo + hi) / 2
ylo = mid - span / 2
if (exists('ymin0') && ylo < 0) ylo = 0
set yrange [ylo:ylo + span]
# one round step on both axes (1, 2 or 5 times a power of ten), so the right axis reads in round
# numbers too whatever the shift
step = 10 ** floor(log10(span / 5.0))
r = span / 5.0 / step
step = step * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10)
set ytics step
if (npaper > 0) {
    shift = (PAPER_min + PAPER_max) / 2 - mid
    set link y2 via y + shift inverse y - shift
    set y2tics step nomirror out
    set y2label (strlen(yl2) > 0 ? yl2 : "paper's value (same units, right axis)") noenhanced
    set ylabel sprintf('kdlab: %s', yl) noenhanced
}
paper_title = "paper (right axis: same scale, shifted)"
