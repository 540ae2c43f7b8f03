/* The teacher of a soft-label run, through the shared loader (train/teacher.h: the `teacher:`
 * config and its checkpoint, or interop.teacher_weights), run in inference mode to give softmax
 * probabilities (TinyViT's labels pass and its online twin), with the identity of its weights
 * that soft-label files record. */
#ifndef KD_SOFTLABEL_TEACHER_H
#define KD_SOFTLABEL_TEACHER_H

#include <stdint.h>

#include "train/teacher.h"

struct run;

struct softlabel_teacher {
    struct teacher base; /* config, network with weights loaded, weights path */
    uint64_t hash;       /* size << 32 ^ crc32 of the weights file: soft-label files
                          * record it so that a student can tell which teacher made them */
};

/* Load r's teacher for batches up to Bmax (errors as teacher_load's). */
int softlabel_teacher_load(struct softlabel_teacher *t, const struct run *r, int Bmax,
                           struct kd_err *e);
/* softlabel_teacher_fn over a struct softlabel_teacher *: probs (B, C) = softmax(logits). */
void softlabel_teacher_probs(void *ctx, const float *images, int B, float *probs);
void softlabel_teacher_free(struct softlabel_teacher *t);

#endif
