/* The soft-label file format (see softlabel.h): half-float codec, top-K selection and the
 * paper's dense rebuild, an atomic writer with a running CRC, and an mmap reader that refuses
 * a truncated, corrupted or mismatched file with the command that rebuilds it. */
#include "data/softlabel.h"

#include "base/err.h"
#include "base/fsio.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char SOFTLABEL_MAGIC[8] = {'K', 'D', 'S', 'O', 'F', 'T', 'L', 'B'};

size_t softlabel_file_bytes(const struct softlabel_info *info)
{
    return SOFTLABEL_HEADER_BYTES + 4 * (size_t)info->samples +
           (size_t)info->epochs * info->samples * softlabel_record_bytes(info->k) + 4;
}

uint16_t softlabel_f16_from_f32(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: quiet, keep the top payload bits */
        return sign | 0x7e00 | (uint16_t)((ax >> 13) & 0x1ff);
    if (ax >= 0x477ff000u) /* >= 65520 (halfway above 65504, tie to even) and Inf: Inf */
        return sign | 0x7c00;
    if (ax >= 0x38800000u) { /* normal half: rebias 127 -> 15, round the 13 dropped bits */
        uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u);
        return sign | (uint16_t)((r - 0x38000000u) >> 13);
    }
    uint32_t e = ax >> 23;
    if (e < 102) /* below 2^-25: rounds to zero (2^-25 itself ties to the even 0) */
        return sign;
    /* subnormal half m * 2^-24: m = mant * 2^(e - 126), rounded to nearest even */
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u, s = 126 - e;
    uint32_t m = mant >> s, rem = mant & ((1u << s) - 1), half = 1u << (s - 1);
    if (rem > half || (rem == half && (m & 1u)))
        m++;
    return sign | (uint16_t)m;
}

float softlabel_f32_from_f16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
    if (e == 0x1f)
        x = sign | 0x7f800000u | (m << 13);
    else if (e)
        x = sign | ((e + 112) << 23) | (m << 13);
    else if (!m)
        x = sign;
    else {
        e = 113;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        x = sign | (e << 23) | ((m & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void softlabel_topk(uint16_t *idx, uint16_t *val, const float *probs, int C, int K)
{
    KD_ASSERT(K >= 1 && K <= C && C <= 65536);
    /* insertion into a sorted list of K: C is small (classes), K smaller */
    int n = 0;
    for (int c = 0; c < C; c++) {
        if (n == K && !(probs[c] > probs[idx[K - 1]]))
            continue;
        int at = n < K ? n++ : K - 1;
        while (at > 0 && probs[c] > probs[idx[at - 1]]) {
            idx[at] = idx[at - 1];
            at--;
        }
        idx[at] = (uint16_t)c;
    }
    for (int i = 0; i < K; i++)
        val[i] = softlabel_f16_from_f32(probs[idx[i]]);
}

void softlabel_dense(float *out, const uint16_t *idx, const uint16_t *val, int C, int K)
{
    float sum = 0;
    for (int i = 0; i < K; i++)
        sum += softlabel_f32_from_f16(val[i]);
    float rest = K < C ? (1.0f - sum) / (float)(C - K) : 0.0f;
    for (int c = 0; c < C; c++)
        out[c] = rest;
    for (int i = 0; i < K; i++)
        out[idx[i]] = softlabel_f32_from_f16(val[i]);
}

static void put(struct softlabel_writer *w, const void *p, size_t n)
{
    fwrite(p, 1, n, w->af.f);
    w->crc = crc32(w->crc, p, (uInt)n);
}

static void header_pack(uint8_t *h, const struct softlabel_info *in)
{
    uint32_t v[8] = {
        SOFTLABEL_VERSION, in->k,        in->epochs, in->samples,
        in->classes,       in->crop_pad, in->flip,   (uint32_t)softlabel_record_bytes(in->k)};
    memset(h, 0, SOFTLABEL_HEADER_BYTES);
    memcpy(h, SOFTLABEL_MAGIC, 8);
    memcpy(h + 8, v, sizeof v);
    memcpy(h + 40, &in->base_seed, 8);
    memcpy(h + 48, &in->teacher_hash, 8);
    memcpy(h + 56, &in->data_n, 4);
    memcpy(h + 60, &in->aug_hash, 4);
}

/* Bytes before the first record: the header and the sample index table. */
static size_t prefix_bytes(const struct softlabel_info *in)
{
    return SOFTLABEL_HEADER_BYTES + 4 * (size_t)in->samples;
}

static void prefix_pack(uint8_t *p, const struct softlabel_info *in, const int *index)
{
    header_pack(p, in);
    for (uint32_t i = 0; i < in->samples; i++) {
        uint32_t j = (uint32_t)index[i];
        memcpy(p + SOFTLABEL_HEADER_BYTES + 4 * (size_t)i, &j, 4);
    }
}

int softlabel_writer_open(struct softlabel_writer *w, const char *path,
                          const struct softlabel_info *info, const int *index, struct kd_err *e)
{
    memset(w, 0, sizeof *w);
    w->info = *info;
    if (info->k < 1 || info->k > info->classes || info->k > SOFTLABEL_MAX_K)
        return kd_err_setfix(e, KD_ERR_CONFIG, path, 0, "set tinyvit.topk from 1 to model.classes",
                             "K = %u for %u classes", info->k, info->classes);
    if (atomic_open(&w->af, path, e))
        return e->code;
    w->crc = crc32(0, NULL, 0);
    size_t n = prefix_bytes(info);
    uint8_t *prefix = malloc(n);
    if (!prefix)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    prefix_pack(prefix, info, index);
    put(w, prefix, n);
    free(prefix);
    return 0;
}

int softlabel_writer_resume(struct softlabel_writer *w, const char *path,
                            const struct softlabel_info *info, const int *index, size_t records,
                            struct kd_err *e)
{
    memset(w, 0, sizeof *w);
    w->info = *info;
    snprintf(w->af.path, sizeof w->af.path, "%s", path);
    snprintf(w->af.tmp, sizeof w->af.tmp, "%s.tmp", path);
    size_t prefix = prefix_bytes(info);
    size_t keep = prefix + records * softlabel_record_bytes(info->k);
    uint8_t *want = malloc(prefix), *have = malloc(keep);
    /* A run stopped after its file was committed but before its point was cleared left the file
     * under its final name: it holds the point's records (its header is checked below). */
    if (access(w->af.tmp, F_OK) != 0 && access(path, F_OK) == 0)
        rename(path, w->af.tmp);
    FILE *f = fopen(w->af.tmp, "r+b");
    int ok = want && have && f && fread(have, 1, keep, f) == keep;
    if (ok) { /* the same header and subset as this run would write */
        prefix_pack(want, info, index);
        ok = memcmp(want, have, prefix) == 0;
    }
    /* Records past the resume point (an epoch cut short) are dropped. */
    ok = ok && fflush(f) == 0 && ftruncate(fileno(f), (off_t)keep) == 0 &&
         fseek(f, 0, SEEK_END) == 0;
    if (ok) {
        w->crc = crc32(crc32(0, NULL, 0), have, (uInt)keep);
        w->written = records;
        w->af.f = f;
    } else if (f) {
        fclose(f);
    }
    free(want);
    free(have);
    if (!ok)
        return kd_err_setfix(e, KD_ERR_FORMAT, w->af.tmp, 0,
                             "delete the .part.* files to start over",
                             "does not hold the %zu records of the resume point", records);
    return 0;
}

void softlabel_writer_put(struct softlabel_writer *w, uint32_t seed, const uint16_t *idx,
                          const uint16_t *val)
{
    put(w, &seed, 4);
    put(w, idx, 2 * (size_t)w->info.k);
    put(w, val, 2 * (size_t)w->info.k);
    w->written++;
}

int softlabel_writer_commit(struct softlabel_writer *w, struct kd_err *e)
{
    size_t want = (size_t)w->info.epochs * w->info.samples;
    KD_ASSERT(w->written == want);
    uint32_t crc = (uint32_t)w->crc;
    fwrite(&crc, 1, 4, w->af.f);
    return atomic_commit(&w->af, e);
}

void softlabel_writer_abort(struct softlabel_writer *w)
{
    atomic_abort(&w->af);
}

static int open_fail(struct softlabel_file *f, struct kd_err *e, const char *what)
{
    char hint[300];
    kd_err_set(e, KD_ERR_FORMAT, f->path, 0, "not a valid soft-label file: %s", what);
    kd_err_fix(e, "%s",
               file_remake_hint(f->path,
                                "delete it and run again the tinyvit_labels "
                                "command that wrote it",
                                hint, sizeof hint));
    softlabel_close(f);
    return KD_ERR_FORMAT;
}

/* Header fields and sizes against the file length. */
static int open_header(struct softlabel_file *f, struct kd_err *e)
{
    const uint8_t *h = f->map;
    uint32_t v[8];
    if (f->len < SOFTLABEL_HEADER_BYTES + 4 || memcmp(h, SOFTLABEL_MAGIC, 8) != 0)
        return open_fail(f, e, "bad magic or shorter than a header");
    memcpy(v, h + 8, sizeof v);
    if (v[0] != SOFTLABEL_VERSION) {
        char why[80];
        snprintf(why, sizeof why, "version %u, this build reads %u", v[0], SOFTLABEL_VERSION);
        return open_fail(f, e, why);
    }
    struct softlabel_info *in = &f->info;
    in->k = v[1], in->epochs = v[2], in->samples = v[3], in->classes = v[4];
    in->crop_pad = v[5], in->flip = v[6];
    memcpy(&in->base_seed, h + 40, 8);
    memcpy(&in->teacher_hash, h + 48, 8);
    memcpy(&in->data_n, h + 56, 4);
    memcpy(&in->aug_hash, h + 60, 4);
    if (in->k < 1 || in->k > SOFTLABEL_MAX_K || in->k > in->classes || in->classes > 65536 ||
        v[7] != softlabel_record_bytes(in->k) || in->samples > in->data_n || in->epochs < 1 ||
        in->data_n > (1u << 24) || in->epochs > (1u << 20) || in->samples > (1u << 28))
        return open_fail(f, e, "impossible header values");
    size_t want = softlabel_file_bytes(in);
    if (want != f->len) {
        char why[160];
        snprintf(why, sizeof why, "%zu bytes, the header promises %zu (truncated?)", f->len, want);
        return open_fail(f, e, why);
    }
    return 0;
}

/* The CRC, then the index table (every index < data_n, no duplicates). */
static int open_body(struct softlabel_file *f, struct kd_err *e)
{
    uint32_t crc_file;
    memcpy(&crc_file, f->map + f->len - 4, 4);
    uLong crc = crc32(0, NULL, 0);
    for (size_t at = 0; at < f->len - 4; at += 1u << 30) {
        size_t n = f->len - 4 - at < (1u << 30) ? f->len - 4 - at : (1u << 30);
        crc = crc32(crc, f->map + at, (uInt)n);
    }
    if ((uint32_t)crc != crc_file)
        return open_fail(f, e, "checksum mismatch (truncated or corrupted)");
    const struct softlabel_info *in = &f->info;
    f->pos_of = malloc(sizeof(int) * (in->data_n ? in->data_n : 1));
    f->index = malloc(sizeof(int) * (in->samples ? in->samples : 1));
    if (!f->pos_of || !f->index) {
        softlabel_close(f);
        return kd_err_set(e, KD_ERR_NOMEM, f->path, 0, "out of memory for the index table");
    }
    for (uint32_t j = 0; j < in->data_n; j++)
        f->pos_of[j] = -1;
    for (uint32_t i = 0; i < in->samples; i++) {
        uint32_t j;
        memcpy(&j, f->map + SOFTLABEL_HEADER_BYTES + 4 * (size_t)i, 4);
        if (j >= in->data_n || f->pos_of[j] >= 0)
            return open_fail(f, e, "sample index out of range or repeated");
        f->pos_of[j] = (int)i;
        f->index[i] = (int)j;
    }
    f->records = f->map + SOFTLABEL_HEADER_BYTES + 4 * (size_t)in->samples;
    /* A student writes dense labels at the stored class indices: each must be a class (a
     * corrupt file with a good CRC would otherwise write out of bounds: fuzz_softlabel). */
    size_t rb = softlabel_record_bytes(in->k), nrec = (size_t)in->epochs * in->samples;
    for (size_t r = 0; r < nrec; r++)
        for (uint32_t i = 0; i < in->k; i++) {
            uint16_t c;
            memcpy(&c, f->records + r * rb + 4 + 2 * (size_t)i, 2);
            if (c >= in->classes)
                return open_fail(f, e, "a record's class index is not below the class count");
        }
    return 0;
}

int softlabel_open(struct softlabel_file *f, const char *path, struct kd_err *e)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        char hint[300];
        return kd_err_setfix(
            e, KD_ERR_IO, path, 0,
            file_remake_hint(path, "run its tinyvit_labels config first", hint, sizeof hint),
            "cannot open the soft-label file");
    }
    f->len = (size_t)st.st_size;
    void *m = f->len ? mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED) {
        f->len = 0;
        return open_fail(f, e, "empty or unreadable");
    }
    f->map = m;
    int rc = open_header(f, e);
    return rc ? rc : open_body(f, e);
}

void softlabel_close(struct softlabel_file *f)
{
    if (f->map)
        munmap((void *)f->map, f->len);
    free(f->pos_of);
    free(f->index);
    f->map = NULL;
    f->pos_of = f->index = NULL;
}

int softlabel_check(const struct softlabel_file *f, const struct softlabel_need *need,
                    const char *config, struct kd_err *e)
{
    const struct softlabel_info *in = &f->info;
    char msg[300], fix[200];
    if (need->k > in->k) {
        snprintf(msg, sizeof msg, "holds top-%u labels, %s wants top-%u", in->k, config, need->k);
        snprintf(fix, sizeof fix, "set tinyvit.topk <= %u or relabel with a larger K", in->k);
    } else if (in->epochs < need->epochs_min) {
        snprintf(msg, sizeof msg, "holds %u epochs, %s needs %u", in->epochs, config,
                 need->epochs_min);
        snprintf(fix, sizeof fix, "lower tinyvit.epochs or relabel with more epochs");
    } else if (in->samples != need->samples) {
        snprintf(msg, sizeof msg, "holds %u samples per epoch, %s trains on %u", in->samples,
                 config, need->samples);
        snprintf(fix, sizeof fix, "give both configs the same data.train_n and data.per_class");
    } else if (in->classes != need->classes) {
        snprintf(msg, sizeof msg, "has %u classes, %s's model %u", in->classes, config,
                 need->classes);
        snprintf(fix, sizeof fix, "set model.classes to %u", in->classes);
    } else if (in->crop_pad != need->crop_pad || in->flip != need->flip) {
        snprintf(msg, sizeof msg, "was made with crop_pad %u flip %u, %s uses %u and %u",
                 in->crop_pad, in->flip, config, need->crop_pad, need->flip);
        snprintf(fix, sizeof fix, "give both configs the same data.crop_pad and data.flip");
    } else if (in->aug_hash != need->aug_hash) {
        if (!need->aug_hash)
            snprintf(msg, sizeof msg, "was made with strong augmentation (hash %08x), %s has none",
                     in->aug_hash, config);
        else if (!in->aug_hash)
            snprintf(msg, sizeof msg, "was made without strong augmentation, %s has some", config);
        else
            snprintf(msg, sizeof msg,
                     "was made with other strong augmentation than %s (hash "
                     "%08x, %08x)",
                     config, in->aug_hash, need->aug_hash);
        snprintf(fix, sizeof fix,
                 "give both configs the same data.rrc_scale_min, "
                 "data.randaug_* and data.erase_prob, or relabel");
    } else if (need->teacher_hash && in->teacher_hash != need->teacher_hash) {
        snprintf(msg, sizeof msg, "was made by other teacher weights than %s's teacher:", config);
        snprintf(fix, sizeof fix, "point teacher: at the labels run's teacher or relabel");
    } else
        return 0;
    return kd_err_setfix(e, KD_ERR_MISMATCH, f->path, 0, fix, "%s", msg);
}

const uint8_t *softlabel_record(const struct softlabel_file *f, int epoch, int pos)
{
    KD_ASSERT(epoch >= 0 && (uint32_t)epoch < f->info.epochs);
    KD_ASSERT(pos >= 0 && (uint32_t)pos < f->info.samples);
    size_t r = (size_t)epoch * f->info.samples + (size_t)pos;
    return f->records + r * softlabel_record_bytes(f->info.k);
}

uint32_t softlabel_record_seed(const uint8_t *rec)
{
    uint32_t s;
    memcpy(&s, rec, 4);
    return s;
}

void softlabel_record_topk(uint16_t *idx, uint16_t *val, const uint8_t *rec, int kf, int k)
{
    KD_ASSERT(k >= 1 && k <= kf);
    memcpy(idx, rec + 4, 2 * (size_t)k);
    memcpy(val, rec + 4 + 2 * (size_t)kf, 2 * (size_t)k);
}
