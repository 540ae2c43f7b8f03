/* Finite-difference checks of TinyViT's layers (conv+BN in training and eval mode, MBConv,
 * window attention with its bias table, with and without padded windows, the TinyViT block
 * with its local conv, patch merging) and of a small TinyViT end to end with cross-entropy.
 * Every check is followed by the same check with a planted sign error, which must fail. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "models/tinyvit.h"
#include "train/model_spec.h"
#include "loss/loss.h"
#include "ops/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Central differences around the float forward: eps 1e-2 keeps truncation error near 1e-5
 * relative for O(1) inputs; batch statistics, GELU and softmax make every layer nonlinear, so
 * 2e-2 (as test_grad_model), which a sign error exceeds by far. */
#define EPS 1e-2
#define TOL 2e-2

enum layer_kind { L_CONV_BN, L_MBCONV, L_WATTN, L_BLOCK, L_MERGE };

/* One layer under test with its buffers; loss = sum(y * up) in double. */
struct layer_ctx {
    enum layer_kind kind;
    void *layer, *acts;
    float *scratch, *x, *y, *up;
    size_t ny;
    int B, H, W, training;
};

static void layer_forward(struct layer_ctx *c)
{
    int B = c->B, H = c->H, W = c->W;
    switch (c->kind) {
    case L_CONV_BN:
        conv_bn_forward(c->layer, c->y, c->acts, c->scratch, c->x, B, H, W, c->training);
        break;
    case L_MBCONV:
        mbconv_forward(c->layer, c->y, c->acts, c->scratch, c->x, B, H, W, c->training, 3, 1, 0);
        break;
    case L_WATTN: window_attn_forward(c->layer, c->y, c->acts, c->scratch, c->x, B, H, W); break;
    case L_BLOCK:
        tinyvit_block_forward(c->layer, c->y, c->acts, c->scratch, c->x, B, H, W, c->training, 3, 1,
                              2);
        break;
    case L_MERGE:
        patch_merge_forward(c->layer, c->y, c->acts, c->scratch, c->x, B, H, W, c->training);
        break;
    }
}

static void layer_backward(struct layer_ctx *c, float *dx)
{
    int B = c->B, H = c->H, W = c->W;
    switch (c->kind) {
    case L_CONV_BN:
        conv_bn_backward(c->layer, dx, c->scratch, c->up, c->x, c->acts, B, H, W);
        break;
    case L_MBCONV: mbconv_backward(c->layer, dx, c->scratch, c->up, c->x, c->acts, B, H, W); break;
    case L_WATTN: window_attn_backward(c->layer, dx, c->scratch, c->up, c->acts, B, H, W); break;
    case L_BLOCK:
        tinyvit_block_backward(c->layer, dx, c->scratch, c->up, c->x, c->acts, B, H, W);
        break;
    case L_MERGE:
        patch_merge_backward(c->layer, dx, c->scratch, c->up, c->x, c->acts, B, H, W);
        break;
    }
}

static double layer_loss(void *p)
{
    struct layer_ctx *c = p;
    layer_forward(c);
    double s = 0;
    for (size_t i = 0; i < c->ny; i++)
        s += (double)c->y[i] * c->up[i];
    return s;
}

/* Checks g = d f / d x, then flips the sign of the largest checked entry and requires the
 * checker to report it (a checker that cannot fail proves nothing). */
/* The end-to-end check runs ~20 float layers with batch statistics on tiny maps, so rounding
 * noise of the float forward (~1e-6 relative, not shrinking with eps) and the curvature of BN
 * on few rows (growing with eps) meet near eps 2e-3, at a few percent of the smaller gradients:
 * hence 5e-2 there (a sign error is off by 200%; swept over 12 weight seeds, all pass). Each
 * layer alone is checked at EPS / TOL above. */
#define E2E_EPS 2e-3
#define E2E_TOL 5e-2
#define E2E_PERTURB 0.3f

static double g_eps = EPS, g_tol = TOL;

static void check_grad(const char *name, gradcheck_fn f, void *ctx, float *x, float *g, size_t n)
{
    CHECK(gradcheck(name, f, ctx, x, g, n, g_eps, g_tol) == 0, "%s: gradient check", name);
    size_t best = gradcheck_point(0, n);
    for (size_t k = 1; k < gradcheck_points(n); k++)
        if (fabsf(g[gradcheck_point(k, n)]) > fabsf(g[best]))
            best = gradcheck_point(k, n);
    if (g[best] == 0.0f) {
        CHECK(0, "%s: gradient is zero everywhere checked", name);
        return;
    }
    char planted[128];
    snprintf(planted, sizeof planted, "%s with a planted sign error (failure expected)", name);
    g[best] = -g[best];
    CHECK(gradcheck(planted, f, ctx, x, g, n, g_eps, g_tol) == 1, "%s: planted error missed", name);
    g[best] = -g[best];
}

/* A gradient that is exactly zero by construction (a bias right before a training-mode BN,
 * which subtracts it again; a key bias, which shifts every score of a row alike): the loss must
 * not move when any of its entries moves. */
static void check_zero(const char *name, gradcheck_fn f, void *ctx, float *x, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        x[i] = x0 + (float)g_eps;
        double fp = f(ctx);
        x[i] = x0 - (float)g_eps;
        double fm = f(ctx);
        x[i] = x0;
        double d = fabs(fp - fm) / (2 * g_eps);
        worst = d > worst ? d : worst;
    }
    CHECK(worst < 1e-3, "%s: analytic gradient zero but numeric %g", name, worst);
}

/* Every trainable parameter of ps (running statistics are frozen and carry no gradient). */
static void check_params(const char *what, struct params *ps, gradcheck_fn f, void *ctx)
{
    for (int i = 0; i < ps->n; i++) {
        struct param *p = &ps->p[i];
        if (p->frozen)
            continue;
        char name[160];
        snprintf(name, sizeof name, "%s %s", what, p->name);
        float gmax = 0;
        for (size_t j = 0; j < p->n; j++)
            gmax = fabsf((*p->g)[j]) > gmax ? fabsf((*p->g)[j]) : gmax;
        if (gmax < 1e-6f)
            check_zero(name, f, ctx, *p->w, p->n);
        else
            check_grad(name, f, ctx, *p->w, *p->g, p->n);
    }
}

/* Larger weights than the initial ones, so every path carries gradient worth checking (the
 * zero-initialized MBConv BN weight and attention biases included). */
static void perturb(struct params *ps, struct rng *r, float s)
{
    for (int i = 0; i < ps->n; i++)
        if (!ps->p[i].frozen)
            for (size_t j = 0; j < ps->p[i].n; j++)
                (*ps->p[i].w)[j] += s * rng_normal(r);
}

/* Builds buffers for a layer already registered in ps, runs forward + backward and checks the
 * input and every parameter. nx, ny: input and output floats. */
static void run_layer(const char *what, struct layer_ctx *c, struct params *ps, struct plan *pl,
                      size_t nx, size_t scratch)
{
    struct kd_err e;
    struct rng r;
    float *dx;
    plan_add(pl, &c->scratch, scratch);
    plan_add(pl, &c->x, nx);
    plan_add(pl, &c->y, c->ny);
    plan_add(pl, &c->up, c->ny);
    plan_add(pl, &dx, nx);
    CHECK(plan_alloc(pl, &e) == 0, "%s: plan", what);
    rng_init(&r, 7, RNG_STREAM_OTHER, 0, 0);
    perturb(ps, &r, 0.3f);
    for (size_t i = 0; i < nx; i++)
        c->x[i] = rng_normal(&r);
    for (size_t i = 0; i < c->ny; i++)
        c->up[i] = rng_normal(&r);
    layer_forward(c);
    params_zero_grad(ps);
    layer_backward(c, dx);
    char name[160];
    snprintf(name, sizeof name, "%s input", what);
    check_grad(name, layer_loss, c, c->x, dx, nx);
    check_params(what, ps, layer_loss, c);
}

static void test_conv_bn(int dw, int K, int stride, int training)
{
    enum { B = 3, H = 5, W = 6, IC = 4 };
    int OC = dw ? IC : 5;
    struct params ps;
    struct plan pl;
    struct conv_bn l;
    struct conv_bn_acts a;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    conv_bn_init(&l, &ps, "conv", IC, OC, K, stride, dw, 1.0f);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    rng_init(&r, 1, RNG_STREAM_INIT, 0, 0);
    conv_bn_reset(&l, &r);
    /* Eval mode reads the running statistics: give them non-trivial values. */
    for (int c = 0; c < OC; c++)
        l.rmean[c] = 0.2f * c - 0.3f, l.rvar[c] = 0.5f + 0.3f * c;
    plan_begin(&pl);
    conv_bn_plan_acts(&l, &pl, &a, B, H, W);
    struct layer_ctx c = {L_CONV_BN, &l, &a, .B = B, .H = H, .W = W, .training = training};
    c.ny = (size_t)B * conv_bn_out(&l, H) * conv_bn_out(&l, W) * OC;
    char what[64];
    snprintf(what, sizeof what, "conv_bn(%s k%d s%d %s)", dw ? "dw" : "dense", K, stride,
             training ? "train" : "eval");
    run_layer(what, &c, &ps, &pl, (size_t)B * H * W * IC, conv_bn_scratch_floats(&l, B, H, W));
    params_free(&ps);
    plan_free(&pl);
}

static void test_conv_bn_running(void)
{
    enum { B = 2, H = 3, W = 3, C = 2 };
    struct params ps;
    struct plan pl;
    struct conv_bn l;
    struct conv_bn_acts a;
    struct kd_err e;
    struct rng r;
    float *x, *y, *s;
    params_begin(&ps);
    conv_bn_init(&l, &ps, "bn", C, C, 1, 1, 0, 1.0f);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    CHECK(params_find(&ps, "bn.bn.running_var") && params_find(&ps, "bn.bn.running_var")->frozen,
          "running statistics are frozen parameters");
    rng_init(&r, 2, RNG_STREAM_INIT, 0, 0);
    conv_bn_reset(&l, &r);
    plan_begin(&pl);
    conv_bn_plan_acts(&l, &pl, &a, B, H, W);
    plan_add(&pl, &x, B * H * W * C);
    plan_add(&pl, &y, B * H * W * C);
    plan_add(&pl, &s, conv_bn_scratch_floats(&l, B, H, W) + 1);
    CHECK(plan_alloc(&pl, &e) == 0, "plan");
    for (int i = 0; i < B * H * W * C; i++)
        x[i] = 2.0f + rng_normal(&r);
    conv_bn_forward(&l, y, &a, s, x, B, H, W, 1);
    /* The first update replaces the initial statistics (cumulative average). */
    float m1 = a.mean[0];
    CHECK(fabsf(l.rmean[0] - m1) < 1e-6f, "first update takes the batch mean");
    for (int i = 1; i < 10; i++)
        conv_bn_forward(&l, y, &a, s, x, B, H, W, 1);
    CHECK(l.nbt[0] == 10.0f, "ten batches tracked");
    for (int i = 0; i < B * H * W * C; i++)
        x[i] -= 1.0f;
    /* From the eleventh on, torch's momentum 0.1. */
    conv_bn_forward(&l, y, &a, s, x, B, H, W, 1);
    CHECK(fabsf(l.rmean[0] - (0.9f * m1 + 0.1f * a.mean[0])) < 1e-5f, "momentum 0.1 after ten");
    float m0 = l.rmean[0];
    conv_bn_forward(&l, y, &a, s, x, B, H, W, 0);
    CHECK(l.rmean[0] == m0 && a.mean[0] == m0, "eval uses running statistics, no update");
    params_free(&ps);
    plan_free(&pl);
}

static void test_mbconv(float drop_path)
{
    enum { B = 3, H = 4, W = 4, C = 3 };
    struct params ps;
    struct plan pl;
    struct mbconv m;
    struct mbconv_acts a;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    mbconv_init(&m, &ps, "layers.0.blocks.0", C, 2.0f, drop_path);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    rng_init(&r, 1, RNG_STREAM_INIT, 0, 0);
    mbconv_reset(&m, &r);
    plan_begin(&pl);
    mbconv_plan_acts(&m, &pl, &a, B, H, W);
    struct layer_ctx c = {L_MBCONV, &m, &a, .B = B, .H = H, .W = W, .training = 1};
    c.ny = (size_t)B * H * W * C;
    run_layer(drop_path > 0 ? "mbconv(drop-path)" : "mbconv", &c, &ps, &pl, c.ny,
              mbconv_scratch_floats(&m, B, H, W));
    CHECK(strcmp(ps.p[0].name, "layers.0.blocks.0.conv1.c.weight") == 0, "TinyViT names");
    params_free(&ps);
    plan_free(&pl);
}

static void test_window_attn(int side, int ws)
{
    enum { B = 2, C = 8, NH = 2 };
    struct params ps;
    struct plan pl;
    struct window_attn w;
    struct window_attn_acts a;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    window_attn_init(&w, &ps, "attn", C, NH, ws);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    rng_init(&r, 1, RNG_STREAM_INIT, 0, 0);
    window_attn_reset(&w, &r);
    plan_begin(&pl);
    window_attn_plan_acts(&w, &pl, &a, B, side, side);
    struct layer_ctx c = {L_WATTN, &w, &a, .B = B, .H = side, .W = side, .training = 1};
    c.ny = (size_t)B * side * side * C;
    char what[64];
    snprintf(what, sizeof what, "window_attn(%dx%d, ws %d, %d windows)", side, side, ws,
             window_attn_windows(&w, side, side));
    run_layer(what, &c, &ps, &pl, c.ny, window_attn_scratch_floats(&w, B, side, side));
    params_free(&ps);
    plan_free(&pl);
}

static void test_block(float drop_path)
{
    enum { B = 2, H = 5, W = 5, C = 8, NH = 2, WS = 3 };
    struct params ps;
    struct plan pl;
    struct tinyvit_block b;
    struct tinyvit_block_acts a;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    tinyvit_block_init(&b, &ps, "layers.1.blocks.0", C, NH, WS, 2.0f, drop_path);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    rng_init(&r, 1, RNG_STREAM_INIT, 0, 0);
    tinyvit_block_reset(&b, &r);
    plan_begin(&pl);
    tinyvit_block_plan_acts(&b, &pl, &a, B, H, W);
    struct layer_ctx c = {L_BLOCK, &b, &a, .B = B, .H = H, .W = W, .training = 1};
    c.ny = (size_t)B * H * W * C;
    run_layer(drop_path > 0 ? "tinyvit_block(drop-path)" : "tinyvit_block", &c, &ps, &pl, c.ny,
              tinyvit_block_scratch_floats(&b, B, H, W));
    CHECK(params_find(&ps, "layers.1.blocks.0.local_conv.c.weight") != NULL, "local conv name");
    params_free(&ps);
    plan_free(&pl);
}

static void test_merge(void)
{
    enum { B = 3, H = 5, W = 5, CI = 3, CO = 4 };
    struct params ps;
    struct plan pl;
    struct patch_merge p;
    struct patch_merge_acts a;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    patch_merge_init(&p, &ps, "layers.0.downsample", CI, CO);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    rng_init(&r, 1, RNG_STREAM_INIT, 0, 0);
    patch_merge_reset(&p, &r);
    plan_begin(&pl);
    patch_merge_plan_acts(&p, &pl, &a, B, H, W);
    struct layer_ctx c = {L_MERGE, &p, &a, .B = B, .H = H, .W = W, .training = 1};
    c.ny = (size_t)B * patch_merge_out(H) * patch_merge_out(W) * CO;
    run_layer("patch_merge(5x5 -> 3x3)", &c, &ps, &pl, (size_t)B * H * W * CI,
              patch_merge_scratch_floats(&p, B, H, W));
    params_free(&ps);
    plan_free(&pl);
}

struct tv_ctx {
    struct tinyvit *m;
    float *images;
    int *labels;
    int B;
};

static double tv_loss(void *p)
{
    struct tv_ctx *c = p;
    tinyvit_forward(c->m, c->images, c->B, 1, 11, 2);
    /* ce_loss's mean with smoothing 0.1, in double: its float result is quantized to 1e-7,
     * which alone would be 2e-5 of noise in every central difference. */
    int K = c->m->classes;
    double sum = 0;
    for (int b = 0; b < c->B; b++) {
        const float *z = c->m->logits + (size_t)b * K;
        double mx = z[0], se = 0, sz = 0;
        for (int k = 1; k < K; k++)
            mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < K; k++)
            se += exp(z[k] - mx), sz += z[k];
        double lse = mx + log(se);
        sum += 0.9 * (lse - z[c->labels[b]]) + 0.1 * (lse - sz / K);
    }
    return sum / c->B;
}

/* 12x12 -> stem 6x6 (MBConv) -> 3x3 (windows of 2: padded to 4x4) -> 2x2 (one window). */
static void test_tinyvit(void)
{
    struct tinyvit_spec spec = {.img = 12,
                                .in_ch = 1,
                                .classes = 3,
                                .mlp_ratio = 2,
                                .drop_path = 0.3f,
                                .dims = {4, 8, 8},
                                .n_dims = 3,
                                .depths = {1, 1, 1},
                                .n_depths = 3,
                                .heads = {1, 2, 2},
                                .n_heads = 3,
                                .windows = {1, 2, 2},
                                .n_windows = 3};
    enum { B = 6, S = 12 };
    struct tinyvit m;
    struct kd_err e;
    struct rng r;
    CHECK(tinyvit_init(&m, &spec, B, &e) == 0, "tinyvit_init");
    tinyvit_reset(&m, 5);
    CHECK(m.side[0] == 6 && m.side[1] == 3 && m.side[2] == 2, "stage sides 6, 3, 2");
    /* MBConv's last BN starts at 0; at 1 its branch carries gradient well above float noise. */
    for (int c = 0; c < m.mb[0].C; c++)
        m.mb[0].conv3.bw[c] = 1.0f;
    rng_init(&r, 9, RNG_STREAM_OTHER, 0, 0);
    perturb(&m.params, &r, E2E_PERTURB);
    float images[B * S * S], dlogits[B * 3] = {0};
    int labels[B] = {0, 2, 1, 2, 1, 0};
    for (int i = 0; i < B * S * S; i++)
        images[i] = rng_normal(&r);
    struct tv_ctx c = {&m, images, labels, B};
    tinyvit_forward(&m, images, B, 1, 11, 2);
    ce_loss(dlogits, m.logits, labels, 0.1f, 1.0f, B, 3);
    params_zero_grad(&m.params);
    tinyvit_backward(&m, dlogits, B);
    g_eps = E2E_EPS, g_tol = E2E_TOL;
    check_params("tinyvit", &m.params, tv_loss, &c);
    g_eps = EPS, g_tol = TOL;
    CHECK(strcmp(m.params.p[0].name, "patch_embed.seq.0.c.weight") == 0, "TinyViT names");
    CHECK(params_find(&m.params, "layers.2.blocks.0.attn.attention_biases") != NULL,
          "attention bias table registered");
    CHECK(params_find(&m.params, "norm_head.weight") != NULL, "head norm registered");
    tinyvit_free(&m);
}

static void test_config_errors(void)
{
    struct model_cfg cfg = {.arch = ARCH_TINYVIT,
                            .img = 28,
                            .in_ch = 1,
                            .classes = 10,
                            .mlp_ratio = 4,
                            .stage_dims = {8, 12},
                            .n_stage_dims = 2,
                            .stage_depths = {1, 1},
                            .n_stage_depths = 2,
                            .stage_heads = {1, 5},
                            .n_stage_heads = 2,
                            .windows = {1, 2},
                            .n_windows = 2};
    struct tinyvit m;
    struct kd_err e;
    struct tinyvit_spec spec = model_spec_tinyvit(&cfg);
    CHECK(tinyvit_init(&m, &spec, 2, &e) == KD_ERR_CONFIG, "heads not dividing a width");
    tinyvit_free(&m);
    cfg.stage_heads[1] = 2;
    cfg.n_windows = 1;
    spec = model_spec_tinyvit(&cfg);
    CHECK(tinyvit_init(&m, &spec, 2, &e) == KD_ERR_CONFIG, "stage lists of unequal length");
    tinyvit_free(&m);
    /* more stages than the spec holds: the lengths pass through, so the model refuses them */
    for (int i = 0; i < 8; i++) {
        cfg.stage_dims[i] = cfg.stage_heads[i] = cfg.windows[i] = 8;
        cfg.stage_depths[i] = 1;
    }
    cfg.n_stage_dims = cfg.n_stage_depths = cfg.n_stage_heads = cfg.n_windows = 8;
    spec = model_spec_tinyvit(&cfg);
    CHECK(spec.n_dims == 8 && tinyvit_init(&m, &spec, 2, &e) == KD_ERR_CONFIG &&
              strstr(e.msg, "model.stage_dims has 8 entries"),
          "8 stages refused");
    tinyvit_free(&m);
}

int main(void)
{
    test_conv_bn(0, 3, 2, 1);
    test_conv_bn(0, 1, 1, 1);
    test_conv_bn(1, 3, 1, 1);
    test_conv_bn(1, 3, 2, 1);
    test_conv_bn(0, 3, 1, 0);
    test_conv_bn_running();
    test_mbconv(0.0f);
    test_mbconv(0.5f);
    test_window_attn(5, 3);
    test_window_attn(3, 3);
    test_window_attn(4, 2);
    test_block(0.0f);
    test_block(0.5f);
    test_merge();
    test_tinyvit();
    test_config_errors();
    return check_report("test_grad_tinyvit");
}
