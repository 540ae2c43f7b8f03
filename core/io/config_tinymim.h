/* Config section "tinymim." of struct experiment; its schema rows are in io/schema_tinymim.c.
 * It holds the MAE pretraining keys (experiments/mae.c) and the distillation keys
 * (experiments/tinymim.c). */
#ifndef KD_CONFIG_TINYMIM_H
#define KD_CONFIG_TINYMIM_H

/* tinymim.relations, in the order of its schema choices. */
enum tinymim_relations { RELATIONS_QK_VV, RELATIONS_QQ_KK_VV, RELATIONS_QK, RELATIONS_VV };

struct tinymim_cfg {
    /* distillation */
    int target;                       /* the distillation loss: its index in loss/loss_table.h */
    enum tinymim_relations relations; /* relation pairs of the relation loss */
    int target_layer;        /* teacher block whose outputs are distilled (1-based, 0: last) */
    float mask_ratio;        /* fraction of patches hidden from teacher and student (0: full) */
    float teacher_drop_path; /* stochastic depth of the teacher, constant over its blocks */
    /* MAE pretraining */
    float mae_mask_ratio; /* fraction of patches masked per sample */
    int decoder_dim;      /* decoder width */
    int decoder_depth;    /* decoder blocks */
    int decoder_heads;    /* decoder heads */
    int norm_pix;         /* 1: targets are per-patch normalized pixels */
};

#endif
