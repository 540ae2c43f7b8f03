/* Progress of a long loop on stderr, for people only (numbers that matter go to the CSV). On a
 * terminal: one line redrawn in place with \r at most 4 times a second,
 *   "[stem] [=======>      ] 1,234/4,700 loss 0.412 1,830 img/s ETA 2:41"
 * Otherwise (make, logs, Slurm): "[stem] step 1,250/4,700 loss 0.408 1,822 img/s ETA 2:43"
 * every log_every steps (0: none). One bar at a time, process-wide: the loop's owner calls
 * progress_begin and progress_end, the step loop progress_step (a no-op with no bar begun), and
 * any line for the log goes through progress_printf so that it does not land inside the bar.
 * KD_PROGRESS=plain, TERM=dumb or a parallel make (make -j2) give plain lines on a terminal.
 * Nothing allocates. */
#ifndef KD_PROGRESS_H
#define KD_PROGRESS_H

#include <stdio.h>

/* A bar named `label` (shortened from the left to fit the terminal) for `total` steps, of
 * which `done` were finished before this process started (a resumed run). */
void progress_begin(const char *label, long total, long done, int log_every);
/* One step finished: its loss (NAN: none to show, e.g. a teacher's inference) and its images. */
void progress_step(float loss, int images);
/* A whole line on stderr (e.g. an epoch's summary): the bar is cleared first and redrawn at the
 * next step; the loss and images/s of the bar start again from here. */
void progress_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clear the bar and forget it. Safe to call when none is begun. */
void progress_end(void);

/* Tests: write to f instead of stderr, as a terminal of `width` columns (0: plain lines);
 * f NULL goes back to stderr. */
void progress_output(FILE *f, int width);

/* Helpers, exposed for tests: n with thousands separators ("1,830"), seconds as "h:mm:ss" or
 * "m:ss" ("?" when unknown). Both write at most cap bytes and return out. */
char *progress_fmt_count(char *out, size_t cap, double n);
char *progress_fmt_eta(char *out, size_t cap, double seconds);

#endif
