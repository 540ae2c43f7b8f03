/* Weights files: kdlab's parameter registry <-> safetensors in torch layout, and checkpoints.
 * Where kdlab's layout is not torch's, a tensor is permuted on the way: the ViT patch embedding
 * (a (C, P*P*in_ch) matrix over patch pixels in (py, px, ch) order; torch's Conv2d weight is
 * (C, in_ch, P, P)), a TinyViT dense KxK convolution (NHWC (OC, K, K, IC); torch's (OC, IC, K,
 * K)) and a TinyViT qkv (rows [Q | K | V] as timm's ViT; TinyViT's Attention splits each head's
 * [q_h k_h v_h] out of view(B, N, heads, -1)); BatchNorm's num_batches_tracked is a scalar. */
#include "train/weights.h"
#include "io/safetensors.h"
#include "train/ckpt_params.h"
#include "io/config.h"
#include "io/config_schema.h"
#include "models/vit.h"
#include "models/tinyvit.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum torch_perm { PERM_NONE, PERM_NHWC, PERM_QKV };

/* How one parameter looks in torch: its shape, and the permutation from kdlab's layout. */
struct torch_view {
    int ndim;
    int64_t shape[4];
    enum torch_perm perm;
    int a, b, c; /* NHWC: out channels, in channels, side; QKV: width, heads, floats a row */
};

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static void view_nhwc(struct torch_view *v, int OC, int IC, int K)
{
    *v = (struct torch_view){4, {OC, IC, K, K}, PERM_NHWC, OC, IC, K};
}

/* A TinyViT tensor: dense KxK conv weights are (OC, K, K, IC) here (a depthwise one is already
 * torch's (C, 1, K, K), a 1x1 one (OC, IC, 1, 1)); qkv takes its stage's head count. */
static void tinyvit_view(struct torch_view *v, const struct tinyvit *m, const struct param *p)
{
    int stage = 0;
    if (ends_with(p->name, ".c.weight") && p->shape[1] == p->shape[2] && p->shape[1] > 1)
        view_nhwc(v, p->shape[0], p->shape[3], p->shape[1]);
    else if (ends_with(p->name, ".bn.num_batches_tracked"))
        v->ndim = 0;
    else if ((ends_with(p->name, ".attn.qkv.weight") || ends_with(p->name, ".attn.qkv.bias")) &&
             sscanf(p->name, "layers.%d.", &stage) == 1 && stage > 0 && stage < m->stages) {
        v->perm = PERM_QKV;
        v->a = p->shape[0] / 3;
        v->b = m->heads[stage];
        v->c = p->ndim > 1 ? p->shape[1] : 1;
    }
}

static void torch_view_of(struct torch_view *v, const struct net *n, const struct param *p)
{
    memset(v, 0, sizeof *v);
    v->ndim = p->ndim;
    for (int d = 0; d < p->ndim; d++)
        v->shape[d] = p->shape[d];
    if (n->arch == ARCH_VIT && strcmp(p->name, "patch_embed.proj.weight") == 0) {
        const struct vit *m = n->impl;
        view_nhwc(v, p->shape[0], m->in_ch, m->patch);
    } else if (n->arch == ARCH_TINYVIT) {
        tinyvit_view(v, n->impl, p);
    }
}

void weights_patch_permute(float *dst, const float *src, int C, int ch, int P, int to_torch)
{
    size_t K = (size_t)P * P * ch;
    for (int c = 0; c < C; c++)
        for (int k = 0; k < ch; k++)
            for (int y = 0; y < P; y++)
                for (int x = 0; x < P; x++) {
                    size_t ours = c * K + ((size_t)y * P + x) * ch + k;
                    size_t theirs = c * K + ((size_t)k * P + y) * P + x;
                    if (to_torch)
                        dst[theirs] = src[ours];
                    else
                        dst[ours] = src[theirs];
                }
}

/* qkv rows: kdlab's s * C + h * hd + i (s = q, k, v) is TinyViT's h * 3 hd + s * hd + i. */
static void qkv_permute(float *dst, const float *src, int C, int heads, int row, int to_torch)
{
    int hd = C / heads;
    for (int s = 0; s < 3; s++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd; i++) {
                size_t ours = (size_t)s * C + h * hd + i, theirs = (size_t)h * 3 * hd + s * hd + i;
                const float *from = src + row * (to_torch ? ours : theirs);
                memcpy(dst + row * (to_torch ? theirs : ours), from, sizeof(float) * row);
            }
}

/* dst = src (n floats) in torch's layout (to_torch) or back in kdlab's. */
static void view_permute(const struct torch_view *v, float *dst, const float *src, size_t n,
                         int to_torch)
{
    if (v->perm == PERM_NHWC)
        weights_patch_permute(dst, src, v->a, v->b, v->c, to_torch);
    else if (v->perm == PERM_QKV)
        qkv_permute(dst, src, v->a, v->b, v->c, to_torch);
    else
        memcpy(dst, src, sizeof(float) * n);
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < ndim && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < cap)
        snprintf(buf + at, cap - at, ")");
}

/* Strict name and shape agreement between st and n, before any value is written. */
static int check_match(struct net *n, const struct safetensors *st, struct kd_err *e)
{
    const struct params *ps = n->params;
    for (int i = 0; i < st->n; i++)
        if (!params_find((struct params *)ps, st->t[i].name))
            return kd_err_setfix(e, KD_ERR_MISMATCH, st->path, 0,
                                 "the file holds another architecture: check model.* (strict "
                                 "loading, as load_state_dict(strict=True))",
                                 "tensor '%s' is not a parameter of the %s model", st->t[i].name,
                                 config_choice_name("model.arch", n->arch));
    for (int i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        const struct st_tensor *t = st_find(st, p->name);
        struct torch_view v;
        char want[96], got[96];
        if (!t)
            return kd_err_setfix(e, KD_ERR_MISMATCH, st->path, 0,
                                 "export every parameter (model.state_dict()) of a model with "
                                 "timm ViT names",
                                 "tensor '%s' of the model is missing", p->name);
        torch_view_of(&v, n, p);
        int same = t->ndim == v.ndim;
        for (int d = 0; same && d < v.ndim; d++)
            same = t->shape[d] == v.shape[d];
        if (!same) {
            shape_text(want, sizeof want, v.ndim, v.shape);
            shape_text(got, sizeof got, t->ndim, t->shape);
            return kd_err_setfix(e, KD_ERR_MISMATCH, st->path, 0,
                                 "make model.img/in_ch/patch/dim/depth/mlp_ratio/classes match "
                                 "the network that wrote it",
                                 "tensor '%s' has shape %s, the model needs %s", p->name, got,
                                 want);
        }
    }
    return 0;
}

int net_weights_from_st(struct net *n, const struct safetensors *st, struct kd_err *e)
{
    int rc = check_match(n, st, e);
    struct params *ps = n->params;
    for (int i = 0; i < ps->n && !rc; i++) {
        const struct param *p = &ps->p[i];
        struct torch_view v;
        torch_view_of(&v, n, p);
        if (v.perm == PERM_NONE) {
            rc = st_read_f32(st, st_find(st, p->name), *p->w, e);
            continue;
        }
        float *tmp = malloc(sizeof(float) * p->n);
        if (!tmp)
            return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
        rc = st_read_f32(st, st_find(st, p->name), tmp, e);
        if (!rc)
            view_permute(&v, *p->w, tmp, p->n, 0);
        free(tmp);
    }
    return rc;
}

/* "KDLABCKP" first: a checkpoint; anything else goes to the safetensors reader. */
static int is_ckpt(const char *path)
{
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t got = fread(magic, 1, 8, f);
    fclose(f);
    return got == 8 && memcmp(magic, "KDLABCKP", 8) == 0;
}

int net_weights_load(struct net *n, const char *path, struct kd_err *e)
{
    size_t len = strlen(path);
    /* a missing .ckpt is a run's result: the checkpoint reader says how to make it */
    int missing_ckpt = access(path, F_OK) != 0 && len > 5 && !strcmp(path + len - 5, ".ckpt");
    if (is_ckpt(path) || missing_ckpt)
        return ckpt_load(path, n->params, NULL, NULL, "", NULL, e);
    struct safetensors st;
    int rc = st_open(&st, path, e);
    if (rc)
        return rc;
    rc = net_weights_from_st(n, &st, e);
    st_close(&st);
    return rc;
}

/* The "model." lines of a resolved config, malloc'd. */
static char *model_lines(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *s = text; *s;) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s + 1) : strlen(s);
        if (strncmp(s, "model.", 6) == 0) {
            memcpy(o, s, len);
            o += len;
        }
        s += len;
    }
    *o = '\0';
    return out;
}

/* Entries t (ps->n) over vals (ps->total floats): each parameter in torch's layout, from its
 * values, or from its gradients (grads: the frozen ones' values, e.g. BatchNorm's running
 * statistics, instead). */
static void torch_entries(struct net *n, struct st_entry *t, float *vals, int grads)
{
    struct params *ps = n->params;
    size_t at = 0;
    for (int i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        struct torch_view v;
        torch_view_of(&v, n, p);
        view_permute(&v, vals + at, grads && !p->frozen ? *p->g : *p->w, p->n, 1);
        t[i].name = p->name;
        t[i].data = vals + at;
        t[i].ndim = v.ndim;
        for (int d = 0; d < v.ndim; d++)
            t[i].shape[d] = v.shape[d];
        at += p->n;
    }
}

/* n's tensors (torch_entries) at path, with metadata format: pt, the model lines of
 * config_text and, when given, one more pair. */
static int torch_write(struct net *n, const char *path, const char *config_text, int grads,
                       const char *key, const char *val, struct kd_err *e)
{
    struct params *ps = n->params;
    struct st_entry *t = calloc((size_t)ps->n + 1, sizeof *t);
    float *vals = malloc(sizeof(float) * (ps->total + 1));
    char *model = config_text ? model_lines(config_text) : NULL;
    int rc = KD_ERR_NOMEM;
    if (t && vals && (!config_text || model)) {
        const char *mk[3] = {"format", WEIGHTS_META_CONFIG}, *mv[3] = {"pt", model};
        int n_meta = model ? 2 : 1;
        if (key) {
            mk[n_meta] = key;
            mv[n_meta++] = val;
        }
        torch_entries(n, t, vals, grads);
        rc = st_write(path, t, ps->n, mk, mv, n_meta, e);
    } else {
        kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    }
    free(vals);
    free(t);
    free(model);
    return rc;
}

int net_weights_save(struct net *n, const char *path, const char *config_text, struct kd_err *e)
{
    return torch_write(n, path, config_text, 0, NULL, NULL, e);
}

int net_grads_save(struct net *n, const char *path, const char *key, const char *val,
                   struct kd_err *e)
{
    return torch_write(n, path, NULL, 1, key, val, e);
}

/* Schema defaults, then each "model.key: value" line of text through config_set. */
static int model_cfg_from_text(struct experiment *x, const char *text, const char *path,
                               struct kd_err *e)
{
    int rc = cfg_defaults(x, e);
    for (const char *s = text; *s && !rc;) {
        const char *eol = strchr(s, '\n'), *colon;
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        char line[CFG_STR * 2];
        snprintf(line, sizeof line, "%.*s", (int)len, s);
        s += len + (eol != NULL);
        if (strncmp(line, "model.", 6) != 0 || !(colon = strchr(line, ':')))
            continue;
        char *key = line, *val = line + (colon - line) + 1;
        line[colon - line] = '\0';
        while (*val == ' ')
            val++;
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        rc = config_set(x, key, val, e);
    }
    if (rc) {
        snprintf(e->file, sizeof e->file, "%s", path);
        e->line = 0;
        kd_err_fix(e, "the model config stored in the file does not fit this build; name the "
                      "architecture with a config");
    }
    return rc;
}

int weights_model_cfg(struct experiment *x, const char *path, struct kd_err *e)
{
    char *text = NULL;
    int rc;
    if (is_ckpt(path)) {
        if ((rc = ckpt_read_config(path, &text, e)))
            return rc;
    } else {
        struct safetensors st;
        if ((rc = st_open(&st, path, e)))
            return rc;
        const char *meta = st_meta(&st, WEIGHTS_META_CONFIG);
        text = meta ? strdup(meta) : NULL;
        st_close(&st);
        if (!text)
            return kd_err_setfix(e, KD_ERR_FORMAT, path, 0,
                                 "give the config of its architecture (teacher: or --config)",
                                 "no '%s' in __metadata__: the file does not say which model "
                                 "it holds",
                                 WEIGHTS_META_CONFIG);
    }
    rc = model_cfg_from_text(x, text, path, e);
    free(text);
    return rc;
}

int net_create_from_weights(struct net *n, const char *path, const struct model_cfg *cfg, int Bmax,
                            struct kd_err *e)
{
    struct experiment *x = NULL;
    if (!cfg) {
        if (!(x = malloc(sizeof *x)))
            return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
        int rc = weights_model_cfg(x, path, e);
        if (rc) {
            free(x);
            return rc;
        }
        cfg = &x->model;
    }
    int rc = net_create(n, cfg, Bmax, 0, e);
    free(x);
    if (rc)
        return rc;
    if ((rc = net_weights_load(n, path, e)))
        net_destroy(n);
    return rc;
}
