/* Training progress on stderr. On a terminal: one line redrawn in place (at most 10 times a
 * second), "[name] epoch 3/8 [=====>    ] 45% loss 0.412 1,830 img/s ETA 2:41". Otherwise
 * (logs, Slurm): one plain line every log_every steps and one per epoch. Progress is for people
 * only; numbers that matter go to the CSV. No allocation after progress_init. */
#ifndef KD_PROGRESS_H
#define KD_PROGRESS_H

#include <stdio.h>

struct progress {
    FILE *f;              /* stderr unless given */
    int tty;              /* 1: redraw in place (isatty at init; a caller may override) */
    char name[64];        /* shown in brackets */
    int epochs;           /* total epochs of the run */
    int steps;            /* steps per epoch */
    int batch;            /* images per step */
    int log_every;        /* plain mode: steps between lines (0: epoch lines only) */
    int first_epoch;      /* the epoch this process started at (resume), for the ETA */
    double t0;            /* monotonic seconds at the first step of this process */
    double t_epoch;       /* monotonic seconds at the start of the current epoch */
    double t_draw;        /* last redraw, for the 10 Hz limit */
    double loss_sum;      /* sum of losses over this epoch's steps so far */
    int loss_n;
    int epoch;            /* current epoch (0-based) */
    int drawn;            /* a bar is on screen and needs clearing before a plain line */
};

/* Set up p for a run of `epochs` epochs of `steps` steps of `batch` images. f NULL means stderr.
 * Environment KD_PROGRESS=plain forces plain lines on a terminal. */
void progress_init(struct progress *p, FILE *f, const char *name, int epochs, int steps,
                   int batch, int log_every);
/* Step `step` (0-based) of epoch `epoch` (0-based) finished with this loss. */
void progress_step(struct progress *p, int epoch, int step, float loss);
/* End of an epoch: clears the bar and prints "[name] epoch 3/8 " + the printf-style summary
 * (e.g. "loss 0.41 test_acc 0.873") + the epoch's seconds and images/s, as one line. */
void progress_epoch(struct progress *p, int epoch, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear a bar left on screen (call before printing anything else to stderr). */
void progress_clear(struct progress *p);

/* Helpers, exposed for tests: n with thousands separators ("1,830"), seconds as "h:mm:ss" or
 * "m:ss". Both write at most cap bytes and return out. */
char *progress_fmt_count(char *out, size_t cap, double n);
char *progress_fmt_eta(char *out, size_t cap, double seconds);

#endif
