/* Initialization from another config's checkpoint (see init_from.h). */
#include "train/init_from.h"
#include "train/run.h"
#include "train/ckpt_params.h"
#include "base/err.h"

#include <stdio.h>

int ref_ckpt_path(char *out, size_t cap, const struct experiment *reader, const char *config,
                  struct kd_err *e)
{
    char stem[512];
    if (run_ref_stem(stem, sizeof stem, NULL, reader, config, e))
        return e->code;
    snprintf(out, cap, "%s.ckpt", stem);
    return 0;
}

int init_from_config(struct params *ps, const struct experiment *x, const char *ref,
                     int require_all, struct kd_err *e)
{
    char path[600];
    struct ckpt_match mt;
    if (ref_ckpt_path(path, sizeof path, x, ref, e) || ckpt_load_matching(path, ps, &mt, e))
        return e->code;
    fprintf(stderr,
            "[%s] from %s: loaded %d tensors, skipped %d%s%s%s, kept %d as "
            "initialized%s%s%s\n",
            x->path, path, mt.loaded, mt.skipped, mt.skipped ? " (first '" : "", mt.first_skipped,
            mt.skipped ? "')" : "", mt.missing, mt.missing ? " (first '" : "", mt.first_missing,
            mt.missing ? "')" : "");
    if (mt.loaded == 0)
        return kd_err_setfix(e, KD_ERR_MISMATCH, x->path, 0,
                             "check that model.* matches the referenced config's",
                             "no tensor of %s fits this model", path);
    if (require_all && mt.missing)
        return kd_err_setfix(e, KD_ERR_MISMATCH, x->path, 0,
                             "the teacher's model.* must match its checkpoint",
                             "'%s' is not in %s with its shape", mt.first_missing, path);
    return 0;
}
