/* Finite-difference checks of the layers the core wires (transformer block with drop-path, the
 * attention-free block) and of a whole small ViT end to end with cross-entropy. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "models/vit.h"
#include "loss/loss.h"

#include <stdlib.h>
#include <string.h>

struct block_ctx {
    struct block *b;
    struct block_acts *a;
    float *x, *y, *up;
    int B, T;
};

static double block_loss(void *p)
{
    struct block_ctx *c = p;
    block_forward(c->b, c->y, c->a, c->x, c->B, c->T);
    double s = 0;
    for (int i = 0; i < c->B * c->T * c->b->C; i++)
        s += (double)c->y[i] * c->up[i];
    return s;
}

static void test_block(int attn, float drop_path)
{
    enum { B = 3, T = 5, C = 8, NH = 2, H = 12 };
    struct params ps;
    struct plan pl;
    struct block b;
    struct block_acts a;
    struct block_scratch s;
    struct kd_err e;
    struct rng r;
    params_begin(&ps);
    block_init(&b, &ps, "blocks.0", C, NH, H, attn, drop_path);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    plan_begin(&pl);
    block_plan_acts(&b, &pl, &a, B, T);
    block_plan_scratch(&pl, &s, C, H, B, T);
    float *x, *y, *up, *dx;
    plan_add(&pl, &x, B * T * C);
    plan_add(&pl, &y, B * T * C);
    plan_add(&pl, &up, B * T * C);
    plan_add(&pl, &dx, B * T * C);
    CHECK(plan_alloc(&pl, &e) == 0, "plan");
    rng_init(&r, 7, RNG_STREAM_OTHER, 0, 0);
    block_reset(&b, &r);
    /* Larger weights than the 0.02 init, so every path carries gradient worth checking. */
    for (int i = 0; i < ps.n; i++)
        for (size_t j = 0; j < ps.p[i].n; j++)
            (*ps.p[i].w)[j] += 0.3f * rng_normal(&r);
    for (int i = 0; i < B * T * C; i++)
        x[i] = rng_normal(&r), up[i] = rng_normal(&r);
    block_draw_droppath(&b, &a, 3, 1, 0, B, 1);
    struct block_ctx c = {&b, &a, x, y, up, B, T};
    block_loss(&c);
    params_zero_grad(&ps);
    block_backward(&b, dx, up, x, &a, &s, B, T);
    /* eps 1e-2 with float forward: central differences carry ~1e-4 relative noise. */
    CHECK(gradcheck("block.x", block_loss, &c, x, dx, B * T * C, 1e-2, 2e-2) == 0,
          "block input gradient (attn %d, drop_path %.1f)", attn, drop_path);
    for (int i = 0; i < ps.n; i++)
        CHECK(gradcheck(ps.p[i].name, block_loss, &c, *ps.p[i].w, *ps.p[i].g, ps.p[i].n, 1e-2,
                        2e-2) == 0,
              "block %s (attn %d)", ps.p[i].name, attn);
    /* block_backward_set overwrites dx (NaNs here) with exactly what block_backward adds to 0. */
    float dx0[B * T * C];
    block_loss(&c);
    memset(dx, 0, sizeof dx0);
    block_backward(&b, dx, up, x, &a, &s, B, T);
    memcpy(dx0, dx, sizeof dx0);
    for (int i = 0; i < B * T * C; i++)
        dx[i] = NAN;
    block_backward_set(&b, dx, up, x, &a, &s, B, T);
    CHECK(!memcmp(dx, dx0, sizeof dx0), "block_backward_set (attn %d, drop_path %.1f)", attn,
          drop_path);
    params_free(&ps);
    plan_free(&pl);
}

struct vit_ctx {
    struct vit *m;
    float *images;
    int *labels;
    int B;
};

static double vit_loss(void *p)
{
    struct vit_ctx *c = p;
    vit_forward(c->m, c->images, c->B, 1, 11, 2);
    return ce_loss(NULL, c->m->logits, c->labels, 0.1f, 1.0f, c->B, c->m->classes);
}

/* A backward pass with a frozen block, head and class token gives every trainable parameter the
 * same gradient, bit for bit, and the frozen ones none (their passes are skipped); thawed again,
 * all of them get theirs (the layers' flags follow the parameter set, they cannot go stale). */
static void backward_once(struct vit *m, const float *images, const float *dlogits, int B)
{
    vit_forward(m, images, B, 1, 11, 2);
    params_zero_grad(&m->params);
    vit_backward(m, dlogits, NULL, B);
}

static void test_frozen(struct vit *m, const float *images, const float *dlogits, int B)
{
    size_t n = m->params.total;
    float *full = malloc(sizeof(float) * n);
    backward_once(m, images, dlogits, B);
    memcpy(full, params_grads(&m->params), sizeof(float) * n);
    for (int i = 0; i < m->params.n; i++) {
        const char *name = m->params.p[i].name;
        m->params.p[i].frozen = strncmp(name, "blocks.1.", 9) == 0 ||
                                strncmp(name, "head.", 5) == 0 || strcmp(name, "cls_token") == 0;
    }
    backward_once(m, images, dlogits, B);
    const float *g = params_grads(&m->params);
    for (int i = 0; i < m->params.n; i++) {
        const struct param *p = &m->params.p[i];
        size_t at = (size_t)(*p->g - g), bad = 0;
        for (size_t j = 0; j < p->n; j++)
            bad += p->frozen ? g[at + j] != 0.0f : memcmp(&g[at + j], &full[at + j], 4) != 0;
        CHECK(bad == 0, "frozen run: %zu gradients of %s (%s) differ", bad, p->name,
              p->frozen ? "frozen: none expected" : "trainable: the full run's expected");
        m->params.p[i].frozen = 0;
    }
    backward_once(m, images, dlogits, B);
    CHECK(memcmp(params_grads(&m->params), full, sizeof(float) * n) == 0,
          "thawed: every gradient as before freezing");
    free(full);
}

static void test_vit(void)
{
    struct vit_spec spec = {.img = 8,
                            .in_ch = 2,
                            .classes = 3,
                            .patch = 4,
                            .dim = 8,
                            .depth = 2,
                            .heads = 2,
                            .mlp_ratio = 2,
                            .drop_path = 0.3f};
    struct vit m;
    struct kd_err e;
    struct rng r;
    enum { B = 3 };
    CHECK(vit_init(&m, &spec, B, &e) == 0, "vit_init");
    vit_reset(&m, 5);
    rng_init(&r, 9, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < m.params.n; i++)
        for (size_t j = 0; j < m.params.p[i].n; j++)
            (*m.params.p[i].w)[j] += 0.3f * rng_normal(&r);
    float images[B * 8 * 8 * 2], dlogits[B * 3] = {0};
    int labels[B] = {0, 2, 1};
    for (int i = 0; i < B * 8 * 8 * 2; i++)
        images[i] = rng_normal(&r);
    struct vit_ctx c = {&m, images, labels, B};
    vit_forward(&m, images, B, 1, 11, 2);
    ce_loss(dlogits, m.logits, labels, 0.1f, 1.0f, B, 3);
    params_zero_grad(&m.params);
    vit_backward(&m, dlogits, NULL, B);
    for (int i = 0; i < m.params.n; i++)
        CHECK(gradcheck(m.params.p[i].name, vit_loss, &c, *m.params.p[i].w, *m.params.p[i].g,
                        m.params.p[i].n, 1e-2, 2e-2) == 0,
              "vit %s", m.params.p[i].name);
    CHECK(strcmp(m.params.p[0].name, "patch_embed.proj.weight") == 0, "timm names");
    test_frozen(&m, images, dlogits, B);
    vit_free(&m);
}

int main(void)
{
    test_block(1, 0.0f);
    test_block(1, 0.5f);
    test_block(0, 0.5f);
    test_vit();
    return check_report("test_grad_model");
}
