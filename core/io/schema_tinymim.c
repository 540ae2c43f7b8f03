/* Schema rows of the "tinymim." config section (struct tinymim_cfg in io/config_tinymim.h). */
#include "io/config_schema.h"
#include "io/config.h"
#include "loss/loss_table.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_tinymim[] = {
    LOSS("tinymim.target", tinymim.target, LOSS_RELATION | LOSS_FEATURE | LOSS_LOGITS, "relation",
         "what is distilled, by which loss (core/loss/loss_table.c): Q-K/V-V relations, output "
         "features, the class token, ..."),
    ENUM("tinymim.relations", tinymim.relations, CHOICES("qk_vv", "qq_kk_vv", "qk", "vv"), "qk_vv",
         "relation pairs of the relation target (TinyMIM Table 7)"),
    INT("tinymim.target_layer", tinymim.target_layer, 0, 1024, "0",
        "teacher block distilled, 1-based (0: last)"),
    FLT("tinymim.mask_ratio", tinymim.mask_ratio, 0, 0.95, "0",
        "patches hidden from teacher and student while distilling (0: full image)"),
    FLT("tinymim.teacher_drop_path", tinymim.teacher_drop_path, 0, 0.9, "0",
        "teacher stochastic depth, constant over blocks (teacher stays frozen)"),
    FLT("tinymim.mae_mask_ratio", tinymim.mae_mask_ratio, 0.05, 0.95, "0.75",
        "MAE: fraction of patches masked per sample"),
    INT("tinymim.decoder_dim", tinymim.decoder_dim, 4, 4096, "64", "MAE decoder width"),
    INT("tinymim.decoder_depth", tinymim.decoder_depth, 1, 32, "2", "MAE decoder blocks"),
    INT("tinymim.decoder_heads", tinymim.decoder_heads, 1, 64, "2",
        "MAE decoder heads (divides tinymim.decoder_dim)"),
    BOOL("tinymim.norm_pix", tinymim.norm_pix, "true", "MAE: per-patch normalized pixel targets"),
    SCHEMA_END,
};
