/* Architecture dispatch: wraps each model's forward/backward behind struct net. */
#include "train/net.h"
#include "models/vit.h"
#include "models/tinyvit.h"
#include "train/model_spec.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static void vit_fwd(void *impl, const float *images, int B, int training, uint64_t seed, int step)
{
    vit_forward(impl, images, B, training, seed, step);
}

static void vit_bwd(void *impl, const float *d_logits, int B)
{
    vit_backward(impl, d_logits, NULL, B);
}

static void vit_destroy(void *impl)
{
    vit_free(impl);
    free(impl);
}

int net_create_vit_spec(struct net *n, const struct vit_spec *spec, int Bmax, uint64_t seed,
                        struct kd_err *e)
{
    memset(n, 0, sizeof *n);
    n->arch = ARCH_VIT;
    n->Bmax = Bmax;
    struct vit *m = calloc(1, sizeof *m);
    if (!m)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    int rc = vit_init(m, spec, Bmax, e);
    if (rc) {
        vit_free(m);
        free(m);
        return rc;
    }
    vit_reset(m, seed);
    n->impl = m;
    n->params = &m->params;
    n->logits = m->logits;
    n->classes = m->classes;
    n->macs = vit_macs(m);
    n->forward = vit_fwd;
    n->backward = vit_bwd;
    n->destroy = vit_destroy;
    return 0;
}

static int net_create_vit(struct net *n, const struct model_cfg *cfg, int Bmax, uint64_t seed,
                          struct kd_err *e)
{
    struct vit_spec spec = model_spec_vit(cfg);
    return net_create_vit_spec(n, &spec, Bmax, seed, e);
}

static void tinyvit_fwd(void *impl, const float *images, int B, int training, uint64_t seed,
                        int step)
{
    tinyvit_forward(impl, images, B, training, seed, step);
}

static void tinyvit_bwd(void *impl, const float *d_logits, int B)
{
    tinyvit_backward(impl, d_logits, B);
}

static void tinyvit_destroy(void *impl)
{
    tinyvit_free(impl);
    free(impl);
}

static int net_create_tinyvit(struct net *n, const struct model_cfg *cfg, int Bmax, uint64_t seed,
                              struct kd_err *e)
{
    struct tinyvit *m = calloc(1, sizeof *m);
    if (!m)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    struct tinyvit_spec spec = model_spec_tinyvit(cfg);
    int rc = tinyvit_init(m, &spec, Bmax, e);
    if (rc) {
        tinyvit_free(m);
        free(m);
        return rc;
    }
    tinyvit_reset(m, seed);
    n->impl = m;
    n->params = &m->params;
    n->logits = m->logits;
    n->classes = m->classes;
    n->macs = tinyvit_macs(m);
    n->forward = tinyvit_fwd;
    n->backward = tinyvit_bwd;
    n->destroy = tinyvit_destroy;
    return 0;
}

int net_create(struct net *n, const struct model_cfg *cfg, int Bmax, uint64_t seed,
               struct kd_err *e)
{
    if (cfg->arch == ARCH_VIT)
        return net_create_vit(n, cfg, Bmax, seed, e);
    memset(n, 0, sizeof *n);
    n->arch = cfg->arch;
    n->Bmax = Bmax;
    if (cfg->arch == ARCH_TINYVIT)
        return net_create_tinyvit(n, cfg, Bmax, seed, e);
    return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "use one of: vit, tinyvit",
                         "unknown model.arch %d", (int)cfg->arch);
}

void net_destroy(struct net *n)
{
    if (n->destroy && n->impl)
        n->destroy(n->impl);
    memset(n, 0, sizeof *n);
}
