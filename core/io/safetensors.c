/* safetensors reader and writer. The JSON header goes through cJSON (Debian's libcjson-dev):
 * one C file, no dependencies, a length-bounded parser (cJSON_ParseWithLength) with a nesting
 * limit, and it keeps object members in file order, duplicates included, so duplicate tensor
 * names can be detected rather than silently merged (jansson keeps only one of them unless
 * JSON_REJECT_DUPLICATES, and is a larger library for no gain here). */
#include "io/safetensors.h"
#include "base/err.h"
#include "base/fsio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

static const char *const DTYPE_NAMES[ST_NDTYPES] = {
    "BOOL", "U8",  "I8",  "F8_E4M3", "F8_E5M2", "I16", "U16", "F16",
    "BF16", "I32", "U32", "F32",     "I64",     "U64", "F64",
};
static const int DTYPE_SIZES[ST_NDTYPES] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};

#define ST_FIX "re-save it (safetensors.torch.save_file or bin/export), or check it is complete"

const char *st_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < ST_NDTYPES ? DTYPE_NAMES[dtype] : "?";
}

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f)
        bits = sign | 0x7f800000u | (man << 13);
    else if (exp != 0)
        bits = sign | ((exp + 112) << 23) | (man << 13);
    else if (man == 0)
        bits = sign;
    else {
        /* subnormal half: value man * 2^-24, normalized for float */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* s with control characters as '?', cut to cap - 1 bytes: file text goes into one-line errors. */
static const char *printable(char *buf, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static int bad(struct kd_err *e, const char *path, const char *fmt, const char *a, const char *b)
{
    char pa[128], pb[128];
    kd_err_set(e, KD_ERR_FORMAT, path, 0, fmt, printable(pa, sizeof pa, a),
               printable(pb, sizeof pb, b));
    return kd_err_fix(e, ST_FIX);
}

/* A JSON number that is a non-negative integer below 2^53, else -1. */
static int64_t json_index(const cJSON *j)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
        return -1;
    return (int64_t)d;
}

static int parse_dtype(const cJSON *j)
{
    if (!cJSON_IsString(j))
        return -1;
    for (int i = 0; i < ST_NDTYPES; i++)
        if (strcmp(j->valuestring, DTYPE_NAMES[i]) == 0)
            return i;
    return -1;
}

/* t's shape and numel from js: a list of at most ST_MAX_DIMS whole sizes. */
static int parse_shape(struct st_tensor *t, const cJSON *js, const char *path, struct kd_err *e)
{
    const char *nm = t->name;
    if (!cJSON_IsArray(js) || cJSON_GetArraySize(js) > ST_MAX_DIMS)
        return bad(e, path, "tensor '%s': shape is not a list of at most 8 sizes%s", nm, "");
    t->ndim = 0;
    t->numel = 1;
    for (const cJSON *c = js->child; c; c = c->next) {
        int64_t v = json_index(c);
        if (v < 0 || __builtin_mul_overflow(t->numel, (size_t)v, &t->numel))
            return bad(e, path,
                       "tensor '%s': shape has a negative, fractional or huge "
                       "size%s",
                       nm, "");
        t->shape[t->ndim++] = v;
    }
    return 0;
}

/* t's byte range from jo, [begin, end]: as many bytes as its shape and dtype need, inside the
 * data section's data_len. */
static int parse_offsets(struct st_tensor *t, const cJSON *jo, const char *path, size_t data_len,
                         struct kd_err *e)
{
    const char *nm = t->name;
    int64_t b = -1, en = -1;
    if (cJSON_IsArray(jo) && cJSON_GetArraySize(jo) == 2) {
        b = json_index(jo->child);
        en = json_index(jo->child->next);
    }
    if (b < 0 || en < 0 || b > en)
        return bad(e, path,
                   "tensor '%s': data_offsets must be [begin, end] with "
                   "0 <= begin <= end%s",
                   nm, "");
    size_t bytes;
    if (__builtin_mul_overflow(t->numel, (size_t)DTYPE_SIZES[t->dtype], &bytes) ||
        (size_t)(en - b) != bytes) {
        kd_err_set(e, KD_ERR_FORMAT, path, 0,
                   "tensor '%s': data_offsets span %lld bytes, but shape and dtype %s need %zu", nm,
                   (long long)(en - b), DTYPE_NAMES[t->dtype], bytes);
        return kd_err_fix(e, ST_FIX);
    }
    if ((uint64_t)en > data_len) {
        kd_err_set(e, KD_ERR_FORMAT, path, 0,
                   "tensor '%s': data_offsets end %lld is past the data section's %zu bytes "
                   "(truncated file?)",
                   nm, (long long)en, data_len);
        return kd_err_fix(e, ST_FIX);
    }
    t->begin = (size_t)b;
    t->end = (size_t)en;
    return 0;
}

/* One header entry into t: exactly dtype, shape and offsets, which agree in size. */
static int parse_entry(struct st_tensor *t, const cJSON *j, const char *path, size_t data_len,
                       struct kd_err *e)
{
    const char *nm = t->name;
    if (!cJSON_IsObject(j))
        return bad(e, path, "tensor '%s': header entry is not an object%s", nm, "");
    int n_fields = 0;
    for (const cJSON *c = j->child; c; c = c->next)
        n_fields++;
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!jd || !js || !jo || n_fields != 3)
        return bad(e, path,
                   "tensor '%s': entry must have exactly dtype, shape and "
                   "data_offsets%s",
                   nm, "");
    if ((t->dtype = parse_dtype(jd)) < 0)
        return bad(e, path, "tensor '%s': unknown dtype %s", nm,
                   cJSON_IsString(jd) ? jd->valuestring : "(not a string)");
    int rc = parse_shape(t, js, path, e);
    return rc ? rc : parse_offsets(t, jo, path, data_len, e);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct st_tensor *)a)->name, ((const struct st_tensor *)b)->name);
}

static int cmp_begin(const void *a, const void *b)
{
    const struct st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Names unique; the tensors tile the data section exactly (no overlap, gap or tail). */
static int check_layout(const struct safetensors *st, struct kd_err *e)
{
    if (st->n == 0)
        return st->data_len == 0
                   ? 0
                   : bad(e, st->path, "no tensors but %s%s bytes of data", "", "trailing");
    struct st_tensor *s = malloc(sizeof *s * st->n);
    if (!s)
        return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
    int rc = 0;
    memcpy(s, st->t, sizeof *s * st->n);
    qsort(s, (size_t)st->n, sizeof *s, cmp_name);
    for (int i = 1; i < st->n && !rc; i++)
        if (strcmp(s[i].name, s[i - 1].name) == 0)
            rc = bad(e, st->path, "tensor '%s' appears twice in the header%s", s[i].name, "");
    qsort(s, (size_t)st->n, sizeof *s, cmp_begin);
    size_t at = 0;
    for (int i = 0; i < st->n && !rc; i++) {
        if (s[i].begin < at)
            rc = bad(e, st->path, "tensor '%s': data_offsets overlap tensor '%s'", s[i].name,
                     s[i - 1].name);
        else if (s[i].begin > at)
            rc = bad(e, st->path, "tensor '%s': gap of unused bytes before its data_offsets%s",
                     s[i].name, "");
        at = s[i].end;
    }
    if (!rc && at != st->data_len)
        rc = bad(e, st->path, "%s bytes after the last tensor ('%s')", "trailing",
                 s[st->n - 1].name);
    free(s);
    return rc;
}

static int parse_metadata(struct safetensors *st, const cJSON *j, struct kd_err *e)
{
    if (!cJSON_IsObject(j))
        return bad(e, st->path, "__metadata__ is not an object of strings%s%s", "", "");
    int n = cJSON_GetArraySize(j);
    st->meta_key = calloc((size_t)n + 1, sizeof(char *));
    st->meta_val = calloc((size_t)n + 1, sizeof(char *));
    if (!st->meta_key || !st->meta_val)
        return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
    for (const cJSON *c = j->child; c; c = c->next) {
        if (!cJSON_IsString(c) || !c->string)
            return bad(e, st->path, "__metadata__ value '%s' is not a string%s",
                       c->string ? c->string : "?", "");
        st->meta_key[st->n_meta] = strdup(c->string);
        st->meta_val[st->n_meta] = strdup(c->valuestring);
        if (!st->meta_key[st->n_meta++] || !st->meta_val[st->n_meta - 1])
            return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
    }
    return 0;
}

static int parse_header(struct safetensors *st, const cJSON *root, struct kd_err *e)
{
    int n = 0;
    for (const cJSON *c = root->child; c; c = c->next)
        n += !(c->string && strcmp(c->string, "__metadata__") == 0);
    st->t = calloc((size_t)n + 1, sizeof *st->t);
    if (!st->t)
        return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
    int rc = 0;
    for (const cJSON *c = root->child; c && !rc; c = c->next) {
        if (!c->string)
            return bad(e, st->path, "header entry without a name%s%s", "", "");
        if (strcmp(c->string, "__metadata__") == 0) {
            if (st->meta_key)
                return bad(e, st->path, "%s appears twice in the header%s", "__metadata__", "");
            rc = parse_metadata(st, c, e);
            continue;
        }
        struct st_tensor *t = &st->t[st->n];
        size_t nl = strlen(c->string);
        if (nl == 0 || nl >= ST_NAME_MAX)
            return bad(e, st->path, "tensor name '%.64s' is empty or longer than 255 bytes%s",
                       c->string, "");
        memcpy(t->name, c->string, nl + 1);
        for (size_t i = 0; i < nl; i++)
            if ((unsigned char)t->name[i] < 0x20 || t->name[i] == 0x7f)
                return bad(e, st->path, "tensor name '%s' holds a control character%s", t->name,
                           "");
        rc = parse_entry(t, c, st->path, st->data_len, e);
        st->n++;
    }
    return rc ? rc : check_layout(st, e);
}

int st_parse(struct safetensors *st, const void *buf, size_t len, const char *label,
             struct kd_err *e)
{
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", label);
    const uint8_t *p = buf;
    uint64_t hlen = 0;
    if (len < 8)
        return bad(e, st->path, "%s: %s", "file is shorter than the 8-byte header length",
                   "truncated or not a safetensors file");
    memcpy(&hlen, p, 8);
    if (hlen > len - 8) {
        kd_err_set(e, KD_ERR_FORMAT, st->path, 0,
                   "header length %llu runs past the end of the %zu-byte file",
                   (unsigned long long)hlen, len);
        return kd_err_fix(e, ST_FIX);
    }
    if (hlen < 2 || hlen > ST_MAX_HEADER || p[8] != '{')
        return bad(e, st->path, "header is not a JSON object of at most 100 MB%s%s", "", "");
    st->data = p + 8 + hlen;
    st->data_len = len - 8 - (size_t)hlen;
    const char *json = (const char *)p + 8, *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end, 0);
    /* only padding may follow the object (cJSON stops after the first value) */
    while (root && end && end < json + hlen &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    int rc;
    if (!root || !cJSON_IsObject(root) || end != json + hlen)
        rc = bad(e, st->path, "header is not valid JSON%s%s", "", "");
    else
        rc = parse_header(st, root, e);
    cJSON_Delete(root);
    if (rc)
        st_close(st);
    return rc;
}

int st_open(struct safetensors *st, const char *path, struct kd_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    memset(st, 0, sizeof *st);
    if (file_read_all(path, &buf, &len, e))
        return kd_err_fix(e, "check the path (write one with bin/export or "
                             "safetensors.torch.save_file)");
    int rc = st_parse(st, buf, len, path, e);
    if (rc)
        free(buf);
    else
        st->owned = buf;
    return rc;
}

void st_close(struct safetensors *st)
{
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_key[i]);
        free(st->meta_val[i]);
    }
    free(st->meta_key);
    free(st->meta_val);
    free(st->t);
    free(st->owned);
    memset(st, 0, sizeof *st);
}

const struct st_tensor *st_find(const struct safetensors *st, const char *name)
{
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0)
            return &st->t[i];
    return NULL;
}

const char *st_meta(const struct safetensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_key[i], key) == 0)
            return st->meta_val[i];
    return NULL;
}

int st_read_f32(const struct safetensors *st, const struct st_tensor *t, float *out,
                struct kd_err *e)
{
    const uint8_t *src = st->data + t->begin;
    size_t n = t->numel;
    switch (t->dtype) {
    case ST_F32: memcpy(out, src, n * 4); return 0;
    case ST_F16:
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            out[i] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
        }
        return 0;
    case ST_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            out[i] = (float)d;
        }
        return 0;
    default:
        kd_err_set(e, KD_ERR_FORMAT, st->path, 0,
                   "tensor '%s' has dtype %s; weights must be F32, F16, BF16 or F64", t->name,
                   DTYPE_NAMES[t->dtype]);
        return kd_err_fix(e, "save floating-point weights (model.float().state_dict())");
    }
}

/* The header of st_write as JSON text, or NULL (out of memory). */
static char *header_json(const struct st_entry *t, int n, const char *const *mk,
                         const char *const *mv, int n_meta)
{
    cJSON *root = cJSON_CreateObject(), *meta = NULL;
    int ok = root != NULL;
    if (ok && n_meta > 0) {
        ok = (meta = cJSON_AddObjectToObject(root, "__metadata__")) != NULL;
        for (int i = 0; ok && i < n_meta; i++)
            ok = cJSON_AddStringToObject(meta, mk[i], mv[i]) != NULL;
    }
    size_t at = 0;
    for (int i = 0; ok && i < n; i++) {
        size_t numel = 1;
        double sh[ST_MAX_DIMS];
        for (int d = 0; d < t[i].ndim; d++) {
            numel *= (size_t)t[i].shape[d];
            sh[d] = (double)t[i].shape[d];
        }
        double off[2] = {(double)at, (double)(at + 4 * numel)};
        at += 4 * numel;
        cJSON *o = cJSON_AddObjectToObject(root, t[i].name);
        ok = o && cJSON_AddStringToObject(o, "dtype", "F32") &&
             cJSON_AddItemToObject(o, "shape", cJSON_CreateDoubleArray(sh, t[i].ndim)) &&
             cJSON_AddItemToObject(o, "data_offsets", cJSON_CreateDoubleArray(off, 2));
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

int st_write(const char *path, const struct st_entry *t, int n, const char *const *meta_key,
             const char *const *meta_val, int n_meta, struct kd_err *e)
{
    for (int i = 0; i < n; i++) {
        if (!t[i].name[0] || strlen(t[i].name) >= ST_NAME_MAX || t[i].ndim < 0 ||
            t[i].ndim > ST_MAX_DIMS || strcmp(t[i].name, "__metadata__") == 0)
            return kd_err_set(e, KD_ERR_USAGE, path, 0,
                              "cannot write tensor '%s': bad name "
                              "or rank",
                              t[i].name);
        for (int j = 0; j < i; j++)
            if (strcmp(t[i].name, t[j].name) == 0)
                return kd_err_set(e, KD_ERR_USAGE, path, 0, "tensor '%s' given twice", t[i].name);
    }
    char *json = header_json(t, n, meta_key, meta_val, n_meta);
    if (!json)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory building the header");
    size_t jl = strlen(json);
    uint64_t hlen = (jl + 7) & ~(uint64_t)7;
    struct atomic_file af;
    if (atomic_open(&af, path, e)) {
        free(json);
        return e->code;
    }
    fwrite(&hlen, 8, 1, af.f);
    fwrite(json, 1, jl, af.f);
    for (size_t i = jl; i < hlen; i++)
        fputc(' ', af.f);
    free(json);
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++)
            numel *= (size_t)t[i].shape[d];
        if (numel) /* an empty tensor may have data NULL, which fwrite must not see */
            fwrite(t[i].data, 4, numel, af.f);
    }
    return atomic_commit(&af, e);
}
