/* Config section "interop." of struct experiment; its schema rows are in io/schema_interop.c. */
#ifndef KD_CONFIG_INTEROP_H
#define KD_CONFIG_INTEROP_H

struct interop_cfg {
    char teacher_weights[CFG_STR]; /* safetensors file with the teacher weights ("": none) */
};

#endif
