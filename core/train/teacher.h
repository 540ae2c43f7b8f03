/* The teacher of a distillation run, loaded in one place for every experiment: architecture
 * from the `teacher:` config (its model section at the run's scale), weights from
 * interop.teacher_weights when set (a safetensors file written by PyTorch or bin/export, or a
 * kdlab checkpoint), else from that config's own checkpoint
 * results/<scale>/<teacher path>-s<its first seed>.ckpt. With interop.teacher_weights and no
 * `teacher:`, the architecture comes from the config stored in the file (bin/export writes it). */
#ifndef KD_TEACHER_H
#define KD_TEACHER_H

#include "train/net.h"
#include "io/config.h"

struct kd_err;

struct teacher {
    struct experiment x; /* the teacher's config (model.* only when read from the file) */
    struct net net;      /* the network, weights loaded; run it with training = 0 */
    char weights[600];   /* the file the weights came from */
};

/* Where x's teacher weights come from (see above), into out. Errors: neither `teacher:` nor
 * interop.teacher_weights set, or a bad teacher config. */
int teacher_weights_path(char *out, size_t cap, const struct experiment *x, struct kd_err *e);
/* Build x's teacher for batches up to Bmax and load its weights. Errors name the config or the
 * weights file and tensor (missing checkpoint: train it first; wrong shapes: the key). */
int teacher_load(struct teacher *t, const struct experiment *x, int Bmax, struct kd_err *e);
void teacher_free(struct teacher *t);

#endif
