/* Config section "dcvit." of struct experiment; its schema rows are in io/schema_dcvit.c. */
#ifndef KD_CONFIG_DCVIT_H
#define KD_CONFIG_DCVIT_H

struct dcvit_cfg {
    int n_blocks;             /* blocks to compress */
};

#endif
