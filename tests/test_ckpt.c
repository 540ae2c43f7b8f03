/* Checkpoints of several parameter sets (resume points): a round trip of two trained sets and a
 * frozen state list over outside buffers, the single-set wrappers writing the same bytes, and
 * the errors for a name used twice (on save and in a file), a set of another size and a
 * truncated file. Below them, io/ckpt.h's plain named buffers: a set's file is the file of its
 * buffers, and buffers round-trip with and without moments. */
#include "base/err.h"
#include "base/fsio.h"
#include "check.h"
#include "train/ckpt_params.h"
#include "train/optim.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* A set of two tensors "<prefix>.w" (rows, 3) and "<prefix>.b" (3), values from `base`. */
struct toy {
    struct params ps;
    float *w, *b, *gw, *gb;
};

static void toy_init(struct toy *t, const char *prefix, int rows, float base)
{
    struct kd_err e;
    params_begin(&t->ps);
    params_add(&t->ps, &t->w, &t->gw, 1, prefix, "w", rows, 3, 0, 0);
    params_add(&t->ps, &t->b, &t->gb, 0, prefix, "b", 3, 0, 0, 0);
    KD_ASSERT(params_alloc(&t->ps, &e) == 0);
    for (int i = 0; i < rows * 3; i++)
        t->w[i] = base + (float)i;
    for (int i = 0; i < 3; i++)
        t->b[i] = -base - (float)i;
}

static void optim_fill(struct optim *o, struct params *ps, float base)
{
    struct optim_cfg cfg;
    struct kd_err e;
    memset(&cfg, 0, sizeof cfg);
    KD_ASSERT(optim_init(o, ps, &cfg, &e) == 0);
    size_t n = ps->values.used / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        o->m[i] = base + (float)i;
        o->v[i] = base * 2 + (float)i;
    }
}

/* The moments of every tensor of ps agree in o and o2 (the alignment gaps are not saved). */
static int same_moments(struct params *ps, const struct optim *o, const struct optim *o2)
{
    int same = 1;
    for (int i = 0; i < ps->n; i++) {
        size_t off = (size_t)(*ps->p[i].w - params_values(ps)), bytes = ps->p[i].n * 4;
        same &= !memcmp(o->m + off, o2->m + off, bytes) && !memcmp(o->v + off, o2->v + off, bytes);
    }
    return same;
}

static int same_file(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    struct kd_err e;
    if (file_read_all(a, &x, &nx, &e) || file_read_all(b, &y, &ny, &e))
        return 0;
    int same = nx == ny && memcmp(x, y, nx) == 0;
    free(x), free(y);
    return same;
}

/* Two trained sets, each with its optimizer, and a state list over a plain buffer (none). */
static void test_round_trip(void)
{
    struct toy a, b, a2, b2;
    struct optim oa, ob, oa2, ob2;
    struct kd_err e;
    toy_init(&a, "enc", 2, 1), toy_init(&b, "head", 4, 100);
    toy_init(&a2, "enc", 2, 0), toy_init(&b2, "head", 4, 0);
    optim_fill(&oa, &a.ps, 10), optim_fill(&ob, &b.ps, 20);
    optim_fill(&oa2, &a2.ps, 0), optim_fill(&ob2, &b2.ps, 0);
    float queue[5] = {1, 2, 3, 4, 5}, back[5] = {0}, *qslot = queue, *bslot = back;
    struct params state, state2;
    params_begin(&state), params_begin(&state2);
    params_add(&state, &qslot, NULL, 0, "queue", "rows", 5, 0, 0, 0);
    params_add(&state2, &bslot, NULL, 0, "queue", "rows", 5, 0, 0, 0);
    struct params *sets[3] = {&a.ps, &b.ps, &state}, *sets2[3] = {&a2.ps, &b2.ps, &state2};
    struct optim *opts[3] = {&oa, &ob, NULL}, *opts2[3] = {&oa2, &ob2, NULL};
    struct ckpt_info info = {3, 42}, got = {0, 0};
    const char *path = check_tmp("sets.ckpt");
    CHECK(ckpt_save_sets(path, sets, opts, 3, "model.dim: 8\n", &info, &e) == 0, "save: %s", e.msg);
    CHECK(ckpt_load_sets(path, sets2, opts2, 3, "model.dim: 8\n", "", &got, &e) == 0, "load: %s",
          e.msg);
    CHECK(got.epoch == 3 && got.step == 42 && oa2.step == 42 && ob2.step == 42, "epoch, step");
    CHECK(memcmp(a.w, a2.w, sizeof(float) * 6) == 0 && memcmp(b.b, b2.b, sizeof(float) * 3) == 0,
          "values of both sets");
    CHECK(same_moments(&a.ps, &oa, &oa2) && same_moments(&b.ps, &ob, &ob2), "moments of both sets");
    CHECK(memcmp(queue, back, sizeof queue) == 0, "the state list's buffer");
    /* Loaded without optimizers: the values alone. */
    memset(back, 0, sizeof back);
    CHECK(ckpt_load_sets(path, sets2, NULL, 3, NULL, "", NULL, &e) == 0 && back[4] == 5,
          "load without optimizers");
    /* A set of another size is refused by name. */
    struct toy big;
    toy_init(&big, "head", 5, 0);
    struct params *other[3] = {&a2.ps, &big.ps, &state2};
    CHECK(ckpt_load_sets(path, other, NULL, 3, NULL, "", NULL, &e) == KD_ERR_MISMATCH &&
              strstr(e.msg, "head.w"),
          "another shape: %s", e.msg);
    /* Truncated: the checksum says so, naming the file. */
    CHECK(truncate(path, 100) == 0, "truncate");
    CHECK(ckpt_load_sets(path, sets2, opts2, 3, NULL, "", NULL, &e) == KD_ERR_FORMAT &&
              strstr(e.file, "sets.ckpt") && strstr(e.msg, "truncated"),
          "truncated: %s", e.msg);
    params_free(&big.ps);
    params_free(&state), params_free(&state2);
    optim_free(&oa), optim_free(&ob), optim_free(&oa2), optim_free(&ob2);
    params_free(&a.ps), params_free(&b.ps), params_free(&a2.ps), params_free(&b2.ps);
}

/* ckpt_save is ckpt_save_sets with one set, and a file with moments loads into a set without
 * an optimizer. */
static void test_single_set(void)
{
    struct toy a;
    struct optim o;
    struct kd_err e;
    toy_init(&a, "enc", 2, 1);
    optim_fill(&o, &a.ps, 10);
    struct params *sets[1] = {&a.ps};
    struct optim *opts[1] = {&o};
    struct ckpt_info info = {1, 7};
    CHECK(ckpt_save(check_tmp("one.ckpt"), &a.ps, &o, "x: 1\n", &info, &e) == 0, "save one");
    CHECK(ckpt_save_sets(check_tmp("set.ckpt"), sets, opts, 1, "x: 1\n", &info, &e) == 0,
          "save one as sets");
    CHECK(same_file(check_tmp("one.ckpt"), check_tmp("set.ckpt")), "the same bytes");
    CHECK(ckpt_load(check_tmp("one.ckpt"), &a.ps, NULL, "x: 1\n", "", NULL, &e) == 0,
          "moments skipped");
    CHECK(ckpt_load(check_tmp("one.ckpt"), &a.ps, NULL, "x: 2\n", "", NULL, &e) ==
                  KD_ERR_MISMATCH &&
              strstr(e.msg, "'x'"),
          "another config: %s", e.msg);
    optim_free(&o);
    params_free(&a.ps);
}

/* The file of a set with its optimizer is the file of its buffers written by hand; buffers
 * without moments in a file with moments read back their values, and those with them both. */
static void test_buffers(void)
{
    struct toy a;
    struct optim o;
    struct kd_err e;
    toy_init(&a, "enc", 2, 1);
    optim_fill(&o, &a.ps, 10);
    struct ckpt_info info = {2, 9}, got = {0, 0};
    size_t off_b = (size_t)(a.b - params_values(&a.ps));
    struct ckpt_buf bufs[2] = {
        {.name = "enc.w", .ndim = 2, .shape = {2, 3}, .n = 6, .w = a.w, .m = o.m, .v = o.v},
        {.name = "enc.b",
         .ndim = 1,
         .shape = {3},
         .n = 3,
         .w = a.b,
         .m = o.m + off_b,
         .v = o.v + off_b}};
    CHECK(ckpt_save(check_tmp("set2.ckpt"), &a.ps, &o, "x: 1\n", &info, &e) == 0, "save set");
    CHECK(ckpt_write(check_tmp("bufs.ckpt"), bufs, 2, 1, "x: 1\n", &info, &e) == 0,
          "write buffers: %s", e.msg);
    CHECK(same_file(check_tmp("set2.ckpt"), check_tmp("bufs.ckpt")), "a set's file = its buffers'");
    float w[6] = {0}, b[3] = {0}, m[3] = {0}, v[3] = {0};
    struct ckpt_buf back[2] = {
        {.name = "enc.b", .ndim = 1, .shape = {3}, .n = 3, .w = b, .m = m, .v = v},
        {.name = "enc.w", .ndim = 2, .shape = {2, 3}, .n = 6, .w = w}};
    CHECK(ckpt_read(check_tmp("bufs.ckpt"), back, 2, "x: 1\n", "", &got, &e) == 0, "read: %s",
          e.msg);
    CHECK(memcmp(w, a.w, sizeof w) == 0 && memcmp(b, a.b, sizeof b) == 0, "values by name");
    CHECK(memcmp(m, o.m + off_b, sizeof m) == 0 && memcmp(v, o.v + off_b, sizeof v) == 0,
          "moments where asked");
    CHECK(got.epoch == 2 && got.step == 9, "epoch, step");
    /* without moments: a buffer's m and v are not written, and a file without moments leaves
     * them alone */
    bufs[0].m = bufs[0].v = NULL;
    memset(m, 0, sizeof m);
    CHECK(ckpt_write(check_tmp("bare.ckpt"), bufs, 2, 0, "x: 1\n", &info, &e) == 0 &&
              ckpt_read(check_tmp("bare.ckpt"), back, 2, NULL, "", NULL, &e) == 0 && m[0] == 0 &&
              memcmp(b, a.b, sizeof b) == 0,
          "no moments: %s", e.msg);
    optim_free(&o);
    params_free(&a.ps);
}

/* A name in two sets: refused on save (nothing written), and in a file (patched) on load. */
static void test_duplicates(void)
{
    struct toy a, b;
    struct kd_err e;
    toy_init(&a, "enc", 2, 1), toy_init(&b, "enc", 2, 2);
    struct params *sets[2] = {&a.ps, &b.ps};
    struct ckpt_info info = {1, 1};
    const char *path = check_tmp("dup.ckpt");
    CHECK(ckpt_save_sets(path, sets, NULL, 2, "", &info, &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "'enc.w'") && access(path, F_OK) != 0,
          "duplicate on save: %s", e.msg);
    /* A file whose second tensor "enc.b" is renamed "enc.w", with its checksum redone. */
    struct toy c;
    toy_init(&c, "enc", 2, 1);
    CHECK(ckpt_save(path, &c.ps, NULL, "", &info, &e) == 0, "save");
    char *buf;
    size_t n;
    CHECK(file_read_all(path, &buf, &n, &e) == 0, "read");
    char *second = memmem(buf, n, "enc.b", 5);
    if (second) {
        second[4] = 'w';
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), (const Bytef *)buf, (uInt)(n - 4));
        memcpy(buf + n - 4, &crc, 4);
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
    }
    CHECK(second && ckpt_load(path, &c.ps, NULL, NULL, "", NULL, &e) == KD_ERR_FORMAT &&
              strstr(e.msg, "'enc.w' appears twice"),
          "duplicate in a file: %s", e.msg);
    free(buf);
    params_free(&a.ps), params_free(&b.ps), params_free(&c.ps);
}

int main(void)
{
    check_tmpdir("test_ckpt");
    test_round_trip();
    test_single_set();
    test_buffers();
    test_duplicates();
    return check_report("test_ckpt");
}
