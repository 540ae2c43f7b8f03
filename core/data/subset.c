/* Which samples an experiment sees: a seeded prefix of a shuffle (nested: the first 1000 are
 * inside the first 2000) or a few-shot set of k per class. Pure function of (data, seed), done in
 * the caller's buffer, so train subsets never depend on how a job was split. */
#include "dataset.h"

#include "base/rng.h"

#include <string.h>

int dataset_subset(const struct dataset *d, int *out, int n, int per_class, uint64_t seed)
{
    for (int i = 0; i < d->n; i++)
        out[i] = i;
    if (n <= 0 && per_class <= 0)
        return d->n;
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_SUBSET, 0, 0);
    rng_shuffle(&r, out, d->n);
    if (per_class <= 0)
        return n < d->n ? n : d->n;
    /* Compact in place: keep the first per_class of each class in shuffle order. */
    int taken[256], count = 0;
    memset(taken, 0, sizeof taken);
    for (int i = 0; i < d->n; i++) {
        int y = d->labels[out[i]];
        if (taken[y] < per_class) {
            taken[y]++;
            out[count++] = out[i];
        }
    }
    return count;
}
