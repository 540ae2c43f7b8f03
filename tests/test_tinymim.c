/* TinyMIM and MAE: finite-difference checks of the relation loss (w.r.t. the student's qkv,
 * whose relations the method distils), the feature, class-token and pixel losses, the ViT
 * over a token subset, the gradient entering at a block's qkv, the MAE decoder; and
 * initialization from a checkpoint by name and shape. Every loss check is followed by the same
 * check with a planted sign error, which must fail. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "models/vit.h"
#include "models/mae_decoder.h"
#include "loss/loss.h"
#include "train/ckpt_params.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Float forwards of smooth nonlinear maps with O(1) inputs: eps 1e-2 and tolerance 2e-2 as in
 * test_grad_model (a sign or factor-2 error is ~100x above it). */
#define EPS 1e-2
#define TOL 2e-2

static struct rng R;

static float *frand(size_t n, float s)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = s * rng_normal(&R);
    return p;
}

/* Check, then plant a sign error at a checked point and require the check to fail. */
static void check_and_fail(const char *name, gradcheck_fn f, void *ctx, float *x, float *g,
                           size_t n)
{
    CHECK(gradcheck(name, f, ctx, x, g, n, EPS, TOL) == 0, "%s gradient", name);
    size_t k = 0, worst = 0;
    for (; k < gradcheck_points(n); k++)
        if (fabsf(g[gradcheck_point(k, n)]) > fabsf(g[worst]))
            worst = gradcheck_point(k, n);
    g[worst] = -g[worst];
    fprintf(stderr, "(expected failure follows)\n");
    CHECK(gradcheck(name, f, ctx, x, g, n, EPS, TOL) != 0, "%s: planted error caught", name);
    g[worst] = -g[worst];
}

struct rel_ctx {
    float *s, *t, *scratch;
    int pairs, B, T, Cs, Ct, NH;
};

static double rel_fn(void *p)
{
    struct rel_ctx *c = p;
    return relation_loss(NULL, c->scratch, c->s, c->t, c->pairs, 1.0f, c->B, c->T, c->Cs, c->Ct,
                         c->NH);
}

static void test_relation(const char *name, int pairs)
{
    enum { B = 2, T = 6, Cs = 8, Ct = 12, NH = 2 };
    struct rel_ctx c = {frand(B * T * 3 * Cs, 1.0f),
                        frand(B * T * 3 * Ct, 1.0f),
                        frand(relation_scratch_floats(T, Ct / NH), 0),
                        pairs,
                        B,
                        T,
                        Cs,
                        Ct,
                        NH};
    float *g = frand(B * T * 3 * Cs, 0);
    float l = relation_loss(g, c.scratch, c.s, c.t, c.pairs, 1.0f, B, T, Cs, Ct, NH);
    CHECK(c.pairs != 0 && l > 0, "relation %s: positive KL (%g)", name, l);
    check_and_fail(name, rel_fn, &c, c.s, g, B * T * 3 * Cs);
    /* Same relations on both sides: zero loss, zero gradient. */
    struct rel_ctx z = c;
    z.Ct = Cs;
    z.t = c.s;
    memset(g, 0, sizeof(float) * B * T * 3 * Cs);
    l = relation_loss(g, c.scratch, z.s, z.t, z.pairs, 1.0f, B, T, Cs, Cs, NH);
    CHECK(fabsf(l) < 1e-5f && fabsf(g[7]) < 1e-6f, "identical relations: loss %g", l);
    free(c.s), free(c.t), free(c.scratch), free(g);
}

struct vec_ctx {
    float *x, *t, *mask, *scratch;
    int kind, B, K;
};

static double vec_fn(void *p)
{
    struct vec_ctx *c = p;
    if (c->kind == 0)
        return smooth_l1_loss(NULL, c->x, c->t, 2.0f, 1.0f, (size_t)c->B * c->K);
    if (c->kind == 1)
        return kl_div_loss(NULL, c->scratch, c->x, c->t, 1.0f, c->B, c->K);
    return mae_pixel_loss(NULL, c->x, c->t, c->mask, 1, 1.0f, c->B, 4, c->K / 4);
}

static void test_vector_losses(void)
{
    enum { B = 3, K = 16 };
    const char *names[3] = {"smooth_l1", "kl_div", "mae_pixel"};
    for (int kind = 0; kind < 3; kind++) {
        struct vec_ctx c = {
            frand(B * K, 3.0f), frand(B * K, 1.0f), frand(B * 4, 0), frand(2 * K, 0), kind, B, K};
        for (int i = 0; i < B * 4; i++)
            c.mask[i] = i % 3 != 0;
        float *g = frand(B * K, 0);
        if (kind == 0)
            smooth_l1_loss(g, c.x, c.t, 2.0f, 1.0f, B * K);
        else if (kind == 1)
            kl_div_loss(g, c.scratch, c.x, c.t, 1.0f, B, K);
        else
            mae_pixel_loss(g, c.x, c.t, c.mask, 1, 1.0f, B, 4, K / 4);
        check_and_fail(names[kind], vec_fn, &c, c.x, g, B * K);
        free(c.x), free(c.t), free(c.mask), free(c.scratch), free(g);
    }
}

/* A small ViT whose last block has 4 heads (TinyMIM's student layout). */
static struct vit_spec small_cfg(void)
{
    return (struct vit_spec){.img = 8,
                             .in_ch = 1,
                             .classes = 3,
                             .patch = 2,
                             .dim = 8,
                             .depth = 3,
                             .heads = 2,
                             .mlp_ratio = 2,
                             .drop_path = 0.3f};
}

struct vit_ctx {
    struct vit *m;
    float *images, *up, *t_qkv, *scratch;
    int *keep, n_keep, B, mode; /* mode 0: sum(feat * up); 1: relation at the last qkv */
};

static double vit_fn(void *p)
{
    struct vit_ctx *c = p;
    struct vit *m = c->m;
    int Tk = c->n_keep + 1;
    vit_forward_tokens(m, c->images, c->keep, c->n_keep, m->depth, c->B, 1, 11, 3);
    if (c->mode == 1)
        return relation_loss(NULL, c->scratch, m->ba[m->depth - 1].qkv, c->t_qkv,
                             RELATION_QK | RELATION_VV, 1.0f, c->B, Tk, m->C, m->C, 4);
    double s = 0;
    for (size_t i = 0; i < (size_t)c->B * Tk * m->C; i++)
        s += (double)m->feat[i] * c->up[i];
    return s;
}

static void test_vit_tokens(void)
{
    enum { B = 2, NK = 5 };
    struct vit_spec cfg = small_cfg();
    struct vit_layout lay = {.heads = {0, 0, 4}};
    struct vit m;
    struct kd_err e;
    CHECK(vit_init_layout(&m, &cfg, &lay, B, &e) == 0, "vit_init_layout");
    vit_reset(&m, 5);
    for (int i = 0; i < m.params.n; i++)
        for (size_t j = 0; j < m.params.p[i].n; j++)
            (*m.params.p[i].w)[j] += 0.3f * rng_normal(&R);
    float *images = frand(B * 64, 1.0f);
    /* all patches in order = the plain forward */
    vit_forward(&m, images, B, 0, 0, 0);
    float *ref = frand((size_t)B * m.T * m.C, 0);
    memcpy(ref, m.feat, sizeof(float) * B * m.T * m.C);
    vit_forward_tokens(&m, images, NULL, m.NP, m.depth, B, 0, 0, 0);
    CHECK(check_close(m.feat, ref, (size_t)B * m.T * m.C, 1e-5, 1e-5) <= 1,
          "all-token forward equals vit_forward");
    int keep[B * NK] = {0, 3, 7, 12, 15, 1, 2, 5, 9, 14};
    struct vit_ctx c = {&m,
                        images,
                        frand((size_t)B * (NK + 1) * m.C, 1.0f),
                        frand((size_t)B * (NK + 1) * 3 * m.C, 1.0f),
                        frand(relation_scratch_floats(NK + 1, m.C), 0),
                        keep,
                        NK,
                        B,
                        0};
    for (c.mode = 0; c.mode < 2; c.mode++) {
        vit_fn(&c);
        params_zero_grad(&m.params);
        if (c.mode == 0) {
            vit_backward_tokens(&m, c.up, keep, NK, B);
        } else {
            float *dq = frand((size_t)B * (NK + 1) * 3 * m.C, 0);
            relation_loss(dq, c.scratch, m.ba[m.depth - 1].qkv, c.t_qkv, RELATION_QK | RELATION_VV,
                          1.0f, B, NK + 1, m.C, m.C, 4);
            vit_backward_from_qkv(&m, m.depth - 1, dq, keep, NK, B);
            free(dq);
            CHECK(params_find(&m.params, "blocks.2.mlp.fc1.weight")->g[0][0] == 0.0f,
                  "no gradient above the relation");
        }
        /* 3e-2: the key bias of block 0 has an exactly zero gradient (softmax ignores a
         * per-row constant), where the float forward's noise sits near 3% of the floor. */
        for (int i = 0; i < m.params.n; i++)
            CHECK(gradcheck(m.params.p[i].name, vit_fn, &c, *m.params.p[i].w, *m.params.p[i].g,
                            m.params.p[i].n, EPS, 1.5 * TOL) == 0,
                  "vit tokens (mode %d) %s", c.mode, m.params.p[i].name);
    }
    free(images), free(ref), free(c.up), free(c.t_qkv), free(c.scratch);
    vit_free(&m);
}

struct dec_ctx {
    struct mae_decoder *d;
    float *latent, *target, *mask;
    int *keep, n_keep, B;
};

static double dec_fn(void *p)
{
    struct dec_ctx *c = p;
    mae_decoder_forward(c->d, c->latent, c->keep, c->n_keep, c->B);
    return mae_pixel_loss(NULL, c->d->out, c->target, c->mask, 1, 1.0f, c->B, c->d->NP, c->d->PPC);
}

static void test_decoder(void)
{
    enum { B = 2, NK = 3, NP = 9, PPC = 4, CE = 6 };
    struct mae_decoder d;
    struct kd_err e;
    CHECK(mae_decoder_init(&d, CE, 8, 2, 2, 2.0f, NP, PPC, B, &e) == 0, "decoder init");
    mae_decoder_reset(&d, 3);
    for (int i = 0; i < d.params.n; i++)
        for (size_t j = 0; !d.params.p[i].frozen && j < d.params.p[i].n; j++)
            (*d.params.p[i].w)[j] += 0.3f * rng_normal(&R);
    int keep[B * NK] = {0, 4, 8, 2, 3, 7};
    struct dec_ctx c = {
        &d, frand(B * (NK + 1) * CE, 1.0f), frand(B * NP * PPC, 1.0f), frand(B * NP, 0), keep, NK,
        B};
    for (int b = 0; b < B; b++)
        for (int p = 0; p < NP; p++)
            c.mask[b * NP + p] = 1;
    for (int i = 0; i < B * NK; i++)
        c.mask[(i / NK) * NP + keep[i]] = 0;
    float *dout = frand(B * NP * PPC, 0), *dlat = frand(B * (NK + 1) * CE, 0);
    dec_fn(&c);
    params_zero_grad(&d.params);
    mae_pixel_loss(dout, d.out, c.target, c.mask, 1, 1.0f, B, NP, PPC);
    mae_decoder_backward(&d, dlat, dout, c.latent, keep, NK, B);
    CHECK(gradcheck("decoder.latent", dec_fn, &c, c.latent, dlat, B * (NK + 1) * CE, EPS, TOL) == 0,
          "decoder input gradient");
    for (int i = 0; i < d.params.n; i++)
        if (!d.params.p[i].frozen)
            CHECK(gradcheck(d.params.p[i].name, dec_fn, &c, *d.params.p[i].w, *d.params.p[i].g,
                            d.params.p[i].n, EPS, TOL) == 0,
                  "decoder %s", d.params.p[i].name);
    CHECK(strcmp(d.params.p[0].name, "decoder.embed.weight") == 0, "decoder names");
    free(c.latent), free(c.target), free(c.mask), free(dout), free(dlat);
    mae_decoder_free(&d);
}

/* An encoder + decoder checkpoint loads into a classifier with another head: encoder tensors
 * in, decoder and head skipped, the head left as initialized. */
static void test_load_matching(void)
{
    struct vit_spec cfg = small_cfg(), other = small_cfg();
    other.classes = 5;
    struct vit a, b;
    struct mae_decoder d;
    struct kd_err e;
    CHECK(vit_init(&a, &cfg, 1, &e) == 0 && vit_init(&b, &other, 1, &e) == 0, "init");
    CHECK(mae_decoder_init(&d, cfg.dim, 8, 1, 2, 2.0f, a.NP, a.PPC, 1, &e) == 0, "decoder");
    vit_reset(&a, 1);
    vit_reset(&b, 2);
    mae_decoder_reset(&d, 1);
    struct params both;
    both.n = a.params.n + d.params.n;
    both.p = calloc(both.n, sizeof *both.p);
    memcpy(both.p, a.params.p, sizeof *both.p * a.params.n);
    memcpy(both.p + a.params.n, d.params.p, sizeof *both.p * d.params.n);
    char path[] = "/tmp/kd_test_tinymim_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct ckpt_info info = {1, 1};
    CHECK(ckpt_save(path, &both, NULL, "model.dim: 8\n", &info, &e) == 0, "save");
    struct ckpt_match mt;
    float head0 = b.head.w[0];
    CHECK(ckpt_load_matching(path, &b.params, &mt, &e) == 0, "load matching");
    CHECK(mt.loaded == a.params.n - 2 && mt.skipped == d.params.n + 2 && mt.missing == 2,
          "loaded %d skipped %d missing %d", mt.loaded, mt.skipped, mt.missing);
    CHECK(strcmp(mt.first_missing, "head.weight") == 0, "first missing %s", mt.first_missing);
    CHECK(b.head.w[0] == head0 && b.pos[5] == a.pos[5] &&
              b.blocks[2].qkv.w[7] == a.blocks[2].qkv.w[7],
          "values");
    CHECK(ckpt_load(path, &b.params, NULL, NULL, "", NULL, &e) != 0,
          "the strict loader refuses the same file");
    unlink(path);
    free(both.p);
    vit_free(&a), vit_free(&b), mae_decoder_free(&d);
}

int main(void)
{
    rng_init(&R, 42, RNG_STREAM_OTHER, 0, 0);
    test_relation("qk_vv", RELATION_QK | RELATION_VV);
    test_relation("qq_kk_vv", RELATION_QQ | RELATION_KK | RELATION_VV);
    test_vector_losses();
    test_vit_tokens();
    test_decoder();
    test_load_matching();
    return check_report("test_tinymim");
}
