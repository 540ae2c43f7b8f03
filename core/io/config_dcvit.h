/* Config section "dcvit." of struct experiment; its schema rows are in io/schema_dcvit.c.
 * Shared by the DC-ViT compression (kind dcvit), its synthetic metric set (kind invert) and the
 * block-dropping baseline PRACTISE (kind practise). */
#ifndef KD_CONFIG_DCVIT_H
#define KD_CONFIG_DCVIT_H

struct experiment;

/* dcvit.metric and dcvit.practise_budget, in the order of their schema choices. */
enum dcvit_metric { METRIC_SYNTHETIC, METRIC_REAL, METRIC_NONE };
enum practise_budget { BUDGET_PAPER, BUDGET_EQUAL };

struct dcvit_cfg {
    float remove;             /* MACs to remove, in units of one original block (attn + MLP) */
    int n_blocks;             /* blocks to compress (0: ceil of remove); PRACTISE: ignored */
    enum dcvit_metric metric; /* block-choice metric set: synthetic | real | none */
    char synthetic[CFG_STR];  /* config of the kind-invert run whose images are the metric set */
    char reuse[CFG_STR];      /* config of a finished run whose compressed model is re-measured */
    int trial_steps;          /* fine-tuning steps of each candidate in the block-wise trial */
    int steps;                /* fine-tuning steps after each progressive compression */
    int loss_warmup;          /* steps over which the feature-MSE weight ramps up to 1 */
    int practise_steps;       /* PRACTISE fine-tuning steps after dropping (0: by budget) */
    enum practise_budget practise_budget; /* paper: steps once; equal: steps * (k+1), DC-ViT's
                                           * total */
    int freeze_embed;         /* DC-ViT fine-tuning also freezes patch/cls/pos embedding, norm */
    int trial_neighbour;      /* a trial candidate c fine-tunes blocks 0..c+1 (else 0..c) */
    int trial_shared_batches; /* every trial candidate sees the same batches */
    int latency_batch;        /* images per timed forward pass */
    int latency_runs;         /* timed forward passes (plus runs / 5 untimed warmup) */
    int syn_n;                /* synthetic images (distinct target classes while n <= classes) */
    int syn_iters;            /* Adam steps on the pixels */
    int syn_warmup;           /* of which linear warmup, then cosine */
    float syn_lr;             /* Adam learning rate on the normalized pixels */
    float syn_tv;             /* weight of the total variation (neighbour differences ^ 0.6) */
    float syn_l2;             /* weight of the mean L2 norm of the images */
    int syn_jitter;           /* random shift of up to this many pixels each step */
};

/* Configs that a dcvit-section config reads results of (synthetic set, reused run), for
 * tools/plan.c: appends to out, returns how many. */
int dcvit_refs_of(const struct experiment *x, const char **out);

#endif
