/* The teacher of a soft-label run: the config named by the `teacher:` key, built by net_create
 * and filled from its checkpoint (results/<scale>/<teacher path>-s<its seed>.ckpt), then run in
 * inference mode to give softmax probabilities (TinyViT's labels pass and its online twin). */
#ifndef KD_SOFTLABEL_TEACHER_H
#define KD_SOFTLABEL_TEACHER_H

#include <stdint.h>

#include "train/net.h"
#include "train/run.h"

struct softlabel_teacher {
    struct experiment x;     /* the teacher's config at the run's scale */
    struct net net;
    uint64_t hash;           /* config_hash(&x): recorded in soft-label files */
    char ckpt[600];          /* the checkpoint read */
};

/* Load r's teacher for batches up to Bmax. Errors: no `teacher:` key, a bad teacher config, a
 * missing checkpoint (fix: train it first) or one made for another model (names the key). */
int softlabel_teacher_load(struct softlabel_teacher *t, const struct run *r, int Bmax,
                           struct kd_err *e);
/* softlabel_teacher_fn over a struct softlabel_teacher *: probs (B, C) = softmax(logits). */
void softlabel_teacher_probs(void *ctx, const float *images, int B, float *probs);
void softlabel_teacher_free(struct softlabel_teacher *t);

#endif
