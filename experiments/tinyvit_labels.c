/* tinyvit_labels: TinyViT's teacher pass. The teacher named by `teacher:` runs in inference
 * mode over tinyvit.epochs epochs of augmented training images; per (epoch, sample) the
 * augmentation seed and the top-K softmax probabilities go to STEM.bin (core/data/softlabel.h).
 * Epochs are independent: each record depends on (run.seed, epoch, sample) alone.
 * Writes STEM.bin, STEM.csv (one row per epoch: bytes, bytes per sample, the mass of the K stored
 * values and of the top-1 alone (a teacher trained with label smoothing 0.1 stays near 0.9),
 * seconds), STEM.yaml, STEM.meta. A stopped run resumes after its last finished epoch:
 * STEM.part.csv and STEM.part.ckpt (the config and epoch; no tensors) mark how much of STEM.bin.tmp
 * is whole. */
#include "kd.h"
#include "data/softlabel.h"
#include "train/run.h"
#include "train/resume.h"
#include "train/softlabel_teacher.h"
#include "base/runtime.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>

#define LABELS_HEADER                                                                              \
    "epoch,samples,k,bytes,bytes_per_sample,file_bytes,topk_mass,top1_mass,teacher_acc,seconds,"   \
    "img_per_s"

/* The header of the file: what a student checks before replaying it. */
static struct softlabel_info file_info(const struct run *r, const struct softlabel_teacher *t,
                                       int epochs)
{
    struct augment_cfg aug = run_augment_of(&r->x);
    return (struct softlabel_info){.k = (uint32_t)r->x.tinyvit.topk,
                                   .epochs = (uint32_t)epochs,
                                   .samples = (uint32_t)r->n_train,
                                   .classes = (uint32_t)t->base.net.classes,
                                   .data_n = (uint32_t)r->train.n,
                                   .crop_pad = (uint32_t)r->x.data.crop_pad,
                                   .flip = (uint32_t)r->x.data.flip,
                                   .base_seed = (uint64_t)r->x.run.seed,
                                   .teacher_hash = t->hash,
                                   .aug_hash = augment_hash(&aug)};
}

/* A resume point after `done` epochs: their records reach the file before the point that
 * counts them. */
static int resume_point(struct run *r, struct softlabel_writer *w, int done, struct kd_err *e)
{
    if (fflush(w->af.f) != 0)
        return kd_err_set(e, KD_ERR_IO, w->af.tmp, 0, "cannot write (disk full?)");
    return resume_save(r, NULL, NULL, 0, done, 0, e);
}

/* The teacher on one batch, counted as a step of the bar. */
static void label_batch(void *ctx, const float *images, int B, float *probs)
{
    softlabel_teacher_probs(ctx, images, B, probs);
    progress_step(NAN, B);
}

/* One labels pass: the run, its teacher, the file being written and the batch buffers. */
struct labels {
    struct run r;
    struct softlabel_teacher t;
    struct softlabel_writer w;
    struct softlabel_info info;
    struct augment_cfg aug;
    int B, E;      /* batch, epochs */
    float *images; /* (B, h, w, c) */
    float *probs;  /* (B, classes) */
    size_t rec;    /* bytes of a record */
    size_t file;   /* bytes of the finished file */
};

/* The run, its data and its teacher, which must know the data's classes; dies on error. */
static void labels_setup(struct labels *L, int argc, char **argv)
{
    struct kd_err e;
    struct run *r = &L->r;
    if (run_start(r, argc, argv, &e) || run_load_data(r, &e))
        die(&e);
    L->B = r->x.optim.batch < 1024 ? r->x.optim.batch : 1024;
    if (softlabel_teacher_load(&L->t, r, L->B, &e))
        die(&e);
    if (L->t.base.net.classes != r->x.model.classes || r->train.classes > L->t.base.net.classes) {
        kd_err_setfix(&e, KD_ERR_CONFIG, r->x.path, 0, "use a teacher trained on this data set",
                      "the teacher has %d classes, model.classes is %d", L->t.base.net.classes,
                      r->x.model.classes);
        die(&e);
    }
    L->E = r->x.tinyvit.epochs > 0 ? r->x.tinyvit.epochs : r->x.optim.epochs;
    L->info = file_info(r, &L->t, L->E);
    L->aug = run_augment_of(&r->x);
}

/* The file from its start, or after the `done` epochs a stopped run finished; dies on error. */
static void labels_open(struct labels *L, int done)
{
    struct kd_err e;
    struct run *r = &L->r;
    if (done ? softlabel_writer_resume(&L->w, run_path(r, ".bin"), &L->info, r->train_idx,
                                       (size_t)done * r->n_train, &e)
             : softlabel_writer_open(&L->w, run_path(r, ".bin"), &L->info, r->train_idx, &e))
        die(&e);
    size_t img = (size_t)r->train.h * r->train.w * r->train.c;
    L->images = malloc(sizeof(float) * L->B * img);
    L->probs = malloc(sizeof(float) * L->B * L->t.base.net.classes);
    L->rec = softlabel_record_bytes(L->info.k);
    L->file = softlabel_file_bytes(&L->info);
}

/* Epoch `epoch`'s records, its CSV row and its progress line. */
static void labels_epoch(struct labels *L, int epoch)
{
    struct run *r = &L->r;
    double t0 = now_seconds();
    struct softlabel_epoch_stats st;
    softlabel_label_epoch(&L->w, &r->train, r->train_idx, r->n_train, epoch, &L->aug,
                          (uint64_t)r->x.run.seed, L->B, L->images, L->probs, label_batch, &L->t,
                          &st);
    double secs = now_seconds() - t0;
    csv_row(&r->csv, "%d,%d,%u,%zu,%zu,%zu,%.6f,%.6f,%.6f,%.3f,%.1f", epoch + 1, r->n_train,
            L->info.k, L->rec * r->n_train, L->rec, L->file, st.topk_mass, st.top1_mass,
            st.teacher_acc, secs, r->n_train / secs);
    progress_printf("[%s] labels epoch %d/%d: %d records of %zu bytes, top-%u mass %.4f, "
                    "top-1 mass %.4f, teacher acc %.4f, %.0f img/s\n",
                    r->out, epoch + 1, L->E, r->n_train, L->rec, L->info.k, st.topk_mass,
                    st.top1_mass, st.teacher_acc, r->n_train / secs);
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct labels L;
    struct run *r = &L.r;
    int done;
    labels_setup(&L, argc, argv);
    if (run_csv_open(r, LABELS_HEADER, &e) || resume_load(r, NULL, NULL, 0, &done, &e))
        die(&e);
    labels_open(&L, done);
    long spe = (r->n_train + L.B - 1) / L.B;
    progress_begin(r->out, L.E * spe, done * spe, r->x.run.log_every);
    for (int epoch = done; epoch < L.E; epoch++) {
        labels_epoch(&L, epoch);
        int every = r->x.run.ckpt_every;
        if (epoch + 1 < L.E && every > 0 && (epoch + 1) % every == 0 &&
            resume_point(r, &L.w, epoch + 1, &e))
            die(&e);
    }
    progress_end();
    if (softlabel_writer_commit(&L.w, &e) || run_finish(r, &e) || run_csv_write(r, 1, &e))
        die(&e);
    resume_clear(r);
    free(L.images);
    free(L.probs);
    softlabel_teacher_free(&L.t);
    run_free(r);
    return 0;
}
