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
#include "train/resume.h"
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
    if (run_ref_stem(stem, sizeof stem, NULL, d->synthetic, r->x.scale, -1, e))
        return NULL;
    snprintf(path, sizeof path, "%s.syn", stem);
    if (compress_read_synthetic(path, &images, &targets, n, r->train.h, r->train.w, r->train.c,
                                e))
        return NULL;
    free(targets);
    return images;
}

/* A copy of `from` with block `blk` compressed to `hidden` units, for batches up to Bmax. */
static int build_compressed(struct vit *s, const struct vit *from, const struct model_cfg *mc,
                            int blk, int hidden, int Bmax, uint64_t seed, struct kd_err *e)
{
    struct vit_layout lay;
    vit_compress_layout(&lay, from, &blk, 1, hidden);
    if (vit_init_layout(s, mc, &lay, Bmax, e))
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
    if (csv_open(&tc, run_path(r, ".trial.csv"), "block,score,ft_loss", e))
        return e->code;
    for (int c = 1; c < t->depth - 1; c++) {
        struct vit s;
        int upto;
        uint32_t tag;
        compress_trial_plan(d, c, &upto, &tag);
        if (build_compressed(&s, t, mc, c, hidden, t->Bmax, (uint64_t)r->x.run.seed, e))
            return e->code;
        double ft = compress_finetune(&s, t, r, upto, d->trial_steps, tag, e);
        if (ft < 0)
            return e->code;
        score[c] = as_written(compress_kl(t, &s, metric, n_metric));
        csv_row(&tc, "%d,%.6g,%.6g", c, score[c], ft);
        progress_printf("[%s] trial block %d: KL %.5f after fine-tuning (MSE %.5f)\n", r->out,
                        c, score[c], ft);
        vit_free(&s);
    }
    int rc = csv_write(&tc, NULL, e);
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
            rc = kd_err_setfix(e, KD_ERR_FORMAT, path, i + 2, "delete the .part.* files to "
                               "start over", "'%s' is not a candidate block", csv_cell(&tc, i, 0));
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

/* The model after `done` stages of a resumed run: the original itself (stage 0), or the
 * original with chosen[0..done-1] compressed, on the heap; its weights from STEM.part.ckpt. */
static struct vit *resumed_model(struct run *r, struct vit *t, const struct model_cfg *mc,
                                 const int *chosen, int done, int hidden, struct kd_err *e)
{
    struct vit *m = t;
    if (done > 0) {
        struct vit_layout lay;
        vit_compress_layout(&lay, t, chosen, done, hidden);
        m = calloc(1, sizeof *m);
        if (vit_init_layout(m, mc, &lay, t->Bmax, e))
            return NULL;
    }
    return resume_load_stage(r, &m->params, done, e) ? NULL : m;
}

/* Stages done+1..n: compress chosen[i], fine-tune, add its row; a resume point after each but
 * the last. cur (the model after `done` stages) is replaced; returns the final model. */
static struct vit *compress_progressively(struct run *r, struct vit *t, struct vit *cur,
                                          const struct model_cfg *mc, const int *chosen,
                                          int done, const struct vit_compress *st,
                                          const double *score)
{
    const struct dcvit_cfg *d = &r->x.dcvit;
    struct kd_err e;
    int deepest = 0;
    for (int i = 0; i < done; i++)
        deepest = chosen[i] > deepest ? chosen[i] : deepest;
    for (int i = done; i < st->n; i++) {
        int blk = chosen[i];
        deepest = blk > deepest ? blk : deepest;
        /* Blocks up to the one after the deepest compressed so far: every compressed block
         * keeps adapting. */
        int upto = deepest + 1 < t->depth - 1 ? deepest + 1 : t->depth - 1;
        /* Heap models: a struct vit must not move (its parameter registry points into it). */
        struct vit *nxt = calloc(1, sizeof *nxt);
        if (build_compressed(nxt, cur, mc, blk, st->hidden, t->Bmax, (uint64_t)r->x.run.seed,
                             &e))
            die(&e);
        if (cur != t) {
            vit_free(cur);
            free(cur);
        }
        cur = nxt;
        double ft = compress_finetune(cur, t, r, upto, d->steps, 0x200 + i, &e);
        if (ft < 0)
            die(&e);
        compress_row(r, t, cur, i + 1, blk, st->hidden, score[blk], ft, vit_macs(t),
                     i == st->n - 1);
        if (i + 1 < st->n && resume_save(r, (struct params *[]){&cur->params}, NULL, 1, i + 1, 0,
                                         &e))
            die(&e);
    }
    return cur;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct experiment tx;
    struct vit t;
    if (compress_start(&r, &t, &tx, argc, argv))
        return 0;
    const struct dcvit_cfg *d = &r.x.dcvit;
    struct vit_compress st;
    double block = vit_attn_macs(&t) + vit_mlp_macs(&t, t.blocks[0].hidden);
    if (vit_compress_structure(&st, &t, d->remove * block, d->n_blocks, t.depth - 2, &e)) {
        snprintf(e.file, sizeof e.file, "%s", r.x.path);
        die(&e);
    }
    fprintf(stderr, "[%s] remove %.2f blocks of MACs: compress %d blocks to %d hidden units "
                    "(ratio %.3f)\n", r.out, d->remove, st.n, st.hidden, st.ratio);
    int n_metric = 0, chosen[VIT_MAX_DEPTH], done;
    double score[VIT_MAX_DEPTH] = {0};
    int random_pick = d->metric == METRIC_NONE;
    struct vit *cur = &t;
    if (resume_peek_stage(&r, &done, &e))
        die(&e);
    int resumed = done >= 0;
    long trial_steps = random_pick ? 0 : (long)(t.depth - 2) * d->trial_steps;
    progress_begin(r.out, trial_steps + (long)st.n * d->steps,
                   resumed ? trial_steps + (long)done * d->steps : 0, r.x.run.log_every);
    if (!resumed) { /* stage 0: the original's row and the trial */
        float *metric = metric_images(&r, &n_metric, &e);
        if (!metric && !random_pick)
            die(&e);
        compress_row(&r, &t, &t, 0, -1, t.blocks[0].hidden, 0, 0, vit_macs(&t), 1);
        if (!random_pick && trial(&r, &t, &tx.model, st.hidden, metric, n_metric, score, &e))
            die(&e);
        free(metric);
        done = 0;
        if (resume_save(&r, (struct params *[]){&t.params}, NULL, 1, 0, 0, &e))
            die(&e);
    } else if (!random_pick && read_trial(&r, score, t.depth, &e)) {
        die(&e);
    }
    choose(chosen, st.n, score, t.depth, random_pick, (uint64_t)r.x.run.seed);
    if (resumed && !(cur = resumed_model(&r, &t, &tx.model, chosen, done, st.hidden, &e)))
        die(&e);
    cur = compress_progressively(&r, &t, cur, &tx.model, chosen, done, &st, score);
    progress_end();
    if (compress_save(&r, cur, &e) || run_csv_write(&r, 1, &e) || run_finish(&r, &e))
        die(&e);
    resume_clear(&r);
    if (cur != &t) {
        vit_free(cur);
        free(cur);
    }
    vit_free(&t);
    run_free(&r);
    return 0;
}
