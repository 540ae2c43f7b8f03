/* Teacher loading shared by the distillation experiments: one rule for where the architecture
 * and the weights come from, so a teacher trained outside kdlab works everywhere. */
#include "train/teacher.h"
#include "train/run.h"
#include "train/weights.h"
#include "base/err.h"

#include <string.h>

/* The teacher config at x's scale into t (when x names one). */
static int teacher_config(struct experiment *t, const struct experiment *x, struct kd_err *e)
{
    if (!x->teacher[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "set teacher: configs/teachers/<name>.yaml or "
                             "interop.teacher_weights: <file>.safetensors",
                             "this experiment needs a teacher and names none");
    return config_load(t, x->teacher, x->scale[0] ? x->scale : "quick", 0, NULL, e);
}

int teacher_weights_path(char *out, size_t cap, const struct experiment *x, struct kd_err *e)
{
    if (x->interop.teacher_weights[0]) {
        snprintf(out, cap, "%s", x->interop.teacher_weights);
        return 0;
    }
    struct experiment *t = malloc(sizeof *t);
    if (!t)
        return kd_err_set(e, KD_ERR_NOMEM, x->path, 0, "out of memory");
    char stem[600];
    int rc = teacher_config(t, x, e);
    rc = rc ? rc : run_ref_stem(stem, sizeof stem, t, x, x->teacher, e);
    if (!rc)
        snprintf(out, cap, "%s.ckpt", stem);
    free(t);
    return rc;
}

int teacher_load(struct teacher *t, const struct experiment *x, int Bmax, struct kd_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = teacher_weights_path(t->weights, sizeof t->weights, x, e);
    if (rc)
        return rc;
    if (x->teacher[0])
        rc = teacher_config(&t->x, x, e);
    else
        rc = weights_model_cfg(&t->x, t->weights, e);
    if (!rc)
        rc = net_create_from_weights(&t->net, t->weights, &t->x.model, Bmax, e);
    return rc;
}

void teacher_free(struct teacher *t)
{
    net_destroy(&t->net);
    memset(t, 0, sizeof *t);
}
