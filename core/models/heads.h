/* Heads that sit on a backbone's pooled feature: the projection MLP of MoCo-v2 and SEED,
 * Linear(in, hid) - ReLU - Linear(hid, out). */
#ifndef KD_HEADS_H
#define KD_HEADS_H

#include <stddef.h>
#include "nn/nn.h"

struct proj_head {
    int in, hid, out; /* widths */
    struct linear fc1, fc2;
    float *h;       /* (B, hid) fc1 output, before ReLU */
    float *a;       /* (B, hid) after ReLU */
    float *z;       /* (B, out) the embedding (not normalized) */
    float *da, *dh; /* (B, hid) backward scratch: d(a), d(h) */
};

/* Register fc1 and fc2 under "<name>.fc1", "<name>.fc2". */
void proj_head_init(struct proj_head *p, struct params *ps, const char *name, int in, int hid,
                    int out);
void proj_head_reset(struct proj_head *p, struct rng *r);
/* Request activation buffers for batches up to Bmax. */
void proj_head_plan(struct proj_head *p, struct plan *pl, int Bmax);
/* x (B, in) -> p->z (B, out). */
void proj_head_forward(struct proj_head *p, const float *x, int B);
/* Accumulate parameter gradients and dx (B, in) (NULL: skip) from dz (B, out). */
void proj_head_backward(struct proj_head *p, float *dx, const float *dz, const float *x, int B);

#endif
