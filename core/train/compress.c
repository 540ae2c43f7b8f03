/* Few-shot compression helpers: the original, scores, latency, results (see compress.h). */
#include "train/compress.h"
#include "models/vit_compress.h"
#include "train/model_spec.h"
#include "loss/loss.h"
#include "train/ckpt_params.h"
#include "io/progress.h"
#include "base/fsio.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int compress_load_original(struct vit *m, struct experiment *tx, const struct run *r, int Bmax,
                           struct kd_err *e)
{
    char stem[600], path[700];
    if (!r->x.teacher[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0,
                             "add e.g. `teacher: configs/teachers/vit_s.yaml`",
                             "no `teacher:` key: the trained model to compress");
    if (run_ref_stem(stem, sizeof stem, tx, &r->x, r->x.teacher, e))
        return e->code;
    snprintf(path, sizeof path, "%s.ckpt", stem);
    if (tx->model.arch != ARCH_VIT)
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.teacher, 0, "compress a model.arch: vit",
                             "model.arch '%s' cannot be compressed",
                             config_choice_name("model.arch", tx->model.arch));
    struct vit_spec spec = model_spec_vit(&tx->model);
    int rc = vit_init(m, &spec, Bmax, e);
    if (!rc)
        rc = ckpt_load(path, &m->params, NULL, NULL, "", NULL, e);
    return rc;
}

void compress_set_trainable(struct vit *s, int upto, int freeze_embed)
{
    for (int i = 0; i < s->params.n; i++) {
        struct param *p = &s->params.p[i];
        int l = -1, block = sscanf(p->name, "blocks.%d.", &l) == 1;
        if (upto < 0 || !freeze_embed)
            p->frozen = strncmp(p->name, "head.", 5) == 0 || (upto >= 0 && block && l > upto);
        else
            p->frozen = !(block && l <= upto);
    }
}

void compress_trial_plan(const struct dcvit_cfg *d, int c, int *upto, uint32_t *tag)
{
    *upto = d->trial_neighbour ? c + 1 : c;
    *tag = d->trial_shared_batches ? 0x100 : 0x100 + (uint32_t)c;
}

double compress_kl(struct vit *t, struct vit *s, const float *images, int n)
{
    int K = t->classes, Bm = t->Bmax < s->Bmax ? t->Bmax : s->Bmax;
    size_t img = (size_t)t->img * t->img * t->in_ch;
    float *tl = malloc(sizeof(float) * Bm * K);
    double kl = 0;
    KD_ASSERT(K <= KL_DIV_ADD_MAX_K);
    for (int a = 0; a < n; a += Bm) {
        int B = n - a < Bm ? n - a : Bm;
        vit_forward(t, images + a * img, B, 0, 0, 0);
        memcpy(tl, t->logits, sizeof(float) * B * K);
        vit_forward(s, images + a * img, B, 0, 0, 0);
        kl = kl_div_add(kl, s->logits, tl, B, K);
    }
    free(tl);
    return n ? kl / n : 0;
}

double compress_feature_mse(struct vit *t, struct vit *s, const float *images, int n)
{
    int Bm = t->Bmax < s->Bmax ? t->Bmax : s->Bmax;
    size_t img = (size_t)t->img * t->img * t->in_ch, TC = (size_t)t->T * t->C;
    float *tf = malloc(sizeof(float) * Bm * TC);
    double mse = 0;
    for (int a = 0; a < n; a += Bm) {
        int B = n - a < Bm ? n - a : Bm;
        vit_forward(t, images + a * img, B, 0, 0, 0);
        memcpy(tf, t->feat, sizeof(float) * B * TC);
        vit_forward(s, images + a * img, B, 0, 0, 0);
        mse = feature_sq_err_add(mse, s->feat, tf, B * TC);
    }
    free(tf);
    return n ? mse / ((double)n * TC) : 0;
}

float *compress_fewshot_images(const struct run *r)
{
    size_t img = (size_t)r->train.h * r->train.w * r->train.c;
    float *out = malloc(sizeof(float) * img * (r->n_train ? r->n_train : 1));
    int *labels = malloc(sizeof(int) * (r->n_train ? r->n_train : 1));
    KD_ASSERT(out && labels);
    dataset_batch(out, labels, &r->train, r->train_idx, r->n_train, NULL, 0, 0);
    free(labels);
    return out;
}

double compress_test_acc(struct vit *m, const struct run *r)
{
    int Bm = m->Bmax;
    size_t img = (size_t)r->test.h * r->test.w * r->test.c;
    float *images = malloc(sizeof(float) * Bm * img);
    int *labels = malloc(sizeof(int) * Bm);
    long correct = 0;
    for (int a = 0; a < r->n_test; a += Bm) {
        int B = r->n_test - a < Bm ? r->n_test - a : Bm;
        dataset_batch(images, labels, &r->test, r->test_idx + a, B, NULL, 0, 0);
        vit_forward(m, images, B, 0, 0, 0);
        correct += ce_correct(m->logits, labels, B, m->classes);
    }
    free(images);
    free(labels);
    return r->n_test ? (double)correct / r->n_test : 0;
}

void compress_latency(struct vit *m, int B, int runs, double *mean_ms, double *min_ms)
{
    size_t n = (size_t)B * m->img * m->img * m->in_ch;
    float *images = malloc(sizeof(float) * n);
    struct rng r;
    rng_init(&r, 0, RNG_STREAM_OTHER, 0, 0x6c74);
    for (size_t i = 0; i < n; i++)
        images[i] = rng_normal(&r);
    KD_ASSERT(B <= m->Bmax);
    for (int i = 0; i < runs / 5 + 1; i++)
        vit_forward(m, images, B, 0, 0, 0);
    double total = 0, best = INFINITY;
    for (int i = 0; i < runs; i++) {
        double t0 = now_seconds();
        vit_forward(m, images, B, 0, 0, 0);
        double dt = now_seconds() - t0;
        total += dt;
        best = dt < best ? dt : best;
    }
    *mean_ms = 1e3 * total / runs;
    *min_ms = 1e3 * best;
    free(images);
}

int compress_save_layout(const struct run *r, struct vit *m, struct kd_err *e)
{
    struct atomic_file af;
    if (atomic_open(&af, run_path(r, ".layout"), e))
        return e->code;
    fprintf(af.f, "%d\n", m->depth);
    for (int l = 0; l < m->depth; l++)
        fprintf(af.f, "%d %d\n", m->blocks[l].attn, m->blocks[l].hidden);
    return atomic_commit(&af, e);
}

int compress_read_layout(const char *path, struct vit_layout *lay, int *depth, struct kd_err *e)
{
    char hint[300];
    memset(lay, 0, sizeof *lay);
    FILE *f = file_open_made(path, "r", "the layout of a compressed model",
                             "run the reused config first", e);
    if (!f)
        return e->code;
    int ok = fscanf(f, "%d", depth) == 1 && *depth > 0 && *depth <= VIT_MAX_DEPTH;
    for (int l = 0; ok && l < *depth; l++) {
        int attn, hidden;
        ok = fscanf(f, "%d %d", &attn, &hidden) == 2 && hidden > 0;
        lay->no_attn[l] = !attn;
        lay->hidden[l] = hidden;
    }
    fclose(f);
    if (!ok)
        return kd_err_setfix(
            e, KD_ERR_FORMAT, path, 0,
            file_remake_hint(path, "delete it and run its config again", hint, sizeof hint),
            "malformed layout file");
    return 0;
}

int compress_write_synthetic(const char *path, const float *images, const int *targets, int n,
                             int h, int w, int c, struct kd_err *e)
{
    struct atomic_file af;
    int32_t hdr[4] = {n, h, w, c};
    if (atomic_open(&af, path, e))
        return e->code;
    fwrite("KDSYN001", 1, 8, af.f);
    fwrite(hdr, sizeof hdr, 1, af.f);
    for (int i = 0; i < n; i++) {
        int32_t t = targets[i];
        fwrite(&t, sizeof t, 1, af.f);
    }
    fwrite(images, sizeof(float), (size_t)n * h * w * c, af.f);
    return atomic_commit(&af, e);
}

int compress_read_synthetic(const char *path, float **images, int **targets, int *n, int h, int w,
                            int c, struct kd_err *e)
{
    char magic[8];
    int32_t hdr[4];
    *images = NULL;
    *targets = NULL;
    char hint[300];
    FILE *f = file_open_made(path, "rb", "the synthetic metric set",
                             "run the dcvit.synthetic config first", e);
    if (!f)
        return e->code;
    int ok = fread(magic, 1, 8, f) == 8 && memcmp(magic, "KDSYN001", 8) == 0 &&
             fread(hdr, sizeof hdr, 1, f) == 1 && hdr[0] > 0 && hdr[1] == h && hdr[2] == w &&
             hdr[3] == c;
    if (ok) {
        size_t px = (size_t)hdr[0] * h * w * c;
        int32_t *t = malloc(sizeof(int32_t) * hdr[0]);
        *targets = malloc(sizeof(int) * hdr[0]);
        *images = malloc(sizeof(float) * px);
        ok = t && *targets && *images && fread(t, sizeof(int32_t), hdr[0], f) == (size_t)hdr[0] &&
             fread(*images, sizeof(float), px, f) == px;
        for (int i = 0; ok && i < hdr[0]; i++)
            (*targets)[i] = t[i];
        free(t);
        *n = hdr[0];
    }
    fclose(f);
    if (!ok) {
        free(*images);
        free(*targets);
        *images = NULL;
        *targets = NULL;
        return kd_err_setfix(
            e, KD_ERR_FORMAT, path, 0,
            file_remake_hint(path, "delete it and run its config again", hint, sizeof hint),
            "not a synthetic set of %dx%dx%d images", h, w, c);
    }
    return 0;
}

double compress_heldout_mse(struct vit *t, struct vit *m, const struct run *r)
{
    int Bm = t->Bmax < m->Bmax ? t->Bmax : m->Bmax;
    size_t img = (size_t)r->test.h * r->test.w * r->test.c, TC = (size_t)m->T * m->C;
    float *images = malloc(sizeof(float) * Bm * img), *tf = malloc(sizeof(float) * Bm * TC);
    int *labels = malloc(sizeof(int) * Bm);
    double mse = 0;
    KD_ASSERT(images && tf && labels && t->T == m->T && t->C == m->C);
    for (int a = 0; a < r->n_test; a += Bm) {
        int B = r->n_test - a < Bm ? r->n_test - a : Bm;
        dataset_batch(images, labels, &r->test, r->test_idx + a, B, NULL, 0, 0);
        vit_forward(t, images, B, 0, 0, 0);
        memcpy(tf, t->feat, sizeof(float) * B * TC);
        vit_forward(m, images, B, 0, 0, 0);
        mse = feature_sq_err_add(mse, m->feat, tf, B * TC);
    }
    free(images);
    free(tf);
    free(labels);
    return r->n_test ? mse / ((double)r->n_test * TC) : 0;
}

void compress_row(struct run *r, struct vit *orig, struct vit *m, int stage, int block, int hidden,
                  double score, double ft_loss, double orig_macs, int timed)
{
    double acc = compress_test_acc(m, r), lat = NAN, lat_min = NAN;
    double heldout = compress_heldout_mse(orig, m, r);
    int B = r->x.dcvit.latency_batch < m->Bmax ? r->x.dcvit.latency_batch : m->Bmax;
    if (timed)
        compress_latency(m, B, r->x.dcvit.latency_runs, &lat, &lat_min);
    double macs = vit_macs(m);
    csv_row(&r->csv, "%d,%d,%d,%.6g,%.6g,%.6f,%zu,%.0f,%.6f,%.3f,%.3f,%.1f,%.6g", stage, block,
            hidden, score, ft_loss, acc, vit_param_count(m), macs, macs / orig_macs, lat, lat_min,
            now_seconds() - r->t_start, heldout);
    char timing[64] = "";
    if (timed)
        snprintf(timing, sizeof timing, ", %.2f ms per batch of %d", lat, B);
    progress_printf("[%s] stage %d block %d hidden %d: test top-1 %.2f%%, %.2f MMACs (%.1f%%), "
                    "feature MSE %.5f train / %.5f held out%s\n",
                    r->out, stage, block, hidden, 100 * acc, macs / 1e6, 100 * macs / orig_macs,
                    ft_loss, heldout, timing);
}

int compress_remeasure(struct run *r, struct vit *orig, const struct experiment *tx,
                       struct kd_err *e)
{
    char stem[600], path[700];
    struct vit_layout lay;
    struct vit_spec spec = model_spec_vit(&tx->model);
    struct vit m;
    if (run_ref_stem(stem, sizeof stem, NULL, &r->x, r->x.dcvit.reuse, e))
        return e->code;
    snprintf(path, sizeof path, "%s.layout", stem);
    if (compress_read_layout(path, &lay, &spec.depth, e))
        return e->code;
    int Bmax = r->x.dcvit.latency_batch > 64 ? r->x.dcvit.latency_batch : 64;
    int rc = vit_init_layout(&m, &spec, &lay, Bmax, e);
    snprintf(path, sizeof path, "%s.ckpt", stem);
    if (!rc)
        rc = ckpt_load(path, &m.params, NULL, NULL, "", NULL, e);
    if (!rc)
        compress_row(r, orig, &m, 0, -1, 0, 0, 0, vit_macs(orig), 1);
    vit_free(&m);
    return rc;
}

int compress_start(struct compress_run *c, int argc, char **argv)
{
    struct run *r = &c->r;
    struct kd_err e;
    if (run_start(r, argc, argv, &e) || run_load_data(r, &e))
        die(&e);
    const struct dcvit_cfg *d = &r->x.dcvit;
    int Bmax = r->x.optim.batch > d->latency_batch ? r->x.optim.batch : d->latency_batch;
    if (compress_load_original(&c->t, &c->tx, r, Bmax, &e) || run_csv_open(r, COMPRESS_HEADER, &e))
        die(&e);
    c->cur = &c->t;
    if (!d->reuse[0])
        return 0;
    if (compress_remeasure(r, &c->t, &c->tx, &e) || run_csv_write(r, 1, &e) || run_finish(r, &e))
        die(&e);
    return 1;
}

struct params *compress_model(void *ctx)
{
    return &((struct compress_run *)ctx)->cur->params;
}

int compress_finish(void *ctx, struct kd_err *e)
{
    struct compress_run *c = ctx;
    return compress_save_layout(&c->r, c->cur, e);
}
