/* Schema rows of the "tinymim." config section (struct tinymim_cfg in io/config_tinymim.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_tinymim[] = {
    INT("tinymim.target_layer", tinymim.target_layer, 0, 1024, "0", "teacher block distilled, 1-based (0: last)"),
    SCHEMA_END,
};
