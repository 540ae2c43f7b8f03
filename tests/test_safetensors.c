/* safetensors and weights files: a table of broken files that must each give one line naming
 * the file and the tensor, a write/read round trip, F16/BF16 conversion, the torch layout of the
 * patch embedding, strict loading into a network (missing, extra, misshapen tensors), the model
 * config stored in an export, and a JPEG posing as a PNG in an image folder. */
#include "base/err.h"
#include "base/fsio.h"
#include "check.h"
#include "data/dataset.h"
#include "train/ckpt_params.h"
#include "io/safetensors.h"
#include "train/net.h"
#include "train/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tmpdir; /* check_tmpdir() */

/* A file image: u64 length of json, json, then `data` zero bytes (len into *n). */
static uint8_t *st_image(const char *json, size_t data, size_t *n)
{
    uint64_t hl = strlen(json);
    *n = 8 + hl + data;
    uint8_t *b = calloc(*n + 1, 1);
    memcpy(b, &hl, 8);
    memcpy(b + 8, json, hl);
    return b;
}

/* One line, naming the file: what every error must be. */
static int one_line(const struct kd_err *e, const char *file)
{
    return e->code < 0 && strcmp(e->file, file) == 0 && e->msg[0] && !strchr(e->msg, '\n') &&
           !strchr(e->fix, '\n');
}

struct bad_case {
    const char *what;
    const char *json;   /* NULL: raw bytes below */
    size_t data;        /* zero bytes after the header */
    const char *expect; /* substring of the message */
};

static const struct bad_case BAD[] = {
    {"unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
     "tensor 'a': unknown dtype F33"},
    {"negative size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
     "tensor 'a': shape"},
    {"fractional size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
     "tensor 'a': shape"},
    {"overflowing shape",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,"
     "1099511627776],\"data_offsets\":[0,4]}}",
     4, "huge"},
    {"size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
     "tensor 'a': data_offsets span 4 bytes, but shape and dtype F32 need 8"},
    {"out of bounds", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
     "tensor 'a': data_offsets end 8 is past the data section"},
    {"begin after end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
     "tensor 'a': data_offsets must be"},
    {"offsets not a pair", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
     "tensor 'a': data_offsets must be"},
    {"overlap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, "tensor 'b': data_offsets overlap tensor 'a'"},
    {"gap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
     12, "tensor 'b': gap"},
    {"trailing bytes", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8,
     "trailing bytes after the last tensor ('a')"},
    {"duplicate name",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     8, "tensor 'a' appears twice"},
    {"missing field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': entry"},
    {"extra field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
     "tensor 'a': entry"},
    {"entry not object", "{\"a\":[1,2]}", 0, "tensor 'a': header entry is not an object"},
    {"metadata not strings", "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value 'k'"},
    {"not JSON", "{\"a\":", 0, "not valid JSON"},
    {"JSON then garbage", "{} x", 0, "not valid JSON"},
    {"JSON array", "[1]", 0, "not a JSON object"},
};

static void test_bad_table(void)
{
    struct safetensors st;
    struct kd_err e;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        size_t n;
        uint8_t *b = st_image(BAD[i].json, BAD[i].data, &n);
        memset(&e, 0, sizeof e);
        int rc = st_parse(&st, b, n, "bad.safetensors", &e);
        CHECK(rc == KD_ERR_FORMAT && one_line(&e, "bad.safetensors") &&
                  strstr(e.msg, BAD[i].expect) && e.fix[0],
              "%s: rc %d, got '%s', want '%s'", BAD[i].what, rc, e.msg, BAD[i].expect);
        free(b);
    }
    /* framing: empty, shorter than the length field, header length past the end */
    uint8_t raw[16] = {0};
    size_t n0;
    CHECK(st_parse(&st, raw, 0, "f", &e) == KD_ERR_FORMAT && strstr(e.msg, "shorter"), "empty");
    CHECK(st_parse(&st, raw, 5, "f", &e) == KD_ERR_FORMAT && strstr(e.msg, "shorter"), "5 bytes");
    uint64_t big = 1000;
    memcpy(raw, &big, 8);
    CHECK(st_parse(&st, raw, 16, "f", &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "header length 1000 runs past the end of the 16-byte file"),
          "header past end: %s", e.msg);
    big = UINT64_MAX;
    memcpy(raw, &big, 8);
    CHECK(st_parse(&st, raw, 16, "f", &e) == KD_ERR_FORMAT && one_line(&e, "f"), "huge length");
    /* nesting far past cJSON's limit (1000) is refused, not a stack overflow */
    char *deep = malloc(20010);
    strcpy(deep, "{\"a\":");
    memset(deep + 5, '[', 10000);
    memset(deep + 10005, ']', 10000);
    strcpy(deep + 20005, "}");
    uint8_t *db = st_image(deep, 0, &n0);
    CHECK(st_parse(&st, db, n0, "deep", &e) == KD_ERR_FORMAT && strstr(e.msg, "not valid JSON"),
          "deep nesting: %s", e.msg);
    free(db);
    free(deep);
    /* an empty but valid file */
    size_t n;
    uint8_t *b = st_image("{}", 0, &n);
    CHECK(st_parse(&st, b, n, "ok", &e) == 0 && st.n == 0, "{} is a valid empty file");
    st_close(&st);
    free(b);
    /* a non-float dtype parses, but is refused as weights */
    b = st_image("{\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, &n);
    float out[2];
    CHECK(st_parse(&st, b, n, "int.safetensors", &e) == 0, "I64 parses: %s", e.msg);
    CHECK(st_read_f32(&st, &st.t[0], out, &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "tensor 'i' has dtype I64") && one_line(&e, "int.safetensors"),
          "I64 refused: %s", e.msg);
    st_close(&st);
    free(b);
}

static void test_round_trip(void)
{
    float a[6] = {1, -2, 3.5f, 0, 1e-30f, -7}, s[1] = {42};
    struct st_entry t[3] = {{"w", a, 2, {2, 3}}, {"scalar", s, 0, {0}}, {"empty", NULL, 2, {0, 4}}};
    const char *mk[1] = {"note"}, *mv[1] = {"line1\nline2 \"quoted\""};
    struct kd_err e;
    struct safetensors st;
    const char *path = check_tmp("rt.safetensors");
    CHECK(st_write(path, t, 3, mk, mv, 1, &e) == 0, "write: %s", e.msg);
    CHECK(st_open(&st, path, &e) == 0, "read back: %s", e.msg);
    if (st.n != 3)
        return;
    const struct st_tensor *w = st_find(&st, "w"), *sc = st_find(&st, "scalar");
    float back[6];
    CHECK(w && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3 && w->dtype == ST_F32,
          "shape of w");
    CHECK(w && st_read_f32(&st, w, back, &e) == 0 && memcmp(back, a, sizeof a) == 0, "w values");
    CHECK(sc && sc->ndim == 0 && sc->numel == 1 && st_read_f32(&st, sc, back, &e) == 0 &&
              back[0] == 42,
          "scalar");
    CHECK(st_find(&st, "empty") && st_find(&st, "empty")->numel == 0, "empty tensor");
    CHECK(st_meta(&st, "note") && strcmp(st_meta(&st, "note"), mv[0]) == 0, "metadata");
    CHECK((st.data - (const uint8_t *)st.owned) % 8 == 0, "data aligned to 8 bytes");
    st_close(&st);
    struct st_entry dup[2] = {{"x", a, 1, {1}}, {"x", a, 1, {1}}};
    CHECK(st_write(check_tmp("dup.safetensors"), dup, 2, NULL, NULL, 0, &e) == KD_ERR_USAGE,
          "duplicate names refused on write");
    /* every truncation of a valid file is refused with a message, never a crash */
    char *buf;
    size_t len;
    int all = 1;
    file_read_all(path, &buf, &len, &e);
    for (size_t cut = 0; cut < len; cut++) {
        int rc = st_parse(&st, buf, cut, "cut", &e);
        all &= rc == KD_ERR_FORMAT && one_line(&e, "cut");
    }
    CHECK(all, "every truncated prefix is a one-line format error");
    free(buf);
}

static void test_half(void)
{
    CHECK(st_f16_to_f32(0x3c00) == 1.0f && st_f16_to_f32(0xc000) == -2.0f, "f16 1, -2");
    CHECK(st_f16_to_f32(0x7bff) == 65504.0f, "f16 max");
    CHECK(st_f16_to_f32(0x0400) == ldexpf(1, -14), "f16 smallest normal");
    CHECK(st_f16_to_f32(0x0001) == ldexpf(1, -24), "f16 smallest subnormal");
    CHECK(st_f16_to_f32(0x03ff) == 1023 * ldexpf(1, -24), "f16 largest subnormal");
    CHECK(isinf(st_f16_to_f32(0x7c00)) && isnan(st_f16_to_f32(0x7e00)), "f16 inf, nan");
    CHECK(st_f16_to_f32(0x8000) == 0 && signbit(st_f16_to_f32(0x8000)), "f16 -0");
    CHECK(st_bf16_to_f32(0x3f80) == 1.0f && st_bf16_to_f32(0xc2f7) == -123.5f, "bf16");
}

static void small_cfg(struct model_cfg *c, int depth, int classes)
{
    memset(c, 0, sizeof *c);
    c->arch = ARCH_VIT;
    c->img = 8, c->in_ch = 3, c->classes = classes, c->patch = 4, c->dim = 16;
    c->depth = depth, c->heads = 2, c->mlp_ratio = 2;
}

static void test_net_weights(void)
{
    struct model_cfg c;
    struct net a, b;
    struct kd_err e;
    small_cfg(&c, 2, 5);
    CHECK(net_create(&a, &c, 2, 1, &e) == 0 && net_create(&b, &c, 2, 2, &e) == 0, "nets");
    const char *path = check_tmp("net.safetensors");
    const char *text = "model.arch: vit\nmodel.img: 8\nmodel.in_ch: 3\nmodel.classes: 5\n"
                       "model.patch: 4\nmodel.dim: 16\nmodel.depth: 2\nmodel.heads: 2\n"
                       "model.mlp_ratio: 2\noptim.lr: 1\n";
    CHECK(net_weights_save(&a, path, text, &e) == 0, "save: %s", e.msg);
    CHECK(net_weights_load(&b, path, &e) == 0, "load: %s", e.msg);
    CHECK(memcmp(params_values(a.params), params_values(b.params),
                 a.params->total * sizeof(float)) == 0,
          "weights identical after the trip");
    /* torch layout of the patch embedding: (C, in_ch, P, P) from (C, (py, px, ch)) */
    struct safetensors st;
    CHECK(st_open(&st, path, &e) == 0, "open export");
    const struct st_tensor *pe = st_find(&st, "patch_embed.proj.weight");
    const struct st_tensor *cls = st_find(&st, "cls_token");
    CHECK(pe && pe->ndim == 4 && pe->shape[0] == 16 && pe->shape[1] == 3 && pe->shape[2] == 4,
          "patch embedding has Conv2d's shape");
    CHECK(cls && cls->ndim == 3 && cls->shape[0] == 1 && cls->shape[2] == 16, "cls (1, 1, C)");
    if (pe) {
        float *w = malloc(sizeof(float) * pe->numel);
        const float *ours = *params_find(a.params, "patch_embed.proj.weight")->w;
        st_read_f32(&st, pe, w, &e);
        int c_ = 5, k = 2, y = 1, x = 3, P = 4, ch = 3;
        CHECK(w[((c_ * ch + k) * P + y) * P + x] == ours[c_ * 48 + (y * P + x) * ch + k],
              "patch pixel (ch 2, y 1, x 3) moved to torch's place");
        free(w);
    }
    CHECK(st_meta(&st, WEIGHTS_META_CONFIG) && !strstr(st_meta(&st, WEIGHTS_META_CONFIG), "optim"),
          "metadata keeps the model lines only");
    st_close(&st);
    struct experiment *x = malloc(sizeof *x);
    CHECK(weights_model_cfg(x, path, &e) == 0 && x->model.dim == 16 && x->model.in_ch == 3 &&
              x->model.depth == 2,
          "model config from the export: %s", e.msg);
    free(x);
    net_destroy(&b);
    /* strict loading */
    small_cfg(&c, 2, 6);
    net_create(&b, &c, 2, 2, &e);
    CHECK(net_weights_load(&b, path, &e) == KD_ERR_MISMATCH && one_line(&e, path) &&
              strstr(e.msg, "tensor 'head.weight' has shape (5, 16), the model needs (6, 16)"),
          "misshapen: %s", e.msg);
    net_destroy(&b);
    small_cfg(&c, 1, 5);
    net_create(&b, &c, 2, 2, &e);
    CHECK(net_weights_load(&b, path, &e) == KD_ERR_MISMATCH && strstr(e.msg, "'blocks.1.") &&
              strstr(e.msg, "is not a parameter"),
          "extra: %s", e.msg);
    net_destroy(&b);
    small_cfg(&c, 3, 5);
    net_create(&b, &c, 2, 2, &e);
    CHECK(net_weights_load(&b, path, &e) == KD_ERR_MISMATCH && strstr(e.msg, "'blocks.2.") &&
              strstr(e.msg, "missing"),
          "missing: %s", e.msg);
    net_destroy(&b);
    CHECK(net_weights_load(&a, check_tmp("none.safetensors"), &e) == KD_ERR_IO &&
              strstr(e.file, "none.safetensors"),
          "missing file: %s", e.msg);
    /* a checkpoint loads through the same call, and tells its config */
    struct ckpt_info info = {3, 30};
    char *stored = NULL;
    CHECK(ckpt_save(check_tmp("a.ckpt"), a.params, NULL, text, &info, &e) == 0, "ckpt save");
    CHECK(ckpt_read_config(check_tmp("a.ckpt"), &stored, &e) == 0 && stored &&
              strcmp(stored, text) == 0,
          "ckpt config: %s", e.msg);
    free(stored);
    small_cfg(&c, 2, 5);
    net_create(&b, &c, 2, 9, &e);
    CHECK(net_weights_load(&b, check_tmp("a.ckpt"), &e) == 0 &&
              memcmp(params_values(a.params), params_values(b.params),
                     a.params->total * sizeof(float)) == 0,
          "ckpt through net_weights_load");
    net_destroy(&b);
    net_destroy(&a);
}

static void test_jpeg_as_png(void)
{
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',  0,
                                   1,    1,    0,    0,    1, 0,  1,   0,   0,   0xff, 0xd9};
    char path[300];
    snprintf(path, sizeof path, "%s/folder/0", tmpdir);
    mkdir(check_tmp("folder"), 0777);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/folder/0/photo.png", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite(jpeg, 1, sizeof jpeg, f);
    fclose(f);
    struct dataset d;
    struct kd_err e;
    CHECK(folder_load(&d, check_tmp("folder"), 8, 8, 1, &e) == KD_ERR_FORMAT &&
              strstr(e.file, "photo.png") && one_line(&e, e.file),
          "JPEG named .png: %s: %s", e.file, e.msg);
}

int main(void)
{
    tmpdir = check_tmpdir("test_st");
    test_bad_table();
    test_round_trip();
    test_half();
    test_net_weights();
    test_jpeg_as_png();
    return check_report("test_safetensors");
}
