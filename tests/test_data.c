/* Data path tests: the real Fashion-MNIST loads, broken IDX files give the errors users need,
 * subsets are seeded and nested, augmentation replays bit for bit whatever the batch, and PNG
 * and image-folder input round-trip and reject impostors. Scratch files go to a /tmp folder. */
#include "base/err.h"
#include "check.h"
#include "data/dataset.h"
#include "data/png.h"

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
    struct augment_params id = {0, 0, 0}, sh = {1, -1, 0}, fl = {0, 0, 1};
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
    struct augment_params f3 = {0, 0, 1};
    augment_apply(o3, rgb, 2, 2, 3, &f3);
    CHECK(o3[3] == -1.0f && o3[4] == 1.0f && o3[5] == (51.0f / 255.0f - 0.5f) / 0.5f,
          "3 channels: flip keeps channel order, 0.5/0.5 normalization");

    struct augment_cfg cfg = {4, 1}, noflip = {4, 0};
    int dxs[9] = {0}, flips = 0, same_crop = 1;
    for (int s = 0; s < 2000; s++) {
        struct augment_params p, q;
        augment_draw(&p, &cfg, 11, 2, s);
        augment_draw(&q, &noflip, 11, 2, s);
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
    augment_draw(&p, NULL, 11, 2, 5);
    CHECK(p.dx == 0 && p.dy == 0 && p.flip == 0, "cfg NULL draws nothing");
}

static void test_augment_replay(const struct dataset *d)
{
    size_t img = (size_t)d->h * d->w * d->c;
    float *a = malloc(sizeof(float) * img * 4), *b = malloc(sizeof(float) * img * 4);
    int la[4], lb[4];
    struct augment_cfg cfg = {4, 1};
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
    }
    test_augment_semantics();
    test_png();
    test_folder();
    dataset_free(&train);
    return check_report("test_data");
}
