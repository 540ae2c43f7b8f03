/* Evaluation of self-supervised features (MoCo-v2 / SEED): frozen pooled CLS features, a kNN
 * classifier (cosine similarity, the k nearest vote with weight exp(sim / T), Wu et al. 2018),
 * a linear probe trained on the frozen train features, and semi-supervised fine-tuning of the
 * whole backbone on a per-class fraction of the labels. */
#ifndef KD_PROBE_H
#define KD_PROBE_H

#include <stdint.h>
#include "models/vit.h"
#include "train/run.h"

/* feat (n, C): m->pooled of samples idx[0..n-1] of d, no augmentation, eval mode. labels (n)
 * or NULL receives their classes. */
void probe_features(float *feat, int *labels, struct vit *m, const struct dataset *d,
                    const int *idx, int n);

/* Top-1 of the weighted kNN vote of queries (nq, C) against bank (nb, C) (rows need not be
 * normalized: both are normalized here, in place). */
double knn_top1(float *bank, const int *bank_labels, int nb, float *query, const int *q_labels,
                int nq, int C, int classes, int k, float T);

/* A linear classifier trained on standardized train features (AdamW, batch 256, warmup +
 * cosine over `epochs`, order from rng(seed, RNG_STREAM_SSL_PROBE)); returns test top-1.
 * Standardizes tr and te in place with the train mean and std (a BatchNorm without affine
 * parameters in front of the linear layer, as MAE's probe). */
double linear_probe(float *tr, const int *ytr, int ntr, float *te, const int *yte, int nte, int C,
                    int classes, int epochs, float lr, uint64_t seed, struct kd_err *e);

/* Fine-tune a copy of backbone (all layers, a fresh classifier) on `percent`% of each class of
 * r's whole train set (data.per_class semantics), with AdamW at seed.semi_lr and
 * seed.semi_weight_decay (the rest of r's optim recipe) for `epochs` epochs and
 * the supervised augmentation (data.crop_pad, data.flip); returns top-1 on r's test subset, or
 * a negative value with e filled. */
double semi_finetune(struct run *r, struct vit *backbone, int percent, int epochs,
                     struct kd_err *e);

#endif
