/* TinyViT's stored sparse soft labels: one packed, mmap-able file per teacher pass. A teacher
 * runs once over E epochs of augmented training images; per (epoch, sample) a fixed-size record
 * `seed (u32) | K class indices (u16) | K probabilities (IEEE half)` keeps the augmentation seed
 * (the image is rebuilt from it alone) and the top-K of the teacher's softmax, sorted descending.
 * The header keeps the crop and flip settings and a hash of the strong augmentation's (RandAugment,
 * erasing, resized crop), in bytes that older files hold as zero: no strong augmentation.
 * Layout (little-endian), CRC32 (zlib) of every byte before the trailer:
 *   header (64 bytes) | samples x u32 data set index | epochs x samples records | u32 crc */
#ifndef KD_SOFTLABEL_H
#define KD_SOFTLABEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/fsio.h"
#include "data/dataset.h"

struct kd_err;

#define SOFTLABEL_VERSION 1
#define SOFTLABEL_HEADER_BYTES 64
#define SOFTLABEL_MAX_K 1024

/* What a file holds and was made under; the first 64 bytes of the file, field by field. */
struct softlabel_info {
    uint32_t k;            /* classes kept per record */
    uint32_t epochs;       /* E: augmentation epochs stored */
    uint32_t samples;      /* records per epoch (the training subset) */
    uint32_t classes;      /* C of the teacher's output */
    uint32_t data_n;       /* images in the data set the indices refer to */
    uint32_t crop_pad;     /* augmentation: random crop padding, pixels */
    uint32_t flip;         /* augmentation: random horizontal flip (0/1) */
    uint64_t base_seed;    /* run seed the per-record seeds were derived from */
    uint64_t teacher_hash; /* the teacher's weights: file size << 32 ^ crc32 */
    uint32_t aug_hash;     /* augment_hash of the strong augmentation (0: none) */
};

/* Bytes of one record: 4 + 4K. */
static inline size_t softlabel_record_bytes(uint32_t k)
{
    return 4 + 4 * (size_t)k;
}
/* Bytes of a whole file of info's sizes, trailer included. */
size_t softlabel_file_bytes(const struct softlabel_info *info);

/* IEEE 754 binary16 <-> binary32, round to nearest even; Inf, NaN and subnormals kept. */
uint16_t softlabel_f16_from_f32(float f);
float softlabel_f32_from_f16(uint16_t h);

/* Top-K of probs (C): indices sorted by descending probability (ties: lower index first), the
 * values as half floats. K <= C. */
void softlabel_topk(uint16_t *idx, uint16_t *val, const float *probs, int C, int K);
/* Dense label (C) as the paper rebuilds it: the K stored values at their indices, every other
 * class (1 - sum of the K values) / (C - K). */
void softlabel_dense(float *out, const uint16_t *idx, const uint16_t *val, int C, int K);

/* Writer: records must come in (epoch, sample position) order. Goes through atomic_file, so a
 * killed run leaves no partial file under the final name. */
struct softlabel_writer {
    struct atomic_file af;
    struct softlabel_info info;
    unsigned long crc; /* running zlib crc32 */
    size_t written;    /* records so far */
};
/* Open path and write the header and the sample index table (info->samples entries). */
int softlabel_writer_open(struct softlabel_writer *w, const char *path,
                          const struct softlabel_info *info, const int *index, struct kd_err *e);
/* Continue the unfinished file of a stopped run (path's .tmp; or path itself when the run was
 * stopped between committing it and clearing its resume point) after its first `records`
 * records: its header and index table must be the ones softlabel_writer_open would write; any
 * record after those is dropped. Returns 0 or KD_ERR_FORMAT naming the file. */
int softlabel_writer_resume(struct softlabel_writer *w, const char *path,
                            const struct softlabel_info *info, const int *index, size_t records,
                            struct kd_err *e);
/* One record; idx and val hold info.k entries each. */
void softlabel_writer_put(struct softlabel_writer *w, uint32_t seed, const uint16_t *idx,
                          const uint16_t *val);
/* Check the record count, write the CRC and rename into place. Returns 0 or KD_ERR_*. */
int softlabel_writer_commit(struct softlabel_writer *w, struct kd_err *e);
void softlabel_writer_abort(struct softlabel_writer *w);

/* Reader over an mmap of the file. */
struct softlabel_file {
    char path[512];
    struct softlabel_info info;
    const uint8_t *map; /* the whole file */
    size_t len;
    const uint8_t *records; /* first record */
    int *pos_of;            /* (data_n) data set index -> sample position, -1 when absent */
    int *index;             /* (samples) sample position -> data set index */
};
/* mmap path and validate magic, version, sizes against the file length, the CRC and the index
 * table. Errors name the file and say how to rebuild it. */
int softlabel_open(struct softlabel_file *f, const char *path, struct kd_err *e);
void softlabel_close(struct softlabel_file *f);

/* What a student needs of a file: k_min classes per record (it keeps the first k_min), at
 * least epochs_min epochs (0: any), `samples` records per epoch, `classes` outputs, the same
 * augmentation, and (when teacher_hash != 0) the same teacher. Returns 0 or KD_ERR_MISMATCH
 * with a one-line reason naming the file, and `config` (the student's YAML) in the fix. */
struct softlabel_need {
    uint32_t k, epochs_min, samples, classes, crop_pad, flip;
    uint64_t teacher_hash;
    uint32_t aug_hash; /* augment_hash of the student's augmentation */
};
int softlabel_check(const struct softlabel_file *f, const struct softlabel_need *need,
                    const char *config, struct kd_err *e);

/* Record of (epoch, position): its seed, and K indices and values (unaligned: use memcpy). */
const uint8_t *softlabel_record(const struct softlabel_file *f, int epoch, int pos);
uint32_t softlabel_record_seed(const uint8_t *rec);
/* The first k entries of a record of a file with kf entries, copied out. */
void softlabel_record_topk(uint16_t *idx, uint16_t *val, const uint8_t *rec, int kf, int k);

/* ---- softlabel_replay.c: the augmentation both sides agree on ---- */

/* A record's seed: a pure function of (run seed, epoch, data set index). */
uint32_t softlabel_sample_seed(uint64_t run_seed, int epoch, int sample);
/* The augmented, normalized image of data set sample j under record seed `seed` alone:
 * augment_draw(cfg, seed, epoch 0, sample 0), then augment_apply. out is (h, w, c). */
void softlabel_image(float *out, const struct dataset *d, int j, const struct augment_cfg *cfg,
                     uint32_t seed);

/* A teacher as a callback: probs (B, C) = softmax of its logits on images (B, h, w, c). */
typedef void (*softlabel_teacher_fn)(void *ctx, const float *images, int B, float *probs);

/* Statistics of one labelled epoch. */
struct softlabel_epoch_stats {
    double topk_mass;   /* mean of the sum of the K stored values */
    double top1_mass;   /* mean of the teacher's highest probability (float, before f16) */
    double teacher_acc; /* teacher's top-1 against the true labels, augmented images */
};
/* Label one epoch: for positions 0..n-1 of `samples` in batches of Bmax, build each image from
 * its seed, run the teacher, append the records. images (Bmax, h, w, c), probs (Bmax, C) and
 * seeds (Bmax) are the caller's buffers. */
void softlabel_label_epoch(struct softlabel_writer *w, const struct dataset *d, const int *samples,
                           int n, int epoch, const struct augment_cfg *cfg, uint64_t run_seed,
                           int Bmax, float *images, float *probs, softlabel_teacher_fn teacher,
                           void *ctx, struct softlabel_epoch_stats *st);
/* The student's side: images and true labels of data set samples idx[0..B-1] at stored epoch
 * `epoch` (callers pass e mod E), rebuilt from the records' seeds under augmentation cfg (the
 * file's: softlabel_check has compared it), and when dense is not NULL the dense labels (B, C)
 * from the first k stored entries. Every idx must be in the file (softlabel_check and the
 * student's subset guarantee it). */
void softlabel_replay_batch(const struct softlabel_file *f, const struct dataset *d,
                            const struct augment_cfg *cfg, const int *idx, int B, int epoch, int k,
                            float *images, int *labels, float *dense);

#endif
