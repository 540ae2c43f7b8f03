/* The table of losses a config value picks (loss_table.h). A line is: the value a YAML file
 * writes, what the loss needs, and the prefix of the two functions its file defines,
 * double <prefix>_forward(const struct loss_in *) and size_t <prefix>_work(const struct
 * loss_in *). A key lists its choices in this order. */
#include "loss/loss_table.h"
#include "base/err.h"

#define LOSSES(X)                                                                                  \
    X("seed", LOSS_EMBED | LOSS_QUEUE, seed_queue)                                                 \
    X("l2", LOSS_EMBED, embed_l2)                                                                  \
    X("cosine", LOSS_EMBED, embed_cosine)                                                          \
    X("seed_moco", LOSS_EMBED | LOSS_QUEUE | LOSS_KEYS, seed_moco)                                 \
    X("relation", LOSS_RELATION, relation)                                                         \
    X("feature", LOSS_FEATURE, smooth_l1)                                                          \
    X("cls", LOSS_LOGITS, kl_div)                                                                  \
    X("feature_cosine", LOSS_FEATURE, feature_cosine)

#define DECLARE(name, needs, prefix)                                                               \
    double prefix##_forward(const struct loss_in *in);                                             \
    size_t prefix##_work(const struct loss_in *in);
LOSSES(DECLARE)

#define ENTRY(name, needs, prefix) {name, needs, prefix##_forward, prefix##_work},
static const struct loss_def table[] = {LOSSES(ENTRY)};

int loss_count(void)
{
    return (int)(sizeof table / sizeof table[0]);
}

const struct loss_def *loss_at(int i)
{
    KD_ASSERT(i >= 0 && i < loss_count());
    return &table[i];
}

int loss_fits(int i, int provides)
{
    return i >= 0 && i < loss_count() && table[i].needs && !(table[i].needs & ~provides);
}
