/* Batch assembly: gather samples by index, augment each keyed by its data set index (not its
 * position in the batch), so the same sample at the same epoch is the same image however the
 * epoch was ordered or split. No allocation: the caller owns every buffer. */
#include "dataset.h"

#include "base/err.h"

void dataset_batch(float *out, int *labels, const struct dataset *d, const int *idx, int B,
                   const struct augment_cfg *cfg, uint64_t seed, int epoch)
{
    size_t img = (size_t)d->h * d->w * d->c;
    for (int i = 0; i < B; i++) {
        int j = idx[i];
        KD_ASSERT(j >= 0 && j < d->n);
        struct augment_params p;
        augment_draw(&p, cfg, d->h, d->w, seed, epoch, j);
        augment_apply(out + i * img, d->pixels + (size_t)j * img, d->h, d->w, d->c, &p);
        labels[i] = d->labels[j];
    }
}
