/* Finite-difference checks of every backward in core/ops against the float forward, with a
 * random upstream gradient: loss = sum(out * up) in double. Every check is followed by the same
 * check with one planted sign error, which must fail, so a checker that cannot fail is caught. */
#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* eps and tolerances. Inputs are O(1), so eps = 1e-2 keeps the central difference's truncation
 * error (eps^2 f''' / 6) near 1e-5 relative while the float forward's rounding noise, divided by
 * 2 eps, stays near 1e-5 of the gradient scale. Linear ops have no truncation error: 1e-3 there;
 * smooth nonlinear ones get 1e-2, which a sign or factor-of-two error exceeds by ~100x. */
#define EPS 1e-2
#define TOL_LINEAR 1e-3
#define TOL_SMOOTH 1e-2

enum op_kind {
    OP_MATMUL,
    OP_LAYERNORM,
    OP_GELU,
    OP_SOFTMAX,
    OP_ATTENTION,
    OP_CONV,
    OP_DWCONV,
    OP_BATCHNORM,
    OP_MEANPOOL,
    OP_DROPPATH,
};

/* One op under test: its inputs, saved buffers and shapes, and the upstream gradient. */
struct op {
    enum op_kind kind;
    float *out, *up; /* (nout) */
    size_t nout;
    float *x, *w, *b;     /* inputs and parameters (w, b may be NULL) */
    float *s1, *s2, *col; /* saved buffers and scratch */
    float scale;
    int d[8]; /* shape ints, in the op's argument order */
};

static struct rng R;

static void op_forward(struct op *o)
{
    int *d = o->d;
    switch (o->kind) {
    case OP_MATMUL: matmul_forward(o->out, o->x, o->w, o->b, d[0], d[1], d[2]); break;
    case OP_LAYERNORM: layernorm_forward(o->out, o->s1, o->s2, o->x, o->w, o->b, d[0], d[1]); break;
    case OP_GELU: gelu_forward(o->out, o->x, o->nout); break;
    case OP_SOFTMAX: softmax_forward(o->out, o->x, o->scale, d[0], d[1]); break;
    case OP_ATTENTION: attention_forward(o->out, o->s1, o->x, o->b, d[0], d[1], d[2], d[3]); break;
    case OP_CONV:
        conv_forward(o->out, o->col, o->x, o->w, o->b, d[0], d[1], d[2], d[3], d[4], d[5], d[6],
                     d[7]);
        break;
    case OP_DWCONV:
        dwconv_forward(o->out, o->x, o->w, o->b, d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
        break;
    case OP_BATCHNORM:
        batchnorm_forward(o->out, o->s1, o->s2, NULL, NULL, o->x, o->w, o->b, d[0], d[1], 0.1f, 1);
        break;
    case OP_MEANPOOL: meanpool_forward(o->out, o->x, d[0], d[1], d[2]); break;
    case OP_DROPPATH: droppath_forward(o->out, o->x, o->s1, d[0], (size_t)d[1]); break;
    }
}

static double op_loss(void *ctx)
{
    struct op *o = ctx;
    op_forward(o);
    double s = 0;
    for (size_t i = 0; i < o->nout; i++)
        s += (double)o->out[i] * o->up[i];
    return s;
}

/* Checks g = d loss / d x, then flips the sign of the largest checked entry and requires the
 * checker to report it. */
static void check_grad(const char *name, struct op *o, float *x, float *g, size_t n, double tol)
{
    CHECK(gradcheck(name, op_loss, o, x, g, n, EPS, tol) == 0, "%s: gradient check", name);
    size_t best = gradcheck_point(0, n);
    for (size_t k = 1; k < gradcheck_points(n); k++)
        if (fabsf(g[gradcheck_point(k, n)]) > fabsf(g[best]))
            best = gradcheck_point(k, n);
    char planted[128];
    snprintf(planted, sizeof(planted), "%s with a planted sign error (failure expected)", name);
    g[best] = -g[best];
    CHECK(gradcheck(planted, op_loss, o, x, g, n, EPS, tol) == 1, "%s: planted error missed", name);
    g[best] = -g[best];
}

static void test_matmul(void)
{
    int N = 7, C = 13, OC = 5;
    struct op o = {.kind = OP_MATMUL, .nout = (size_t)N * OC, .d = {N, C, OC}};
    o.x = check_randn(&R, (size_t)N * C, 1), o.w = check_randn(&R, (size_t)OC * C, 1),
    o.b = check_randn(&R, OC, 1);
    o.out = check_zeros(o.nout), o.up = check_randn(&R, o.nout, 1);
    float *dx = check_zeros((size_t)N * C), *dw = check_zeros((size_t)OC * C),
          *db = check_zeros(OC);
    matmul_backward(dx, dw, db, o.up, o.x, o.w, N, C, OC);
    check_grad("matmul.inp", &o, o.x, dx, (size_t)N * C, TOL_LINEAR);
    check_grad("matmul.weight", &o, o.w, dw, (size_t)OC * C, TOL_LINEAR);
    check_grad("matmul.bias", &o, o.b, db, OC, TOL_LINEAR);
    free(o.x), free(o.w), free(o.b), free(o.out), free(o.up), free(dx), free(dw), free(db);
}

static void test_layernorm(int affine)
{
    int N = 7, C = 13;
    size_t n = (size_t)N * C;
    struct op o = {.kind = OP_LAYERNORM, .nout = n, .d = {N, C}};
    o.x = check_randn(&R, n, 1.5f), o.s1 = check_zeros(N), o.s2 = check_zeros(N),
    o.out = check_zeros(n), o.up = check_randn(&R, n, 1);
    if (affine)
        o.w = check_randn(&R, C, 1), o.b = check_randn(&R, C, 1);
    float *dx = check_zeros(n), *dw = check_zeros(C), *db = check_zeros(C);
    op_forward(&o);
    layernorm_backward(dx, affine ? dw : NULL, affine ? db : NULL, o.up, o.x, o.w, o.s1, o.s2, N,
                       C);
    check_grad(affine ? "layernorm.inp" : "layernorm(no affine).inp", &o, o.x, dx, n, TOL_SMOOTH);
    if (affine) {
        check_grad("layernorm.weight", &o, o.w, dw, C, TOL_LINEAR);
        check_grad("layernorm.bias", &o, o.b, db, C, TOL_LINEAR);
    }
    free(o.x), free(o.w), free(o.b), free(o.s1), free(o.s2), free(o.out), free(o.up);
    free(dx), free(dw), free(db);
}

static void test_gelu(void)
{
    size_t n = 150;
    struct op o = {.kind = OP_GELU, .nout = n};
    o.x = check_randn(&R, n, 2), o.out = check_zeros(n), o.up = check_randn(&R, n, 1);
    float *dx = check_zeros(n);
    gelu_backward(dx, o.up, o.x, n);
    check_grad("gelu.inp", &o, o.x, dx, n, TOL_SMOOTH);
    free(o.x), free(o.out), free(o.up), free(dx);
}

static void test_softmax(void)
{
    int N = 5, C = 13;
    size_t n = (size_t)N * C;
    struct op o = {.kind = OP_SOFTMAX, .nout = n, .scale = 0.7f, .d = {N, C}};
    o.x = check_randn(&R, n, 2), o.out = check_zeros(n), o.up = check_randn(&R, n, 1);
    float *dx = check_zeros(n);
    op_forward(&o);
    softmax_backward(dx, o.up, o.out, o.scale, N, C);
    check_grad("softmax.inp", &o, o.x, dx, n, TOL_SMOOTH);
    free(o.x), free(o.out), free(o.up), free(dx);
}

static void test_attention(int with_bias)
{
    int B = 2, T = 5, C = 12, NH = 3;
    size_t nq = (size_t)B * T * 3 * C, nb = (size_t)NH * T * T;
    struct op o = {.kind = OP_ATTENTION, .nout = (size_t)B * T * C, .d = {B, T, C, NH}};
    o.x = check_randn(&R, nq, 1), o.b = with_bias ? check_randn(&R, nb, 1) : NULL;
    o.s1 = check_zeros((size_t)B * NH * T * T), o.out = check_zeros(o.nout),
    o.up = check_randn(&R, o.nout, 1);
    float *dq = check_zeros(nq), *db = check_zeros(nb),
          *scratch = check_zeros(attention_scratch_floats(T));
    op_forward(&o);
    attention_backward(dq, with_bias ? db : NULL, scratch, o.up, o.x, o.s1, B, T, C, NH);
    check_grad(with_bias ? "attention(bias).qkv" : "attention.qkv", &o, o.x, dq, nq, TOL_SMOOTH);
    if (with_bias)
        check_grad("attention.bias", &o, o.b, db, nb, TOL_SMOOTH);
    free(o.x), free(o.b), free(o.s1), free(o.out), free(o.up), free(dq), free(db), free(scratch);
}

static void test_conv(void)
{
    int B = 2, H = 7, W = 6, IC = 3, OC = 4, K = 3, S = 2, P = 1;
    int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    size_t ni = (size_t)B * H * W * IC, nw = (size_t)OC * K * K * IC;
    struct op o = {
        .kind = OP_CONV, .nout = (size_t)B * OH * OW * OC, .d = {B, H, W, IC, OC, K, S, P}};
    o.x = check_randn(&R, ni, 1), o.w = check_randn(&R, nw, 1), o.b = check_randn(&R, OC, 1);
    o.col = check_zeros(conv_col_floats(B, H, W, IC, K, S, P));
    o.out = check_zeros(o.nout), o.up = check_randn(&R, o.nout, 1);
    float *dx = check_zeros(ni), *dw = check_zeros(nw), *db = check_zeros(OC);
    conv_backward(dx, dw, db, o.col, o.up, o.x, o.w, B, H, W, IC, OC, K, S, P);
    check_grad("conv.inp", &o, o.x, dx, ni, TOL_LINEAR);
    check_grad("conv.weight", &o, o.w, dw, nw, TOL_LINEAR);
    check_grad("conv.bias", &o, o.b, db, OC, TOL_LINEAR);
    free(o.x), free(o.w), free(o.b), free(o.col), free(o.out), free(o.up);
    free(dx), free(dw), free(db);
}

static void test_dwconv(void)
{
    int B = 2, H = 6, W = 5, C = 7, K = 3, S = 2, P = 1;
    int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    size_t ni = (size_t)B * H * W * C, nw = (size_t)C * K * K;
    struct op o = {.kind = OP_DWCONV, .nout = (size_t)B * OH * OW * C, .d = {B, H, W, C, K, S, P}};
    o.x = check_randn(&R, ni, 1), o.w = check_randn(&R, nw, 1), o.b = check_randn(&R, C, 1);
    o.out = check_zeros(o.nout), o.up = check_randn(&R, o.nout, 1);
    float *dx = check_zeros(ni), *dw = check_zeros(nw), *db = check_zeros(C);
    dwconv_backward(dx, dw, db, o.up, o.x, o.w, B, H, W, C, K, S, P);
    check_grad("dwconv.inp", &o, o.x, dx, ni, TOL_LINEAR);
    check_grad("dwconv.weight", &o, o.w, dw, nw, TOL_LINEAR);
    check_grad("dwconv.bias", &o, o.b, db, C, TOL_LINEAR);
    free(o.x), free(o.w), free(o.b), free(o.out), free(o.up), free(dx), free(dw), free(db);
}

static void test_batchnorm(void)
{
    int N = 11, C = 6;
    size_t n = (size_t)N * C;
    struct op o = {.kind = OP_BATCHNORM, .nout = n, .d = {N, C}};
    o.x = check_randn(&R, n, 1.5f), o.w = check_randn(&R, C, 1), o.b = check_randn(&R, C, 1);
    o.s1 = check_zeros(C), o.s2 = check_zeros(C), o.out = check_zeros(n),
    o.up = check_randn(&R, n, 1);
    float *dx = check_zeros(n), *dw = check_zeros(C), *db = check_zeros(C);
    op_forward(&o);
    batchnorm_backward(dx, dw, db, o.up, o.x, o.w, o.s1, o.s2, N, C);
    check_grad("batchnorm.inp", &o, o.x, dx, n, TOL_SMOOTH);
    check_grad("batchnorm.weight", &o, o.w, dw, C, TOL_LINEAR);
    check_grad("batchnorm.bias", &o, o.b, db, C, TOL_LINEAR);
    free(o.x), free(o.w), free(o.b), free(o.s1), free(o.s2), free(o.out), free(o.up);
    free(dx), free(dw), free(db);
}

static void test_meanpool_droppath(void)
{
    int B = 3, T = 5, C = 7;
    size_t n = (size_t)B * T * C;
    struct op o = {.kind = OP_MEANPOOL, .nout = (size_t)B * C, .d = {B, T, C}};
    o.x = check_randn(&R, n, 1), o.out = check_zeros(n), o.up = check_randn(&R, n, 1);
    float *dx = check_zeros(n);
    meanpool_backward(dx, o.up, B, T, C);
    check_grad("meanpool.inp", &o, o.x, dx, n, TOL_LINEAR);

    float scale[3] = {1 / 0.75f, 0.0f, 1 / 0.75f}; /* sample 1 dropped */
    o = (struct op){.kind = OP_DROPPATH,
                    .nout = n,
                    .d = {B, T * C},
                    .x = o.x,
                    .out = o.out,
                    .up = o.up,
                    .s1 = scale};
    memset(dx, 0, sizeof(float) * n);
    droppath_backward(dx, o.up, scale, B, (size_t)T * C);
    check_grad("droppath.inp", &o, o.x, dx, n, TOL_LINEAR);
    free(o.x), free(o.out), free(o.up), free(dx);
}

int main(void)
{
    rng_init(&R, 4321, RNG_STREAM_OTHER, 0, 0);
    test_matmul();
    test_layernorm(1);
    test_layernorm(0);
    test_gelu();
    test_softmax();
    test_attention(0);
    test_attention(1);
    test_conv();
    test_dwconv();
    test_batchnorm();
    test_meanpool_droppath();
    return check_report("test_grad_ops");
}
