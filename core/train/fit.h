/* Supervised training and logit distillation of a classifier through the one loop (loop.h):
 * this file gives the step (forward, a pluggable loss, backward), the training accuracy and the
 * per-epoch test evaluation; a distillation adds its batches, its loss and its own columns. */
#ifndef KD_FIT_H
#define KD_FIT_H

#include "train/net.h"
#include "train/run.h"

/* What a distillation changes in supervised training; NULL members keep the defaults. */
struct fit_hooks {
    void *ctx;
    /* The loss of one batch, given n->logits after the forward pass: ACCUMULATES d(loss)/d(logits)
     * into dlogits (zeroed by fit) and returns the loss. idx are the samples' data set indices and
     * epoch the augmentation epoch, for losses that look up stored labels. NULL: cross-entropy
     * with the config's label smoothing. */
    float (*loss)(void *ctx, struct net *n, float *dlogits, const int *labels, const int *idx,
                  int B, int epoch);
    /* images (B, h, w, c) and labels of the samples idx at `epoch`, in place of dataset_batch
     * (stored soft labels replay the augmentation their records name, so the student sees the
     * teacher's images). */
    void (*batch)(void *ctx, float *images, int *labels, const int *idx, int B, int epoch);
    const char *cols; /* ",name,...": more CSV columns after fit's */
    /* Their cells for `epoch` (",v,..."), after its steps. */
    void (*cells)(void *ctx, int epoch, char *out, size_t cap);
    /* Resume points inside an epoch (loop.h): set mid_epoch when the hooks' only state between
     * steps is their running sums over the epoch, listed in tally. */
    int mid_epoch;
    double *tally[4];
    int n_tally;
};

/* Train n on r's data with r's optim config (h NULL: plain supervised training). STEM.csv gets
 * a row per epoch (epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,img_per_s,peak_mb,
 * then h's columns); STEM.ckpt n's parameters. Resumes from STEM.part.ckpt when present (same
 * config). Returns 0 or fills e. */
int fit(struct run *r, struct net *n, const struct fit_hooks *h, struct kd_err *e);

/* Mean loss (plain CE) and accuracy of n over the samples idx[0..count-1] of d. */
void evaluate(struct net *n, const struct dataset *d, const int *idx, int count, double *loss,
              double *acc);

#endif
