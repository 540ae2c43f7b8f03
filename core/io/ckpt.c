/* Checkpoint files. Layout (little-endian):
 *   "KDLABCKP" u32 version u32 n_tensors u32 has_moments i64 epoch i64 step
 *   u32 config_len, config bytes
 *   n_tensors x { u16 name_len, name, u8 ndim, u32 shape[ndim], f32 values[n] [, m[n], v[n]] }
 *   u32 crc32 of all bytes before it
 * The buffers are written in the order given, each name once. */
#include "io/ckpt.h"
#include "base/err.h"
#include "base/fsio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char CKPT_MAGIC[8] = {'K', 'D', 'L', 'A', 'B', 'C', 'K', 'P'};

struct writer {
    FILE *f;
    uLong crc;
};

static void put(struct writer *w, const void *p, size_t n)
{
    fwrite(p, 1, n, w->f);
    w->crc = crc32(w->crc, p, (uInt)n);
}

static void put_u32(struct writer *w, uint32_t v)
{
    put(w, &v, 4);
}

/* The first name that two of bufs share, or NULL: names key the records. */
static const char *duplicate_name(const struct ckpt_buf *bufs, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(bufs[i].name, bufs[j].name) == 0)
                return bufs[i].name;
    return NULL;
}

/* n zero floats: the moments of a buffer without them in a file that has moments. */
static void put_zeros(struct writer *w, size_t n)
{
    static const float zeros[1024];
    for (size_t at = 0; at < n; at += 1024)
        put(w, zeros, (n - at < 1024 ? n - at : 1024) * sizeof(float));
}

static void put_tensor(struct writer *w, const struct ckpt_buf *b, int has_moments)
{
    uint16_t nl = (uint16_t)strlen(b->name);
    uint8_t nd = (uint8_t)b->ndim;
    put(w, &nl, 2);
    put(w, b->name, nl);
    put(w, &nd, 1);
    for (int d = 0; d < b->ndim; d++)
        put_u32(w, (uint32_t)b->shape[d]);
    put(w, b->w, b->n * sizeof(float));
    if (!has_moments)
        return;
    if (b->m && b->v) {
        put(w, b->m, b->n * sizeof(float));
        put(w, b->v, b->n * sizeof(float));
    } else {
        put_zeros(w, 2 * b->n);
    }
}

int ckpt_write(const char *path, const struct ckpt_buf *bufs, int n, int has_moments,
               const char *config_text, const struct ckpt_info *info, struct kd_err *e)
{
    const char *dup = duplicate_name(bufs, n);
    if (dup)
        return kd_err_set(e, KD_ERR_FORMAT, path, 0,
                          "tensor name '%s' is used twice (names must be unique in a checkpoint)",
                          dup);
    uint32_t n_tensors = (uint32_t)n, moments = has_moments != 0;
    struct atomic_file af;
    if (atomic_open(&af, path, e))
        return e->code;
    struct writer w = {af.f, crc32(0, NULL, 0)};
    int64_t epoch = info->epoch, step = info->step;
    put(&w, CKPT_MAGIC, 8);
    put_u32(&w, CKPT_VERSION);
    put_u32(&w, n_tensors);
    put_u32(&w, moments);
    put(&w, &epoch, 8);
    put(&w, &step, 8);
    uint32_t clen = (uint32_t)strlen(config_text);
    put_u32(&w, clen);
    put(&w, config_text, clen);
    for (int i = 0; i < n; i++)
        put_tensor(&w, &bufs[i], (int)moments);
    uint32_t crc = (uint32_t)w.crc;
    fwrite(&crc, 1, 4, af.f);
    return atomic_commit(&af, e);
}

struct reader {
    const char *buf;
    size_t len, at;
};

static const void *take(struct reader *r, size_t n)
{
    if (r->len - r->at < n)
        return NULL;
    const void *p = r->buf + r->at;
    r->at += n;
    return p;
}

static int get(struct reader *r, void *out, size_t n)
{
    const void *p = take(r, n);
    if (!p)
        return -1;
    memcpy(out, p, n);
    return 0;
}

/* The first line starting with prefix that differs between a and b, copied into key. */
static int config_diff(const char *a, const char *b, const char *prefix, char *key, size_t cap)
{
    const char *pa = a;
    while (*pa) {
        const char *eol = strchr(pa, '\n');
        size_t n = eol ? (size_t)(eol - pa) : strlen(pa);
        if (strncmp(pa, prefix, strlen(prefix)) == 0) {
            const char *colon = memchr(pa, ':', n);
            size_t kn = colon ? (size_t)(colon - pa) : n;
            int found = 0;
            for (const char *pb = b; *pb;) {
                const char *eb = strchr(pb, '\n');
                size_t nb = eb ? (size_t)(eb - pb) : strlen(pb);
                if (nb > kn && strncmp(pb, pa, kn) == 0 && pb[kn] == ':') {
                    found = nb == n && memcmp(pa, pb, n) == 0;
                    break;
                }
                pb += nb + (eb != NULL);
            }
            if (!found) {
                snprintf(key, cap, "%.*s", (int)kn, pa);
                return 1;
            }
        }
        pa += n + (eol != NULL);
    }
    return 0;
}

/* One tensor record's name and shape; returns 0, or -1 when the bytes run out or are absurd. */
static int get_header(struct reader *r, char name[256], uint8_t *nd, uint32_t shape[CKPT_MAX_DIMS])
{
    uint16_t nl;
    if (get(r, &nl, 2) || nl >= 256 || get(r, name, nl) || get(r, nd, 1) || *nd > CKPT_MAX_DIMS)
        return -1;
    name[nl] = '\0';
    return get(r, shape, 4u * *nd);
}

/* The first of bufs named name, or NULL. */
static struct ckpt_buf *find_buf(struct ckpt_buf *bufs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(bufs[i].name, name) == 0)
            return &bufs[i];
    return NULL;
}

/* 1 when a record's shape (nd dims) is b's. */
static int same_shape(const struct ckpt_buf *b, uint8_t nd, const uint32_t *shape)
{
    int same = nd == b->ndim;
    for (int d = 0; same && d < nd; d++)
        same = (int)shape[d] == b->shape[d];
    return same;
}

/* Values (and moments into a buffer's m and v when it has them) of every record; seen has one
 * flag per buffer (zeroed), so that a name twice in the file is refused. */
static int load_records(struct reader *r, const char *path, struct ckpt_buf *bufs, int n,
                        uint32_t n_tensors, int has_moments, char *seen, struct kd_err *e)
{
    for (uint32_t i = 0; i < n_tensors; i++) {
        char name[256];
        uint8_t nd;
        uint32_t shape[CKPT_MAX_DIMS];
        if (get_header(r, name, &nd, shape))
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "corrupt tensor header #%u", i);
        struct ckpt_buf *b = find_buf(bufs, n, name);
        if (!b)
            return kd_err_setfix(e, KD_ERR_MISMATCH, path, 0,
                                 "the checkpoint was made for another architecture",
                                 "tensor '%s' is not in the model", name);
        if (seen[b - bufs]++)
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "tensor '%s' appears twice", name);
        if (!same_shape(b, nd, shape))
            return kd_err_setfix(e, KD_ERR_MISMATCH, path, 0,
                                 "check model.dim, model.depth, model.heads and model.patch",
                                 "tensor '%s' has another shape than the model's", name);
        size_t bytes = b->n * sizeof(float);
        if (get(r, b->w, bytes))
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "truncated in tensor '%s'", name);
        if (!has_moments)
            continue;
        const void *m = take(r, bytes), *v = take(r, bytes);
        if (!m || !v)
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "truncated in tensor '%s'", name);
        if (b->m && b->v) {
            memcpy(b->m, m, bytes);
            memcpy(b->v, v, bytes);
        }
    }
    return 0;
}

static int load_tensors(struct reader *r, const char *path, struct ckpt_buf *bufs, int n,
                        uint32_t n_tensors, int has_moments, struct kd_err *e)
{
    if ((int)n_tensors != n)
        return kd_err_setfix(e, KD_ERR_MISMATCH, path, 0,
                             "this checkpoint was made for another model; check model.*",
                             "holds %u tensors, the model has %d", n_tensors, n);
    char *seen = calloc(n ? n : 1, 1);
    if (!seen)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    int rc = load_records(r, path, bufs, n, n_tensors, has_moments, seen, e);
    free(seen);
    return rc;
}

/* A checkpoint read whole and checked (magic, CRC, version), positioned after its config. */
struct ckpt_file {
    char *buf;       /* the whole file (malloc'd) */
    struct reader r; /* at the first tensor record */
    uint32_t n_tensors, has_moments;
    int64_t epoch, step;
    const char *config; /* the stored resolved config, config_len bytes, not terminated */
    uint32_t config_len;
};

/* Returns 0 or KD_ERR_IO / KD_ERR_FORMAT naming path; missing_fix is the hint for a missing
 * file. On success the caller frees f->buf. */
static int ckpt_open(struct ckpt_file *f, const char *path, const char *missing_fix,
                     struct kd_err *e)
{
    size_t len = 0;
    uint32_t crc_file = 0, version = 0;
    char magic[8];
    memset(f, 0, sizeof *f);
    char hint[300];
    if (file_read_all(path, &f->buf, &len, e))
        return kd_err_fix(e, "%s", file_remake_hint(path, missing_fix, hint, sizeof hint));
    const char *buf = f->buf;
    f->r = (struct reader){buf, len >= 4 ? len - 4 : 0, 0};
    if (len < 40 || memcmp(buf, CKPT_MAGIC, 8) != 0)
        return kd_err_set(e, KD_ERR_FORMAT, path, 0, "not a kdlab checkpoint (bad magic or size)");
    memcpy(&crc_file, buf + len - 4, 4);
    if ((uint32_t)crc32(crc32(0, NULL, 0), (const Bytef *)buf, (uInt)(len - 4)) != crc_file)
        return kd_err_setfix(e, KD_ERR_FORMAT, path, 0,
                             file_remake_hint(path,
                                              "delete it and run again the command that "
                                              "wrote it",
                                              hint, sizeof hint),
                             "checksum mismatch: truncated or corrupted");
    get(&f->r, magic, 8);
    if (get(&f->r, &version, 4) || get(&f->r, &f->n_tensors, 4) || get(&f->r, &f->has_moments, 4) ||
        get(&f->r, &f->epoch, 8) || get(&f->r, &f->step, 8) || get(&f->r, &f->config_len, 4) ||
        version != CKPT_VERSION)
        return kd_err_set(e, KD_ERR_FORMAT, path, 0, "unsupported checkpoint version %u", version);
    if (!(f->config = take(&f->r, f->config_len)))
        return kd_err_set(e, KD_ERR_FORMAT, path, 0, "corrupt config section");
    return 0;
}

int ckpt_read(const char *path, struct ckpt_buf *bufs, int n, const char *expect_config,
              const char *key_prefix, struct ckpt_info *info, struct kd_err *e)
{
    struct ckpt_file f;
    int rc = ckpt_open(&f, path, "train it first (make teachers), or check the path", e);
    if (!rc && expect_config) {
        char *stored = strndup(f.config, f.config_len), key[128];
        int differs = config_diff(expect_config, stored, key_prefix, key, sizeof key);
        free(stored);
        if (differs)
            rc = kd_err_setfix(e, KD_ERR_MISMATCH, path, 0,
                               "use the matching config, or delete the checkpoint to start over",
                               "was made with another value of '%s' than this config", key);
    }
    if (!rc)
        rc = load_tensors(&f.r, path, bufs, n, f.n_tensors, (int)f.has_moments, e);
    if (!rc && info) {
        info->epoch = f.epoch;
        info->step = f.step;
    }
    free(f.buf);
    return rc;
}

int ckpt_read_config(const char *path, char **text, struct kd_err *e)
{
    struct ckpt_file f;
    *text = NULL;
    int rc = ckpt_open(&f, path, "train it first, or check the path", e);
    if (!rc && !(*text = strndup(f.config, f.config_len)))
        rc = kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    free(f.buf);
    return rc;
}

int ckpt_read_info(const char *path, struct ckpt_info *info, struct kd_err *e)
{
    /* the header alone: a resume point's step is wanted before its tensors are read (and
     * checked) once, and a point can be hundreds of megabytes */
    char head[40];
    uint32_t version;
    int64_t epoch, step;
    FILE *f = file_open_made(path, "rb", "the checkpoint", "train it first, or check the path", e);
    if (!f)
        return e->code;
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got < sizeof head || memcmp(head, CKPT_MAGIC, 8) != 0)
        return kd_err_set(e, KD_ERR_FORMAT, path, 0, "not a kdlab checkpoint (bad magic or size)");
    memcpy(&version, head + 8, 4);
    if (version != CKPT_VERSION)
        return kd_err_set(e, KD_ERR_FORMAT, path, 0, "unsupported checkpoint version %u", version);
    memcpy(&epoch, head + 20, 8);
    memcpy(&step, head + 28, 8);
    info->epoch = epoch;
    info->step = step;
    return 0;
}

/* Tensor records after the config section, matched by name and shape (see ckpt_read_matching). */
static int match_tensors(struct reader *r, const char *path, struct ckpt_buf *bufs, int n_bufs,
                         uint32_t n, int has_moments, struct ckpt_match *mt, struct kd_err *e)
{
    char *seen = calloc(n_bufs ? n_bufs : 1, 1);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t nd;
        char name[256];
        uint32_t shape[CKPT_MAX_DIMS];
        if (get_header(r, name, &nd, shape)) {
            free(seen);
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "corrupt tensor header #%u", i);
        }
        size_t count = 1;
        for (int d = 0; d < nd; d++)
            count *= shape[d];
        const void *v = take(r, count * sizeof(float) * (has_moments ? 3 : 1));
        if (!v) {
            free(seen);
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "truncated in tensor '%s'", name);
        }
        struct ckpt_buf *b = find_buf(bufs, n_bufs, name);
        if (!b || !same_shape(b, nd, shape)) {
            if (mt->skipped++ == 0)
                snprintf(mt->first_skipped, sizeof mt->first_skipped, "%s", name);
            continue;
        }
        memcpy(b->w, v, b->n * sizeof(float));
        seen[b - bufs] = 1;
        mt->loaded++;
    }
    for (int i = 0; i < n_bufs; i++)
        if (!seen[i] && mt->missing++ == 0)
            snprintf(mt->first_missing, sizeof mt->first_missing, "%s", bufs[i].name);
    free(seen);
    return 0;
}

int ckpt_read_matching(const char *path, struct ckpt_buf *bufs, int n, struct ckpt_match *mt,
                       struct kd_err *e)
{
    struct ckpt_file f;
    memset(mt, 0, sizeof *mt);
    int rc =
        ckpt_open(&f, path, "run the config that makes it first (make does), or check the path", e);
    if (!rc)
        rc = match_tensors(&f.r, path, bufs, n, f.n_tensors, (int)f.has_moments, mt, e);
    free(f.buf);
    return rc;
}

void ckpt_tensors_free(struct ckpt_tensors *c)
{
    free(c->t);
    free(c->values);
    free(c->config);
    memset(c, 0, sizeof *c);
}

/* The records of f into c (c->t and c->values allocated for f->n_tensors). */
static int read_all_records(struct ckpt_file *f, const char *path, struct ckpt_tensors *c,
                            struct kd_err *e)
{
    size_t at = 0, cap = (f->r.len - f->r.at) / sizeof(float);
    for (uint32_t i = 0; i < f->n_tensors; i++) {
        struct ckpt_tensor *t = &c->t[i];
        uint8_t nd;
        uint32_t shape[CKPT_MAX_DIMS];
        if (get_header(&f->r, t->name, &nd, shape))
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "corrupt tensor header #%u", i);
        t->ndim = nd;
        t->n = 1;
        for (int d = 0; d < nd; d++) {
            t->shape[d] = (int)shape[d];
            t->n = shape[d] && t->n > cap / shape[d] ? cap + 1 : t->n * shape[d];
        }
        if (t->n > cap - at || get(&f->r, c->values + at, t->n * sizeof(float)) ||
            (f->has_moments && !take(&f->r, 2 * t->n * sizeof(float))))
            return kd_err_set(e, KD_ERR_FORMAT, path, 0, "truncated in tensor '%s'", t->name);
        t->w = c->values + at;
        at += t->n;
        c->n++;
    }
    return 0;
}

int ckpt_read_tensors(const char *path, struct ckpt_tensors *c, struct kd_err *e)
{
    struct ckpt_file f;
    memset(c, 0, sizeof *c);
    int rc = ckpt_open(&f, path, "train it first, or check the path", e);
    if (rc) {
        free(f.buf);
        return rc;
    }
    /* every value fits in what is left of the file, so that bounds the allocation */
    c->t = calloc(f.n_tensors ? f.n_tensors : 1, sizeof *c->t);
    c->values = malloc(f.r.len - f.r.at + sizeof(float));
    c->config = strndup(f.config, f.config_len);
    if (!c->t || !c->values || !c->config)
        rc = kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    if (!rc)
        rc = read_all_records(&f, path, c, e);
    c->epoch = f.epoch;
    c->step = f.step;
    free(f.buf);
    if (rc)
        ckpt_tensors_free(c);
    return rc;
}
