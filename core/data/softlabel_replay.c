/* The two sides of a soft-label file that must agree bit for bit: the teacher pass that writes
 * records (softlabel_label_epoch) and the student's replay of the same images from the records'
 * seeds (softlabel_replay_batch). Both build images with softlabel_image from the seed alone,
 * so the student sees exactly what the teacher saw (TinyViT's save_logits.py + its sampler). */
#include "data/softlabel.h"

#include "base/err.h"
#include "base/rng.h"

#include <string.h>

uint32_t softlabel_sample_seed(uint64_t run_seed, int epoch, int sample)
{
    /* its own stream, so record seeds are unrelated to the training loop's augmentation draws */
    struct rng r;
    rng_init(&r, run_seed, RNG_STREAM_OTHER, (uint32_t)epoch, (uint32_t)sample);
    return rng_u32(&r);
}

void softlabel_image(float *out, const struct dataset *d, int j, const struct augment_cfg *cfg,
                     uint32_t seed)
{
    struct augment_params p;
    size_t img = (size_t)d->h * d->w * d->c;
    KD_ASSERT(j >= 0 && j < d->n);
    augment_draw(&p, cfg, d->h, d->w, seed, 0, 0);
    augment_apply(out, d->pixels + (size_t)j * img, d->h, d->w, d->c, &p);
}

void softlabel_label_epoch(struct softlabel_writer *w, const struct dataset *d, const int *samples,
                           int n, int epoch, const struct augment_cfg *cfg, uint64_t run_seed,
                           int Bmax, float *images, float *probs, softlabel_teacher_fn teacher,
                           void *ctx, struct softlabel_epoch_stats *st)
{
    size_t img = (size_t)d->h * d->w * d->c;
    int C = (int)w->info.classes, K = (int)w->info.k;
    uint16_t idx[SOFTLABEL_MAX_K], val[SOFTLABEL_MAX_K];
    uint32_t seeds[1024];
    double mass = 0, top1 = 0;
    long correct = 0;
    KD_ASSERT(Bmax <= 1024);
    for (int at = 0; at < n; at += Bmax) {
        int B = n - at < Bmax ? n - at : Bmax;
        for (int i = 0; i < B; i++) {
            seeds[i] = softlabel_sample_seed(run_seed, epoch, samples[at + i]);
            softlabel_image(images + i * img, d, samples[at + i], cfg, seeds[i]);
        }
        teacher(ctx, images, B, probs);
        for (int i = 0; i < B; i++) {
            softlabel_topk(idx, val, probs + (size_t)i * C, C, K);
            softlabel_writer_put(w, seeds[i], idx, val);
            for (int k = 0; k < K; k++)
                mass += softlabel_f32_from_f16(val[k]);
            top1 += probs[(size_t)i * C + idx[0]];
            correct += idx[0] == d->labels[samples[at + i]];
        }
    }
    st->topk_mass = n ? mass / n : 0;
    st->top1_mass = n ? top1 / n : 0;
    st->teacher_acc = n ? (double)correct / n : 0;
}

void softlabel_replay_batch(const struct softlabel_file *f, const struct dataset *d,
                            const struct augment_cfg *cfg, const int *idx, int B, int epoch, int k,
                            float *images, int *labels, float *dense)
{
    size_t img = (size_t)d->h * d->w * d->c;
    int C = (int)f->info.classes, kf = (int)f->info.k;
    uint16_t ti[SOFTLABEL_MAX_K], tv[SOFTLABEL_MAX_K];
    KD_ASSERT((uint32_t)d->n == f->info.data_n);
    for (int i = 0; i < B; i++) {
        int j = idx[i], pos = f->pos_of[j];
        KD_ASSERT(pos >= 0);
        const uint8_t *rec = softlabel_record(f, epoch, pos);
        softlabel_image(images + i * img, d, j, cfg, softlabel_record_seed(rec));
        labels[i] = d->labels[j];
        if (!dense)
            continue;
        softlabel_record_topk(ti, tv, rec, kf, k);
        softlabel_dense(dense + (size_t)i * C, ti, tv, C, k);
    }
}
