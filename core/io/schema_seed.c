/* Schema rows of the "seed." config section (struct seed_cfg in io/config_seed.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_seed[] = {
    INT("seed.queue", seed.queue, 1, 1 << 24, "4096", "length of the teacher-embedding queue"),
    SCHEMA_END,
};
