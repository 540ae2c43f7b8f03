/* A network's weights in and out of files other programs read: safetensors in PyTorch's layout
 * (names and shapes of timm's VisionTransformer, or of TinyViT's own code for a TinyViT, so
 * torch's load_state_dict(strict=True) takes them), and kdlab checkpoints. Also the model config a
 * weights file was made with, so that a file alone rebuilds its network. */
#ifndef KD_WEIGHTS_H
#define KD_WEIGHTS_H

#include "train/net.h"

struct kd_err;
struct safetensors;

/* __metadata__ key holding the model.* lines of the config that made a kdlab export. */
#define WEIGHTS_META_CONFIG "kdlab.config"

/* Fill n's parameters from path: "*.safetensors" (strict: every parameter present under its
 * torch name and shape, no extra tensors, dtype F32/F16/BF16/F64), anything else is read as a
 * kdlab checkpoint (ckpt_load, no config check). Errors name the file and the tensor. */
int net_weights_load(struct net *n, const char *path, struct kd_err *e);
/* The same from an opened safetensors file (for tests and fuzzing: no file access). */
int net_weights_from_st(struct net *n, const struct safetensors *st, struct kd_err *e);
/* Write n's parameters as F32 safetensors in torch layout at path (atomically). config_text,
 * when not NULL, is a resolved config whose model.* lines go to __metadata__. */
int net_weights_save(struct net *n, const char *path, const char *config_text, struct kd_err *e);
/* The state of n after a training step's forward and backward, as net_weights_save writes its
 * weights: each trainable tensor's gradient, and each frozen tensor's value (BatchNorm's
 * running statistics, as the forward moved them), under the same names and layout. key/val,
 * when key is not NULL, go to __metadata__ (e.g. the loss). */
int net_grads_save(struct net *n, const char *path, const char *key, const char *val,
                   struct kd_err *e);
/* The model config a weights file was made with: a checkpoint's stored config, or the
 * __metadata__ of a safetensors file written by net_weights_save. Every other key of x takes
 * its default. Errors: unreadable file, or a file that does not say (PyTorch's own exports:
 * fix: name the architecture with a config). */
int weights_model_cfg(struct experiment *x, const char *path, struct kd_err *e);
/* net_create for cfg (NULL: weights_model_cfg of path) and net_weights_load of path. */
int net_create_from_weights(struct net *n, const char *path, const struct model_cfg *cfg, int Bmax,
                            struct kd_err *e);

/* A ViT patch embedding, kdlab's (C, P*P*ch) in (py, px, ch) order <-> torch's Conv2d weight
 * (C, ch, P, P); to_torch selects the direction. */
void weights_patch_permute(float *dst, const float *src, int C, int ch, int P, int to_torch);

#endif
