/* Parameter sets and optimizers <-> checkpoint buffers (see ckpt_params.h). */
#include "train/ckpt_params.h"
#include "train/optim.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

/* One buffer per parameter of sets[0..n_sets), in order, with the moments of opts[s] where
 * given (an optimizer's moments are laid out like its set's value block). malloc'd, *n
 * entries; NULL when out of memory. */
static struct ckpt_buf *bufs_of(struct params *const *sets, struct optim *const *opts, int n_sets,
                                int *n)
{
    *n = 0;
    for (int s = 0; s < n_sets; s++)
        *n += sets[s]->n;
    struct ckpt_buf *bufs = calloc(*n ? *n : 1, sizeof *bufs);
    for (int s = 0, k = 0; bufs && s < n_sets; s++) {
        const struct optim *o = opts ? opts[s] : NULL;
        for (int i = 0; i < sets[s]->n; i++, k++) {
            const struct param *p = &sets[s]->p[i];
            struct ckpt_buf *b = &bufs[k];
            b->name = p->name;
            b->ndim = p->ndim;
            memcpy(b->shape, p->shape, sizeof p->shape);
            b->n = p->n;
            b->w = *p->w;
            if (o) {
                size_t off = (size_t)(*p->w - params_values(sets[s]));
                b->m = o->m + off;
                b->v = o->v + off;
            }
        }
    }
    return bufs;
}

int ckpt_save_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *config_text, const struct ckpt_info *info,
                   struct kd_err *e)
{
    int n, has_moments = 0;
    for (int s = 0; opts && s < n_sets; s++)
        has_moments |= opts[s] != NULL;
    struct ckpt_buf *bufs = bufs_of(sets, opts, n_sets, &n);
    if (!bufs)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    int rc = ckpt_write(path, bufs, n, has_moments, config_text, info, e);
    free(bufs);
    return rc;
}

int ckpt_save(const char *path, struct params *ps, const struct optim *o, const char *config_text,
              const struct ckpt_info *info, struct kd_err *e)
{
    /* ckpt_save_sets only reads the moments: the cast fits the shared signature. */
    struct optim *opt = (struct optim *)o;
    return ckpt_save_sets(path, &ps, &opt, 1, config_text, info, e);
}

int ckpt_load_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *expect_config, const char *key_prefix,
                   struct ckpt_info *info, struct kd_err *e)
{
    int n;
    struct ckpt_info got;
    struct ckpt_buf *bufs = bufs_of(sets, opts, n_sets, &n);
    if (!bufs)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    int rc = ckpt_read(path, bufs, n, expect_config, key_prefix, &got, e);
    free(bufs);
    if (rc)
        return rc;
    if (info)
        *info = got;
    for (int s = 0; opts && s < n_sets; s++)
        if (opts[s])
            opts[s]->step = got.step;
    return 0;
}

int ckpt_load(const char *path, struct params *ps, struct optim *o, const char *expect_config,
              const char *key_prefix, struct ckpt_info *info, struct kd_err *e)
{
    return ckpt_load_sets(path, &ps, &o, 1, expect_config, key_prefix, info, e);
}

int ckpt_load_matching(const char *path, struct params *ps, struct ckpt_match *mt, struct kd_err *e)
{
    int n;
    struct ckpt_buf *bufs = bufs_of(&ps, NULL, 1, &n);
    if (!bufs)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    int rc = ckpt_read_matching(path, bufs, n, mt, e);
    free(bufs);
    return rc;
}
