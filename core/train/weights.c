/* Weights files: kdlab's parameter registry <-> safetensors in torch layout, and checkpoints.
 * Only the ViT patch embedding differs from torch: kdlab keeps it as a (C, P*P*in_ch) matrix
 * over patch pixels in (py, px, ch) order, torch's Conv2d weight is (C, in_ch, P, P). */
#include "train/weights.h"
#include "io/safetensors.h"
#include "train/ckpt_params.h"
#include "io/config.h"
#include "io/config_schema.h"
#include "models/vit.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How one parameter looks in torch: its shape, and the patch embedding's permutation. */
struct torch_view {
    int ndim;
    int64_t shape[4];
    int ch, P; /* > 0: a patch embedding of in_ch ch and side P */
};

static void torch_view_of(struct torch_view *v, const struct net *n, const struct param *p)
{
    memset(v, 0, sizeof *v);
    v->ndim = p->ndim;
    for (int d = 0; d < p->ndim; d++)
        v->shape[d] = p->shape[d];
    if (n->arch == ARCH_VIT && strcmp(p->name, "patch_embed.proj.weight") == 0) {
        const struct vit *m = n->impl;
        v->ch = m->in_ch;
        v->P = m->patch;
        v->ndim = 4;
        v->shape[1] = m->in_ch;
        v->shape[2] = v->shape[3] = m->patch;
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
        if (!v.P) {
            rc = st_read_f32(st, st_find(st, p->name), *p->w, e);
            continue;
        }
        float *tmp = malloc(sizeof(float) * p->n);
        if (!tmp)
            return kd_err_set(e, KD_ERR_NOMEM, st->path, 0, "out of memory");
        rc = st_read_f32(st, st_find(st, p->name), tmp, e);
        if (!rc)
            weights_patch_permute(*p->w, tmp, p->shape[0], v.ch, v.P, 0);
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

int net_weights_save(struct net *n, const char *path, const char *config_text, struct kd_err *e)
{
    struct params *ps = n->params;
    struct st_entry *t = calloc((size_t)ps->n, sizeof *t);
    float *tmp = NULL;
    char *model = config_text ? model_lines(config_text) : NULL;
    if (!t || (config_text && !model)) {
        free(t);
        free(model);
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    }
    for (int i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        struct torch_view v;
        torch_view_of(&v, n, p);
        t[i].name = p->name;
        t[i].data = *p->w;
        t[i].ndim = v.ndim;
        for (int d = 0; d < v.ndim; d++)
            t[i].shape[d] = v.shape[d];
        if (v.P && !tmp) {
            if (!(tmp = malloc(sizeof(float) * p->n)))
                break;
            weights_patch_permute(tmp, *p->w, p->shape[0], v.ch, v.P, 1);
            t[i].data = tmp;
        }
    }
    if (!tmp && n->arch == ARCH_VIT) {
        free(t);
        free(model);
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    }
    const char *mk[2] = {"format", WEIGHTS_META_CONFIG}, *mv[2] = {"pt", model};
    int rc = st_write(path, t, ps->n, mk, mv, model ? 2 : 1, e);
    free(tmp);
    free(t);
    free(model);
    return rc;
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
