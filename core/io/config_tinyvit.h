/* Config section "tinyvit." of struct experiment; its schema rows are in io/schema_tinyvit.c. */
#ifndef KD_CONFIG_TINYVIT_H
#define KD_CONFIG_TINYVIT_H

struct tinyvit_cfg {
    int topk;             /* K of the stored top-K soft labels */
    int epochs;           /* labels run: epochs E to store (0: optim.epochs); student: the
                           * fewest stored epochs it accepts (0: any; epoch e uses e mod E) */
    char softlabels[256]; /* config of the tinyvit_labels run whose STEM.bin is replayed */
    int online;           /* 1: run the teacher in the loop instead of stored labels */
    float gt_weight;      /* weight of a cross-entropy term with the true labels (0: none) */
};

#endif
