/* Checkpoints that are more, or less, than the ViT their model.* lines describe, as safetensors
 * for PyTorch: MAE (encoder + decoder), MoCo-v2 and SEED (encoder + projection head), DC-ViT
 * (blocks without attention and with a narrower MLP) and PRACTISE (fewer blocks). The encoder
 * keeps timm's VisionTransformer names and torch shapes, as net_weights_save writes them; the
 * other parts are named apart (decoder.*, head_proj.*), and __metadata__ says what is in the
 * file and whether timm can load it strictly. A supervised model of any arch goes through
 * net_weights_save instead (tools/export.c tries that first). */
#ifndef KD_CKPT_EXPORT_H
#define KD_CKPT_EXPORT_H

#include <stddef.h>

struct kd_err;

/* What was written, for the caller's summary and notices. */
struct ckpt_export_info {
    char kind[32]; /* the config's kind: "mae", "moco", ... */
    int n_tensors;
    size_t n_values;
    char extras[256];     /* "decoder.* (the MAE decoder)", ... or "" */
    char compressed[256]; /* "blocks 1, 2 have no attention; MLP hidden 49 in blocks 1, 2"
                           * or "": timm cannot load the file strictly */
};

/* Every tensor of the ViT checkpoint ckpt into out (F32, atomically), encoder in timm names, the
 * patch embedding as Conv2d (C, in_ch, P, P). Errors: unreadable checkpoint, a model.arch other
 * than vit (KD_ERR_USAGE saying which kinds export), a tensor name twice after renaming. */
int ckpt_export_vit(const char *ckpt, const char *out, struct ckpt_export_info *info,
                    struct kd_err *e);

#endif
