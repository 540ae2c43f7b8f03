/* mae: masked-autoencoder pretraining of a ViT (He et al., facebookresearch/mae), the teachers
 * of TinyMIM and the MAE-only baselines. Per sample a random tinymim.mae_mask_ratio of the
 * patches is hidden (rng stream MASK keyed by seed, epoch, sample); the encoder sees [CLS;
 * visible patches]; the light decoder fills mask tokens, and the loss is the MSE on the
 * per-patch normalized pixels of the hidden patches. Writes STEM.csv (one row per epoch),
 * STEM.ckpt (encoder under timm names, decoder under "decoder.*"), STEM.yaml, STEM.meta. */
#include "kd.h"
#include "models/vit.h"
#include "models/mae_decoder.h"
#include "train/model_spec.h"
#include "loss/loss.h"
#include "train/loop.h"
#include "base/runtime.h"

#include <stdlib.h>
#include <string.h>

struct mae {
    const struct experiment *x;
    struct vit enc;
    struct mae_decoder dec;
    int n_keep;
    int *keep;             /* (B, n_keep) visible patches */
    float *mask;           /* (B, NP) 1: hidden */
    float *target, *d_out; /* (B, NP, PPC) */
    float *d_latent;       /* (B, n_keep + 1, C) */
};

static float mae_step(void *ctx, const float *images, const int *labels, const int *idx, int B,
                      int epoch, long step)
{
    struct mae *m = ctx;
    struct vit *v = &m->enc;
    uint64_t seed = (uint64_t)m->x->run.seed;
    size_t nout = (size_t)B * v->NP * v->PPC;
    for (int i = 0; i < B; i++)
        mae_mask_draw(m->keep + (size_t)i * m->n_keep, m->mask + (size_t)i * v->NP, v->NP,
                      m->n_keep, seed, epoch, idx[i]);
    vit_forward_tokens(v, images, m->keep, m->n_keep, v->depth, B, 1, seed, (int)step);
    mae_decoder_forward(&m->dec, v->feat, m->keep, m->n_keep, B);
    vit_patchify(v, m->target, images, B);
    memset(m->d_out, 0, sizeof(float) * nout);
    float loss = mae_pixel_loss(m->d_out, m->dec.out, m->target, m->mask, m->x->tinymim.norm_pix,
                                1.0f, B, v->NP, v->PPC);
    mae_decoder_backward(&m->dec, m->d_latent, m->d_out, v->feat, m->keep, m->n_keep, B);
    vit_backward_tokens(v, m->d_latent, m->keep, m->n_keep, B);
    return loss;
}

static int mae_setup(struct mae *m, const struct experiment *x, struct kd_err *e)
{
    const struct tinymim_cfg *t = &x->tinymim;
    int B = x->optim.batch;
    memset(m, 0, sizeof *m);
    m->x = x;
    struct vit_spec spec = model_spec_vit(&x->model);
    if (vit_init(&m->enc, &spec, B, e))
        return e->code;
    vit_reset(&m->enc, (uint64_t)x->run.seed);
    if (mae_decoder_init(&m->dec, x->model.dim, t->decoder_dim, t->decoder_depth, t->decoder_heads,
                         x->model.mlp_ratio, m->enc.NP, m->enc.PPC, B, e)) {
        snprintf(e->file, sizeof e->file, "%s", x->path);
        return e->code;
    }
    mae_decoder_reset(&m->dec, (uint64_t)x->run.seed);
    /* MAE: len_keep = int(L * (1 - mask_ratio)) */
    m->n_keep = (int)(m->enc.NP * (1.0f - t->mae_mask_ratio));
    if (m->n_keep < 1)
        m->n_keep = 1;
    size_t NP = m->enc.NP, nout = (size_t)B * NP * m->enc.PPC;
    m->keep = malloc(sizeof(int) * B * m->n_keep);
    m->mask = malloc(sizeof(float) * B * NP);
    m->target = malloc(sizeof(float) * nout);
    m->d_out = malloc(sizeof(float) * nout);
    m->d_latent = malloc(sizeof(float) * B * (m->n_keep + 1) * x->model.dim);
    if (!m->keep || !m->mask || !m->target || !m->d_out || !m->d_latent)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    return 0;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct mae m;
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e) || mae_setup(&m, &r.x, &e))
        die(&e);
    fprintf(stderr, "[%s] MAE: %d of %d patches visible, decoder %d x %d\n", r.out, m.n_keep,
            m.enc.NP, r.x.tinymim.decoder_depth, r.x.tinymim.decoder_dim);
    struct params *sets[2] = {&m.enc.params, &m.dec.params}, all;
    params_view(&all, sets, 2);
    struct loop_spec sp = {.ctx = &m,
                           .sets = {sets[0], sets[1]},
                           .n_sets = 2,
                           .n_trained = 2,
                           .save = &all,
                           .step = mae_step,
                           .mid_epoch = 1};
    if (loop_train(&r, &sp, &e))
        die(&e);
    params_view_free(&all);
    vit_free(&m.enc);
    mae_decoder_free(&m.dec);
    free(m.keep), free(m.mask), free(m.target), free(m.d_out), free(m.d_latent);
    run_free(&r);
    return 0;
}
