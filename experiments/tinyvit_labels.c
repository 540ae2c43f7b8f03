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

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct softlabel_teacher t;
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e))
        die(&e);
    int B = r.x.optim.batch < 1024 ? r.x.optim.batch : 1024;
    if (softlabel_teacher_load(&t, &r, B, &e))
        die(&e);
    if (t.base.net.classes != r.x.model.classes || r.train.classes > t.base.net.classes) {
        kd_err_setfix(&e, KD_ERR_CONFIG, r.x.path, 0, "use a teacher trained on this data set",
                      "the teacher has %d classes, model.classes is %d", t.base.net.classes,
                      r.x.model.classes);
        die(&e);
    }
    int E = r.x.tinyvit.epochs > 0 ? r.x.tinyvit.epochs : r.x.optim.epochs;
    struct softlabel_info info = file_info(&r, &t, E);
    struct augment_cfg aug = run_augment_of(&r.x);
    struct softlabel_writer w;
    int done;
    if (run_csv_open(&r, LABELS_HEADER, &e) || resume_load(&r, NULL, NULL, 0, &done, &e))
        die(&e);
    if (done ? softlabel_writer_resume(&w, run_path(&r, ".bin"), &info, r.train_idx,
                                       (size_t)done * r.n_train, &e)
             : softlabel_writer_open(&w, run_path(&r, ".bin"), &info, r.train_idx, &e))
        die(&e);
    size_t img = (size_t)r.train.h * r.train.w * r.train.c;
    float *images = malloc(sizeof(float) * B * img);
    float *probs = malloc(sizeof(float) * B * t.base.net.classes);
    size_t rec = softlabel_record_bytes(info.k), file = softlabel_file_bytes(&info);
    long spe = (r.n_train + B - 1) / B;
    progress_begin(r.out, E * spe, done * spe, r.x.run.log_every);
    for (int epoch = done; epoch < E; epoch++) {
        double t0 = now_seconds();
        struct softlabel_epoch_stats st;
        softlabel_label_epoch(&w, &r.train, r.train_idx, r.n_train, epoch, &aug,
                              (uint64_t)r.x.run.seed, B, images, probs, label_batch, &t, &st);
        double secs = now_seconds() - t0;
        csv_row(&r.csv, "%d,%d,%u,%zu,%zu,%zu,%.6f,%.6f,%.6f,%.3f,%.1f", epoch + 1, r.n_train,
                info.k, rec * r.n_train, rec, file, st.topk_mass, st.top1_mass, st.teacher_acc,
                secs, r.n_train / secs);
        progress_printf("[%s] labels epoch %d/%d: %d records of %zu bytes, top-%u mass %.4f, "
                        "top-1 mass %.4f, teacher acc %.4f, %.0f img/s\n",
                        r.out, epoch + 1, E, r.n_train, rec, info.k, st.topk_mass, st.top1_mass,
                        st.teacher_acc, r.n_train / secs);
        int every = r.x.run.ckpt_every;
        if (epoch + 1 < E && every > 0 && (epoch + 1) % every == 0 &&
            resume_point(&r, &w, epoch + 1, &e))
            die(&e);
    }
    progress_end();
    if (softlabel_writer_commit(&w, &e) || run_finish(&r, &e) || run_csv_write(&r, 1, &e))
        die(&e);
    resume_clear(&r);
    free(images);
    free(probs);
    softlabel_teacher_free(&t);
    run_free(&r);
    return 0;
}
