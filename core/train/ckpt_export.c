/* Export of checkpoints of every ViT kind (see ckpt_export.h). The checkpoint's own tensors are
 * the truth: the block layout is read from them (which blocks have attn.*, each fc1's rows), so
 * a compressed model needs no STEM.layout beside it. */
#include "train/ckpt_export.h"
#include "train/weights.h"
#include "io/ckpt.h"
#include "io/config.h"
#include "io/safetensors.h"
#include "models/vit.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of a checkpoint other than the encoder: stored prefix, exported prefix, what. */
static const struct {
    const char *from, *to, *what;
} extra_parts[] = {
    {"decoder.", "decoder.", "the MAE decoder"},
    {"proj.", "head_proj.", "the MoCo/SEED projection head"},
    {"momentum_encoder.", "momentum_encoder.", "the key encoder"},
};
#define N_EXTRA (int)(sizeof extra_parts / sizeof extra_parts[0])

/* Which blocks the encoder has: depth, attention or not, MLP hidden units. */
struct layout {
    int depth;
    int attn[VIT_MAX_DEPTH], hidden[VIT_MAX_DEPTH];
};

static int extra_of(const char *name)
{
    for (int k = 0; k < N_EXTRA; k++)
        if (strncmp(name, extra_parts[k].from, strlen(extra_parts[k].from)) == 0)
            return k;
    return -1;
}

static void layout_scan(struct layout *lay, const struct ckpt_tensors *c)
{
    memset(lay, 0, sizeof *lay);
    for (int i = 0; i < c->n; i++) {
        int l, at = 0;
        const char *nm = c->t[i].name;
        if (sscanf(nm, "blocks.%d.%n", &l, &at) != 1 || at == 0 || l < 0 || l >= VIT_MAX_DEPTH)
            continue;
        lay->depth = l + 1 > lay->depth ? l + 1 : lay->depth;
        if (strncmp(nm + at, "attn.", 5) == 0)
            lay->attn[l] = 1;
        if (strcmp(nm + at, "mlp.fc1.weight") == 0)
            lay->hidden[l] = c->t[i].shape[0];
    }
}

/* "blocks 1, 2, 3 have no attention; MLP hidden 49 in blocks 1, 2, 3 (of 64)", the parts that
 * apply, or "" when every block is whole (fewer blocks than cfg's depth still make a timm ViT). */
static void layout_text(char *out, size_t cap, const struct layout *lay,
                        const struct model_cfg *cfg)
{
    int full = (int)(cfg->dim * cfg->mlp_ratio + 0.5f), n = 0;
    char na[128] = "", nh[128] = "";
    int hid = 0;
    for (int l = 0; l < lay->depth; l++) {
        if (!lay->attn[l])
            snprintf(na + strlen(na), sizeof na - strlen(na), "%s%d", *na ? ", " : "", l);
        if (lay->hidden[l] != full) {
            snprintf(nh + strlen(nh), sizeof nh - strlen(nh), "%s%d", *nh ? ", " : "", l);
            hid = lay->hidden[l];
        }
    }
    out[0] = '\0';
    if (*na)
        n += snprintf(out + n, cap - n, "blocks %s have no attention", na);
    if (*nh && n < (int)cap)
        n += snprintf(out + n, cap - n, "%sMLP hidden %d in blocks %s (of %d)", n ? "; " : "", hid,
                      nh, full);
}

/* The model.* lines of x's resolved config with model.depth the blocks there are; malloc'd. */
static char *meta_config(struct experiment *x, int depth)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    x->model.depth = depth;
    config_write_resolved(x, f);
    fclose(f);
    char *o = buf;
    for (const char *s = buf; *s;) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s + 1) : strlen(s);
        if (strncmp(s, "model.", 6) == 0) {
            memmove(o, s, n);
            o += n;
        }
        s += n;
    }
    *o = '\0';
    return buf;
}

/* "timm's per-block layout": one "l:attn,hidden" per block, e.g. "0:1,64 1:0,49". */
static void layout_meta(char *out, size_t cap, const struct layout *lay)
{
    size_t n = 0;
    out[0] = '\0';
    for (int l = 0; l < lay->depth && n < cap; l++)
        n += (size_t)snprintf(out + n, cap - n, "%s%d:%d,%d", l ? " " : "", l, lay->attn[l],
                              lay->hidden[l]);
}

/* The value of top-level `key` in a resolved config text, unquoted, or "" when absent. */
static void stored_value(char *out, size_t cap, const char *text, const char *key)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *s = text; *s;) {
        const char *eol = strchr(s, '\n');
        if (strncmp(s, key, kl) == 0 && strncmp(s + kl, ": ", 2) == 0) {
            const char *v = s + kl + 2;
            v += *v == '"';
            snprintf(out, cap, "%.*s", (int)strcspn(v, "\"\n"), v);
            return;
        }
        s = eol ? eol + 1 : s + strlen(s);
    }
}

/* The checkpoint's width, classes and patch-embedding size (-1 where a tensor is missing). */
static void ckpt_widths(const struct ckpt_tensors *c, int *dim, int *classes, int *patch_in)
{
    *dim = *classes = *patch_in = -1;
    for (int i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = &c->t[i];
        if (strcmp(t->name, "head.weight") == 0 && t->ndim == 2)
            *classes = t->shape[0], *dim = t->shape[1];
        if (strcmp(t->name, "patch_embed.proj.weight") == 0 && t->ndim == 2)
            *patch_in = t->shape[1];
    }
}

/* DC-ViT and PRACTISE compress their teacher: the model is the teacher config's (the run's own
 * model.* lines are the defaults), at the scale whose shape is the checkpoint's (a config's shape
 * may differ by scale: the ViTs' patch at quick, the MoCo teachers' width at smoke). */
static int teacher_model(struct model_cfg *m, const struct ckpt_tensors *c, const char *ckpt,
                         struct kd_err *e)
{
    static const char *const scales[] = {"full", "quick", "smoke"};
    char teacher[512];
    struct experiment *tx = malloc(sizeof *tx);
    stored_value(teacher, sizeof teacher, c->config, "teacher");
    if (!tx)
        return kd_err_set(e, KD_ERR_NOMEM, ckpt, 0, "out of memory");
    int dim, classes, patch_in, rc = 0;
    ckpt_widths(c, &dim, &classes, &patch_in);
    for (int s = 0; s < 3; s++) {
        if ((rc = config_load(tx, teacher, scales[s], 0, NULL, e)))
            break;
        const struct model_cfg *t = &tx->model;
        if (t->dim == dim && t->classes == classes &&
            (patch_in < 0 || t->patch * t->patch * t->in_ch == patch_in)) {
            *m = tx->model;
            free(tx);
            return 0;
        }
    }
    if (!rc)
        rc = kd_err_set(e, KD_ERR_MISMATCH, ckpt, 0,
                        "its teacher %s has at no scale the checkpoint's dim %d, %d classes "
                        "and patch of %d values",
                        teacher, dim, classes, patch_in);
    kd_err_fix(e, "a compressed model's shape is its teacher's: export from the kdlab folder "
                  "that made it, with its teacher config as it was");
    free(tx);
    return rc;
}

/* Entry i of t for tensor i of c: exported name, torch shape, values (the patch embedding
 * permuted into *perm). used[k] is set for each extra part found. */
static int entry_of(struct st_entry *t, char *name, const struct ckpt_tensor *ct,
                    const struct model_cfg *cfg, float **perm, int *used, const char *path,
                    struct kd_err *e)
{
    int k = extra_of(ct->name);
    if (k >= 0)
        used[k] = 1;
    snprintf(name, ST_NAME_MAX, "%s%s", k >= 0 ? extra_parts[k].to : "",
             ct->name + (k >= 0 ? strlen(extra_parts[k].from) : 0));
    t->name = name;
    t->data = ct->w;
    t->ndim = ct->ndim;
    for (int d = 0; d < ct->ndim; d++)
        t->shape[d] = ct->shape[d];
    if (strcmp(ct->name, "patch_embed.proj.weight") != 0)
        return 0;
    int C = ct->shape[0], P = cfg->patch, ch = cfg->in_ch;
    if (ct->ndim != 2 || ct->shape[1] != P * P * ch)
        return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, "re-run the experiment that made it",
                             "patch_embed.proj.weight is not (dim, %d) for patch %d and in_ch %d",
                             P * P * ch, P, ch);
    if (!(*perm = malloc(sizeof(float) * ct->n)))
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    weights_patch_permute(*perm, ct->w, C, ch, P, 1);
    t->data = *perm;
    t->ndim = 4;
    t->shape[1] = ch;
    t->shape[2] = t->shape[3] = P;
    return 0;
}

/* info->extras and the kdlab.contents / kdlab.strict metadata from the parts found. */
static void describe(struct ckpt_export_info *info, char *contents, char *strict, size_t cap,
                     const int *used)
{
    char drop[128] = "";
    snprintf(contents, cap, "encoder (timm VisionTransformer names)");
    for (int k = 0; k < N_EXTRA; k++) {
        if (!used[k])
            continue;
        size_t n = strlen(info->extras);
        snprintf(info->extras + n, sizeof info->extras - n, "%s%s* (%s)", n ? ", " : "",
                 extra_parts[k].to, extra_parts[k].what);
        snprintf(drop + strlen(drop), sizeof drop - strlen(drop), "%s%s*", *drop ? ", " : "",
                 extra_parts[k].to);
    }
    if (*info->extras)
        snprintf(contents + strlen(contents), cap - strlen(contents), "; %s", info->extras);
    if (*info->compressed)
        snprintf(strict, cap, "no: %s; timm's VisionTransformer cannot load it strictly",
                 info->compressed);
    else if (*drop)
        snprintf(strict, cap, "encoder only: drop %s, then load_state_dict(strict=True)", drop);
    else
        snprintf(strict, cap, "yes");
}

static int write_export(const struct ckpt_tensors *c, struct experiment *x, const char *ckpt,
                        const char *out, struct ckpt_export_info *info, struct kd_err *e)
{
    const struct model_cfg *cfg = &x->model;
    struct st_entry *t = calloc((size_t)c->n + 1, sizeof *t);
    char(*names)[ST_NAME_MAX] = calloc((size_t)c->n + 1, ST_NAME_MAX);
    char contents[512], strict[512], layout_s[1024];
    float *perm = NULL;
    int used[N_EXTRA] = {0}, rc = 0;
    struct layout lay;
    char *model = NULL;
    if (!t || !names)
        rc = kd_err_set(e, KD_ERR_NOMEM, ckpt, 0, "out of memory");
    for (int i = 0; !rc && i < c->n; i++) {
        rc = entry_of(&t[i], names[i], &c->t[i], cfg, &perm, used, ckpt, e);
        info->n_values += c->t[i].n;
    }
    layout_scan(&lay, c);
    layout_text(info->compressed, sizeof info->compressed, &lay, cfg);
    describe(info, contents, strict, sizeof contents, used);
    if (lay.depth != cfg->depth) /* PRACTISE: whole blocks dropped */
        snprintf(contents + strlen(contents), sizeof contents - strlen(contents),
                 "; %d blocks of the %d of model.depth", lay.depth, cfg->depth);
    layout_meta(layout_s, sizeof layout_s, &lay);
    if (!rc && !(model = meta_config(x, lay.depth)))
        rc = kd_err_set(e, KD_ERR_NOMEM, ckpt, 0, "out of memory");
    const char *mk[6] = {"format",         WEIGHTS_META_CONFIG, "kdlab.kind",
                         "kdlab.contents", "kdlab.strict",      "kdlab.layout"};
    const char *mv[6] = {"pt", model, info->kind, contents, strict, layout_s};
    if (!rc)
        rc = st_write(out, t, c->n, mk, mv, 6, e);
    info->n_tensors = c->n;
    free(perm);
    free(model);
    free(names);
    free(t);
    return rc;
}

int ckpt_export_vit(const char *ckpt, const char *out, struct ckpt_export_info *info,
                    struct kd_err *e)
{
    struct ckpt_tensors c;
    struct experiment *x = malloc(sizeof *x);
    memset(info, 0, sizeof *info);
    memset(&c, 0, sizeof c);
    int rc = x ? weights_model_cfg(x, ckpt, e)
               : kd_err_set(e, KD_ERR_NOMEM, ckpt, 0,
                            "out of "
                            "memory");
    if (!rc)
        rc = ckpt_read_tensors(ckpt, &c, e);
    if (!rc)
        stored_value(info->kind, sizeof info->kind, c.config, "kind");
    if (!rc && (strcmp(info->kind, "dcvit") == 0 || strcmp(info->kind, "practise") == 0))
        rc = teacher_model(&x->model, &c, ckpt, e);
    if (!rc && x->model.arch != ARCH_VIT)
        rc = kd_err_setfix(e, KD_ERR_USAGE, ckpt, 0,
                           "export takes the supervised models of every model.arch (kinds train, "
                           "tinyvit_distill, tinymim) and the ViTs of kinds mae, moco, seed, "
                           "dcvit and practise",
                           "a model.arch %s checkpoint of kind %s holds other tensors than its "
                           "model",
                           config_choice_name("model.arch", x->model.arch), info->kind);
    if (!rc)
        rc = write_export(&c, x, ckpt, out, info, e);
    ckpt_tensors_free(&c);
    free(x);
    return rc;
}
