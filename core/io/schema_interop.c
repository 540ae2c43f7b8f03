/* Schema rows of the "interop." config section (struct interop_cfg in io/config_interop.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_interop[] = {
    STR("interop.teacher_weights", interop.teacher_weights, "",
        "safetensors file of teacher weights (empty: none)"),
    SCHEMA_END,
};
