/* The training loop every classifier experiment shares: seeded epoch order, replayable
 * augmentation, forward, a pluggable loss, backward, clipping, a NaN guard that names the step
 * and the layer, the optimizer, per-epoch test evaluation, one CSV row per epoch, periodic
 * checkpoints and bit-exact resume. */
#ifndef KD_FIT_H
#define KD_FIT_H

#include "train/net.h"
#include "train/run.h"

/* The loss of one training batch, given n->logits after the forward pass. It ACCUMULATES
 * d(loss)/d(logits) into dlogits (zeroed by the loop) and returns the loss. idx are the samples'
 * data set indices and epoch the augmentation epoch, for losses that look up stored labels. */
struct fit_loss {
    void *ctx;
    float (*fn)(void *ctx, struct net *n, float *dlogits, const int *labels, const int *idx,
                int B, int epoch);
};

/* A batch builder in place of dataset_batch: images (B, h, w, c) and labels of the samples
 * idx[0..B-1] at `epoch`, called before the forward pass (stored soft labels replay the
 * augmentation their records name, so the student sees the teacher's images). */
struct fit_batch {
    void *ctx;
    void (*fn)(void *ctx, float *images, int *labels, const int *idx, int B, int epoch);
};

/* Cross-entropy with the config's label smoothing: the supervised default. */
extern const struct fit_loss fit_loss_ce;

/* Train n on r's data with r's optim config; writes STEM.csv and STEM.ckpt when done.
 * Resumes from STEM.part.ckpt when present (same config). Returns 0 or fills e. */
int fit(struct run *r, struct net *n, const struct fit_loss *loss, struct kd_err *e);
/* fit() with batches from `batch` (NULL: dataset_batch, as fit does). */
int fit_batched(struct run *r, struct net *n, const struct fit_loss *loss,
                const struct fit_batch *batch, struct kd_err *e);

/* Mean loss (plain CE) and accuracy of n over the samples idx[0..count-1] of d. */
void evaluate(struct net *n, const struct dataset *d, const int *idx, int count,
              double *loss, double *acc);

#endif
