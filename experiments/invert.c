/* invert: DC-ViT's synthetic metric set, from the trained original alone (`teacher:`): images
 * optimized from Gaussian noise toward random distinct classes with CE + TV + L2, Adam on the
 * pixels, jitter and flips each step, pixels clipped to the data range.
 * Writes STEM.csv (loss terms every few iterations; the last row is final), STEM.syn (the
 * images for kind dcvit), STEM.png (a grid to look at, one row per class), STEM.yaml/.meta. */
#include "kd.h"
#include "train/compress.h"
#include "train/invert.h"
#include "data/png.h"
#include "base/runtime.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INVERT_HEADER "iter,loss,ce,tv,l2,target_acc,seconds"

struct log_ctx {
    struct run *r;
    int every, iters;
};

static void log_iter(void *p, int it, const struct invert_stats *s)
{
    struct log_ctx *c = p;
    if ((it + 1) % c->every != 0 && it + 1 != c->iters)
        return;
    csv_row(&c->r->csv, "%d,%.6f,%.6f,%.4f,%.4f,%.4f,%.2f", it + 1, s->loss, s->ce, s->tv, s->l2,
            s->acc, now_seconds() - c->r->t_start);
    progress_printf("[invert] iter %d/%d loss %.4f ce %.4f tv %.1f l2 %.1f acc %.2f\n", it + 1,
                    c->iters, s->loss, s->ce, s->tv, s->l2, s->acc);
}

/* Gray grid: images sorted by target, one column per class, 2-pixel gaps. */
static int write_grid(const char *path, const float *images, const int *targets, int n, int S,
                      int K, struct kd_err *e)
{
    int rows = 0, count[256] = {0};
    for (int i = 0; i < n; i++)
        rows = ++count[targets[i]] > rows ? count[targets[i]] : rows;
    int W = K * (S + 2) + 2, H = rows * (S + 2) + 2;
    uint8_t *px = calloc((size_t)W * H, 1);
    memset(count, 0, sizeof count);
    for (int i = 0; i < n; i++) {
        int k = targets[i], row = count[k]++;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float v = (images[((size_t)i * S + y) * S + x] * FMNIST_STD + FMNIST_MEAN) * 255;
                px[(size_t)(2 + row * (S + 2) + y) * W + 2 + k * (S + 2) + x] =
                    (uint8_t)(v < 0     ? 0
                              : v > 255 ? 255
                                        : lrintf(v));
            }
    }
    int rc = png_write_gray(path, px, H, W, e);
    free(px);
    return rc;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct experiment tx;
    struct vit m;
    if (run_start(&r, argc, argv, &e))
        die(&e);
    const struct dcvit_cfg *d = &r.x.dcvit;
    if (compress_load_original(&m, &tx, &r, d->syn_n < 64 ? d->syn_n : 64, &e))
        die(&e);
    if (m.in_ch != 1 || m.classes > 256) {
        kd_err_setfix(&e, KD_ERR_CONFIG, r.x.teacher, 0, "use a one-channel teacher",
                      "kind invert writes gray images of at most 256 classes only");
        die(&e);
    }
    struct invert_cfg c = {d->syn_n,
                           d->syn_iters,
                           d->syn_warmup,
                           d->syn_lr,
                           0.5f,
                           0.9f,
                           d->syn_tv,
                           d->syn_l2,
                           d->syn_jitter,
                           1,
                           (0 - FMNIST_MEAN) / FMNIST_STD,
                           (1 - FMNIST_MEAN) / FMNIST_STD};
    size_t P = (size_t)m.img * m.img * m.in_ch;
    float *images = malloc(sizeof(float) * P * c.n);
    int *targets = malloc(sizeof(int) * c.n);
    invert_targets(targets, c.n, m.classes, (uint64_t)r.x.run.seed);
    if (run_csv_open(&r, INVERT_HEADER, &e))
        die(&e);
    struct log_ctx lc = {&r, c.iters / 20 > 0 ? c.iters / 20 : 1, c.iters};
    progress_begin(r.out, c.iters, 0, r.x.run.log_every);
    if (invert_run(&m, images, targets, &c, (uint64_t)r.x.run.seed, log_iter, &lc, &e) ||
        compress_write_synthetic(run_path(&r, ".syn"), images, targets, c.n, m.img, m.img, m.in_ch,
                                 &e) ||
        write_grid(run_path(&r, ".png"), images, targets, c.n, m.img, m.classes, &e) ||
        run_csv_write(&r, 1, &e) || run_finish(&r, &e))
        die(&e);
    progress_end();
    free(images);
    free(targets);
    vit_free(&m);
    run_free(&r);
    return 0;
}
