/* The epoch loop of label-free pretraining (MAE) and feature/relation distillation (TinyMIM):
 * seeded epoch order, replayable augmentation, a per-batch step that runs forward, loss and
 * backward itself (its gradient may enter anywhere in the network), global clipping over
 * every trainable set, one optimizer per parameter set, a NaN guard naming the step and the
 * tensor, one CSV row per epoch, STEM.ckpt at the end and bit-exact resume (train/resume.h:
 * every set with its optimizer in STEM.part.ckpt every run.ckpt_every epochs). */
#ifndef KD_PRETRAIN_H
#define KD_PRETRAIN_H

#include "train/run.h"
#include "nn/params.h"

#define PRETRAIN_MAX_SETS 4
#define PRETRAIN_HEADER "epoch,train_loss,lr,seconds,img_per_s,peak_mb"

/* One training batch: images (B, h, w, c) of samples idx at `epoch`, global step `step`.
 * ACCUMULATES gradients into the sets' parameters (zeroed by the loop) and returns the loss. */
struct pretrain_step {
    void *ctx;
    float (*fn)(void *ctx, const float *images, const int *idx, int B, int epoch, long step);
};

/* Train the parameter sets sets[0..n_sets-1] (one optimizer each, r's optim config) with st
 * over r's training data; STEM.csv gets PRETRAIN_HEADER rows, and STEM.ckpt the tensors of
 * `save` (any set of parameters, e.g. encoder and decoder, see params_view). Resumes from
 * STEM.part.ckpt when present (same config): st must keep no state of its own across steps
 * (draws come from the seed, epoch, step and sample). Returns 0 or fills e. */
int pretrain(struct run *r, struct params **sets, int n_sets, const struct pretrain_step *st,
             struct params *save, struct kd_err *e);

/* A parameter list over several sets, for saving and clipping them together (values stay
 * where each set allocated them; do not optimize or allocate a view). Free with
 * params_view_free. */
void params_view(struct params *view, struct params **sets, int n_sets);
void params_view_free(struct params *view);

#endif
