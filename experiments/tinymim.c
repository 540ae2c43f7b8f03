/* tinymim: distillation of an MAE-pretrained (or TinyMIM-distilled) ViT teacher into a smaller
 * ViT student (Ren et al., CVPR 2023; OliverRensu/TinyMIM). tinymim.target picks the loss
 * (core/loss/loss_table.c), and what the loss needs decides what is distilled from teacher block
 * tinymim.target_layer:
 *   relations  per-head R_QK and R_VV (or QQ/KK/VV) of the student's LAST block, built with the
 *              teacher's head count; gradient enters at that block's qkv ("relation": KL)
 *   features   linear projection of the student's output tokens vs the teacher's block output
 *              under a LayerNorm without affine ("feature": smooth-L1, beta 2)
 *   logits     the same on the class token alone ("cls": KL between their softmaxes)
 * The teacher is frozen (drop-path only, tinymim.teacher_drop_path); both see the same image,
 * masked when tinymim.mask_ratio > 0. Writes STEM.csv, STEM.ckpt (student only), .yaml, .meta. */
#include "kd.h"
#include "models/vit.h"
#include "models/mae_decoder.h"
#include "loss/loss.h"
#include "loss/loss_table.h"
#include "train/loop.h"
#include "train/init_from.h"
#include "train/model_spec.h"
#include "base/runtime.h"

#include <stdlib.h>
#include <string.h>

/* tinymim.relations -> the relation loss's pairs. */
static const int pairs_of[] = {
    [RELATIONS_QK_VV] = RELATION_QK | RELATION_VV,
    [RELATIONS_QQ_KK_VV] = RELATION_QQ | RELATION_KK | RELATION_VV,
    [RELATIONS_QK] = RELATION_QK,
    [RELATIONS_VV] = RELATION_VV,
};

struct distill {
    const struct experiment *x;
    struct vit teacher, student;
    int L;                       /* teacher blocks run: the target block, 1-based */
    const struct loss_def *loss; /* tinymim.target */
    int pairs, NH;               /* relation pairs; relation heads */
    int n_keep;                  /* visible patches (NP when unmasked) */
    int *keep;                   /* (B, n_keep) or NULL */
    struct linear proj;          /* feature / cls: student width -> teacher width */
    struct params proj_ps;
    float *d_qkv, *scratch; /* (B, T, 3Cs); relation scratch */
    float *t_norm, *pred;   /* (B, T, Ct) normalized teacher target; projected student */
    float *d_pred, *d_feat; /* (B, T, Ct); (B, T, Cs) */
    float *cls;             /* (B, Cs) the student's CLS outputs (cls target) */
};

/* The loss's inputs for B samples of Tk tokens: the relations of the student's last block
 * against the teacher's target block, or the projected student tokens (a row per token; for a
 * loss on logits the class token's row per sample) against the normalized teacher's. */
static struct loss_in loss_inputs(const struct distill *m, int B, int Tk)
{
    const struct vit *s = &m->student;
    if (m->loss->needs & LOSS_RELATION)
        return (struct loss_in){.s = s->ba[s->depth - 1].qkv,
                                .t = m->teacher.ba[m->L - 1].qkv,
                                .ds = m->d_qkv,
                                .work = m->scratch,
                                .weight = 1.0f,
                                .rows = B,
                                .T = Tk,
                                .Cs = s->C,
                                .Ct = m->teacher.C,
                                .heads = m->NH,
                                .pairs = m->pairs};
    return (struct loss_in){.s = m->pred,
                            .t = m->t_norm,
                            .ds = m->d_pred,
                            .work = m->scratch,
                            .weight = 1.0f,
                            .rows = m->loss->needs & LOSS_LOGITS ? B : B * Tk,
                            .D = m->teacher.C};
}

static float loss_relation(struct distill *m, int B, int Tk)
{
    struct vit *s = &m->student;
    memset(m->d_qkv, 0, sizeof(float) * B * Tk * 3 * s->C);
    struct loss_in in = loss_inputs(m, B, Tk);
    float l = (float)m->loss->forward(&in);
    vit_backward_from_qkv(s, s->depth - 1, m->d_qkv, m->keep, m->n_keep, B);
    return l;
}

/* Features and logits: the teacher's block output under a LayerNorm without affine parameters. */
static float loss_feature_cls(struct distill *m, int B, int Tk)
{
    struct vit *s = &m->student;
    int cls = (m->loss->needs & LOSS_LOGITS) != 0;
    int Cs = s->C, Ct = m->teacher.C, rows = cls ? B : B * Tk;
    layernorm_forward(m->t_norm, NULL, NULL, m->teacher.resid[m->L], NULL, NULL, B * Tk, Ct);
    float *sin = s->feat;
    if (cls) {
        /* CLS rows only: gather them to the front of d_feat / pred buffers */
        for (int b = 0; b < B; b++) {
            memcpy(m->d_feat + (size_t)b * Cs, s->feat + (size_t)b * Tk * Cs, sizeof(float) * Cs);
            memmove(m->t_norm + (size_t)b * Ct, m->t_norm + (size_t)b * Tk * Ct,
                    sizeof(float) * Ct);
        }
        memcpy(m->cls, m->d_feat, sizeof(float) * B * Cs);
        sin = m->cls;
    }
    linear_forward(&m->proj, m->pred, sin, rows);
    memset(m->d_pred, 0, sizeof(float) * rows * Ct);
    struct loss_in in = loss_inputs(m, B, Tk);
    float l = (float)m->loss->forward(&in);
    memset(m->d_feat, 0, sizeof(float) * B * Tk * Cs);
    linear_backward(&m->proj, m->d_feat, m->d_pred, sin, rows);
    if (cls)
        for (int b = B - 1; b >= 0; b--) {
            memmove(m->d_feat + (size_t)b * Tk * Cs, m->d_feat + (size_t)b * Cs,
                    sizeof(float) * Cs);
            if (b > 0)
                memset(m->d_feat + (size_t)b * Cs, 0, sizeof(float) * Cs);
        }
    vit_backward_tokens(s, m->d_feat, m->keep, m->n_keep, B);
    return l;
}

static float tm_step(void *ctx, const float *images, const int *labels, const int *idx, int B,
                     int epoch, long step)
{
    struct distill *m = ctx;
    uint64_t seed = (uint64_t)m->x->run.seed;
    int NP = m->student.NP, Tk = m->n_keep + 1;
    for (int i = 0; m->keep && i < B; i++)
        mae_mask_draw(m->keep + (size_t)i * m->n_keep, NULL, NP, m->n_keep, seed, epoch, idx[i]);
    /* The teacher's drop-path draws come from another seed than the student's. */
    vit_forward_tokens(&m->teacher, images, m->keep, m->n_keep, m->L, B,
                       m->x->tinymim.teacher_drop_path > 0, seed + 0x7EAC4E5, (int)step);
    vit_forward_tokens(&m->student, images, m->keep, m->n_keep, m->student.depth, B, 1, seed,
                       (int)step);
    if (m->loss->needs & LOSS_RELATION)
        return loss_relation(m, B, Tk);
    return loss_feature_cls(m, B, Tk);
}

/* Teacher from its config and checkpoint, target layer and relation heads. */
static int teacher_setup(struct distill *m, const struct experiment *x, int B, struct kd_err *e)
{
    struct experiment tx;
    if (!x->teacher[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "set teacher: to an MAE config (configs/tinymim/mae/mae_s.yaml)",
                             "kind tinymim needs a teacher");
    if (config_load(&tx, x->teacher, x->scale, 0, NULL, e))
        return e->code;
    struct vit_spec spec = model_spec_vit(&tx.model);
    if (vit_init(&m->teacher, &spec, B, e) ||
        init_from_config(&m->teacher.params, x, x->teacher, 1, e))
        return e->code;
    m->L = x->tinymim.target_layer ? x->tinymim.target_layer : m->teacher.depth;
    if (m->L > m->teacher.depth)
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0, "use 1 .. the teacher's depth (0: last)",
                             "tinymim.target_layer %d is deeper than the teacher's %d blocks", m->L,
                             m->teacher.depth);
    for (int l = 0; l < m->teacher.depth; l++)
        m->teacher.blocks[l].drop_path = x->tinymim.teacher_drop_path;
    m->NH = m->teacher.blocks[m->L - 1].NH;
    return 0;
}

static int tm_setup(struct distill *m, const struct experiment *x, struct kd_err *e)
{
    int B = x->optim.batch;
    memset(m, 0, sizeof *m);
    m->x = x;
    m->loss = loss_at(x->tinymim.target);
    m->pairs = pairs_of[x->tinymim.relations];
    if (teacher_setup(m, x, B, e))
        return e->code;
    /* The student's last block takes the teacher's head count (loads into a normal block
     * later: same tensor shapes). */
    struct vit_layout lay;
    struct vit_spec spec = model_spec_vit(&x->model);
    memset(&lay, 0, sizeof lay);
    if (x->model.depth <= VIT_MAX_DEPTH)
        lay.heads[x->model.depth - 1] = m->NH;
    if (vit_init_layout(&m->student, &spec, &lay, B, e)) {
        snprintf(e->file, sizeof e->file, "%s", x->path);
        return kd_err_fix(e, "the teacher's %d heads must divide model.dim", m->NH);
    }
    vit_reset(&m->student, (uint64_t)x->run.seed);
    /* TinyMIM's student: constant drop path over its blocks, none in the last one. */
    for (int l = 0; l < m->student.depth; l++)
        m->student.blocks[l].drop_path = l + 1 < m->student.depth ? x->model.drop_path : 0.0f;
    struct vit *s = &m->student;
    m->n_keep = x->tinymim.mask_ratio > 0 ? (int)(s->NP * (1.0f - x->tinymim.mask_ratio)) : s->NP;
    m->n_keep = m->n_keep < 1 ? 1 : m->n_keep;
    int Ct = m->teacher.C;
    size_t BT = (size_t)B * s->T;
    params_begin(&m->proj_ps);
    linear_init(&m->proj, &m->proj_ps, "distill.proj", s->C, Ct, 1);
    if (params_alloc(&m->proj_ps, e))
        return e->code;
    struct rng r;
    rng_init(&r, (uint64_t)x->run.seed, RNG_STREAM_INIT, 2, 0);
    linear_reset(&m->proj, &r);
    m->keep = m->n_keep < s->NP ? malloc(sizeof(int) * B * m->n_keep) : NULL;
    m->d_qkv = malloc(sizeof(float) * BT * 3 * s->C);
    struct loss_in shape = loss_inputs(m, B, s->T);
    m->scratch = malloc(sizeof(float) * (m->loss->work_floats(&shape) + 1)); /* + 1: never 0 */
    m->t_norm = malloc(sizeof(float) * BT * Ct);
    m->pred = malloc(sizeof(float) * BT * Ct);
    m->d_pred = malloc(sizeof(float) * BT * Ct);
    m->d_feat = malloc(sizeof(float) * BT * s->C);
    m->cls = malloc(sizeof(float) * B * s->C);
    if (!m->cls || !m->d_qkv || !m->scratch || !m->t_norm || !m->pred || !m->d_pred || !m->d_feat)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    return 0;
}

static void tm_free(struct distill *m)
{
    vit_free(&m->teacher);
    vit_free(&m->student);
    params_free(&m->proj_ps);
    free(m->keep), free(m->d_qkv), free(m->scratch), free(m->t_norm), free(m->pred);
    free(m->d_pred), free(m->d_feat), free(m->cls);
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct distill m;
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e) || tm_setup(&m, &r.x, &e))
        die(&e);
    fprintf(stderr,
            "[%s] TinyMIM %s (%s) from teacher block %d of %d, %d heads, %d of %d "
            "patches\n",
            r.out, m.loss->name, config_choice_name("tinymim.relations", r.x.tinymim.relations),
            m.L, m.teacher.depth, m.NH, m.n_keep, m.student.NP);
    /* the projection trains beside the student for the feature and cls targets */
    int n_sets = m.loss->needs & LOSS_RELATION ? 1 : 2;
    struct loop_spec sp = {.ctx = &m,
                           .sets = {&m.student.params, &m.proj_ps},
                           .n_sets = n_sets,
                           .n_trained = n_sets,
                           .save = &m.student.params,
                           .step = tm_step,
                           .mid_epoch = 1};
    if (loop_train(&r, &sp, &e))
        die(&e);
    tm_free(&m);
    run_free(&r);
    return 0;
}
