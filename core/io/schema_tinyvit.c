/* Schema rows of the "tinyvit." config section (struct tinyvit_cfg in io/config_tinyvit.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_tinyvit[] = {
    INT("tinyvit.topk", tinyvit.topk, 1, 65535, "10", "K of the stored top-K soft labels"),
    SCHEMA_END,
};
