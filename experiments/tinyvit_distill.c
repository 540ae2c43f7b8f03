/* tinyvit_distill: TinyViT's pretraining distillation of any model.arch student with fit().
 * Stored mode (tinyvit.softlabels: a tinyvit_labels config): each batch is rebuilt from the
 * records' seeds, so the student sees exactly the teacher's images, and the dense label from
 * the first tinyvit.topk stored entries; student epoch e replays stored epoch e mod E.
 * Online mode (tinyvit.online: true): the `teacher:` runs on the same images in the loop, with
 * the same top-K truncation (and f16 rounding). When both are set, the stored labels of every
 * batch are also decoded beside the online ones: both times and their ratio, and a check that
 * the images are identical. Loss: soft cross-entropy, temperature 1, plus tinyvit.gt_weight x
 * cross-entropy with the true labels. STEM.csv: fit()'s columns, then the label cost. */
#include "kd.h"
#include "data/softlabel.h"
#include "loss/loss.h"
#include "train/fit.h"
#include "train/softlabel_teacher.h"
#include "base/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EXTRA_HEADER                                                                           \
    "online,k,label_s,stored_label_s,online_label_s,online_over_stored_s,bytes_per_sample,"     \
    "label_file_bytes,replay_mismatch,label_maxdiff"

struct distill {
    struct run *r;
    int have_file, online, k, C;
    struct softlabel_file file;
    struct softlabel_teacher teacher;
    struct augment_cfg aug;  /* the student's augmentation, the file's as checked */
    uint64_t seed_base;      /* seeds of online images: the file's run seed, else run.seed */
    int label_epochs;        /* E: epoch e uses labels of e mod E (0: e itself) */
    float *dense;            /* (B, C) the batch's labels */
    float *probs;            /* (B, C) online teacher probabilities */
    float *chk_images, *chk_dense; /* (B, h, w, c), (B, C): stored replay beside online */
    int *chk_labels;         /* (B) */
    double *stored_s, *online_s; /* (epochs) seconds of label work, NaN when not measured */
    long mismatch;           /* online images that differ from the stored replay */
    double maxdiff;          /* largest |online - stored| dense label entry */
};

static void batch_stored(struct distill *D, float *images, int *labels, const int *idx, int B,
                         int le, double *secs)
{
    double t0 = now_seconds();
    softlabel_replay_batch(&D->file, &D->r->train, &D->aug, idx, B, le, D->k, images, labels,
                           D->dense);
    *secs += now_seconds() - t0;
}

static void batch_online(struct distill *D, float *images, int *labels, const int *idx, int B,
                         int le, double *secs)
{
    const struct dataset *d = &D->r->train;
    size_t img = (size_t)d->h * d->w * d->c;
    uint16_t ti[SOFTLABEL_MAX_K], tv[SOFTLABEL_MAX_K];
    double t0 = now_seconds();
    for (int i = 0; i < B; i++) {
        softlabel_image(images + i * img, d, idx[i], &D->aug,
                        softlabel_sample_seed(D->seed_base, le, idx[i]));
        labels[i] = d->labels[idx[i]];
    }
    softlabel_teacher_probs(&D->teacher, images, B, D->probs);
    for (int i = 0; i < B; i++) {
        softlabel_topk(ti, tv, D->probs + (size_t)i * D->C, D->C, D->k);
        softlabel_dense(D->dense + (size_t)i * D->C, ti, tv, D->C, D->k);
    }
    *secs += now_seconds() - t0;
}

static void distill_batch(void *ctx, float *images, int *labels, const int *idx, int B, int epoch)
{
    struct distill *D = ctx;
    int le = D->label_epochs > 0 ? epoch % D->label_epochs : epoch;
    if (isnan(D->stored_s[epoch]) && D->have_file)
        D->stored_s[epoch] = 0;
    if (isnan(D->online_s[epoch]) && D->online)
        D->online_s[epoch] = 0;
    if (!D->online) {
        batch_stored(D, images, labels, idx, B, le, &D->stored_s[epoch]);
        return;
    }
    batch_online(D, images, labels, idx, B, le, &D->online_s[epoch]);
    if (!D->have_file)
        return;
    float *keep = D->dense;
    D->dense = D->chk_dense;
    batch_stored(D, D->chk_images, D->chk_labels, idx, B, le, &D->stored_s[epoch]);
    D->dense = keep;
    const struct dataset *d = &D->r->train;
    size_t img = (size_t)d->h * d->w * d->c;
    for (int i = 0; i < B; i++)
        D->mismatch += memcmp(images + i * img, D->chk_images + i * img, img * sizeof(float)) != 0;
    for (size_t j = 0; j < (size_t)B * D->C; j++) {
        double diff = fabs((double)D->dense[j] - D->chk_dense[j]);
        D->maxdiff = diff > D->maxdiff ? diff : D->maxdiff;
    }
}

static float distill_loss(void *ctx, struct net *n, float *dlogits, const int *labels,
                          const int *idx, int B, int epoch)
{
    struct distill *D = ctx;
    const struct experiment *x = &D->r->x;
    float loss = soft_ce_loss(dlogits, n->logits, D->dense, 1.0f, B, n->classes);
    if (x->tinyvit.gt_weight > 0)
        loss += x->tinyvit.gt_weight * ce_loss(dlogits, n->logits, labels,
                                               x->optim.label_smoothing, x->tinyvit.gt_weight,
                                               B, n->classes);
    return loss;
}

/* The student must augment as the labels pass did: compare every augmentation key by name (the
 * file's header then confirms that the file was made under them). */
static int same_augment(const struct experiment *x, const struct experiment *lx, struct kd_err *e)
{
    static const char *keys[] = {"data.crop_pad", "data.flip", "data.rrc_scale_min",
                                 "data.randaug_n", "data.randaug_m", "data.randaug_mstd",
                                 "data.erase_prob"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char a[64], b[64];
        config_get(x, keys[i], a, sizeof a);
        config_get(lx, keys[i], b, sizeof b);
        if (strcmp(a, b) != 0)
            return kd_err_setfix(e, KD_ERR_MISMATCH, x->path, 0,
                                 "give both configs the same data augmentation keys",
                                 "%s is %s, the labels pass %s has %s: the student would not "
                                 "replay the teacher's images", keys[i], a, lx->path, b);
    }
    return 0;
}

/* Open and check the soft-label file of tinyvit.softlabels; the student trains on its samples. */
static int open_labels(struct distill *D, struct kd_err *e)
{
    struct run *r = D->r;
    struct experiment lx;
    char stem[512], path[600];
    if (run_ref_stem(stem, sizeof stem, &lx, r->x.tinyvit.softlabels, r->x.scale, -1, e) ||
        same_augment(&r->x, &lx, e))
        return e->code;
    snprintf(path, sizeof path, "%s.bin", stem);
    if (softlabel_open(&D->file, path, e))
        return e->code;
    struct softlabel_need need = {
        (uint32_t)D->k, (uint32_t)r->x.tinyvit.epochs, (uint32_t)r->n_train,
        (uint32_t)r->x.model.classes, (uint32_t)r->x.data.crop_pad, (uint32_t)r->x.data.flip,
        D->online ? D->teacher.hash : 0, augment_hash(&D->aug)};
    if (softlabel_check(&D->file, &need, r->x.path, e))
        return e->code;
    if ((int)D->file.info.data_n != r->train.n)
        return kd_err_setfix(e, KD_ERR_MISMATCH, path, 0, "use the same data.set and data.dir",
                             "indexes a data set of %u images, this one has %d",
                             D->file.info.data_n, r->train.n);
    memcpy(r->train_idx, D->file.index, sizeof(int) * r->n_train);
    D->have_file = 1;
    D->seed_base = D->file.info.base_seed;
    D->label_epochs = (int)D->file.info.epochs;
    return 0;
}

static int distill_setup(struct distill *D, struct run *r, struct kd_err *e)
{
    memset(D, 0, sizeof *D);
    D->r = r;
    D->online = r->x.tinyvit.online;
    D->k = r->x.tinyvit.topk;
    D->aug = run_augment_of(&r->x);
    D->C = r->x.model.classes;
    D->seed_base = (uint64_t)r->x.run.seed;
    D->label_epochs = r->x.tinyvit.epochs;
    int B = r->x.optim.batch;
    if (!D->online && !r->x.tinyvit.softlabels[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0,
                             "set tinyvit.softlabels: <a tinyvit_labels config> or "
                             "tinyvit.online: true",
                             "no soft labels: neither a file nor an online teacher");
    if (D->k > D->C)
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0, "set tinyvit.topk <= model.classes",
                             "tinyvit.topk %d exceeds model.classes %d", D->k, D->C);
    if (D->online && softlabel_teacher_load(&D->teacher, r, B, e))
        return e->code;
    if (D->online && D->teacher.base.net.classes != D->C)
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0, "use a teacher of model.classes",
                             "the teacher has %d classes, the student %d",
                             D->teacher.base.net.classes, D->C);
    if (r->x.tinyvit.softlabels[0] && open_labels(D, e))
        return e->code;
    size_t img = (size_t)r->train.h * r->train.w * r->train.c, n = (size_t)B * D->C;
    int E = r->x.optim.epochs;
    D->dense = malloc(sizeof(float) * n);
    D->probs = malloc(sizeof(float) * n);
    D->chk_dense = malloc(sizeof(float) * n);
    D->chk_images = malloc(sizeof(float) * B * img);
    D->chk_labels = malloc(sizeof(int) * B);
    D->stored_s = malloc(sizeof(double) * E);
    D->online_s = malloc(sizeof(double) * E);
    for (int i = 0; i < E; i++)
        D->stored_s[i] = D->online_s[i] = NAN;
    return 0;
}

/* STEM.csv again, each row of fit()'s followed by the label cost of its epoch. */
static int write_cost(struct distill *D, struct kd_err *e)
{
    struct run *r = D->r;
    struct csv_table t;
    struct csv out;
    if (csv_read(&t, run_path(r, ".csv"), e))
        return e->code;
    char header[1024], row[2048];
    snprintf(header, sizeof header, "%s,%s", r->csv.header, EXTRA_HEADER);
    int rc = csv_open(&out, run_path(r, ".csv"), header, e);
    size_t rec = D->have_file && !D->online ? softlabel_record_bytes(D->file.info.k) : 0;
    size_t bytes = D->have_file && !D->online ? D->file.len : 0;
    for (int i = 0; !rc && i < t.n_rows; i++) {
        row[0] = '\0';
        for (int c = 0; c < t.n_cols; c++)
            snprintf(row + strlen(row), sizeof row - strlen(row), "%s%s", c ? "," : "",
                     csv_cell(&t, i, c));
        int ep = (int)csv_num(&t, i, 0) - 1;
        double s = ep >= 0 && ep < r->x.optim.epochs ? D->stored_s[ep] : NAN;
        double o = ep >= 0 && ep < r->x.optim.epochs ? D->online_s[ep] : NAN;
        csv_row(&out, "%s,%d,%d,%.4f,%.4f,%.4f,%.2f,%zu,%zu,%ld,%.3g", row, D->online, D->k,
                D->online ? o : s, s, o, o / s, rec, bytes, D->mismatch, D->maxdiff);
    }
    if (!rc)
        rc = csv_write(&out, NULL, e);
    csv_free(&out);
    csv_table_free(&t);
    return rc;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct net n;
    struct distill D;
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e))
        die(&e);
    if (distill_setup(&D, &r, &e))
        die(&e);
    if (net_create(&n, &r.x.model, r.x.optim.batch, (uint64_t)r.x.run.seed, &e))
        die(&e);
    struct fit_loss loss = {&D, distill_loss};
    struct fit_batch batch = {&D, distill_batch};
    if (fit_batched(&r, &n, &loss, &batch, &e) || write_cost(&D, &e))
        die(&e);
    if (D.mismatch)
        fprintf(stderr, "[%s] warning: %ld online images differ from the stored replay\n", r.out,
                D.mismatch);
    net_destroy(&n);
    if (D.online)
        softlabel_teacher_free(&D.teacher);
    if (D.have_file)
        softlabel_close(&D.file);
    free(D.dense), free(D.probs), free(D.chk_dense), free(D.chk_images), free(D.chk_labels);
    free(D.stored_s), free(D.online_s);
    run_free(&r);
    return 0;
}
