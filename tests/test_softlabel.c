/* Soft-label files: the half-float codec (every half, every tie), the byte layout and CRC, top-K
 * and the paper's dense rebuild on a hand example, the errors a truncated, corrupted or
 * mismatched file gives, and the replay: an image rebuilt from a record is bit-identical to the
 * one the labelling pass fed its teacher. Scratch files go to a /tmp folder. */
#include "base/err.h"
#include "check.h"
#include "data/softlabel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static float f32_of(uint32_t x)
{
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static void test_f16(void)
{
    /* every half survives half -> float -> half; NaN stays NaN */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = softlabel_f32_from_f16((uint16_t)h);
        int nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
        bad += nan ? !isnan(f) : softlabel_f16_from_f32(f) != h;
    }
    CHECK(bad == 0, "%d halves do not round-trip", bad);
    struct {
        float f;
        uint16_t h;
    } known[] = {{1.0f, 0x3c00},      {-2.0f, 0xc000},        {0.5f, 0x3800},
                 {0.1f, 0x2e66},      {65504.0f, 0x7bff},     {65520.0f, 0x7c00},
                 {65519.99f, 0x7bff}, {1e9f, 0x7c00},         {ldexpf(1, -24), 0x0001},
                 {ldexpf(1, -25), 0}, {ldexpf(1.5f, -25), 1}, {ldexpf(1, -14), 0x0400},
                 {0.0f, 0},           {-0.0f, 0x8000},        {INFINITY, 0x7c00}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        CHECK(softlabel_f16_from_f32(known[i].f) == known[i].h, "f16(%g) = 0x%04x, want 0x%04x",
              known[i].f, softlabel_f16_from_f32(known[i].f), known[i].h);
    CHECK(softlabel_f32_from_f16(0x0001) == ldexpf(1, -24), "smallest subnormal");
    CHECK(isnan(softlabel_f32_from_f16(softlabel_f16_from_f32(NAN))), "NaN survives");
    /* ties go to the even neighbour, anything off the tie to the nearer one */
    int ties = 0, near = 0;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        double a = softlabel_f32_from_f16((uint16_t)h), b = softlabel_f32_from_f16(h + 1);
        float mid = (float)((a + b) / 2); /* exact: 12 significant bits */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        ties += softlabel_f16_from_f32(mid) != even;
        near += softlabel_f16_from_f32(nextafterf(mid, 0)) != h;
        near += softlabel_f16_from_f32(nextafterf(mid, INFINITY)) != h + 1;
    }
    CHECK(ties == 0 && near == 0, "%d ties and %d near values round wrongly", ties, near);
#ifdef __FLT16_MAX__
    /* the compiler's own conversion as a second opinion on random bit patterns */
    uint32_t s = 12345;
    int diff = 0;
    for (int i = 0; i < 1000000; i++) {
        s = s * 1664525u + 1013904223u;
        float f = f32_of(s);
        _Float16 g = (_Float16)f;
        uint16_t ref;
        memcpy(&ref, &g, 2);
        diff += !isnan(f) && softlabel_f16_from_f32(f) != ref;
    }
    CHECK(diff == 0, "%d of 1e6 floats differ from _Float16", diff);
#else
    (void)f32_of;
#endif
}

static void test_topk_dense(void)
{
    const float p[5] = {0.1f, 0.5f, 0.05f, 0.25f, 0.1f};
    uint16_t idx[5], val[5];
    float dense[5];
    softlabel_topk(idx, val, p, 5, 2);
    CHECK(idx[0] == 1 && idx[1] == 3, "top-2 indices %d %d", idx[0], idx[1]);
    CHECK(val[0] == 0x3800 && val[1] == 0x3400, "top-2 values 0x%04x 0x%04x", val[0], val[1]);
    softlabel_dense(dense, idx, val, 5, 2);
    /* (1 - 0.75) / 3 everywhere else */
    const float want[5] = {0.25f / 3, 0.5f, 0.25f / 3, 0.25f, 0.25f / 3};
    CHECK(check_close(dense, want, 5, 1e-7, 0) <= 1, "dense rebuild");
    softlabel_topk(idx, val, p, 5, 4); /* the tie 0.1 / 0.1: lower index first */
    CHECK(idx[2] == 0 && idx[3] == 4, "ties by index: %d %d", idx[2], idx[3]);
    softlabel_topk(idx, val, p, 5, 5);
    softlabel_dense(dense, idx, val, 5, 5);
    CHECK(dense[2] == softlabel_f32_from_f16(softlabel_f16_from_f32(0.05f)), "K = C keeps all");
}

/* A tiny data set: n images (6, 6, 1) of varied pixels and labels. */
static void toy_data(struct dataset *d, int n)
{
    memset(d, 0, sizeof *d);
    d->n = n, d->h = 6, d->w = 6, d->c = 1, d->classes = 4;
    d->pixels = malloc((size_t)n * 36);
    d->labels = malloc((size_t)n);
    for (int i = 0; i < n * 36; i++)
        d->pixels[i] = (uint8_t)((i * 37 + i / 7) & 255);
    for (int i = 0; i < n; i++)
        d->labels[i] = (uint8_t)(i % 4);
}

/* A fake teacher that keeps every image it is fed, in order, and answers from the pixels. */
struct spy {
    float *seen; /* (capacity, 36) */
    int count;
};

static void spy_teacher(void *ctx, const float *images, int B, float *probs)
{
    struct spy *s = ctx;
    for (int b = 0; b < B; b++) {
        memcpy(s->seen + (size_t)s->count++ * 36, images + b * 36, 36 * sizeof(float));
        double z[4] = {0}, sum = 0;
        for (int k = 0; k < 36; k++)
            z[k % 4] += images[b * 36 + k];
        for (int c = 0; c < 4; c++)
            sum += z[c] = exp(z[c] / 10);
        for (int c = 0; c < 4; c++)
            probs[b * 4 + c] = (float)(z[c] / sum);
    }
}

/* Label `epochs` epochs of samples with the spy; returns 0 or the writer's error. */
static const struct augment_cfg plain_aug = {.crop_pad = 2, .flip = 1};

/* Label `epochs` epochs of samples with the spy under aug (crop_pad 2, flip as plain_aug's);
 * returns 0 or the writer's error. */
static int make_file_aug(const char *path, struct dataset *d, const int *samples, int n, int epochs,
                         int k, struct spy *spy, const struct augment_cfg *aug, struct kd_err *e)
{
    struct softlabel_info info = {
        (uint32_t)k, (uint32_t)epochs,      (uint32_t)n,      4, (uint32_t)d->n, 2, 1,
        7,           0xabcdef0123456789ull, augment_hash(aug)};
    struct softlabel_writer w;
    float images[3 * 36], probs[3 * 4];
    struct softlabel_epoch_stats st;
    if (softlabel_writer_open(&w, path, &info, samples, e))
        return e->code;
    for (int ep = 0; ep < epochs; ep++)
        softlabel_label_epoch(&w, d, samples, n, ep, aug, 7, 3, images, probs, spy_teacher, spy,
                              &st);
    return softlabel_writer_commit(&w, e);
}

static int make_file(const char *path, struct dataset *d, const int *samples, int n, int epochs,
                     int k, struct spy *spy, struct kd_err *e)
{
    return make_file_aug(path, d, samples, n, epochs, k, spy, &plain_aug, e);
}

static void test_layout_and_replay(void)
{
    struct dataset d;
    struct kd_err e;
    toy_data(&d, 20);
    const int samples[7] = {3, 9, 0, 17, 5, 12, 8};
    struct spy spy = {malloc(sizeof(float) * 36 * 14), 0};
    const char *path = check_tmp("ok.bin");
    CHECK(make_file(path, &d, samples, 7, 2, 3, &spy, &e) == 0, "write: %s", e.msg);
    char *buf = NULL;
    size_t len = 0;
    file_read_all(path, &buf, &len, &e);
    CHECK(len == 64 + 4 * 7 + 2 * 7 * 16 + 4, "file length %zu", len);
    uint32_t v[8], crc, j;
    memcpy(v, buf + 8, sizeof v);
    CHECK(memcmp(buf, "KDSOFTLB", 8) == 0 && v[0] == SOFTLABEL_VERSION && v[1] == 3 && v[2] == 2 &&
              v[3] == 7 && v[4] == 4 && v[5] == 2 && v[6] == 1 && v[7] == 16,
          "header fields");
    memcpy(&crc, buf + len - 4, 4);
    CHECK(crc == crc32(crc32(0, NULL, 0), (const Bytef *)buf, (uInt)(len - 4)), "CRC trailer");
    memcpy(&j, buf + 64 + 4 * 3, 4);
    CHECK(j == 17, "index table entry 3 is %u", j);
    /* record (epoch 1, position 4) = sample 5: seed, 3 u16 indices, 3 halves */
    const char *rec = buf + 64 + 28 + (7 + 4) * 16;
    uint32_t seed;
    uint16_t ix[3], hv[3];
    memcpy(&seed, rec, 4);
    memcpy(ix, rec + 4, 6);
    memcpy(hv, rec + 10, 6);
    CHECK(seed == softlabel_sample_seed(7, 1, 5), "record seed");
    CHECK(ix[0] < 4 && ix[1] < 4 && ix[2] < 4 && ix[0] != ix[1] && ix[1] != ix[2], "indices");
    CHECK(softlabel_f32_from_f16(hv[0]) >= softlabel_f32_from_f16(hv[1]) &&
              softlabel_f32_from_f16(hv[1]) >= softlabel_f32_from_f16(hv[2]),
          "values sorted descending");
    free(buf);

    struct softlabel_file f;
    CHECK(softlabel_open(&f, path, &e) == 0, "open: %s", e.msg);
    /* replay in a shuffled order, both epochs: every image equals what the teacher saw */
    const int order[7] = {8, 3, 12, 0, 17, 9, 5};
    float images[7 * 36], dense[7 * 4];
    int labels[7], same = 0, changed = 0;
    for (int ep = 0; ep < 2; ep++) {
        softlabel_replay_batch(&f, &d, &plain_aug, order, 7, ep, 2, images, labels, dense);
        for (int i = 0; i < 7; i++) {
            int pos = f.pos_of[order[i]];
            const float *seen = spy.seen + (size_t)(ep * 7 + pos) * 36;
            same += memcmp(images + i * 36, seen, 36 * sizeof(float)) == 0;
            changed += ep == 1 && memcmp(seen, spy.seen + (size_t)pos * 36, 144) != 0;
            CHECK(labels[i] == d.labels[order[i]], "true label");
            float s = 0;
            for (int c = 0; c < 4; c++)
                s += dense[i * 4 + c];
            CHECK(fabsf(s - 1) < 1e-3f, "dense label sums to %g", s);
        }
    }
    CHECK(same == 14, "%d of 14 replayed images are bit-identical to the teacher's", same);
    CHECK(changed > 0, "augmentation differs between epochs");
    struct softlabel_need ok = {2, 2, 7, 4, 2, 1, 0xabcdef0123456789ull, 0};
    CHECK(softlabel_check(&f, &ok, "s.yaml", &e) == 0, "a matching student: %s", e.msg);
    struct softlabel_need bad = ok;
    bad.k = 5;
    CHECK(softlabel_check(&f, &bad, "s.yaml", &e) == KD_ERR_MISMATCH && strstr(e.msg, "top-3") &&
              strstr(e.file, "ok.bin") && strstr(e.fix, "topk"),
          "K too large: %s", e.msg);
    bad = ok, bad.samples = 8;
    CHECK(softlabel_check(&f, &bad, "s.yaml", &e) && strstr(e.fix, "train_n"), "samples");
    bad = ok, bad.flip = 0;
    CHECK(softlabel_check(&f, &bad, "s.yaml", &e) && strstr(e.fix, "flip"), "augmentation");
    bad = ok, bad.epochs_min = 3;
    CHECK(softlabel_check(&f, &bad, "s.yaml", &e) && strstr(e.msg, "2 epochs"), "epochs");
    bad = ok, bad.teacher_hash = 1;
    CHECK(softlabel_check(&f, &bad, "s.yaml", &e) && strstr(e.msg, "teacher"), "teacher");
    softlabel_close(&f);
    free(spy.seen);
    dataset_free(&d);
}

/* TinyViT's strong augmentation (RandAugment, erasing) through a file: the header records it,
 * old files (zero there) mean none, the student replays the teacher's images exactly, and a
 * student with other augmentation is refused. */
static void test_strong_replay(void)
{
    struct dataset d;
    struct kd_err e;
    toy_data(&d, 20);
    const int samples[7] = {3, 9, 0, 17, 5, 12, 8};
    struct spy spy = {malloc(sizeof(float) * 36 * 21), 0};
    struct augment_cfg strong = plain_aug;
    strong.randaug_n = 2, strong.randaug_m = 9, strong.randaug_mstd = 0.5f;
    strong.erase_prob = 0.5f;
    const char *path = check_tmp("strong.bin");
    CHECK(make_file_aug(path, &d, samples, 7, 3, 3, &spy, &strong, &e) == 0, "write: %s", e.msg);
    char *buf = NULL;
    size_t len = 0;
    uint32_t h;
    file_read_all(path, &buf, &len, &e);
    memcpy(&h, buf + 60, 4);
    CHECK(h == augment_hash(&strong) && h != 0, "header keeps the strong augmentation's hash");
    free(buf);
    file_read_all(check_tmp("ok.bin"), &buf, &len, &e);
    memcpy(&h, buf + 60, 4);
    CHECK(h == 0 && augment_hash(&plain_aug) == 0, "without it the header is as before");
    free(buf);
    struct softlabel_file f;
    CHECK(softlabel_open(&f, path, &e) == 0, "open: %s", e.msg);
    const int order[7] = {12, 8, 3, 17, 0, 5, 9};
    float images[7 * 36], plain[7 * 36];
    int labels[7], same = 0, strong_differs = 0;
    for (int ep = 0; ep < 3; ep++) {
        softlabel_replay_batch(&f, &d, &strong, order, 7, ep, 3, images, labels, NULL);
        softlabel_replay_batch(&f, &d, &plain_aug, order, 7, ep, 3, plain, labels, NULL);
        for (int i = 0; i < 7; i++) {
            const float *seen = spy.seen + (size_t)(ep * 7 + f.pos_of[order[i]]) * 36;
            same += memcmp(images + i * 36, seen, 36 * sizeof(float)) == 0;
            strong_differs += memcmp(images + i * 36, plain + i * 36, 36 * sizeof(float)) != 0;
        }
    }
    CHECK(same == 21, "%d of 21 strongly augmented images replay bit for bit", same);
    CHECK(strong_differs >= 10, "the strong augmentation changes %d of 21 images", strong_differs);
    struct softlabel_need need = {3, 3, 7, 4, 2, 1, 0, augment_hash(&strong)};
    CHECK(softlabel_check(&f, &need, "s.yaml", &e) == 0, "same augmentation: %s", e.msg);
    need.aug_hash = 0;
    CHECK(softlabel_check(&f, &need, "s.yaml", &e) == KD_ERR_MISMATCH &&
              strstr(e.msg, "with strong augmentation") && strstr(e.msg, "none") &&
              strstr(e.fix, "data.randaug_"),
          "student without it: %s", e.msg);
    struct augment_cfg other = strong;
    other.randaug_m = 5;
    need.aug_hash = augment_hash(&other);
    CHECK(softlabel_check(&f, &need, "s.yaml", &e) == KD_ERR_MISMATCH &&
              strstr(e.msg, "other strong augmentation"),
          "other magnitude: %s", e.msg);
    softlabel_close(&f);
    free(spy.seen);
    dataset_free(&d);
}

static void write_bytes(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
}

static void test_bad_files(void)
{
    struct dataset d;
    struct kd_err e;
    struct softlabel_file f;
    toy_data(&d, 10);
    const int samples[4] = {1, 2, 3, 4};
    struct spy spy = {malloc(sizeof(float) * 36 * 8), 0};
    make_file(check_tmp("good.bin"), &d, samples, 4, 2, 2, &spy, &e);
    char *buf;
    size_t len;
    file_read_all(check_tmp("good.bin"), &buf, &len, &e);
    write_bytes(check_tmp("short.bin"), buf, len - 13);
    CHECK(softlabel_open(&f, check_tmp("short.bin"), &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "truncated") && strstr(e.file, "short.bin") && e.fix[0],
          "truncated: %s", e.msg);
    buf[100] ^= 0x10;
    write_bytes(check_tmp("flip.bin"), buf, len);
    CHECK(softlabel_open(&f, check_tmp("flip.bin"), &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "checksum"),
          "corrupted: %s", e.msg);
    buf[100] ^= 0x10;
    buf[0] = 'X';
    write_bytes(check_tmp("magic.bin"), buf, len);
    CHECK(softlabel_open(&f, check_tmp("magic.bin"), &e) == KD_ERR_FORMAT && strstr(e.msg, "magic"),
          "bad magic: %s", e.msg);
    buf[0] = 'K';
    buf[8] = 9;
    write_bytes(check_tmp("version.bin"), buf, len);
    CHECK(softlabel_open(&f, check_tmp("version.bin"), &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "version 9"),
          "version: %s", e.msg);
    write_bytes(check_tmp("empty.bin"), buf, 0);
    CHECK(softlabel_open(&f, check_tmp("empty.bin"), &e) == KD_ERR_FORMAT, "empty file");
    CHECK(softlabel_open(&f, check_tmp("none.bin"), &e) == KD_ERR_IO &&
              strstr(e.fix, "tinyvit_labels"),
          "missing: %s", e.msg);
    free(buf);
    free(spy.seen);
    dataset_free(&d);
}

int main(void)
{
    check_tmpdir("softlabel");
    test_f16();
    test_topk_dense();
    test_layout_and_replay();
    test_strong_replay();
    test_bad_files();
    return check_report("test_softlabel");
}
