/* Config section "tinymim." of struct experiment; its schema rows are in io/schema_tinymim.c.
 * It holds the MAE pretraining keys (experiments/mae.c) and the distillation keys
 * (experiments/tinymim.c). */
#ifndef KD_CONFIG_TINYMIM_H
#define KD_CONFIG_TINYMIM_H

struct tinymim_cfg {
    /* distillation */
    char target[32];          /* relation | feature | cls */
    char relations[32];       /* relation pairs: qk_vv | qq_kk_vv | qk | vv */
    int target_layer;         /* teacher block whose outputs are distilled (1-based, 0: last) */
    float mask_ratio;         /* fraction of patches hidden from teacher and student (0: full) */
    float teacher_drop_path;  /* stochastic depth of the teacher, constant over its blocks */
    /* MAE pretraining */
    float mae_mask_ratio;     /* fraction of patches masked per sample */
    int decoder_dim;          /* decoder width */
    int decoder_depth;        /* decoder blocks */
    int decoder_heads;        /* decoder heads */
    int norm_pix;             /* 1: targets are per-patch normalized pixels */
};

#endif
