/* Schema rows of the "tinyvit." config section (struct tinyvit_cfg in io/config_tinyvit.h). */
#include "io/config_schema.h"
#include "io/config.h"

#include <limits.h>
#include <stddef.h>

const struct cfg_key schema_tinyvit[] = {
    INT("tinyvit.topk", tinyvit.topk, 1, 1024, "10", "K of the stored top-K soft labels"),
    INT("tinyvit.epochs", tinyvit.epochs, 0, 1 << 20, "0",
        "labels: epochs stored (0: optim.epochs); student: fewest accepted (0: any)"),
    STR("tinyvit.softlabels", tinyvit.softlabels, "",
        "config of the tinyvit_labels run to replay (\"\": none)"),
    BOOL("tinyvit.online", tinyvit.online, "false", "run the teacher in the loop (no file)"),
    FLT("tinyvit.gt_weight", tinyvit.gt_weight, 0, 100, "0",
        "weight of cross-entropy with the true labels (paper default 0)"),
    SCHEMA_END,
};
