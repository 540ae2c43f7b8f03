/* The losses a config value picks (seed.strategy, tinymim.target), in one table
 * (loss_table.c). An entry's name is the value a YAML file writes, its needs say which inputs
 * the method must compute for it, and its forward runs it. A config key offers every loss whose
 * needs its method provides (the schema reads the key's choices from the table), so a new loss
 * is one file in core/loss/ and its line in the table. Losses no key picks (cross-entropy,
 * InfoNCE alone, MAE's pixel loss, DC-ViT's feature MSE) are called directly (loss/loss.h). */
#ifndef KD_LOSS_TABLE_H
#define KD_LOSS_TABLE_H

#include <stddef.h>

/* The inputs a loss reads, as bits; struct loss_in says where each one is. */
enum loss_need {
    LOSS_EMBED = 1 << 0,    /* s: the student's raw embeddings (rows, D); t: teacher unit ones */
    LOSS_QUEUE = 1 << 1,    /* queue (K, D) of teacher unit embeddings; tau_s, tau_t */
    LOSS_KEYS = 1 << 2,     /* keys (rows, D): the student's unit keys of a second view from its
                             * EMA copy, key_queue (K, D) of older ones; tau, key_weight */
    LOSS_RELATION = 1 << 3, /* s, t: the student's and teacher's Q, K, V of one block,
                             * (rows, T, 3 Cs) and (rows, T, 3 Ct), split into heads; pairs */
    LOSS_FEATURE = 1 << 4,  /* s, t: student and teacher tokens (rows, D), a row per token */
    LOSS_LOGITS = 1 << 5,   /* s, t: student and teacher logits (rows, D), a row per sample */
};

/* One call's inputs; a loss reads those of its needs and leaves the others alone. */
struct loss_in {
    const float *s; /* the student's input: the one the gradient is for */
    const float *t; /* the teacher's: held constant */
    float *ds;      /* weight * d(loss)/d(s) ACCUMULATES here; NULL: the loss only */
    float *work;    /* scratch of at least the entry's work_floats(in) floats */
    float weight;
    int rows, D;        /* s and t are (rows, D); relations: rows samples */
    const float *queue; /* LOSS_QUEUE */
    int K;              /* rows of queue and key_queue */
    float tau_s, tau_t;
    const float *keys, *key_queue; /* LOSS_KEYS */
    float tau, key_weight;
    int T, Cs, Ct, heads, pairs; /* LOSS_RELATION: tokens, widths, heads, RELATION_* mask */
};

/* A table entry. forward returns the loss (the mean over what it averages) and accumulates its
 * gradient into in->ds; work_floats gives the scratch it needs for in's shapes (0: none). */
struct loss_def {
    const char *name;
    int needs; /* enum loss_need bits */
    double (*forward)(const struct loss_in *in);
    size_t (*work_floats)(const struct loss_in *in);
};

/* The entries, in table order; a config key stores the index of its choice. */
int loss_count(void);
const struct loss_def *loss_at(int i);
/* 1 when entry i needs something and nothing beyond `provides` (enum loss_need bits): a key
 * whose method provides those inputs offers it. */
int loss_fits(int i, int provides);

#endif
