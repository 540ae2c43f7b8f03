/* What few-shot compression experiments share (DC-ViT, PRACTISE, the synthetic set): loading
 * the trained original, fine-tuning a compressed copy to mimic the original's final tokens on
 * the few-shot images, scoring candidates, test accuracy, latency, and saving the result with
 * its per-block layout so a later run can re-measure it. */
#ifndef KD_COMPRESS_H
#define KD_COMPRESS_H

#include "models/vit.h"
#include "train/run.h"

/* Build and load the original model named by r->x.teacher (its config at r's scale, its
 * checkpoint at run_stem_of(teacher, scale, its first seed) + ".ckpt"), for batches up to Bmax.
 * tx receives the teacher's config. Returns 0 or fills e (missing key, file or mismatch). */
int compress_load_original(struct vit *m, struct experiment *tx, const struct run *r, int Bmax,
                           struct kd_err *e);

/* Fine-tune s for `steps` steps to match t's tokens after the final norm (B, T, C), MSE over
 * every token, on batches of r's training subset (the few-shot set) drawn with replacement and
 * augmented as r's data config says; optimizer and lr from r->x.optim (warmup + cosine over the
 * steps), the loss weight ramps up linearly over dcvit.loss_warmup steps. What updates is
 * compress_set_trainable(s, upto, dcvit.freeze_embed). `tag` separates the random streams of
 * different calls. Returns the mean loss over the last 10% of steps (0 if steps == 0), or a
 * negative code with e filled. */
double compress_finetune(struct vit *s, struct vit *t, const struct run *r, int upto, int steps,
                         uint32_t tag, struct kd_err *e);
/* The original's tokens at each step of one batch stream, kept by the first fine-tuning on that
 * stream for the next ones: DC-ViT's trial candidates all see the same batches, and the
 * original's forward pass was a quarter of each of their steps. Exact (the forward pass is a
 * function of the batch); without room (more than KD_TEACHER_CACHE_MB in the environment,
 * default 2048) nothing is kept and each call recomputes. */
struct teacher_cache {
    float *feat;         /* (steps, B, T, C) */
    unsigned char *have; /* (steps): 1 once feat holds that step */
    int steps;
    size_t per_step; /* floats */
    uint32_t tag;    /* the stream it holds: a call on another one neither reads nor fills it */
};
/* A cache for `steps` steps of batch B of t's tokens on the stream `tag`; an empty one (feat
 * NULL) without room. */
void teacher_cache_init(struct teacher_cache *c, const struct vit *t, int B, int steps,
                        uint32_t tag);
void teacher_cache_free(struct teacher_cache *c);
/* compress_finetune, reading and filling cache (NULL: none) for its stream's steps. */
double compress_finetune_cached(struct vit *s, struct vit *t, const struct run *r, int upto,
                                int steps, uint32_t tag, struct teacher_cache *cache,
                                struct kd_err *e);

/* Freeze what fine-tuning must not update: upto < 0, the head alone (PRACTISE: everything
 * else trains); else the head and the blocks after upto (DC-ViT's official code), and with
 * freeze_embed also the patch, class and position embeddings and the final norm (only blocks
 * 0..upto train). */
void compress_set_trainable(struct vit *s, int upto, int freeze_embed);
/* The trial of candidate block c: the last block it fine-tunes (c + 1, the official code's last
 * neighbour, or c) and the tag of its batch stream (one for all candidates, so they are ranked
 * on the same batches, or one each), as dcvit.trial_neighbour / trial_shared_batches say. */
void compress_trial_plan(const struct dcvit_cfg *d, int c, int *upto, uint32_t *tag);

/* Mean KL(p_t || p_s) of the two models' class distributions over images (n, h, w, c). */
double compress_kl(struct vit *t, struct vit *s, const float *images, int n);
/* Mean squared difference of the final-norm tokens of the two models over images. */
double compress_feature_mse(struct vit *t, struct vit *s, const float *images, int n);
/* The normalized training images of r's subset, without augmentation: malloc'd (n, h, w, c). */
float *compress_fewshot_images(const struct run *r);
/* Top-1 accuracy of m over r's test subset. */
double compress_test_acc(struct vit *m, const struct run *r);
/* Mean and min milliseconds of one forward pass of B images after runs / 5 warmup passes
 * (B <= m->Bmax). */
void compress_latency(struct vit *m, int B, int runs, double *mean_ms, double *min_ms);

/* The result table of kind dcvit and practise: one row per compression stage (0: the original),
 * the last row is the final model. compress_row measures m (test top-1, the feature MSE against
 * the original orig on the test images, held out from the few-shot set, beside ft_loss on the
 * few shots; and when timed the latency with dcvit.latency_*, else NaN) and appends a row to
 * r->csv; orig_macs scales macs_ratio. heldout_mse is the last column, so that readers of the
 * earlier columns by position keep theirs. */
#define COMPRESS_HEADER                                                                            \
    "stage,block,hidden,score,ft_loss,test_acc,params,macs,macs_ratio,latency_ms,"                 \
    "latency_min_ms,seconds,heldout_mse"
void compress_row(struct run *r, struct vit *orig, struct vit *m, int stage, int block, int hidden,
                  double score, double ft_loss, double orig_macs, int timed);
/* Mean squared difference of the final-norm tokens of orig and m over r's test subset. */
double compress_heldout_mse(struct vit *orig, struct vit *m, const struct run *r);
/* dcvit.reuse: rebuild the finished run of that config (same seed and scale) from its
 * STEM.ckpt and STEM.layout, with the model config of tx, and append its row (stage 0) to r's
 * table, measured against orig. Returns 0 or fills e. */
int compress_remeasure(struct run *r, struct vit *orig, const struct experiment *tx,
                       struct kd_err *e);

/* STEM.layout: depth, then per block attention 0/1 and hidden units (the weights go to STEM.ckpt
 * through loop_stages). */
int compress_save_layout(const struct run *r, struct vit *m, struct kd_err *e);
/* Read path's layout (a STEM.layout file) into lay for a model of `depth` blocks (depth gets
 * the file's block count). Returns 0 or KD_ERR_IO / KD_ERR_FORMAT. */
int compress_read_layout(const char *path, struct vit_layout *lay, int *depth, struct kd_err *e);

/* The synthetic metric set file: "KDSYN001", int32 n, h, w, c, int32 targets (n), float
 * images (n, h, w, c) normalized. Written atomically. read allocates *images and *targets. */
int compress_write_synthetic(const char *path, const float *images, const int *targets, int n,
                             int h, int w, int c, struct kd_err *e);
int compress_read_synthetic(const char *path, float **images, int **targets, int *n, int h, int w,
                            int c, struct kd_err *e);

/* What both compression experiments keep: the run, the original model and the model after the
 * latest stage. Methods of loop_stages begin their context with it, so that compress_model and
 * compress_finish serve as their hooks. It must not move (t's parameter registry points into
 * it). */
struct compress_run {
    struct run r;
    struct experiment tx; /* the original's config */
    struct vit t;         /* the original */
    struct vit *cur;      /* the model after the latest stage: &t, or the method's */
};

/* The start both compression experiments share: the command line, config and data, the
 * original model c->t (its config in c->tx) for batches up to max(optim.batch, latency_batch),
 * c->cur = &c->t, and the result CSV. A `dcvit.reuse` run is re-measured and finished here.
 * Returns 1 when the run is complete (reuse), 0 to go on; exits with the error on failure. */
int compress_start(struct compress_run *c, int argc, char **argv);
/* loop_stages hooks over a context that begins with a struct compress_run: the parameters of
 * cur, and STEM.layout of cur. */
struct params *compress_model(void *ctx);
int compress_finish(void *ctx, struct kd_err *e);

#endif
