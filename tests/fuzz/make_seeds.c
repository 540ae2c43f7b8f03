/* Writes the generated part of the fuzz seed corpus (tests/fuzz/corpus/<harness>/): small valid
 * IDX, PNG, checkpoint, CSV, soft-label and safetensors files, each in the harness's input
 * framing, plus a few broken ones. The YAML seeds are copies of real configs. Run by
 * `make fuzz-seeds`; the output is committed, so this only runs again when a format changes. */
#include "fuzz_util.h"
#include "fuzz_ckpt.h"

#include "data/png.h"
#include "data/softlabel.h"
#include "io/safetensors.h"
#include "train/ckpt_params.h"

#include <zlib.h>

static void put(const char *dir, const char *name, const void *a, size_t na, const void *b,
                size_t nb)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (!f) {
        perror(path);
        exit(1);
    }
    fclose(f);
    return n;
}

static size_t gzip(uint8_t *out, size_t cap, const uint8_t *in, size_t n)
{
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t got = z.total_out;
    deflateEnd(&z);
    return got;
}

/* u16 labels length, labels file, images file (fuzz_idx framing). */
static void idx_seed(const char *dir, const char *name, int n, int h, int w, int gz, int cut)
{
    uint8_t img[4096], lab[512], zi[4096], zl[1024], frame[2];
    size_t ni = 16 + (size_t)n * h * w, nl = 8 + (size_t)n;
    uint32_t hi[4] = {0x803, (uint32_t)n, (uint32_t)h, (uint32_t)w}, hl[2] = {0x801, (uint32_t)n};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            img[4 * i + b] = (uint8_t)(hi[i] >> (24 - 8 * b));
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            lab[4 * i + b] = (uint8_t)(hl[i] >> (24 - 8 * b));
    for (size_t i = 16; i < ni; i++)
        img[i] = (uint8_t)(i * 37);
    for (int i = 0; i < n; i++)
        lab[8 + i] = (uint8_t)(i % 10);
    const uint8_t *pi = img, *pl = lab;
    if (gz) {
        ni = gzip(zi, sizeof zi, img, ni), pi = zi;
        nl = gzip(zl, sizeof zl, lab, nl), pl = zl;
    }
    ni -= (size_t)cut;
    uint8_t all[8192];
    frame[0] = (uint8_t)nl, frame[1] = (uint8_t)(nl >> 8);
    memcpy(all, frame, 2);
    memcpy(all + 2, pl, nl);
    put(dir, name, all, 2 + nl, pi, ni);
}

static void png_seed(const char *dir, const char *name, int h, int w, int c)
{
    uint8_t px[3 * 64], buf[4096];
    char tmp[512];
    struct kd_err e;
    for (int i = 0; i < h * w * c; i++)
        px[i] = (uint8_t)(i * 29);
    snprintf(tmp, sizeof tmp, "%s/seed.png", fuzz_dir());
    if (png_write(tmp, px, h, w, c, &e)) {
        kd_err_print(&e);
        exit(1);
    }
    put(dir, name, buf, slurp(tmp, buf, sizeof buf), NULL, 0);
}

static void ckpt_seeds(const char *dir)
{
    struct fuzz_model *m = fuzz_model_get();
    struct ckpt_info info = {3, 42};
    struct kd_err e;
    static uint8_t buf[1 << 16];
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/seed.ckpt", fuzz_dir());
    for (int moments = 0; moments < 2; moments++) {
        if (ckpt_save(tmp, m->net.params, moments ? &m->opt : NULL, m->config, &info, &e)) {
            kd_err_print(&e);
            exit(1);
        }
        size_t n = slurp(tmp, buf, sizeof buf);
        uint8_t as_is = moments ? 6 : 4, fixed = as_is | 1;
        put(dir, moments ? "moments" : "weights", &as_is, 1, buf, n);
        /* without its CRC: the harness appends it */
        put(dir, moments ? "moments-crc" : "weights-crc", &fixed, 1, buf, n - 4);
        put(dir, moments ? "moments-cut" : "weights-cut", &as_is, 1, buf, n / 2);
    }
}

static void csv_seeds(const char *dir)
{
    static const char good[] =
        "\002epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,img_per_s,peak_mb\n"
        "1,2.1,0.2,2.0,0.25,0.001,1.5,900.0,40\n"
        "2,1.9,0.3,1.8,0.35,0.0009,1.5,910.0,40\n"
        "3,1.7,0.4,1.6,0.45,0.0008,1.5,905.0,40\n";
    static const char quoted[] = "\001point,\"a \"\"quoted\"\" name\",value\r\n"
                                 "x,\"1,5\",2\r\n"
                                 "y,\"line\nbreak\",3\r\n";
    static const char ragged[] = "\001a,b,c\n1,2\n";
    put(dir, "fit", good, sizeof good - 1, NULL, 0);
    put(dir, "quoted", quoted, sizeof quoted - 1, NULL, 0);
    put(dir, "ragged", ragged, sizeof ragged - 1, NULL, 0);
}

static void softlabel_seeds(const char *dir)
{
    struct softlabel_info info = {.k = 2,
                                  .epochs = 2,
                                  .samples = 3,
                                  .classes = 4,
                                  .data_n = 5,
                                  .crop_pad = 2,
                                  .flip = 1,
                                  .base_seed = 7,
                                  .teacher_hash = 9};
    const int index[3] = {4, 0, 2};
    struct softlabel_writer w;
    struct kd_err e;
    static uint8_t buf[4096];
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/seed.softlabel", fuzz_dir());
    if (softlabel_writer_open(&w, tmp, &info, index, &e)) {
        kd_err_print(&e);
        exit(1);
    }
    for (int r = 0; r < 6; r++) {
        uint16_t idx[2] = {(uint16_t)(r % 4), (uint16_t)((r + 1) % 4)};
        uint16_t val[2] = {softlabel_f16_from_f32(0.6f), softlabel_f16_from_f32(0.3f)};
        softlabel_writer_put(&w, (uint32_t)r * 77, idx, val);
    }
    if (softlabel_writer_commit(&w, &e)) {
        kd_err_print(&e);
        exit(1);
    }
    size_t n = slurp(tmp, buf, sizeof buf);
    uint8_t as_is = 0, fixed = 1;
    put(dir, "k2-e2-s3", &as_is, 1, buf, n);
    put(dir, "k2-e2-s3-crc", &fixed, 1, buf, n - 4);
}

static void safetensors_seeds(const char *dir)
{
    static const float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {-1, 0.5f};
    struct st_entry t[2] = {{"blocks.0.attn.qkv.weight", a, 2, {2, 3}}, {"head.bias", b, 1, {2}}};
    const char *mk[1] = {"format"}, *mv[1] = {"pt"};
    static uint8_t buf[4096];
    struct kd_err e;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/seed.safetensors", fuzz_dir());
    if (st_write(tmp, t, 2, mk, mv, 1, &e)) {
        kd_err_print(&e);
        exit(1);
    }
    put(dir, "two-f32.safetensors", buf, slurp(tmp, buf, sizeof buf), NULL, 0);
    static const char f16[] = "\x48\0\0\0\0\0\0\0{\"x\":{\"dtype\":\"F16\",\"shape\":[2],"
                              "\"data_offsets\":[0,4]}}                              "
                              "\x00\x3c\x00\xc0";
    put(dir, "f16.safetensors", f16, sizeof f16 - 1, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
        return 1;
    }
    char d[512];
    snprintf(d, sizeof d, "%s/fuzz_idx", argv[1]);
    idx_seed(d, "gz-3x4x4", 3, 4, 4, 1, 0);
    idx_seed(d, "plain-2x3x5", 2, 3, 5, 0, 0);
    idx_seed(d, "gz-truncated", 3, 4, 4, 1, 9);
    snprintf(d, sizeof d, "%s/fuzz_png", argv[1]);
    png_seed(d, "gray-4x4.png", 4, 4, 1);
    png_seed(d, "rgb-3x5.png", 3, 5, 3);
    png_seed(d, "rgba-2x2.png", 2, 2, 4);
    snprintf(d, sizeof d, "%s/fuzz_ckpt", argv[1]);
    ckpt_seeds(d);
    snprintf(d, sizeof d, "%s/fuzz_csv", argv[1]);
    csv_seeds(d);
    snprintf(d, sizeof d, "%s/fuzz_softlabel", argv[1]);
    softlabel_seeds(d);
    snprintf(d, sizeof d, "%s/fuzz_safetensors", argv[1]);
    safetensors_seeds(d);
    return 0;
}
