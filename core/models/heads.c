/* The projection MLP: wiring of two linear layers around a ReLU. */
#include "models/heads.h"
#include "ops/ops.h"

#include <string.h>
#include <stdio.h>

void proj_head_init(struct proj_head *p, struct params *ps, const char *name, int in, int hid,
                    int out)
{
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "%s.fc1", name);
    snprintf(n2, sizeof n2, "%s.fc2", name);
    p->in = in;
    p->hid = hid;
    p->out = out;
    linear_init(&p->fc1, ps, n1, in, hid, 1);
    linear_init(&p->fc2, ps, n2, hid, out, 1);
}

void proj_head_reset(struct proj_head *p, struct rng *r)
{
    linear_reset(&p->fc1, r);
    linear_reset(&p->fc2, r);
}

void proj_head_plan(struct proj_head *p, struct plan *pl, int Bmax)
{
    plan_add(pl, &p->h, (size_t)Bmax * p->hid);
    plan_add(pl, &p->a, (size_t)Bmax * p->hid);
    plan_add(pl, &p->z, (size_t)Bmax * p->out);
    plan_add(pl, &p->da, (size_t)Bmax * p->hid);
    plan_add(pl, &p->dh, (size_t)Bmax * p->hid);
}

void proj_head_forward(struct proj_head *p, const float *x, int B)
{
    linear_forward(&p->fc1, p->h, x, B);
    relu_forward(p->a, p->h, (size_t)B * p->hid);
    linear_forward(&p->fc2, p->z, p->a, B);
}

void proj_head_backward(struct proj_head *p, float *dx, const float *dz, const float *x, int B)
{
    size_t n = (size_t)B * p->hid;
    memset(p->da, 0, sizeof(float) * n);
    linear_backward(&p->fc2, p->da, dz, p->a, B);
    memset(p->dh, 0, sizeof(float) * n);
    relu_backward(p->dh, p->da, p->h, n);
    linear_backward(&p->fc1, dx, p->dh, x, B);
}
