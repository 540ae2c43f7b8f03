/* tinyvit_distill: TinyViT's pretraining distillation of any model.arch student (train/fit.h).
 * Stored mode (tinyvit.softlabels: a tinyvit_labels config): each batch is rebuilt from the
 * records' seeds, so the student sees exactly the teacher's images, and the dense label from
 * the first tinyvit.topk stored entries; student epoch e replays stored epoch e mod E.
 * Online mode (tinyvit.online: true): the `teacher:` runs on the same images in the loop, with
 * the same top-K truncation (and f16 rounding). When both are set, the stored labels of every
 * batch are also decoded beside the online ones: both times and their ratio, and a check that
 * the images are identical. Loss: soft cross-entropy, temperature 1, plus tinyvit.gt_weight x
 * cross-entropy with the true labels. STEM.csv: fit's columns, then the label cost of the epoch
 * (seconds of label work, bytes) and its check (online images unlike their replay, largest label
 * difference). */
#include "kd.h"
#include "data/softlabel.h"
#include "loss/loss.h"
#include "train/fit.h"
#include "train/softlabel_teacher.h"
#include "base/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COST_COLS                                                                                  \
    ",online,k,label_s,stored_label_s,online_label_s,online_over_stored_s,bytes_per_sample,"       \
    "label_file_bytes,replay_mismatch,label_maxdiff"

struct distill {
    struct run *r;
    int have_file, online, k, C;
    struct softlabel_file file;
    struct softlabel_teacher teacher;
    struct augment_cfg aug;        /* the student's augmentation, the file's as checked */
    uint64_t seed_base;            /* seeds of online images: the file's run seed, else run.seed */
    int label_epochs;              /* E: epoch e uses labels of e mod E (0: e itself) */
    float *dense;                  /* (B, C) the batch's labels */
    float *probs;                  /* (B, C) online teacher probabilities */
    float *chk_images, *chk_dense; /* (B, h, w, c), (B, C): stored replay beside online */
    int *chk_labels;               /* (B) */
    double stored_s, online_s;     /* this epoch's seconds of label work of each kind */
    double mismatch;   /* this epoch's online images that differ from the stored replay */
    double maxdiff;    /* this epoch's largest |online - stored| dense label entry */
    long mismatch_run; /* mismatch over the whole run (this process's part of it) */
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
    if (!D->online) {
        batch_stored(D, images, labels, idx, B, le, &D->stored_s);
        return;
    }
    batch_online(D, images, labels, idx, B, le, &D->online_s);
    if (!D->have_file)
        return;
    float *keep = D->dense;
    D->dense = D->chk_dense;
    batch_stored(D, D->chk_images, D->chk_labels, idx, B, le, &D->stored_s);
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
        loss += x->tinyvit.gt_weight * ce_loss(dlogits, n->logits, labels, x->optim.label_smoothing,
                                               x->tinyvit.gt_weight, B, n->classes);
    return loss;
}

/* The student must augment as the labels pass did: compare every augmentation key by name (the
 * file's header then confirms that the file was made under them). */
static int same_augment(const struct experiment *x, const struct experiment *lx, struct kd_err *e)
{
    static const char *keys[] = {"data.crop_pad",  "data.flip",      "data.rrc_scale_min",
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
                                 "replay the teacher's images",
                                 keys[i], a, lx->path, b);
    }
    return 0;
}

/* Open and check the soft-label file of tinyvit.softlabels; the student trains on its samples. */
static int open_labels(struct distill *D, struct kd_err *e)
{
    struct run *r = D->r;
    struct experiment lx;
    char stem[512], path[600];
    if (run_ref_stem(stem, sizeof stem, &lx, &r->x, r->x.tinyvit.softlabels, e) ||
        same_augment(&r->x, &lx, e))
        return e->code;
    snprintf(path, sizeof path, "%s.bin", stem);
    if (softlabel_open(&D->file, path, e))
        return e->code;
    struct softlabel_need need = {(uint32_t)D->k,
                                  (uint32_t)r->x.tinyvit.epochs,
                                  (uint32_t)r->n_train,
                                  (uint32_t)r->x.model.classes,
                                  (uint32_t)r->x.data.crop_pad,
                                  (uint32_t)r->x.data.flip,
                                  D->online ? D->teacher.hash : 0,
                                  augment_hash(&D->aug)};
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
    D->dense = malloc(sizeof(float) * n);
    D->probs = malloc(sizeof(float) * n);
    D->chk_dense = malloc(sizeof(float) * n);
    D->chk_images = malloc(sizeof(float) * B * img);
    D->chk_labels = malloc(sizeof(int) * B);
    if (!D->dense || !D->probs || !D->chk_dense || !D->chk_images || !D->chk_labels)
        return kd_err_set(e, KD_ERR_NOMEM, r->x.path, 0, "out of memory for the labels");
    return 0;
}

/* The label cost and check of the epoch just trained (NaN: a kind of label work it did not do),
 * then counted from zero for the next. */
static void cost_cells(void *ctx, int epoch, char *out, size_t cap)
{
    struct distill *D = ctx;
    size_t rec = D->have_file && !D->online ? softlabel_record_bytes(D->file.info.k) : 0;
    size_t bytes = D->have_file && !D->online ? D->file.len : 0;
    double s = D->have_file ? D->stored_s : NAN, o = D->online ? D->online_s : NAN;
    snprintf(out, cap, ",%d,%d,%.4f,%.4f,%.4f,%.2f,%zu,%zu,%.0f,%.3g", D->online, D->k,
             D->online ? o : s, s, o, o / s, rec, bytes, D->mismatch, D->maxdiff);
    D->mismatch_run += (long)D->mismatch;
    D->stored_s = D->online_s = D->maxdiff = 0;
    D->mismatch = 0;
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
    struct fit_hooks hooks = {&D,
                              distill_loss,
                              distill_batch,
                              COST_COLS,
                              cost_cells,
                              .mid_epoch = 1,
                              .tally = {&D.stored_s, &D.online_s, &D.mismatch, &D.maxdiff},
                              .n_tally = 4};
    if (fit(&r, &n, &hooks, &e))
        die(&e);
    if (D.mismatch_run)
        fprintf(stderr, "[%s] warning: %ld online images differ from the stored replay\n", r.out,
                D.mismatch_run);
    net_destroy(&n);
    if (D.online)
        softlabel_teacher_free(&D.teacher);
    if (D.have_file)
        softlabel_close(&D.file);
    free(D.dense), free(D.probs), free(D.chk_dense), free(D.chk_images), free(D.chk_labels);
    run_free(&r);
    return 0;
}
