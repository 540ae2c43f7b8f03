/* practise: the block-dropping baseline PRACTISE (Wang & Wu, CVPR 2023) under DC-ViT's few-shot
 * budget. Drops k = round(dcvit.remove) whole blocks of the ViT named by `teacher:` (sparse: only
 * whole-block MACs), chosen by recoverability = feature MSE after dropping / latency reduction
 * (every block of an isotropic ViT saves the same, so the MSE alone ranks them), then fine-tunes
 * every parameter but the classifier to mimic the original's final tokens on the few-shot set.
 * Fine-tuning runs once, with the config's optimizer (configs/base/practise.yaml: the paper's SGD
 * with step decay) for dcvit.steps steps, as the paper's 2,000 iterations against DC-ViT's 2,000
 * a stage; dcvit.practise_budget: equal gives it DC-ViT's total, dcvit.steps * (k + 1).
 * Difference from the paper, on purpose: no 1x1 adaptors are trained while scoring (the score is
 * the MSE right after dropping).
 * Writes STEM.csv (stage 0 original, stage 1 dropped), STEM.trial.csv, STEM.ckpt, STEM.layout. */
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

/* tx's model without the blocks flagged in drop (a map from kept to original blocks). */
static int build_dropped(struct vit *s, const struct vit *t, const struct model_cfg *mc,
                         const int *drop, int Bmax, struct kd_err *e)
{
    int map[VIT_MAX_DEPTH], n = 0;
    for (int l = 0; l < t->depth; l++)
        if (!drop[l])
            map[n++] = l;
    struct vit_spec spec = model_spec_vit(mc);
    spec.depth = n;
    if (vit_init(s, &spec, Bmax, e))
        return e->code;
    vit_compress_copy(s, t, map, 0);
    return 0;
}

static int score_blocks(struct run *r, struct vit *t, const struct model_cfg *mc, double *score,
                        struct kd_err *e)
{
    float *images = compress_fewshot_images(r);
    double block = vit_attn_macs(t) + vit_mlp_macs(t, t->blocks[0].hidden);
    struct csv tc;
    if (csv_open(&tc, run_path(r, ".trial.csv"), "block,score,mse", e))
        return e->code;
    for (int l = 0; l < t->depth; l++) {
        int drop[VIT_MAX_DEPTH] = {0};
        struct vit s;
        drop[l] = 1;
        if (build_dropped(&s, t, mc, drop, t->Bmax, e))
            return e->code;
        double mse = compress_feature_mse(t, &s, images, r->n_train);
        score[l] = mse / (block / vit_macs(t));
        csv_row(&tc, "%d,%.6g,%.6g", l, score[l], mse);
        progress_printf("[%s] drop block %d: feature MSE %.5f\n", r->out, l, mse);
        vit_free(&s);
    }
    free(images);
    int rc = csv_write(&tc, NULL, e);
    csv_free(&tc);
    return rc;
}

/* A run's two stages (train/loop.h: loop_stages): 0 the original's row and the block scores,
 * 1 the k blocks dropped and the fine-tuning. */
struct practise {
    struct compress_run c; /* first: compress_model and compress_finish read it */
    struct vit s;          /* the original without the dropped blocks */
    int k, steps;          /* blocks dropped; fine-tuning steps */
    double score[VIT_MAX_DEPTH];
};

static long practise_steps_of(void *ctx, int stage)
{
    return stage == 1 ? ((struct practise *)ctx)->steps : 0;
}

/* Stage 1: drop the k lowest-scoring blocks, fine-tune once, add the row. */
static int practise_drop(struct practise *P, struct kd_err *e)
{
    struct run *r = &P->c.r;
    struct vit *t = &P->c.t;
    int drop[VIT_MAX_DEPTH] = {0}, last = -1;
    for (int i = 0; i < P->k; i++) {
        int best = -1;
        for (int l = 0; l < t->depth; l++)
            if (!drop[l] && (best < 0 || P->score[l] < P->score[best]))
                best = l;
        drop[best] = 1;
        last = best > last ? best : last;
    }
    if (build_dropped(&P->s, t, &P->c.tx.model, drop, t->Bmax, e))
        return e->code;
    P->c.cur = &P->s;
    progress_printf("[%s] fine-tune %d steps (%s, lr %g)\n", r->out, P->steps,
                    config_choice_name("optim.name", r->x.optim.name), r->x.optim.lr);
    double ft = compress_finetune(&P->s, t, r, -1, P->steps, 0x300, e);
    if (ft < 0)
        return e->code;
    compress_row(r, t, &P->s, 1, last, P->s.blocks[0].hidden, P->score[last], ft, vit_macs(t), 1);
    return 0;
}

static int practise_stage(void *ctx, int stage, struct kd_err *e)
{
    struct practise *P = ctx;
    struct vit *t = &P->c.t;
    if (stage == 1)
        return practise_drop(P, e);
    compress_row(&P->c.r, t, t, 0, -1, t->blocks[0].hidden, 0, 0, vit_macs(t), 1);
    return score_blocks(&P->c.r, t, &P->c.tx.model, P->score, e);
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct practise P = {0};
    if (compress_start(&P.c, argc, argv))
        return 0;
    struct run *r = &P.c.r;
    const struct dcvit_cfg *d = &r->x.dcvit;
    int depth = P.c.t.depth;
    P.k = (int)lround(d->remove);
    if (P.k < 1 || P.k >= depth || fabs(d->remove - P.k) > 1e-6) {
        kd_err_setfix(&e, KD_ERR_CONFIG, r->x.path, 0,
                      "set dcvit.remove to a whole number "
                      "of blocks below the depth",
                      "PRACTISE drops whole blocks: dcvit.remove "
                      "%g is not one of 1..%d",
                      d->remove, depth - 1);
        die(&e);
    }
    int equal = d->practise_budget == BUDGET_EQUAL;
    P.steps = d->practise_steps > 0 ? d->practise_steps : d->steps * (equal ? P.k + 1 : 1);
    struct loop_stages st = {
        &P, 1, practise_steps_of, practise_stage, compress_model, NULL, compress_finish};
    if (loop_stages(r, &st, &e))
        die(&e);
    if (P.c.cur == &P.s)
        vit_free(&P.s);
    vit_free(&P.c.t);
    run_free(r);
    return 0;
}
