/* Config section "tinymim." of struct experiment; its schema rows are in io/schema_tinymim.c. */
#ifndef KD_CONFIG_TINYMIM_H
#define KD_CONFIG_TINYMIM_H

struct tinymim_cfg {
    int target_layer;         /* teacher block whose relations are distilled (1-based) */
};

#endif
