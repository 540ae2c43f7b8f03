/* The schema of struct experiment: one row per key (type, field, range, default, doc). Parsing,
 * defaults, range checks, the resolved YAML and --help-config are all driven by this table, so
 * adding a key is one row here plus one field in config.h. */
#include "io/config_schema.h"
#include "io/config.h"
#include "loss/loss_table.h"
#include "base/err.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct cfg_key core_keys[] = {
    STR("kind", kind, "", "experiment binary that runs this config (required)"),
    STR("title", title, "", "one line for tables and legends"),
    STR("teacher", teacher, "", "config of the teacher whose checkpoint is read (\"\": none)"),
    STR("init", init, "", "config whose checkpoint initializes matching tensors (\"\": none)"),
    INT("run.seed", run.seed, 0, INT_MAX, "0", "base seed of every random stream"),
    INTS("run.seeds", run.seeds, run.n_seeds, 0, INT_MAX, "[0]", "seeds to repeat the run over"),
    INT("run.log_every", run.log_every, 0, INT_MAX, "50",
        "steps between progress lines when stderr is no terminal (0: epoch lines only)"),
    INT("run.ckpt_every", run.ckpt_every, 0, INT_MAX, "1", "epochs between checkpoints (0: end)"),
    ENUM("data.set", data.set, CHOICES("fashion-mnist", "folder"), "fashion-mnist",
         "data set reader"),
    STR("data.dir", data.dir, "/usr/share/datasets/fashion-mnist", "folder of the data files"),
    INT("data.train_n", data.train_n, 0, INT_MAX, "0", "first N of a seeded shuffle (0: all)"),
    INT("data.per_class", data.per_class, 0, INT_MAX, "0", "N train images per class (0: off)"),
    INT("data.test_n", data.test_n, 0, INT_MAX, "0", "first N of the test set (0: all)"),
    INT("data.crop_pad", data.crop_pad, 0, 64, "2", "random crop after zero padding, pixels"),
    BOOL("data.flip", data.flip, "true", "random horizontal flip"),
    FLT("data.rrc_scale_min", data.rrc_scale_min, 0, 1, "0",
        "random resized crop, area fraction in [this, 1] (0: off; MAE: 0.2)"),
    INT("data.randaug_n", data.randaug_n, 0, 8, "0", "RandAugment ops per image (0: off)"),
    FLT("data.randaug_m", data.randaug_m, 0, 10, "9", "RandAugment magnitude (timm's 0..10)"),
    FLT("data.randaug_mstd", data.randaug_mstd, 0, 10, "0",
        "std of RandAugment's magnitude noise (0: fixed)"),
    FLT("data.erase_prob", data.erase_prob, 0, 1, "0",
        "random erasing probability (timm's, per-pixel noise; 0: off)"),
    ENUM("model.arch", model.arch, CHOICES("vit", "tinyvit"), "vit", "network family"),
    INT("model.img", model.img, 1, 4096, "28", "input side, pixels"),
    INT("model.in_ch", model.in_ch, 1, 64, "1", "input channels"),
    INT("model.classes", model.classes, 2, 65535, "10", "output classes"),
    INT("model.patch", model.patch, 1, 1024, "4", "ViT patch side, pixels"),
    INT("model.dim", model.dim, 1, 65536, "192", "ViT width"),
    INT("model.depth", model.depth, 1, 1024, "6", "ViT blocks"),
    INT("model.heads", model.heads, 1, 1024, "3", "attention heads (divides model.dim)"),
    FLT("model.mlp_ratio", model.mlp_ratio, 0.25, 64, "4", "MLP hidden width / model.dim"),
    FLT("model.drop_path", model.drop_path, 0, 1, "0.1", "stochastic depth rate of the last block"),
    ENUM("model.weight_init", model.weight_init, CHOICES("torch", "timm"), "torch",
         "initial weights: PyTorch's layer defaults, or timm's trunc normal 0.02 Linear"),
    /* TinyViT defaults: TinyViT-5M halved for 28x28 (configs/base/tinyvit.yaml). */
    INTS("model.stage_dims", model.stage_dims, model.n_stage_dims, 1, 65536, "[32, 64, 80, 160]",
         "TinyViT widths per stage"),
    INTS("model.stage_depths", model.stage_depths, model.n_stage_depths, 1, 64, "[1, 1, 3, 1]",
         "TinyViT blocks per stage (stage 1: MBConv)"),
    INTS("model.stage_heads", model.stage_heads, model.n_stage_heads, 1, 1024, "[2, 4, 5, 10]",
         "TinyViT heads per stage (stage 1 unused)"),
    INTS("model.windows", model.windows, model.n_windows, 1, 64, "[7, 4, 4, 2]",
         "TinyViT window side per stage, tokens (stage 1 unused; padded if larger)"),
    ENUM("optim.name", optim.name, CHOICES("adamw", "sgd"), "adamw", "optimizer"),
    FLT("optim.lr", optim.lr, 0, 10, "0.001", "peak learning rate for optim.batch"),
    FLT("optim.min_lr", optim.min_lr, 0, 10, "1e-05", "cosine floor (<= optim.lr)"),
    FLT("optim.weight_decay", optim.weight_decay, 0, 10, "0.05", "decoupled weight decay"),
    FLT("optim.beta1", optim.beta1, 0, 0.999999, "0.9", "AdamW first-moment decay"),
    FLT("optim.beta2", optim.beta2, 0, 0.999999, "0.999", "AdamW second-moment decay"),
    FLT("optim.momentum", optim.momentum, 0, 1, "0.9", "SGD momentum"),
    FLT("optim.clip_grad", optim.clip_grad, 0, 1e6, "5", "global grad-norm clip (0: off)"),
    FLT("optim.label_smoothing", optim.label_smoothing, 0, 1, "0.1", "label smoothing of CE"),
    FLT("optim.layer_decay", optim.layer_decay, 0, 1, "1",
        "ViT layer-wise lr decay: x decay^(depth + 1 - layer) (1: off)"),
    INT("optim.epochs", optim.epochs, 1, 1000000, "10", "training epochs"),
    INT("optim.warmup_epochs", optim.warmup_epochs, 0, 1000000, "1", "linear warmup epochs"),
    INT("optim.batch", optim.batch, 1, 1 << 20, "128", "effective batch size, images"),
    ENUM("optim.schedule", optim.schedule, CHOICES("cosine", "step"), "cosine",
         "lr after warmup: cosine down to min_lr, or step (lr, then lr * step_gamma)"),
    FLT("optim.step_at", optim.step_at, 0, 1, "0.4",
        "step schedule: fraction of all steps after which the lr drops"),
    FLT("optim.step_gamma", optim.step_gamma, 0, 1, "0.1", "step schedule: factor of the drop"),
};

#define MAX_SCHEMA 512
static struct cfg_key all_keys[MAX_SCHEMA];
static int n_all;

static void schema_append(const struct cfg_key *part, int n)
{
    for (int i = 0; (n < 0 ? part[i].key != NULL : i < n); i++) {
        KD_ASSERT(n_all < MAX_SCHEMA);
        all_keys[n_all++] = part[i];
    }
}

/* Concatenated once, on first use; single-threaded setup, before any worker thread. */
const struct cfg_key *cfg_schema_table(void)
{
    if (n_all == 0) {
        schema_append(core_keys, (int)(sizeof core_keys / sizeof core_keys[0]));
#define APPEND(m) schema_append(schema_##m, -1);
        CONFIG_METHODS(APPEND)
#undef APPEND
    }
    return all_keys;
}

int cfg_schema_count(void)
{
    cfg_schema_table();
    return n_all;
}

int cfg_find(const char *key)
{
    for (int i = 0; i < cfg_schema_n; i++)
        if (strcmp(cfg_schema[i].key, key) == 0)
            return i;
    return -1;
}

int config_key_count(void)
{
    return cfg_schema_n;
}

const char *config_key_name(int i)
{
    return i >= 0 && i < cfg_schema_n ? cfg_schema[i].key : NULL;
}

static const char *type_name(const struct cfg_key *s)
{
    static const char *names[] = {"an integer",       "a number", "true or false",
                                  "a string",         "",         "a list of integers",
                                  "a list of numbers"};
    return names[s->type];
}

static const char *type_short(const struct cfg_key *s)
{
    static const char *names[] = {"int", "float", "bool", "string", "enum", "int[]", "float[]"};
    return names[s->type];
}

/* A number as short as it reads back: integral values without exponent, others %g. */
static void num_text(char *buf, size_t cap, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%g", v);
}

/* text as it may appear inside a one-line message: control bytes as '?', at most 60 bytes. */
static const char *shown(const char *t, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *t && n + 4 < cap && n < 60; t++)
        buf[n++] = (unsigned char)*t < 0x20 ? '?' : *t;
    snprintf(buf + n, cap - n, "%s", *t ? "..." : "");
    return buf;
}

/* The name of value v of enum row s: NULL past the last value, "" for a value the key does not
 * take (a loss its method cannot feed). */
static const char *choice_name(const struct cfg_key *s, int v)
{
    if (s->losses)
        return v >= loss_count() ? NULL : loss_fits(v, s->losses) ? loss_at(v)->name : "";
    return s->names[v];
}

/* The choices of enum row s as "a|b|c", in buf. */
static const char *choices_text(const struct cfg_key *s, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int v = 0; choice_name(s, v) && n < cap; v++)
        if (*choice_name(s, v))
            n += snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", choice_name(s, v));
    return buf;
}

/* The value of enum row s named t, or -1. */
static int choice_value(const struct cfg_key *s, const char *t)
{
    for (int v = 0; choice_name(s, v); v++)
        if (*choice_name(s, v) && strcmp(choice_name(s, v), t) == 0)
            return v;
    return -1;
}

/* The choice of an enum within edit distance 2 of got (the closest), or NULL. */
static const char *closest_choice(const struct cfg_key *s, const char *got)
{
    int best = 3;
    const char *found = NULL;
    for (int v = 0; choice_name(s, v); v++) {
        int d = *choice_name(s, v) ? cfg_levenshtein(got, choice_name(s, v)) : best;
        if (d < best) {
            best = d;
            found = choice_name(s, v);
        }
    }
    return found;
}

/* The name of value v of enum row s, "?" when it takes no such value. */
static const char *enum_name(const struct cfg_key *s, int v)
{
    for (int i = 0; i <= v; i++)
        if (!choice_name(s, i))
            return "?";
    return v >= 0 && *choice_name(s, v) ? choice_name(s, v) : "?";
}

const char *config_choice_name(const char *key, int v)
{
    int k = cfg_find(key);
    return k >= 0 && cfg_schema[k].type == CFG_ENUM ? enum_name(&cfg_schema[k], v) : "?";
}

static int err_type(const struct cfg_key *s, const char *got, struct cfg_origin o, struct kd_err *e)
{
    char g[80], ch[512], lo[32], hi[32];
    const char *near;
    shown(got, g, sizeof g);
    if (s->type == CFG_ENUM)
        kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "expected one of %s for '%s', got '%s'",
                   choices_text(s, ch, sizeof ch), s->key, g);
    else
        kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "expected %s for '%s', got '%s'", type_name(s),
                   s->key, g);
    num_text(lo, sizeof lo, s->min);
    num_text(hi, sizeof hi, s->max);
    switch (s->type) {
    case CFG_INTS:
    case CFG_FLOATS: return kd_err_fix(e, "write a list: %s: [%s]", s->key, g);
    case CFG_BOOL: return kd_err_fix(e, "write true or false");
    case CFG_ENUM:
        if ((near = closest_choice(s, got)))
            return kd_err_fix(e, "did you mean '%s'?", near);
        return kd_err_fix(e, "use one of %s", ch);
    case CFG_INT: return kd_err_fix(e, "write a whole number from %s to %s", lo, hi);
    default: return kd_err_fix(e, "write a number from %s to %s, such as 0.001 or 1e-3", lo, hi);
    }
}

int cfg_err_shape(int k, const char *got, struct cfg_origin o, struct kd_err *e)
{
    const struct cfg_key *s = &cfg_schema[k];
    char ch[512];
    if (s->type == CFG_ENUM)
        kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "expected one of %s for '%s', got %s",
                   choices_text(s, ch, sizeof ch), s->key, got);
    else
        kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "expected %s for '%s', got %s", type_name(s),
                   s->key, got);
    if (s->type == CFG_INTS || s->type == CFG_FLOATS)
        return kd_err_fix(e, "write a flat list: %s: [1, 2, 3]", s->key);
    return kd_err_fix(e, "'%s' takes a single value", s->key);
}

static int err_range(const struct cfg_key *s, const char *got, struct cfg_origin o,
                     struct kd_err *e)
{
    char lo[32], hi[32];
    num_text(lo, sizeof lo, s->min);
    num_text(hi, sizeof hi, s->max);
    char g[80];
    kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "'%s' = %s is out of range [%s, %s]", s->key,
               shown(got, g, sizeof g), lo, hi);
    return kd_err_fix(e, "use a value from %s to %s", lo, hi);
}

static int is_null(const char *t, int quoted)
{
    return !quoted && (!*t || strcmp(t, "~") == 0 || strcasecmp(t, "null") == 0);
}

/* A number from t into *v: 0, or -1 when t is not one (integers only when is_int). */
static int parse_num(const char *t, int is_int, double *v)
{
    char *end;
    errno = 0;
    if (!*t || (t[0] == ' '))
        return -1;
    if (is_int) {
        long long n = strtoll(t, &end, 10);
        *v = (double)n;
    } else {
        *v = strtod(t, &end);
    }
    if (*end || errno == ERANGE || !isfinite(*v))
        return -1;
    return 0;
}

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80             ? 0
                : (*s & 0xe0) == 0xc0 ? 1
                : (*s & 0xf0) == 0xe0 ? 2
                : (*s & 0xf8) == 0xf0 ? 3
                                      : -1;
        if (n < 0)
            return 0;
        for (s++; n > 0; n--, s++)
            if ((*s & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

static int set_text(struct experiment *x, const struct cfg_key *s, const char *t, int quoted,
                    struct cfg_origin o, struct kd_err *e)
{
    char *dst = (char *)x + s->off;
    if (is_null(t, quoted))
        t = "";
    if (s->type == CFG_ENUM) {
        int v = choice_value(s, t);
        KD_ASSERT(s->size == sizeof(int)); /* an enum field: int-sized */
        if (v < 0)
            return err_type(s, t, o, e);
        *(int *)dst = v;
        return 0;
    }
    if (strlen(t) >= s->size)
        return kd_err_setfix(e, KD_ERR_CONFIG, o.file, o.line, "use a shorter value",
                             "'%s' is %zu bytes long, the limit is %zu", s->key, strlen(t),
                             s->size - 1);
    if (!valid_utf8((const unsigned char *)t))
        return kd_err_setfix(e, KD_ERR_CONFIG, o.file, o.line, "write the value in UTF-8",
                             "'%s' is not valid UTF-8", s->key);
    memset(dst, 0, s->size); /* no stale bytes: equal configs are equal structs */
    snprintf(dst, s->size, "%s", t);
    return 0;
}

static int set_bool(struct experiment *x, const struct cfg_key *s, const char *t,
                    struct cfg_origin o, struct kd_err *e)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0 || strcasecmp(t, no[i]) == 0) {
            *(int *)((char *)x + s->off) = strcasecmp(t, yes[i]) == 0;
            return 0;
        }
    }
    return err_type(s, t, o, e);
}

/* One number (a scalar key or a list element) into slot i of the int or float array dst. */
static int set_num(void *dst, const struct cfg_key *s, int i, const char *t, struct cfg_origin o,
                   struct kd_err *e)
{
    int is_int = s->type == CFG_INT || s->type == CFG_INTS;
    double v;
    char g[80];
    if (parse_num(t, is_int, &v) && s->type >= CFG_INTS)
        return kd_err_setfix(e, KD_ERR_CONFIG, o.file, o.line, "write [1, 2, 3]",
                             "expected %s in '%s', got '%s'", is_int ? "integers" : "numbers",
                             s->key, shown(t, g, sizeof g));
    if (parse_num(t, is_int, &v))
        return err_type(s, t, o, e);
    if (!(v >= s->min && v <= s->max))
        return err_range(s, t, o, e);
    if (is_int)
        ((int *)dst)[i] = (int)v;
    else
        ((float *)dst)[i] = (float)v;
    return 0;
}

int cfg_value_set(struct experiment *x, int k, const char *text, int quoted, const char **items,
                  int n_items, struct cfg_origin o, struct kd_err *e)
{
    const struct cfg_key *s = &cfg_schema[k];
    int is_list = s->type == CFG_INTS || s->type == CFG_FLOATS;
    if (is_list != (items != NULL || n_items >= 0))
        return is_list ? err_type(s, text, o, e) : cfg_err_shape(k, "a list", o, e);
    if (is_list) {
        if (n_items > CFG_LIST)
            return kd_err_setfix(e, KD_ERR_CONFIG, o.file, o.line, "use fewer values",
                                 "'%s' has %d values, the limit is %d", s->key, n_items, CFG_LIST);
        union {
            int i[CFG_LIST];
            float f[CFG_LIST];
        } vals = {{0}}; /* x changes on success */
        void *dst = s->type == CFG_INTS ? (void *)vals.i : (void *)vals.f;
        for (int i = 0; i < n_items; i++)
            if (set_num(dst, s, i, items[i], o, e))
                return e->code;
        memcpy((char *)x + s->off, &vals, sizeof vals); /* zeroes the unused tail too */
        *(int *)((char *)x + s->count_off) = n_items;
        return 0;
    }
    if (s->type == CFG_STRING || s->type == CFG_ENUM)
        return set_text(x, s, text, quoted, o, e);
    if (s->type == CFG_BOOL)
        return set_bool(x, s, text, o, e);
    return set_num((char *)x + s->off, s, 0, text, o, e);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int cfg_value_parse(struct experiment *x, int k, const char *text, struct cfg_origin o,
                    struct kd_err *e)
{
    const struct cfg_key *s = &cfg_schema[k];
    if (s->type == CFG_STRING)
        return cfg_value_set(x, k, text, 1, NULL, -1, o, e);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    if (s->type != CFG_INTS && s->type != CFG_FLOATS) /* " 0.1" from a shell is 0.1 */
        return cfg_value_set(x, k, trim(buf), 1, NULL, -1, o, e);
    const char *items[CFG_LIST + 1];
    int n = 0;
    char *p = trim(buf);
    size_t len = strlen(p);
    if (p[0] == '[' && len > 1 && p[len - 1] == ']') {
        p[len - 1] = '\0';
        p = trim(p + 1);
    }
    while (*p && n <= CFG_LIST) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        items[n++] = trim(p);
        if (!comma)
            break;
        p = comma + 1;
    }
    return cfg_value_set(x, k, text, 0, items, n, o, e);
}

int cfg_defaults(struct experiment *x, struct kd_err *e)
{
    memset(x, 0, sizeof *x);
    snprintf(x->scale, sizeof x->scale, "quick");
    struct cfg_origin o = {"<schema default>", 0};
    for (int k = 0; k < cfg_schema_n; k++)
        if (cfg_value_parse(x, k, cfg_schema[k].def, o, e))
            return e->code;
    return 0;
}

static int format_float(char *buf, size_t cap, float v)
{
    int n = 0;
    for (int prec = 1; prec <= 9; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, (double)v);
        if ((float)strtod(buf, NULL) == v)
            break;
    }
    return n;
}

/* A double-quoted YAML scalar: escapes for quote, backslash and control bytes. */
static int format_string(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    buf[n++] = '"';
    for (; *s && n + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += snprintf(buf + n, cap - n, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            n += snprintf(buf + n, cap - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return (int)n;
}

int cfg_value_format(const struct experiment *x, int k, char *buf, size_t cap)
{
    const struct cfg_key *s = &cfg_schema[k];
    const char *p = (const char *)x + s->off;
    switch (s->type) {
    case CFG_INT: return snprintf(buf, cap, "%d", *(const int *)p);
    case CFG_FLOAT: return format_float(buf, cap, *(const float *)p);
    case CFG_BOOL: return snprintf(buf, cap, "%s", *(const int *)p ? "true" : "false");
    case CFG_STRING: return format_string(buf, cap, p);
    case CFG_ENUM: return snprintf(buf, cap, "%s", enum_name(s, *(const int *)p));
    default: break;
    }
    int count = *(const int *)((const char *)x + s->count_off), n = 1;
    buf[0] = '[';
    for (int i = 0; i < count && n + 20 < (int)cap; i++) {
        if (i)
            n += snprintf(buf + n, cap - n, ", ");
        if (s->type == CFG_INTS)
            n += snprintf(buf + n, cap - n, "%d", ((const int *)p)[i]);
        else
            n += format_float(buf + n, cap - n, ((const float *)p)[i]);
    }
    return n + snprintf(buf + n, cap - n, "]");
}

int cfg_levenshtein(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), row[129];
    if (la > 128 || lb > 128)
        return 1 << 20;
    for (int j = 0; j <= lb; j++)
        row[j] = j;
    for (int i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static const char *last_part(const char *key)
{
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* The schema key closest to key: by whole key, or by last path component ("drop_pth" under
 * any group finds "model.drop_path"); NULL when nothing is close enough to be a typo. */
static const char *closest_key(const char *key)
{
    const char *best = NULL, *last = last_part(key);
    int best_d = 1 << 20;
    for (int i = 0; i < cfg_schema_n; i++) {
        int d = cfg_levenshtein(key, cfg_schema[i].key);
        int d2 = cfg_levenshtein(last, last_part(cfg_schema[i].key)) + 1;
        if (d2 < d)
            d = d2;
        if (d < best_d) {
            best_d = d;
            best = cfg_schema[i].key;
        }
    }
    int limit = (int)strlen(last) / 3 + 1;
    return best_d <= (limit < 3 ? limit : 3) ? best : NULL;
}

int cfg_unknown_key(const char *key, struct cfg_origin o, struct kd_err *e)
{
    const char *near = closest_key(key);
    char g[80];
    kd_err_set(e, KD_ERR_CONFIG, o.file, o.line, "unknown key '%s'", shown(key, g, sizeof g));
    if (near)
        return kd_err_fix(e, "did you mean '%s'?", near);
    return kd_err_fix(e, "run with --help-config to list the keys");
}

static void range_text(const struct cfg_key *s, char *buf, size_t cap)
{
    char lo[32], hi[32];
    num_text(lo, sizeof lo, s->min);
    num_text(hi, sizeof hi, s->max);
    if (s->type == CFG_ENUM)
        choices_text(s, buf, cap);
    else if (s->type == CFG_STRING)
        snprintf(buf, cap, "<= %zu bytes", s->size - 1);
    else if (s->type == CFG_BOOL)
        snprintf(buf, cap, "true|false");
    else
        snprintf(buf, cap, "[%s, %s]%s", lo, hi, s->type >= CFG_INTS ? " x32" : "");
}

void config_print_help(FILE *f)
{
    int wk = 3, wd = 7, wr = 5;
    char r[128];
    for (int i = 0; i < cfg_schema_n; i++) {
        const struct cfg_key *s = &cfg_schema[i];
        range_text(s, r, sizeof r);
        wk = (int)strlen(s->key) > wk ? (int)strlen(s->key) : wk;
        wd = (int)strlen(s->def) + 2 > wd ? (int)strlen(s->def) + 2 : wd;
        wr = (int)strlen(r) > wr ? (int)strlen(r) : wr;
    }
    fprintf(f, "%-*s  %-7s  %-*s  %-*s  %s\n", wk, "KEY", "TYPE", wd, "DEFAULT", wr, "RANGE",
            "DOC");
    for (int i = 0; i < cfg_schema_n; i++) {
        const struct cfg_key *s = &cfg_schema[i];
        char def[300];
        range_text(s, r, sizeof r);
        snprintf(def, sizeof def, s->type == CFG_STRING ? "\"%s\"" : "%s", s->def);
        fprintf(f, "%-*s  %-7s  %-*s  %-*s  %s\n", wk, s->key, type_short(s), wd, def, wr, r,
                s->doc);
    }
}
