/* Self-supervised encoders and what MoCo-v2 and SEED share: a ViT with a projection head (the
 * loss reads the head's output, the evaluation the ViT's pooled CLS feature), the EMA key
 * encoder, FIFO queues of unit embeddings, and ssl_fit, their run through the one loop (loop.h)
 * with a per-epoch kNN monitor and the final probe/kNN/semi-supervised evaluation. */
#ifndef KD_SSL_H
#define KD_SSL_H

#include "models/vit.h"
#include "models/heads.h"
#include "train/run.h"
#include "data/augment_ssl.h"

struct kd_err;

struct ssl_enc {
    struct vit vit;        /* backbone; vit.head (classes) stays unused */
    struct params head_ps; /* the projection head's parameters */
    struct proj_head head; /* Linear(C, C) - ReLU - Linear(C, D) on vit.pooled */
    struct plan acts;      /* head activations and the buffers below */
    struct params all;     /* view over both parameter sets, for checkpoints */
    int D, Bmax;
    float *zn, *norms; /* (Bmax, D) unit embeddings, (Bmax) norms: after ssl_enc_forward */
    float *dz;         /* (Bmax, D) gradient w.r.t. head.z, filled by the losses */
    float *d_pooled;   /* (Bmax, C) */
    float *d_feat;     /* (Bmax, T, C) only row 0 of each sample is non-zero */
};

/* Build a ViT of cfg with a projection head to D dims, for batches up to Bmax, initialized from
 * seed. Returns 0 or fills e. */
int ssl_enc_init(struct ssl_enc *s, const struct model_cfg *cfg, int D, int Bmax, uint64_t seed,
                 struct kd_err *e);
void ssl_enc_free(struct ssl_enc *s);
/* images (B, h, w, c) -> s->head.z (raw) and s->zn (unit). */
void ssl_enc_forward(struct ssl_enc *s, const float *images, int B, int training, uint64_t seed,
                     int step);
/* Zero every gradient, back-propagate s->dz (B, D) through head and backbone. */
void ssl_enc_backward(struct ssl_enc *s, int B);
/* dst = m dst + (1 - m) src over every parameter (the MoCo key encoder); m = 0 copies. */
void ssl_enc_ema(struct ssl_enc *dst, const struct ssl_enc *src, float m);
int ssl_enc_save(struct ssl_enc *s, const char *path, const char *config_text, long epoch,
                 long step, struct kd_err *e);
int ssl_enc_load(struct ssl_enc *s, const char *path, struct kd_err *e);

/* A FIFO queue of K unit vectors of D floats, initialized to random unit vectors from
 * rng(seed, RNG_STREAM_SSL_QUEUE, tag, row) as MoCo's is. */
struct emb_queue {
    float *v;   /* (K, D) */
    float *pos; /* (1) the next row to overwrite: a whole number kept as a float
                 * (exact below 2^24) so that a checkpoint holds it as a tensor */
    int K, D;
};
int emb_queue_init(struct emb_queue *q, int K, int D, uint64_t seed, int tag, struct kd_err *e);
void emb_queue_free(struct emb_queue *q);
/* Overwrite the oldest B rows with z (B, D) (wrapping around). */
void emb_queue_push(struct emb_queue *q, const float *z, int B);

/* Register, in a list of slots over buffers others own (`state`, see struct ssl_method), the
 * tensors "<name>.rows" (K, D) and "<name>.pos" (1) of q, or every parameter of s under
 * "<prefix>.<name>". Frozen entries without gradients. */
void emb_queue_register(struct emb_queue *q, struct params *state, const char *name);
void ssl_enc_register(struct ssl_enc *s, struct params *state, const char *prefix);

/* The SSL augmentation of a config's seed section. */
struct ssl_augment_cfg ssl_augment_of(const struct experiment *x);

/* One training step of a method: from the first view of the batch (made by ssl_fit) it draws
 * any other view, runs its encoders and its loss, back-propagates into s (and moves whatever
 * EMA/queues it keeps); the loop then clips each of s's two sets and updates them. Returns the
 * loss (NaN/Inf stops the run). What a method carries from step to step besides s (an EMA key
 * encoder, the contents and position of its queues) is `state`: a parameter list whose entries
 * point at the slots of the buffers that hold it (ssl_enc_register, emb_queue_register; begun
 * with params_begin, never params_alloc'd, freed with params_free). A resume point saves it by
 * name beside s and reloads it in place, so ssl_fit needs to know nothing of the method. Every
 * draw must come from the seed, epoch, step and sample, never from a running generator. */
struct ssl_method {
    void *ctx;
    float (*step)(void *ctx, struct run *r, const float *view, const int *idx, int B, int epoch,
                  long step);
    struct params *state; /* NULL: the method keeps nothing across steps */
};

/* Train s with method m for x.optim.epochs epochs (optimizers from r's optim config, one per
 * set of s): per epoch a CSV row (loss, kNN top-1 of a monitor subset); after the last epoch the
 * kNN on the whole train/test subsets, the linear probe and the seed.semi fine-tunings fill the
 * last row. Writes STEM.csv, STEM.ckpt (backbone + head of s), STEM.yaml and STEM.meta. Resumes
 * from STEM.part.ckpt (s, its optimizers and m->state) when present (same config).
 * Returns 0 or fills e. */
int ssl_fit(struct run *r, struct ssl_enc *s, const struct ssl_method *m, struct kd_err *e);

#endif
