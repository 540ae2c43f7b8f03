/* dcvit: DC-ViT (CVPR 2024), dense few-shot compression of the trained ViT named by `teacher:`.
 * The MACs target (dcvit.remove, in original blocks) fixes n blocks and a shared MLP width; each
 * candidate block c (not the first or last) is compressed alone (attention removed, a random
 * subset of MLP units kept), fine-tuned to mimic the original's final tokens on the few-shot set
 * (data.train_n unlabeled images; blocks 0..c+1 and every candidate on the same batches, as the
 * official code), and scored by KL between the two models on the metric set
 * (dcvit.metric: synthetic | real | none = random choice); the n lowest are then compressed one
 * at a time, most recoverable first, each time fine-tuning the blocks up to the one after the
 * deepest compressed so far.
 * Writes STEM.csv (one row per stage, last = final), STEM.trial.csv (candidate scores),
 * STEM.ckpt and STEM.layout (the compressed model), STEM.yaml, STEM.meta. A stopped run resumes
 * after its last finished stage (the trial is stage 0): STEM.part.ckpt, STEM.part.csv. */
#include "kd.h"
#include "models/vit_compress.h"
#include "train/compress.h"
#include "train/model_spec.h"
#include "train/loop.h"
#include "base/runtime.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The metric images: malloc'd (n, h, w, c), or NULL for "none". */
static float *metric_images(const struct run *r, int *n, struct kd_err *e)
{
    const struct dcvit_cfg *d = &r->x.dcvit;
    *n = 0;
    if (d->metric == METRIC_REAL) {
        *n = r->n_train;
        return compress_fewshot_images(r);
    }
    if (d->metric == METRIC_NONE)
        return NULL;
    char stem[600], path[700];
    float *images;
    int *targets;
    if (!d->synthetic[0]) {
        kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0,
                      "add dcvit.synthetic: configs/dcvit/synthetic.yaml, or dcvit.metric: real",
                      "dcvit.metric is synthetic but no dcvit.synthetic config is named");
        return NULL;
    }
    if (run_ref_stem(stem, sizeof stem, NULL, &r->x, d->synthetic, e))
        return NULL;
    snprintf(path, sizeof path, "%s.syn", stem);
    if (compress_read_synthetic(path, &images, &targets, n, r->train.h, r->train.w, r->train.c, e))
        return NULL;
    free(targets);
    return images;
}

/* A copy of `from` with block `blk` compressed to `hidden` units, for batches up to Bmax. */
static int build_compressed(struct vit *s, const struct vit *from, const struct model_cfg *mc,
                            int blk, int hidden, int Bmax, uint64_t seed, struct kd_err *e)
{
    struct vit_layout lay;
    struct vit_spec spec = model_spec_vit(mc);
    vit_compress_layout(&lay, from, &blk, 1, hidden);
    if (vit_init_layout(s, &spec, &lay, Bmax, e))
        return e->code;
    vit_compress_copy(s, from, NULL, seed);
    return 0;
}

/* v as STEM.trial.csv writes it: a resumed run reads the scores back from there, so both rank
 * the candidates on the same numbers. */
static double as_written(double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.6g", v);
    return strtod(text, NULL);
}

/* Block-wise trial: score[c] for every candidate c in 1..depth-2 (lower = more recoverable). */
static int trial(struct run *r, struct vit *t, const struct model_cfg *mc, int hidden,
                 const float *metric, int n_metric, double *score, struct kd_err *e)
{
    const struct dcvit_cfg *d = &r->x.dcvit;
    struct csv tc;
    struct teacher_cache cache = {0};
    int upto, rc = 0;
    uint32_t tag;
    if (csv_open(&tc, run_path(r, ".trial.csv"), "block,score,ft_loss", e))
        return e->code;
    compress_trial_plan(d, 1, &upto, &tag);
    if (d->trial_shared_batches) {
        teacher_cache_init(&cache, t, r->x.optim.batch, d->trial_steps, tag);
        progress_printf("[%s] trial: the original's tokens %s (%.0f MB for %d steps)\n", r->out,
                        cache.feat ? "computed once for every candidate"
                                   : "recomputed by each candidate: KD_TEACHER_CACHE_MB too small",
                        cache.per_step * (double)d->trial_steps * sizeof(float) / (1 << 20),
                        d->trial_steps);
    }
    for (int c = 1; c < t->depth - 1; c++) {
        struct vit s;
        compress_trial_plan(d, c, &upto, &tag);
        if ((rc = build_compressed(&s, t, mc, c, hidden, t->Bmax, (uint64_t)r->x.run.seed, e)))
            break;
        double ft = compress_finetune_cached(&s, t, r, upto, d->trial_steps, tag, &cache, e);
        if (ft < 0) {
            rc = e->code;
            vit_free(&s);
            break;
        }
        score[c] = as_written(compress_kl(t, &s, metric, n_metric));
        csv_row(&tc, "%d,%.6g,%.6g", c, score[c], ft);
        progress_printf("[%s] trial block %d: KL %.5f after fine-tuning (MSE %.5f)\n", r->out, c,
                        score[c], ft);
        vit_free(&s);
    }
    teacher_cache_free(&cache);
    rc = rc ? rc : csv_write(&tc, NULL, e);
    csv_free(&tc);
    return rc;
}

/* The scores of a resumed run, from its STEM.trial.csv. */
static int read_trial(const struct run *r, double *score, int depth, struct kd_err *e)
{
    struct csv_table tc;
    const char *path = run_path(r, ".trial.csv");
    if (csv_read(&tc, path, e))
        return kd_err_fix(e, "delete the .part.* files to start over");
    int rc = 0;
    for (int i = 0; !rc && i < tc.n_rows; i++) {
        double c = csv_num(&tc, i, 0);
        if (!(c >= 1 && c <= depth - 2))
            rc = kd_err_setfix(e, KD_ERR_FORMAT, path, i + 2,
                               "delete the .part.* files to "
                               "start over",
                               "'%s' is not a candidate block", csv_cell(&tc, i, 0));
        else
            score[(int)c] = csv_num(&tc, i, 1);
    }
    csv_table_free(&tc);
    return rc;
}

/* The n chosen blocks, most recoverable first (the official code's order): lowest scores, or a
 * random choice without scores. */
static void choose(int *chosen, int n, const double *score, int depth, int random_pick,
                   uint64_t seed)
{
    int cand[VIT_MAX_DEPTH], nc = 0;
    for (int c = 1; c < depth - 1; c++)
        cand[nc++] = c;
    if (random_pick) {
        struct rng rg;
        rng_init(&rg, seed, RNG_STREAM_OTHER, 0, 0x6368);
        rng_shuffle(&rg, cand, nc);
    } else {
        for (int i = 1; i < nc; i++) /* stable insertion sort by score */
            for (int j = i; j > 0 && score[cand[j]] < score[cand[j - 1]]; j--) {
                int tmp = cand[j];
                cand[j] = cand[j - 1];
                cand[j - 1] = tmp;
            }
    }
    for (int i = 0; i < n; i++)
        chosen[i] = cand[i];
}

/* A run's stages (train/loop.h: loop_stages): 0 is the original's row and the trial, i > 0
 * compresses chosen[i - 1]. */
struct dcvit {
    struct compress_run c;       /* first: compress_model and compress_finish read it */
    struct vit_compress st;      /* how many blocks, to what width */
    double score[VIT_MAX_DEPTH]; /* trial score of each candidate block */
    int chosen[VIT_MAX_DEPTH];   /* the blocks to compress, in order */
    int random_pick;             /* dcvit.metric none: no trial */
};

/* cur becomes m, a model on the heap (a struct vit must not move: its parameter registry points
 * into it). */
static void dcvit_replace(struct dcvit *D, struct vit *m)
{
    if (D->c.cur != &D->c.t) {
        vit_free(D->c.cur);
        free(D->c.cur);
    }
    D->c.cur = m;
}

static long dcvit_steps_of(void *ctx, int stage)
{
    struct dcvit *D = ctx;
    const struct dcvit_cfg *d = &D->c.r.x.dcvit;
    if (stage > 0)
        return d->steps;
    return D->random_pick ? 0 : (long)(D->c.t.depth - 2) * d->trial_steps;
}

/* Stage 0: the original's row, the trial, the choice. */
static int dcvit_trial_stage(struct dcvit *D, struct kd_err *e)
{
    struct run *r = &D->c.r;
    struct vit *t = &D->c.t;
    int n_metric = 0;
    float *metric = metric_images(r, &n_metric, e);
    if (!metric && !D->random_pick)
        return e->code;
    compress_row(r, t, t, 0, -1, t->blocks[0].hidden, 0, 0, vit_macs(t), 1);
    int rc = D->random_pick
                 ? 0
                 : trial(r, t, &D->c.tx.model, D->st.hidden, metric, n_metric, D->score, e);
    free(metric);
    choose(D->chosen, D->st.n, D->score, t->depth, D->random_pick, (uint64_t)r->x.run.seed);
    return rc;
}

/* Stage i > 0: compress chosen[i - 1], fine-tune the blocks up to the one after the deepest
 * compressed so far (every compressed block keeps adapting), add its row. */
static int dcvit_stage(void *ctx, int i, struct kd_err *e)
{
    struct dcvit *D = ctx;
    struct run *r = &D->c.r;
    struct vit *t = &D->c.t;
    if (i == 0)
        return dcvit_trial_stage(D, e);
    int blk = D->chosen[i - 1], deepest = 0;
    for (int k = 0; k < i; k++)
        deepest = D->chosen[k] > deepest ? D->chosen[k] : deepest;
    int upto = deepest + 1 < t->depth - 1 ? deepest + 1 : t->depth - 1;
    struct vit *nxt = calloc(1, sizeof *nxt);
    if (!nxt)
        return kd_err_set(e, KD_ERR_NOMEM, r->x.path, 0, "out of memory");
    if (build_compressed(nxt, D->c.cur, &D->c.tx.model, blk, D->st.hidden, t->Bmax,
                         (uint64_t)r->x.run.seed, e)) {
        free(nxt);
        return e->code;
    }
    dcvit_replace(D, nxt);
    double ft = compress_finetune(nxt, t, r, upto, r->x.dcvit.steps, 0x200 + i - 1, e);
    if (ft < 0)
        return e->code;
    compress_row(r, t, nxt, i, blk, D->st.hidden, D->score[blk], ft, vit_macs(t), i == D->st.n);
    return 0;
}

/* A run resumed after stage `done`: the trial's scores from STEM.trial.csv, the choice, and the
 * original with chosen[0..done-1] compressed (its weights come from the resume point). */
static int dcvit_resume(void *ctx, int done, struct kd_err *e)
{
    struct dcvit *D = ctx;
    struct run *r = &D->c.r;
    struct vit *t = &D->c.t;
    if (!D->random_pick && read_trial(r, D->score, t->depth, e))
        return e->code;
    choose(D->chosen, D->st.n, D->score, t->depth, D->random_pick, (uint64_t)r->x.run.seed);
    if (done == 0)
        return 0;
    struct vit_layout lay;
    struct vit_spec spec = model_spec_vit(&D->c.tx.model);
    struct vit *m = calloc(1, sizeof *m);
    if (!m)
        return kd_err_set(e, KD_ERR_NOMEM, r->x.path, 0, "out of memory");
    vit_compress_layout(&lay, t, D->chosen, done, D->st.hidden);
    int rc = vit_init_layout(m, &spec, &lay, t->Bmax, e);
    dcvit_replace(D, m);
    return rc;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct dcvit D = {0};
    if (compress_start(&D.c, argc, argv))
        return 0;
    struct run *r = &D.c.r;
    struct vit *t = &D.c.t;
    const struct dcvit_cfg *d = &r->x.dcvit;
    double block = vit_attn_macs(t) + vit_mlp_macs(t, t->blocks[0].hidden);
    if (vit_compress_structure(&D.st, t, d->remove * block, d->n_blocks, t->depth - 2, &e)) {
        snprintf(e.file, sizeof e.file, "%s", r->x.path);
        die(&e);
    }
    fprintf(stderr,
            "[%s] remove %.2f blocks of MACs: compress %d blocks to %d hidden units "
            "(ratio %.3f)\n",
            r->out, d->remove, D.st.n, D.st.hidden, D.st.ratio);
    D.random_pick = d->metric == METRIC_NONE;
    struct loop_stages st = {
        &D, D.st.n, dcvit_steps_of, dcvit_stage, compress_model, dcvit_resume, compress_finish};
    if (loop_stages(r, &st, &e))
        die(&e);
    dcvit_replace(&D, t);
    vit_free(t);
    run_free(r);
    return 0;
}
