/* Schema rows of the "seed." config section (struct seed_cfg in io/config_seed.h). */
#include "io/config_schema.h"
#include "io/config.h"
#include "loss/loss_table.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_seed[] = {
    INT("seed.queue", seed.queue, 1, 1 << 24, "4096", "length of the queue of embeddings"),
    INT("seed.proj_dim", seed.proj_dim, 1, 4096, "128", "projection head output width"),
    FLT("seed.momentum", seed.momentum, 0, 1, "0.99", "MoCo key encoder EMA coefficient"),
    FLT("seed.tau", seed.tau, 1e-6, 100, "0.2", "MoCo InfoNCE temperature"),
    FLT("seed.tau_t", seed.tau_t, 1e-8, 100, "1e-4", "SEED teacher temperature"),
    FLT("seed.tau_s", seed.tau_s, 1e-6, 100, "0.2", "SEED student temperature"),
    LOSS("seed.strategy", seed.strategy, LOSS_EMBED | LOSS_QUEUE | LOSS_KEYS, "seed",
         "distillation loss (core/loss/loss_table.c): SEED, l2 or cosine between embeddings, "
         "SEED + student MoCo, ..."),
    FLT("seed.moco_weight", seed.moco_weight, 0, 100, "1", "weight of the MoCo loss in seed_moco"),
    FLT("seed.crop_min", seed.crop_min, 0.01, 1, "0.2", "random resized crop: smallest area"),
    BOOL("seed.flip", seed.flip, "true", "random horizontal flip of SSL views"),
    FLT("seed.jitter", seed.jitter, 0, 1, "0.4", "brightness/contrast factor range 1 +- j"),
    FLT("seed.jitter_p", seed.jitter_p, 0, 1, "0.8", "probability of the jitter"),
    FLT("seed.blur_p", seed.blur_p, 0, 1, "0.5", "probability of a Gaussian blur"),
    FLT("seed.blur_sigma", seed.blur_sigma, 0.1, 2, "1.0", "largest blur sigma, pixels"),
    INT("seed.knn_k", seed.knn_k, 1, 10000, "20", "kNN neighbours"),
    FLT("seed.knn_t", seed.knn_t, 1e-4, 100, "0.07", "kNN vote temperature"),
    INT("seed.monitor_n", seed.monitor_n, 1, INT_MAX, "1000",
        "images of the per-epoch kNN monitor (bank and queries)"),
    INT("seed.probe_epochs", seed.probe_epochs, 0, 10000, "100", "linear probe epochs (0: off)"),
    FLT("seed.probe_lr", seed.probe_lr, 1e-6, 100, "0.03", "linear probe learning rate"),
    INTS("seed.semi", seed.semi, seed.n_semi, 1, 100, "[]",
         "label percentages for semi-supervised fine-tuning"),
    INT("seed.semi_epochs", seed.semi_epochs, 1, 10000, "10", "semi-supervised epochs"),
    FLT("seed.semi_lr", seed.semi_lr, 0, 10, "0.0003",
        "AdamW lr of the semi-supervised fine-tuning (whatever optim.name pretrains)"),
    FLT("seed.semi_weight_decay", seed.semi_weight_decay, 0, 10, "0.05",
        "weight decay of the semi-supervised fine-tuning"),
    SCHEMA_END,
};
