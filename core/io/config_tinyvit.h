/* Config section "tinyvit." of struct experiment; its schema rows are in io/schema_tinyvit.c. */
#ifndef KD_CONFIG_TINYVIT_H
#define KD_CONFIG_TINYVIT_H

struct tinyvit_cfg {
    int topk;                 /* K of the stored top-K soft labels */
};

#endif
