/* Schema rows of the "dcvit." config section (struct dcvit_cfg in io/config_dcvit.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_dcvit[] = {
    INT("dcvit.n_blocks", dcvit.n_blocks, 0, 1024, "1", "blocks to compress"),
    SCHEMA_END,
};
