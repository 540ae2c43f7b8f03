/* Named parameters and planned buffers. Layers first register what they need (a name, a size
 * and the address of the pointer to fill); one allocation per role then fills every pointer.
 * Names follow timm's VisionTransformer ("blocks.3.attn.qkv.weight") so weights interoperate. */
#ifndef KD_PARAMS_H
#define KD_PARAMS_H

#include <stddef.h>
#include "base/arena.h"

struct kd_err;

struct param {
    char name[64];  /* timm-style dotted name */
    float **w, **g; /* where the layer keeps its value and gradient pointers */
    size_t n;       /* floats */
    int shape[4];   /* torch shape, for checkpoints and export */
    int ndim;
    int decay;  /* 1: weight decay applies (matrices); 0: norms, biases, tokens */
    int frozen; /* 1: the optimizer skips it (e.g. a frozen classifier) */
};

/* How layers registered into a params set draw their initial weights (a config's
 * model.weight_init picks one: train/model_spec.c). */
enum weight_init {
    WEIGHT_INIT_TORCH = 0, /* PyTorch's nn.Linear/nn.Conv2d default: U(+-1/sqrt(fan_in)) */
    WEIGHT_INIT_TIMM = 1,  /* timm/DeiT/TinyViT: Linear weights trunc normal 0.02, zero bias */
};

struct params {
    struct param *p;       /* registered parameters, in registration order */
    enum weight_init init; /* scheme of the layers registered next (params_begin: torch) */
    int n, cap;
    size_t total;        /* floats over all parameters */
    struct arena values; /* one block for all values */
    struct arena grads;  /* one block for all gradients, same layout */
};

/* A list of (slot, size) requests for buffers that are not parameters (activations, scratch). */
struct plan {
    struct {
        float **slot;
        size_t n;
    } * items;
    int n, cap;
    size_t total; /* floats */
    struct arena arena;
};

void params_begin(struct params *ps);
/* Register one parameter; shape is up to 4 dims (0-terminated when shorter). */
void params_add(struct params *ps, float **w, float **g, int decay, const char *name_fmt_prefix,
                const char *name, int d0, int d1, int d2, int d3);
/* Allocate values and gradients (zeroed) and fill every registered pointer. */
int params_alloc(struct params *ps, struct kd_err *e);
void params_free(struct params *ps);
/* Zero every gradient: one memset over the gradient block. */
void params_zero_grad(struct params *ps);
struct param *params_find(struct params *ps, const char *name);
/* 1 if the parameter whose value pointer lives at `slot` (what the layer registered) is frozen;
 * 0 if it is trainable or not in ps. */
int params_slot_frozen(const struct params *ps, float *const *slot);
/* First float of the value block and of the gradient block (parameters are contiguous). */
float *params_values(struct params *ps);
float *params_grads(struct params *ps);
/* A parameter list over several sets, for saving and clipping them together (values stay where
 * each set allocated them; do not optimize, zero or allocate a view). Free with
 * params_view_free. */
void params_view(struct params *view, struct params *const *sets, int n_sets);
void params_view_free(struct params *view);

void plan_begin(struct plan *pl);
void plan_add(struct plan *pl, float **slot, size_t n);
int plan_alloc(struct plan *pl, struct kd_err *e);
void plan_free(struct plan *pl);

#endif
