/* Config section "seed." of struct experiment: MoCo-v2 pretraining and SEED distillation
 * (experiments/moco.c, experiments/seed.c), their SSL augmentation and the frozen-feature
 * evaluation (core/train/probe.c). Schema rows: io/schema_seed.c. */
#ifndef KD_CONFIG_SEED_H
#define KD_CONFIG_SEED_H

/* Included by io/config.h only, after CFG_STR and CFG_LIST. */

struct seed_cfg {
    int queue;          /* entries in the queue of negatives / teacher embeddings */
    int proj_dim;       /* projection head output width (128 in MoCo-v2 and SEED) */
    float momentum;     /* MoCo key encoder EMA coefficient m */
    float tau;          /* InfoNCE temperature (MoCo-v2: 0.2) */
    float tau_t;        /* SEED teacher temperature */
    float tau_s;        /* SEED student temperature */
    int strategy;       /* the distillation loss: its index in loss/loss_table.h */
    float moco_weight;  /* weight of the student's own InfoNCE in seed_moco */
    float crop_min;     /* random resized crop: smallest area fraction */
    int flip;           /* random horizontal flip */
    float jitter;       /* brightness and contrast factors drawn in [1-j, 1+j] */
    float jitter_p;     /* probability of applying the jitter */
    float blur_p;       /* probability of a Gaussian blur */
    float blur_sigma;   /* blur sigma drawn in [0.1, blur_sigma] pixels (5x5 kernel) */
    int knn_k;          /* neighbours of the kNN classifier */
    float knn_t;        /* kNN vote weight exp(sim / knn_t) */
    int monitor_n;      /* train and test images of the per-epoch kNN monitor */
    int probe_epochs;   /* linear probe epochs on frozen features */
    float probe_lr;     /* linear probe peak learning rate (AdamW, cosine) */
    int semi[CFG_LIST]; /* label percentages for semi-supervised fine-tuning ([]: none) */
    int n_semi;
    int semi_epochs;         /* fine-tuning epochs on the labeled subset */
    float semi_lr;           /* AdamW lr of the semi-supervised fine-tuning */
    float semi_weight_decay; /* its weight decay */
};

#endif
