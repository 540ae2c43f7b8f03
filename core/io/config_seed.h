/* Config section "seed." of struct experiment; its schema rows are in io/schema_seed.c. */
#ifndef KD_CONFIG_SEED_H
#define KD_CONFIG_SEED_H

struct seed_cfg {
    int queue;                /* length of the queue of teacher embeddings */
};

#endif
