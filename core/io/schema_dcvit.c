/* Schema rows of the "dcvit." config section (struct dcvit_cfg in io/config_dcvit.h). The
 * synthetic-set weights are DC-ViT's (1e-4 TV, 1e-5 L2 at 224x224x3) scaled to 28x28x1: the TV
 * sum has 192x fewer terms (x192), the L2 norm sqrt(192)x smaller (x13.9). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

const struct cfg_key schema_dcvit[] = {
    FLT("dcvit.remove", dcvit.remove, 0, 64, "1.5",
        "MACs to remove, in units of one original block (attention + MLP)"),
    INT("dcvit.n_blocks", dcvit.n_blocks, 0, 64, "0",
        "blocks to compress (0: ceil(remove); set k+1 at an integer remove k)"),
    ENUM("dcvit.metric", dcvit.metric, CHOICES("synthetic", "real", "none"), "synthetic",
         "block-choice metric set: synthetic images, the few-shot images, none (random choice)"),
    STR("dcvit.synthetic", dcvit.synthetic, "",
        "config of the kind-invert run whose images form the synthetic metric set"),
    STR("dcvit.reuse", dcvit.reuse, "",
        "config of a finished dcvit/practise run whose compressed model is re-measured (\"\": "
        "off)"),
    INT("dcvit.trial_steps", dcvit.trial_steps, 0, INT_MAX, "200",
        "fine-tuning steps of each candidate in the block-wise trial"),
    INT("dcvit.steps", dcvit.steps, 0, INT_MAX, "500",
        "fine-tuning steps after each progressive compression"),
    INT("dcvit.loss_warmup", dcvit.loss_warmup, 0, INT_MAX, "20",
        "steps over which the feature-MSE loss weight ramps from 0 to 1"),
    INT("dcvit.practise_steps", dcvit.practise_steps, 0, INT_MAX, "0",
        "PRACTISE fine-tuning steps after dropping (0: from dcvit.practise_budget)"),
    ENUM("dcvit.practise_budget", dcvit.practise_budget, CHOICES("paper", "equal"), "paper",
         "PRACTISE steps: paper = dcvit.steps once; equal = dcvit.steps * (k + 1), DC-ViT's total"),
    BOOL("dcvit.freeze_embed", dcvit.freeze_embed, "false",
         "DC-ViT fine-tuning also freezes patch, class and position embeddings and the final norm"),
    BOOL("dcvit.trial_neighbour", dcvit.trial_neighbour, "true",
         "trial candidate c fine-tunes blocks 0..c+1, its last neighbour (false: 0..c)"),
    BOOL("dcvit.trial_shared_batches", dcvit.trial_shared_batches, "true",
         "every trial candidate fine-tunes on the same batches (false: a stream per candidate)"),
    INT("dcvit.latency_batch", dcvit.latency_batch, 1, 4096, "64", "images per timed forward"),
    INT("dcvit.latency_runs", dcvit.latency_runs, 1, 100000, "50",
        "timed forward passes (after runs / 5 untimed warmup passes)"),
    INT("dcvit.syn_n", dcvit.syn_n, 1, 100000, "50", "synthetic metric images"),
    INT("dcvit.syn_iters", dcvit.syn_iters, 1, INT_MAX, "2000", "Adam steps on the pixels"),
    INT("dcvit.syn_warmup", dcvit.syn_warmup, 0, INT_MAX, "100", "warmup steps, then cosine"),
    FLT("dcvit.syn_lr", dcvit.syn_lr, 1e-6, 100, "0.25", "Adam lr on normalized pixels"),
    FLT("dcvit.syn_tv", dcvit.syn_tv, 0, 100, "0.0192",
        "weight of total variation (sum of |neighbour difference|^0.6), 1e-4 x 192"),
    FLT("dcvit.syn_l2", dcvit.syn_l2, 0, 100, "1.39e-4",
        "weight of the mean L2 norm of the images, 1e-5 x sqrt(192)"),
    INT("dcvit.syn_jitter", dcvit.syn_jitter, 0, 14, "4", "random shift each step, pixels"),
    SCHEMA_END,
};

int dcvit_refs_of(const struct experiment *x, const char **out)
{
    int n = 0;
    /* the synthetic set is read only to score the block choice on it */
    if (x->dcvit.synthetic[0] && strcmp(x->kind, "dcvit") == 0 &&
        x->dcvit.metric == METRIC_SYNTHETIC)
        out[n++] = x->dcvit.synthetic;
    if (x->dcvit.reuse[0])
        out[n++] = x->dcvit.reuse;
    return n;
}
