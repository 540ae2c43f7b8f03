/* The one training loop every kind of run goes through: supervised and distillation (fit.h),
 * MAE and TinyMIM, MoCo and SEED (ssl.h), DC-ViT's and PRACTISE's fine-tuning (compress.h). A
 * method gives its step (forward, loss and backward of one batch) and its CSV columns; the loop
 * owns the sample order, the learning-rate schedule, the NaN guard, clipping and the optimizers,
 * the per-epoch row, resume points (resume.h), the progress bar, KD_TRACE (trace.h) and the
 * result files, so that every kind of run stops, resumes and reports the same way. */
#ifndef KD_LOOP_H
#define KD_LOOP_H

#include "train/optim.h"
#include "train/run.h"

struct net;
struct trace;
struct ckpt_info;

#define LOOP_MAX_SETS 4
#define LOOP_MAX_TALLY 8

/* What a method adds to an epoch's row and line: each cell preceded by a comma. */
struct loop_row {
    char cells[512]; /* its columns between the loss and lr (loop_spec.cols) */
    char tail[512];  /* its columns after peak_mb (loop_spec.tail_cols) */
    char note[256];  /* words for the epoch's line on stderr, after the loss */
};

/* A method, as the loop sees it. Hooks left NULL take the defaults named; every draw a hook
 * makes must come from the seed, epoch, step and sample, never from a running generator, so that
 * a resumed run replays it. */
struct loop_spec {
    void *ctx; /* the method's, passed to every hook */
    /* What a resume point holds, in order: sets[0..n_trained-1] are trained (one optimizer each,
     * gradients zeroed before each step, clipped, updated); the rest are the method's state (an
     * EMA encoder, queues: slots over its buffers, see ssl.h), saved and reloaded only. */
    struct params *sets[LOOP_MAX_SETS];
    int n_sets, n_trained;
    int clip_each;                 /* clip each trained set alone (MoCo, SEED), not all */
    struct params *save;           /* the tensors of STEM.ckpt */
    struct net *net;               /* the classifier KD_TRACE traces, or NULL: no trace */
    const struct optim_cfg *optim; /* NULL: the run's optim section */
    long steps;                    /* steps an epoch; 0: n_train / batch (whole batches) */
    const char *loss_col;          /* name of the mean step loss; NULL: "train_loss" */
    const char *cols, *tail_cols;  /* ",name,...": where loop_row's cells and tail go */
    /* The samples of `epoch`, steps * batch of them, into order; NULL: run_epoch_order. */
    void (*order)(void *ctx, int *order, int epoch);
    /* images (B, h, w, c) and labels of the samples idx at epoch and global step; NULL:
     * dataset_batch with the run's augmentation. */
    void (*batch)(void *ctx, float *images, int *labels, const int *idx, int B, int epoch,
                  long step);
    /* Forward, loss and backward of one batch: ACCUMULATES gradients into the trained sets and
     * returns the loss (NaN or Inf stops the run). */
    float (*step)(void *ctx, const float *images, const int *labels, const int *idx, int B,
                  int epoch, long step);
    /* After the steps of `epoch` (0-based) with their mean loss: evaluate and fill row (zeroed
     * before). NULL: no cells. Returns 0 or fills e. */
    int (*epoch_end)(void *ctx, int epoch, double loss, struct loop_row *row, struct kd_err *e);
    /* Resume points inside an epoch (every KD_RESUME_MINUTES, loop_train only): set mid_epoch
     * when all the method's state between two steps is in sets, but for its running sums over the
     * epoch's steps (what epoch_end makes its cells from, then zeroes), listed in tally; a point
     * carries them. Unset: points fall between epochs only. */
    int mid_epoch;
    double *tally[LOOP_MAX_TALLY];
    int n_tally;
};

/* A loop's buffers and optimizers: allocated once by loop_init, nothing inside the steps. */
struct loop {
    const struct run *r;
    const struct loop_spec *sp;
    struct optim_cfg cfg;              /* the schedule and optimizer */
    struct optim opt[LOOP_MAX_SETS];   /* one per trained set */
    struct optim *opts[LOOP_MAX_SETS]; /* per set: its optimizer or NULL (resume points) */
    struct params trained;             /* view over the trained sets: clipping, NaN guard */
    struct augment_cfg aug;            /* the run's, for the default batch */
    float *images;                     /* (B, h, w, c) */
    int *labels, *order;               /* (B); (max(n_train, steps * B)) */
    long steps;                        /* steps an epoch */
    int B;
    float lr;            /* the last step's learning rate */
    struct trace *trace; /* NULL unless KD_TRACE is set (tests/test_twin.sh) */
    int traced;          /* the trace has all its steps: stop, write nothing */
    /* Points inside an epoch (loop_train.c): the run they go to (NULL: none), the seconds between
     * them, when the last one (or the run) began and the epoch began; the sums a point holds
     * (loss, the epoch's seconds, then sp's tally) in the set it saves them as; and where a
     * resumed run starts: steps of its first epoch already taken, that epoch's seconds before. */
    struct run *points;
    double point_every, point_t0, epoch_t0;
    double sums[2 + LOOP_MAX_TALLY];
    struct params sums_set;
    float *sums_w, *sums_g;
    long resume_steps;
    double resume_secs;
};

/* Buffers and optimizers of sp over r's training data. Returns 0 or fills e (a batch larger than
 * the training set when sp->steps is 0, no memory); loop_free in either case. */
int loop_init(struct loop *L, const struct run *r, const struct loop_spec *sp, struct kd_err *e);
/* The steps of one epoch; *mean_loss is their mean loss. Returns 0, or KD_ERR_NUMERIC naming
 * the step and the first tensor with a bad gradient (or a trace's error). */
int loop_epoch(struct loop *L, int epoch, double *mean_loss, struct kd_err *e);
void loop_free(struct loop *L);

/* A whole run: STEM.csv with one row per epoch (epoch, the loss, sp's cells, lr, seconds,
 * img_per_s, peak_mb, sp's tail), a resume point every run.ckpt_every epochs, and at the end
 * STEM.ckpt (sp->save), STEM.yaml, STEM.meta, STEM.csv. Resumes from STEM.part.ckpt when
 * present (same config). Returns 0 or fills e. */
int loop_train(struct run *r, const struct loop_spec *sp, struct kd_err *e);

/* A run in stages whose model may change shape from one to the next (DC-ViT's progressive
 * compression, PRACTISE): stages 0..last, each adding its rows to r->csv (their first column the
 * stage), its fine-tuning an epoch of a loop of its own. With `resume`, a resume point after
 * every stage but the last holds the model of that stage (no optimizer). */
struct loop_stages {
    void *ctx;
    int last;                               /* the last stage */
    long (*steps_of)(void *ctx, int stage); /* the steps stage counts on the bar */
    /* Stage `stage`: its work and its rows. Returns 0 or fills e. */
    int (*stage)(void *ctx, int stage, struct kd_err *e);
    /* The parameters of the model after the latest stage: of a resume point, and of STEM.ckpt. */
    struct params *(*model)(void *ctx);
    /* A resumed run: set up what the stages after `done` need (the model of that stage, which
     * then gets the point's weights). NULL: no resume points. */
    int (*resume)(void *ctx, int done, struct kd_err *e);
    /* More result files, written before STEM.ckpt (STEM.layout). NULL: none. */
    int (*finish)(void *ctx, struct kd_err *e);
};
/* Run the stages after the resume point (all of them without one) under one progress bar, then
 * write st's files and loop_finish's with the final model (checkpoint epoch 1, step 0). Returns 0
 * or fills e. */
int loop_stages(struct run *r, const struct loop_stages *st, struct kd_err *e);

/* The end of every run: STEM.ckpt (save, with info), STEM.yaml and STEM.meta, then STEM.csv (what
 * Make waits for); then the resume point goes. Returns 0 or fills e. */
int loop_finish(struct run *r, struct params *save, const struct ckpt_info *info, struct kd_err *e);

#endif
