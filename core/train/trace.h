/* A training run's first steps written out, for the PyTorch twin (tests/test_twin.sh): with
 * KD_TRACE=DIR in the environment, the one loop (loop.h) saves the initial weights of a
 * classifier, and for each of the first KD_TRACE_STEPS steps the batch it trained on (images
 * after augmentation, labels), the drop-path scales it drew, and the loss, gradient norm and
 * learning rate it computed; then the run stops. Unset, the loop does nothing more than test one
 * pointer. */
#ifndef KD_TRACE_H
#define KD_TRACE_H

#include <stdio.h>

struct net;
struct kd_err;

struct trace {
    FILE *images;   /* (steps, B, H, W, C) f32 */
    FILE *labels;   /* (steps, B) i32 */
    FILE *droppath; /* (steps, depth, 2, B) f32: attention and MLP branch scales, 1 when off */
    FILE *steps;    /* CSV: step,loss,grad_norm,lr */
    long left;      /* steps still to write */
};

/* *out = NULL when KD_TRACE is unset; otherwise the opened trace, after saving n's initial
 * weights as DIR/init.safetensors (config_text: the resolved config, for its metadata).
 * Returns 0, or an error naming the file that could not be written. */
int trace_open(struct trace **out, struct net *n, const char *config_text, struct kd_err *e);
/* After a step's update: write its batch, drop-path scales, loss, gradient norm (before
 * clipping) and learning rate. Returns 1 when the trace has all its steps, else 0. */
int trace_step(struct trace *t, struct net *n, const float *images, const int *labels, int B,
               size_t image_floats, long step, float loss, float grad_norm, float lr);
/* The weights after the last traced step, as DIR/final.safetensors; the caller then stops. */
int trace_finish(struct trace *t, struct net *n, const char *config_text, struct kd_err *e);
void trace_close(struct trace *t);

#endif
