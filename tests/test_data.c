/* Data path tests: the real Fashion-MNIST loads, broken IDX files give the errors users need,
 * subsets are seeded and nested, augmentation replays bit for bit whatever the batch, and PNG
 * and image-folder input round-trip and reject impostors. Scratch files go to a /tmp folder. */
#include "base/err.h"
#include "check.h"
#include "data/dataset.h"
#include "data/augment_ops.h"
#include "base/rng.h"
#include "data/png.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *tmpdir; /* check_tmpdir() */

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int has(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* A gzip'd IDX file: magic, ndim dims, then len payload bytes. */
static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndim,
                      const uint8_t *payload, size_t len)
{
    unsigned char hdr[16];
    put_be32(hdr, magic);
    for (int i = 0; i < ndim; i++)
        put_be32(hdr + 4 + 4 * i, dims[i]);
    gzFile f = gzopen(path, "wb");
    gzwrite(f, hdr, 4 + 4 * ndim);
    if (len)
        gzwrite(f, payload, (unsigned)len);
    gzclose(f);
}

/* A small split "<name>" of n 4x3 images with labels i % 10, optionally damaged. */
static void write_split(const char *name, int n, int images_written, uint32_t img_magic,
                        int labels_n, int bad_label)
{
    char ip[256], lp[256];
    uint8_t px[4 * 3 * 64], lb[64];
    for (int i = 0; i < (int)sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 64; i++)
        lb[i] = (uint8_t)(i % 10);
    if (bad_label)
        lb[2] = 10;
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", tmpdir, name);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", tmpdir, name);
    uint32_t idims[3] = {(uint32_t)n, 4, 3}, ldims[1] = {(uint32_t)labels_n};
    write_idx(ip, img_magic, idims, 3, px, (size_t)images_written * 12);
    write_idx(lp, 0x801, ldims, 1, lb, (size_t)labels_n);
}

static void test_fmnist(struct dataset *train)
{
    struct kd_err e = {0};
    struct dataset test;
    double t0 = now();
    int rc = idx_load(train, FMNIST_DIR, "train", &e);
    double dt = now() - t0;
    if (rc)
        kd_err_print(&e);
    CHECK(rc == 0, "train set loads");
    /* the time is reported, not checked: a test's wall time depends on what else runs
     * (`make bench` is where speed is measured) */
    printf("test_data: full train set (60000 images) loaded in %.3f s\n", dt);
    CHECK(train->n == 60000 && train->h == 28 && train->w == 28 && train->c == 1,
          "train shape %d x %d x %d x %d", train->n, train->h, train->w, train->c);
    CHECK(train->classes == 10, "classes %d", train->classes);
    rc = idx_load(&test, FMNIST_DIR, "t10k", &e);
    CHECK(rc == 0 && test.n == 10000 && test.h == 28 && test.w == 28, "t10k loads, n %d", test.n);
    if (rc || train->n != 60000)
        return;
    CHECK(train->labels[0] == 9, "train label[0] %d", train->labels[0]);
    CHECK(test.labels[0] == 9, "test label[0] %d", test.labels[0]);
    int ctr[10] = {0}, cte[10] = {0};
    for (int i = 0; i < train->n; i++)
        ctr[train->labels[i]]++;
    for (int i = 0; i < test.n; i++)
        cte[test.labels[i]]++;
    for (int k = 0; k < 10; k++)
        CHECK(ctr[k] == 6000 && cte[k] == 1000, "class %d: %d train, %d test", k, ctr[k], cte[k]);
    long sum = 0;
    for (size_t i = 0; i < (size_t)28 * 28; i++)
        sum += train->pixels[i];
    CHECK(sum > 0, "first image is not blank");
    dataset_free(&test);
    CHECK(test.pixels == NULL && test.n == 0, "dataset_free zeroes");
    dataset_free(&test);
}

static void test_idx_errors(void)
{
    struct kd_err e = {0};
    struct dataset d;
    int rc = idx_load(&d, check_tmp("nowhere"), "train", &e);
    CHECK(rc == KD_ERR_IO && has(e.file, "nowhere/train-images-idx3-ubyte.gz"), "missing: %s",
          e.file);
    CHECK(has(e.fix, "data.dir") && !has(e.fix, "make deps"), "own folder's fix: %s", e.fix);
    CHECK(d.pixels == NULL && d.n == 0, "failed load leaves d empty");
    rc = idx_load(&d, "/usr/share/datasets/fashion-mnist", "nosuch", &e);
    CHECK(rc == KD_ERR_IO && has(e.fix, "make deps") && has(e.fix, "dataset-fashion-mnist"),
          "Debian's folder's fix: %s", e.fix);

    write_split("good", 20, 20, 0x803, 20, 0);
    rc = idx_load(&d, tmpdir, "good", &e);
    CHECK(rc == 0 && d.n == 20 && d.h == 4 && d.w == 3 && d.c == 1, "small split loads");
    CHECK(rc == 0 && d.pixels[12 * 19 + 11] == (uint8_t)((12 * 19 + 11) * 7) && d.labels[13] == 3,
          "small split content");
    dataset_free(&d);

    write_split("short", 20, 11, 0x803, 20, 0);
    rc = idx_load(&d, tmpdir, "short", &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "truncated") && has(e.file, "short-images"),
          "truncated payload: %d %s: %s", rc, e.file, e.msg);
    CHECK(!has(e.fix, "re-install") && !has(e.fix, "make deps") && has(e.fix, "replace it"),
          "a file of the user's own folder is not Debian's to re-install: %s", e.fix);

    write_split("magic", 20, 20, 0x801, 20, 0);
    rc = idx_load(&d, tmpdir, "magic", &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "magic") && has(e.file, "magic-images"),
          "wrong magic: %s", e.msg);

    write_split("count", 20, 20, 0x803, 19, 0);
    rc = idx_load(&d, tmpdir, "count", &e);
    CHECK(rc == KD_ERR_MISMATCH && has(e.msg, "19 labels") && has(e.msg, "20 images"),
          "count mismatch: %s", e.msg);

    write_split("label", 20, 20, 0x803, 20, 1);
    rc = idx_load(&d, tmpdir, "label", &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "label 10 of sample 2"), "bad label: %s", e.msg);

    write_split("extra", 20, 21, 0x803, 20, 0);
    rc = idx_load(&d, tmpdir, "extra", &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "more bytes"), "trailing bytes: %s", e.msg);

    /* A real .gz cut mid-stream, as an interrupted download leaves it. */
    char *buf;
    size_t len;
    FILE *in = fopen(FMNIST_DIR "/t10k-images-idx3-ubyte.gz", "rb");
    buf = malloc(1 << 20);
    len = in ? fread(buf, 1, 1 << 20, in) : 0;
    if (in)
        fclose(in);
    FILE *out = fopen(check_tmp("cut-images-idx3-ubyte.gz"), "wb");
    fwrite(buf, 1, len, out);
    fclose(out);
    free(buf);
    uint8_t *labels = calloc(10000, 1);
    uint32_t ldims[1] = {10000};
    write_idx(check_tmp("cut-labels-idx1-ubyte.gz"), 0x801, ldims, 1, labels, 10000);
    free(labels);
    rc = idx_load(&d, tmpdir, "cut", &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.file, "cut-images"), "cut gzip: %d %s", rc, e.file);
    CHECK(has(e.msg, "truncated"), "cut gzip message: %s", e.msg);
    CHECK(d.pixels == NULL, "failed load frees");
}

static void test_subset(const struct dataset *d)
{
    int n = d->n;
    int *a = malloc(sizeof(int) * n), *b = malloc(sizeof(int) * n);
    int *seen = calloc((size_t)n, sizeof(int));
    CHECK(dataset_subset(d, a, 0, 0, 1) == n, "n <= 0: all");
    int ordered = 1;
    for (int i = 0; i < n; i++)
        ordered &= a[i] == i;
    CHECK(ordered, "n <= 0: in order");

    CHECK(dataset_subset(d, a, 1000, 0, 7) == 1000, "first 1000");
    CHECK(dataset_subset(d, b, 1000, 0, 7) == 1000 && !memcmp(a, b, sizeof(int) * 1000),
          "same seed, same subset");
    int distinct = 1;
    for (int i = 0; i < 1000; i++) {
        distinct &= a[i] >= 0 && a[i] < n && !seen[a[i]];
        if (a[i] >= 0 && a[i] < n)
            seen[a[i]] = 1;
    }
    CHECK(distinct, "subset indices are distinct and in range");
    dataset_subset(d, b, 500, 0, 7);
    CHECK(!memcmp(a, b, sizeof(int) * 500), "smaller subset is a prefix of the larger");
    dataset_subset(d, b, 1000, 0, 8);
    CHECK(memcmp(a, b, sizeof(int) * 1000) != 0, "another seed, another subset");
    CHECK(dataset_subset(d, a, n + 5, 0, 7) == n, "n > size: all");

    int got = dataset_subset(d, a, 0, 5, 3);
    CHECK(got == 50, "5 per class: %d", got);
    int per[10] = {0};
    for (int i = 0; i < got; i++)
        per[d->labels[a[i]]]++;
    int even = 1;
    for (int k = 0; k < 10; k++)
        even &= per[k] == 5;
    CHECK(even, "exactly 5 of each class");
    CHECK(dataset_subset(d, b, 123, 5, 3) == 50 && !memcmp(a, b, sizeof(int) * 50),
          "few-shot is deterministic and ignores n");
    dataset_subset(d, b, 0, 5, 4);
    CHECK(memcmp(a, b, sizeof(int) * 50) != 0, "few-shot differs by seed");
    CHECK(dataset_subset(d, a, 0, 7000, 3) == n, "per_class above class size takes all");
    free(a);
    free(b);
    free(seen);
}

static void test_augment_semantics(void)
{
    uint8_t img[3 * 4];
    float out[3 * 4];
    for (int i = 0; i < 12; i++)
        img[i] = (uint8_t)(10 + i);
    struct augment_params id = {.dx = 0}, sh = {.dx = 1, .dy = -1}, fl = {.flip = 1};
    augment_apply(out, img, 3, 4, 1, &id);
    int ok = 1;
    for (int i = 0; i < 12; i++)
        ok &= out[i] == ((float)img[i] / 255.0f - FMNIST_MEAN) / FMNIST_STD;
    CHECK(ok, "identity normalizes with FMNIST_MEAN/STD");
    float zero = (0.0f - FMNIST_MEAN) / FMNIST_STD;
    augment_apply(out, img, 3, 4, 1, &sh);
    /* dx = 1, dy = -1: out[y][x] = img[y - 1][x + 1]. */
    CHECK(out[0] == zero && out[3] == zero && out[4 + 3] == zero, "shift fills zeros");
    CHECK(out[4 * 1 + 0] == ((float)img[1] / 255.0f - FMNIST_MEAN) / FMNIST_STD, "shift source");
    augment_apply(out, img, 3, 4, 1, &fl);
    CHECK(out[0] == ((float)img[3] / 255.0f - FMNIST_MEAN) / FMNIST_STD &&
              out[4 + 3] == ((float)img[4] / 255.0f - FMNIST_MEAN) / FMNIST_STD,
          "flip mirrors");
    uint8_t rgb[2 * 2 * 3] = {0, 255, 51, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    float o3[12];
    struct augment_params f3 = {.flip = 1};
    augment_apply(o3, rgb, 2, 2, 3, &f3);
    CHECK(o3[3] == -1.0f && o3[4] == 1.0f && o3[5] == (51.0f / 255.0f - 0.5f) / 0.5f,
          "3 channels: flip keeps channel order, 0.5/0.5 normalization");

    struct augment_cfg cfg = {.crop_pad = 4, .flip = 1}, noflip = {.crop_pad = 4};
    int dxs[9] = {0}, flips = 0, same_crop = 1;
    for (int s = 0; s < 2000; s++) {
        struct augment_params p, q;
        augment_draw(&p, &cfg, 28, 28, 11, 2, s);
        augment_draw(&q, &noflip, 28, 28, 11, 2, s);
        if (p.dx < -4 || p.dx > 4 || p.dy < -4 || p.dy > 4)
            dxs[0] = -100000;
        else
            dxs[p.dx + 4]++;
        flips += p.flip;
        same_crop &= p.dx == q.dx && p.dy == q.dy && q.flip == 0;
    }
    int all = 1;
    for (int k = 0; k < 9; k++)
        all &= dxs[k] > 100;
    CHECK(all, "every offset in [-4, 4] is drawn");
    CHECK(flips > 850 && flips < 1150, "about half flipped: %d", flips);
    CHECK(same_crop, "flip on or off leaves the crops unchanged");
    struct augment_params p;
    augment_draw(&p, NULL, 28, 28, 11, 2, 5);
    CHECK(p.dx == 0 && p.dy == 0 && p.flip == 0, "cfg NULL draws nothing");
}

static void test_augment_replay(const struct dataset *d)
{
    size_t img = (size_t)d->h * d->w * d->c;
    float *a = malloc(sizeof(float) * img * 4), *b = malloc(sizeof(float) * img * 4);
    int la[4], lb[4];
    struct augment_cfg cfg = {.crop_pad = 4, .flip = 1};
    int ia[4] = {5, 17, 123, 9}, ib[3] = {123, 40000, 5};
    dataset_batch(a, la, d, ia, 4, &cfg, 42, 3);
    dataset_batch(b, lb, d, ib, 3, &cfg, 42, 3);
    CHECK(!memcmp(a + 2 * img, b, sizeof(float) * img), "sample 123 replays in another batch");
    CHECK(!memcmp(a, b + 2 * img, sizeof(float) * img), "sample 5 replays in another batch");
    CHECK(la[2] == lb[0] && la[0] == lb[2] && la[0] == d->labels[5], "labels follow samples");
    dataset_batch(b, lb, d, ia + 1, 1, &cfg, 42, 3);
    CHECK(!memcmp(a + img, b, sizeof(float) * img), "sample 17 replays alone");
    int differ = 0;
    dataset_batch(b, lb, d, ia, 4, &cfg, 42, 4);
    for (int i = 0; i < 4; i++)
        differ += memcmp(a + i * img, b + i * img, sizeof(float) * img) != 0;
    CHECK(differ >= 3, "next epoch changes the images (%d of 4 differ)", differ);
    dataset_batch(b, lb, d, ia, 4, &cfg, 43, 3);
    differ = 0;
    for (int i = 0; i < 4; i++)
        differ += memcmp(a + i * img, b + i * img, sizeof(float) * img) != 0;
    CHECK(differ >= 3, "another seed changes the images (%d of 4 differ)", differ);
    dataset_batch(a, la, d, ia, 4, NULL, 42, 3);
    dataset_batch(b, lb, d, ia, 4, NULL, 43, 9);
    CHECK(!memcmp(a, b, sizeof(float) * img * 4), "no augmentation: seed and epoch do not matter");
    free(a);
    free(b);
}

/* FNV-1a over the bytes of a float buffer. */
static uint64_t fnv_floats(uint64_t h, const float *v, size_t n)
{
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < n * sizeof(float); i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* With the strong augmentations off (their keys at the schema's defaults), batches are those
 * of the shift-and-flip code before they existed: the digest was taken from that code. */
static void test_augment_golden(const struct dataset *d)
{
    int idx[8] = {0, 5, 17, 123, 999, 40000, 59999, 31337}, lab[8];
    float *out = malloc(sizeof(float) * 784 * 8);
    struct augment_cfg off = {.crop_pad = 2, .flip = 1, .randaug_m = 9};
    uint64_t h = 0xcbf29ce484222325ull;
    for (int ep = 0; ep < 3; ep++) {
        dataset_batch(out, lab, d, idx, 8, &off, 42, ep);
        h = fnv_floats(h, out, 784 * 8);
    }
    CHECK(h == 0xe24eee1c212c68ebull, "strong augmentation off: old images (digest %016llx)",
          (unsigned long long)h);
    free(out);
}

static const struct augment_cfg strong_cfg = {.crop_pad = 2,
                                              .flip = 1,
                                              .rrc_scale_min = 0.2f,
                                              .randaug_n = 2,
                                              .randaug_m = 9,
                                              .randaug_mstd = 0.5f,
                                              .erase_prob = 0.25f};

/* Drawing: replayable from the seed, the old draws first and unchanged, the ranges of timm. */
static void test_augment_strong_draw(void)
{
    struct augment_cfg plain = {.crop_pad = 2, .flip = 1};
    int same = 1, old_kept = 1, kinds[AUGMENT_N_OPS] = {0}, ops = 0, erased = 0, boxes_ok = 1;
    int rrc_ok = 1, rrc_small = 0, differ = 0;
    for (int s = 0; s < 4000; s++) {
        struct augment_params p, q, o;
        augment_draw(&p, &strong_cfg, 28, 28, 7, 3, s);
        augment_draw(&q, &strong_cfg, 28, 28, 7, 3, s);
        augment_draw(&o, &plain, 28, 28, 7, 3, s);
        same &= memcmp(&p, &q, sizeof p) == 0;
        old_kept &= p.dx == o.dx && p.dy == o.dy && p.flip == o.flip;
        old_kept &= o.rh == 0 && o.n_ops == 0 && o.eh == 0;
        ops += p.n_ops;
        for (int i = 0; i < p.n_ops; i++)
            kinds[p.ops[i].kind]++;
        for (int i = 0; i < p.n_ops; i++) {
            float a = fabsf(p.ops[i].arg);
            int k = p.ops[i].kind;
            boxes_ok &= k != AUGMENT_OP_ROTATE || a <= 30.0f;
            boxes_ok &= k != AUGMENT_OP_SHEAR_X || a <= 0.3f;
            boxes_ok &= k != AUGMENT_OP_TRANSLATE_Y || a <= 0.45f * 28;
            boxes_ok &= k != AUGMENT_OP_CONTRAST || (a >= 0.1f && a <= 1.9f);
        }
        if (p.eh) {
            erased++;
            boxes_ok &= p.ey >= 0 && p.ex >= 0 && p.ey + p.eh <= 28 && p.ex + p.ew <= 28;
            boxes_ok &= p.eh * p.ew >= 2 && p.eh * p.ew <= 28 * 28 / 3 + 30;
        }
        rrc_ok &= p.rh > 0 && p.ry0 >= 0 && p.rx0 >= 0 && p.ry0 + p.rh <= 28 &&
                  p.rx0 + p.rw <= 28 && p.rh * p.rw >= 0.2 * 784 * 0.8;
        rrc_small += p.rh * p.rw < 0.5 * 784;
        if (s > 0) {
            struct augment_params n;
            augment_draw(&n, &strong_cfg, 28, 28, 7, 3, s - 1);
            differ += p.n_ops != n.n_ops || p.rh != n.rh || p.rx0 != n.rx0;
        }
    }
    CHECK(same, "the same (seed, epoch, sample) draws the same parameters");
    CHECK(old_kept, "crop offsets and flip are those drawn without the strong augmentation");
    CHECK(ops > 3600 && ops < 4400, "each of 2 ops applies with p 0.5: %d of 8000", ops);
    int all = 1;
    for (int k = 0; k < AUGMENT_N_OPS; k++)
        all &= kinds[k] > 300;
    CHECK(all, "every RandAugment op is drawn");
    CHECK(erased > 850 && erased < 1150, "erasing with p 0.25: %d of 4000", erased);
    CHECK(boxes_ok, "op magnitudes and erase boxes within timm's ranges");
    CHECK(rrc_ok && rrc_small > 1000, "resized crops inside the image, area from 0.2 (%d small)",
          rrc_small);
    CHECK(differ > 2000, "samples draw differently (%d of 3999)", differ);
}

/* Bilinear sample of in (h, w) at index coordinates (sx, sy), zeros outside: the reference. */
static double ref_bilinear(const float *in, int h, int w, double sx, double sy)
{
    double fx = floor(sx), fy = floor(sy), ax = sx - fx, ay = sy - fy, r = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int x = (int)fx + i, y = (int)fy + j;
            double v = x < 0 || y < 0 || x >= w || y >= h ? 0 : in[y * w + x];
            r += v * (i ? ax : 1 - ax) * (j ? ay : 1 - ay);
        }
    return r;
}

/* Each geometric op against hand-computed pixels, and rotation against a naive reference. */
static void test_augment_geometric(void)
{
    float in[4 * 4], out[16], m[6];
    for (int i = 0; i < 16; i++)
        in[i] = (float)(10 + i);
    augment_affine_matrix(m, AUGMENT_OP_TRANSLATE_X, 1, 4, 4);
    augment_affine(out, in, 4, 4, 1, m);
    CHECK(out[0] == 11 && out[2] == 13 && out[3] == 0 && out[4 * 3 + 3] == 0, "translate x 1");
    augment_affine_matrix(m, AUGMENT_OP_TRANSLATE_Y, -2, 4, 4);
    augment_affine(out, in, 4, 4, 1, m);
    CHECK(out[0] == 0 && out[7] == 0 && out[8] == 10 && out[15] == 17, "translate y -2");
    augment_affine_matrix(m, AUGMENT_OP_TRANSLATE_X, 0.5f, 4, 4);
    augment_affine(out, in, 4, 4, 1, m);
    CHECK(out[0] == 10.5f && out[3] == 6.5f, "half a pixel: bilinear, zero beyond the edge");
    /* shear x 2: row y samples x + 2 (y + 0.5): row 0 shifted by 1, row 1 by 3 */
    augment_affine_matrix(m, AUGMENT_OP_SHEAR_X, 2, 4, 4);
    augment_affine(out, in, 4, 4, 1, m);
    CHECK(out[0] == 11 && out[2] == 13 && out[3] == 0 && out[4] == 17 && out[5] == 0, "shear x 2");
    augment_affine_matrix(m, AUGMENT_OP_SHEAR_Y, -2, 4, 4);
    augment_affine(out, in, 4, 4, 1, m);
    /* column x samples y - 2 (x + 0.5) + 1 = y - 2x - 1 */
    CHECK(out[4 * 1 + 0] == 10 && out[4 * 3 + 0] == 18 && out[4 * 3 + 1] == 11 &&
              out[4 * 2 + 1] == 0 && out[1] == 0,
          "shear y -2");
    /* 90 degrees counter-clockwise, PIL's sense: [[1, 2], [3, 4]] -> [[2, 4], [1, 3]] */
    float sq[4] = {1, 2, 3, 4}, rot[4];
    augment_affine_matrix(m, AUGMENT_OP_ROTATE, 90, 2, 2);
    augment_affine(rot, sq, 2, 2, 1, m);
    CHECK(fabsf(rot[0] - 2) < 1e-4f && fabsf(rot[1] - 4) < 1e-4f && fabsf(rot[2] - 1) < 1e-4f &&
              fabsf(rot[3] - 3) < 1e-4f,
          "rotate 90: %g %g %g %g", rot[0], rot[1], rot[2], rot[3]);
    float big[7 * 5], got[7 * 5];
    for (int i = 0; i < 35; i++)
        big[i] = (float)((i * 53) % 256);
    double t = -(-23.5) * M_PI / 180.0, cx = 2.5, cy = 3.5, worst = 0;
    augment_affine_matrix(m, AUGMENT_OP_ROTATE, -23.5f, 7, 5);
    augment_affine(got, big, 7, 5, 1, m);
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 5; x++) {
            double u = x + 0.5 - cx, v = y + 0.5 - cy;
            double sx = cos(t) * u + sin(t) * v + cx - 0.5,
                   sy = -sin(t) * u + cos(t) * v + cy - 0.5;
            double d = fabs(got[y * 5 + x] - ref_bilinear(big, 7, 5, sx, sy));
            worst = d > worst ? d : worst;
        }
    CHECK(worst < 1e-3, "rotate -23.5 on 7x5 vs the naive reference: %g", worst);
}

/* The enhance ops, the resized crop and erasing against hand-computed pixels. */
static void test_augment_photometric(void)
{
    float v[4] = {50, 100, 150, 50};
    augment_autocontrast(v, 2, 2, 1);
    CHECK(v[0] == 0 && v[1] == 127.5f && v[2] == 255 && v[3] == 0, "autocontrast");
    float flat[4] = {7, 7, 7, 7};
    augment_autocontrast(flat, 2, 2, 1);
    CHECK(flat[0] == 7 && flat[3] == 7, "autocontrast leaves a flat image");
    float c[4] = {0, 100, 200, 101};
    augment_contrast(c, 2, 2, 1, 2.0f); /* mean 100.25 -> 100 */
    CHECK(c[0] == 0 && c[1] == 100 && c[2] == 255 && c[3] == 102, "contrast 2");
    float s[9] = {0, 0, 0, 0, 13, 0, 0, 0, 0}, o[9];
    augment_sharpness(o, s, 3, 3, 1, 2.0f); /* smooth center 5, 5 + 2 (13 - 5) */
    CHECK(o[4] == 21 && o[0] == 0 && o[1] == 0, "sharpness 2: %g", o[4]);
    augment_sharpness(o, s, 3, 3, 1, 0.0f);
    CHECK(o[4] == 5, "sharpness 0 is the smoothed image");
    uint8_t ramp[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ramp[y * 4 + x] = (uint8_t)(10 * y + x);
    float rc[16];
    augment_resized_crop(rc, ramp, 4, 4, 1, 0, 0, 4, 4);
    int ok = 1;
    for (int i = 0; i < 16; i++)
        ok &= rc[i] == ramp[i];
    CHECK(ok, "resized crop of the whole image is the image");
    /* box (1, 1, 2, 2) to 4x4: source offsets -0.25, 0.25, 0.75, 1.25 clamped to [0, 1] */
    augment_resized_crop(rc, ramp, 4, 4, 1, 1, 1, 2, 2);
    const float at[4] = {0, 0.25f, 0.75f, 1};
    ok = 1;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ok &= fabsf(rc[y * 4 + x] - (10 * (1 + at[y]) + 1 + at[x])) < 1e-5f;
    CHECK(ok, "resized crop 2x: bilinear with half-pixel centers, edges clamped");
    float e[5 * 5 * 2];
    for (int i = 0; i < 50; i++)
        e[i] = 9;
    struct rng r, ref;
    rng_init(&r, 5, RNG_STREAM_AUGMENT, 1, 2);
    ref = r;
    augment_erase(e, 5, 5, 2, 1, 2, 3, 2, &r);
    ok = 1;
    int kept = 0;
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++)
            for (int k = 0; k < 2; k++) {
                int in = y >= 1 && y < 4 && x >= 2 && x < 4;
                ok &= !in || e[(y * 5 + x) * 2 + k] == rng_normal(&ref);
                kept += !in && e[(y * 5 + x) * 2 + k] == 9;
            }
    CHECK(ok && kept == 50 - 12, "erasing fills the box with the generator's normals");
}

/* augment_apply's strong path: ops on [0, 255] values before normalization, erasing after. */
static void test_augment_strong_apply(void)
{
    uint8_t img[4 * 4];
    for (int i = 0; i < 16; i++)
        img[i] = (uint8_t)(20 * i);
    float plain[16], out[16];
    struct augment_params p = {.dx = 1};
    augment_apply(plain, img, 4, 4, 1, &p);
    p.n_ops = 1;
    p.ops[0] = (struct augment_op){AUGMENT_OP_TRANSLATE_Y, 1};
    augment_apply(out, img, 4, 4, 1, &p);
    float zero = (0.0f - FMNIST_MEAN) / FMNIST_STD;
    int ok = 1;
    for (int i = 0; i < 12; i++)
        ok &= out[i] == plain[i + 4];
    CHECK(ok && out[12] == zero && out[15] == zero, "shift, then translate, then normalize");
    struct augment_params q = {.dx = 1, .ey = 1, .ex = 0, .eh = 2, .ew = 3};
    rng_init(&q.noise, 1, RNG_STREAM_AUGMENT, 0, 0);
    struct rng ref = q.noise;
    augment_apply(out, img, 4, 4, 1, &q);
    ok = 1;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int in = y >= 1 && y < 3 && x < 3;
            ok &= in ? out[y * 4 + x] == rng_normal(&ref) : out[y * 4 + x] == plain[y * 4 + x];
        }
    CHECK(ok, "erasing after normalization, the rest untouched");
    struct augment_params a, b;
    uint8_t big[28 * 28];
    float fa[28 * 28], fb[28 * 28];
    for (int i = 0; i < 28 * 28; i++)
        big[i] = (uint8_t)((i * 7) & 255);
    augment_draw(&a, &strong_cfg, 28, 28, 3, 1, 77);
    b = a;
    augment_apply(fa, big, 28, 28, 1, &a);
    augment_apply(fb, big, 28, 28, 1, &b);
    CHECK(!memcmp(fa, fb, sizeof fa), "applying the same parameters twice is bit-identical");
}

/* A 4-entry palette PNG written directly with libpng (our writer only does gray/RGB/RGBA). */
static void write_palette_png(const char *path)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return;
    }
    png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    uint8_t row[3] = {0x1b, 0x00, 0x00}; /* 2-bit indices 0,1,2,3 */
    png_init_io(png, f);
    png_set_IHDR(png, info, 4, 1, 2, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_PLTE(png, info, pal, 4);
    png_write_info(png, info);
    png_write_row(png, row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void test_png(void)
{
    struct kd_err e = {0};
    enum { H = 37, W = 29 };
    uint8_t gray[H * W], rgb[H * W * 3], rgba[H * W * 4], *px;
    int h, w, c;
    for (int i = 0; i < H * W; i++)
        gray[i] = (uint8_t)(i * 31 + (i >> 3));
    for (int i = 0; i < H * W * 3; i++)
        rgb[i] = (uint8_t)(i * 13 + 5);
    for (int i = 0; i < H * W * 4; i++)
        rgba[i] = (uint8_t)(i * 3);

    int rc = png_write_gray(check_tmp("g.png"), gray, H, W, &e);
    CHECK(rc == 0 && access(check_tmp("g.png.tmp"), F_OK) != 0, "gray written, no .tmp left");
    rc = png_read(check_tmp("g.png"), &px, &h, &w, &c, &e);
    CHECK(rc == 0 && h == H && w == W && c == 1 && !memcmp(px, gray, sizeof gray),
          "gray round trip");
    free(px);
    rc = png_write_rgb(check_tmp("sub/rgb.png"), rgb, H, W, &e);
    CHECK(rc == 0, "rgb written into a new folder");
    rc = png_read(check_tmp("sub/rgb.png"), &px, &h, &w, &c, &e);
    CHECK(rc == 0 && h == H && w == W && c == 3 && !memcmp(px, rgb, sizeof rgb), "rgb round trip");
    free(px);
    png_write(check_tmp("a.png"), rgba, H, W, 4, &e);
    rc = png_read(check_tmp("a.png"), &px, &h, &w, &c, &e);
    int same = rc == 0 && c == 3;
    for (int i = 0; same && i < H * W; i++)
        same = !memcmp(px + 3 * i, rgba + 4 * i, 3);
    CHECK(same, "rgba reads as rgb without alpha");
    free(px);
    write_palette_png(check_tmp("pal.png"));
    rc = png_read(check_tmp("pal.png"), &px, &h, &w, &c, &e);
    CHECK(rc == 0 && h == 1 && w == 4 && c == 3 && px[3] == 255 && px[7] == 255 && px[9] == 10 &&
              px[11] == 30,
          "palette expands to rgb");
    if (rc == 0)
        free(px);
    CHECK(png_write(check_tmp("bad.png"), gray, H, W, 2, &e) == KD_ERR_USAGE, "c = 2 refused");

    FILE *f = fopen(check_tmp("photo.png"), "wb");
    const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1};
    fwrite(jpeg, 1, sizeof jpeg, f);
    fclose(f);
    rc = png_read(check_tmp("photo.png"), &px, &h, &w, &c, &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "JPEG") && px == NULL && has(e.file, "photo.png"),
          "JPEG renamed .png: %s", e.msg);

    /* Cut a noisy (poorly compressible) PNG in half: libpng fails mid-IDAT. */
    enum { N = 64 };
    uint8_t noise[N * N];
    for (int i = 0; i < N * N; i++)
        noise[i] = (uint8_t)((i * 2654435761u) >> 24);
    png_write_gray(check_tmp("noise.png"), noise, N, N, &e);
    struct stat st;
    stat(check_tmp("noise.png"), &st);
    CHECK(truncate(check_tmp("noise.png"), st.st_size / 2) == 0, "truncate");
    rc = png_read(check_tmp("noise.png"), &px, &h, &w, &c, &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "truncated") && px == NULL, "truncated PNG: %s", e.msg);
    CHECK(truncate(check_tmp("noise.png"), 20) == 0, "truncate");
    rc = png_read(check_tmp("noise.png"), &px, &h, &w, &c, &e);
    CHECK(rc == KD_ERR_FORMAT && px == NULL, "PNG cut inside the header: %s", e.msg);
    rc = png_read(check_tmp("none.png"), &px, &h, &w, &c, &e);
    CHECK(rc == KD_ERR_IO && px == NULL, "missing PNG");
}

static void test_folder(void)
{
    struct kd_err e = {0};
    struct dataset d;
    uint8_t g[6 * 5], rgb[6 * 5 * 3];
    memset(g, 7, sizeof g);
    for (int i = 0; i < 30; i++)
        rgb[3 * i] = 100, rgb[3 * i + 1] = 50, rgb[3 * i + 2] = 200;
    png_write_gray(check_tmp("img/cat/b.png"), g, 6, 5, &e);
    png_write_gray(check_tmp("img/cat/a.png"), g, 6, 5, &e);
    png_write_rgb(check_tmp("img/ant/x.png"), rgb, 6, 5, &e);
    FILE *f = fopen(check_tmp("img/ant/notes.txt"), "w");
    fputs("not an image\n", f);
    fclose(f);
    int rc = folder_load(&d, check_tmp("img"), 6, 5, 1, &e);
    if (rc)
        kd_err_print(&e);
    CHECK(rc == 0 && d.n == 3 && d.classes == 2 && d.c == 1, "folder loads 3 images, 2 classes");
    if (rc == 0) {
        CHECK(d.labels[0] == 0 && d.labels[1] == 1 && d.labels[2] == 1, "classes sorted by name");
        CHECK(d.pixels[0] == (299 * 100 + 587 * 50 + 114 * 200 + 500) / 1000 && d.pixels[30] == 7,
              "rgb converted to gray");
    }
    dataset_free(&d);
    rc = folder_load(&d, check_tmp("img"), 6, 5, 3, &e);
    CHECK(rc == 0 && d.c == 3 && d.pixels[90] == 7 && d.pixels[92] == 7 && d.pixels[0] == 100,
          "gray to rgb, rgb kept");
    dataset_free(&d);
    png_write_gray(check_tmp("img/cat/c.png"), g, 5, 6, &e);
    rc = folder_load(&d, check_tmp("img"), 6, 5, 1, &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.file, "cat/c.png") && has(e.msg, "5x6"),
          "size mismatch names the file: %s %s", e.file, e.msg);
    CHECK(d.pixels == NULL, "failed folder load frees");
    rc = folder_load(&d, check_tmp("nofolder"), 6, 5, 1, &e);
    CHECK(rc == KD_ERR_IO, "missing folder");
    rc = folder_load(&d, check_tmp("img/ant"), 6, 5, 1, &e);
    CHECK(rc == KD_ERR_FORMAT && has(e.msg, "0 class"), "no class folders: %s", e.msg);
}

int main(void)
{
    tmpdir = check_tmpdir("test_data");
    struct dataset train;
    test_fmnist(&train);
    test_idx_errors();
    if (train.n == 60000) {
        test_subset(&train);
        test_augment_replay(&train);
        test_augment_golden(&train);
    }
    test_augment_semantics();
    test_augment_strong_draw();
    test_augment_geometric();
    test_augment_photometric();
    test_augment_strong_apply();
    test_png();
    test_folder();
    dataset_free(&train);
    return check_report("test_data");
}
