/* A classifier network behind one interface, so experiments train a ViT, a TinyViT or any
 * later architecture with the same loop. model.arch picks the implementation. */
#ifndef KD_NET_H
#define KD_NET_H

#include <stdint.h>
#include "nn/params.h"
#include "io/config.h"

struct kd_err;

struct net {
    enum model_arch arch;  /* model.arch of the config it was built from */
    void *impl;            /* struct vit *, ... */
    struct params *params; /* the implementation's parameters */
    float *logits;         /* (Bmax, classes), valid after net_forward */
    int classes, Bmax;
    double macs; /* per image, forward */
    void (*forward)(void *impl, const float *images, int B, int training, uint64_t seed, int step);
    void (*backward)(void *impl, const float *d_logits, int B);
    void (*destroy)(void *impl);
};

/* Build the network of cfg for batches up to Bmax, with initial values from seed. */
int net_create(struct net *n, const struct model_cfg *cfg, int Bmax, uint64_t seed,
               struct kd_err *e);
/* The ViT of spec, for callers that build a shape without a config (the benchmark). */
struct vit_spec;
int net_create_vit_spec(struct net *n, const struct vit_spec *spec, int Bmax, uint64_t seed,
                        struct kd_err *e);
void net_destroy(struct net *n);
static inline void net_forward(struct net *n, const float *images, int B, int training,
                               uint64_t seed, int step)
{
    n->forward(n->impl, images, B, training, seed, step);
}
static inline void net_backward(struct net *n, const float *d_logits, int B)
{
    n->backward(n->impl, d_logits, B);
}

#endif
