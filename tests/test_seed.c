/* SEED / MoCo-v2 pieces: ReLU and the projection head, L2 normalization, InfoNCE, the SEED
 * loss (hand-computed values, its tau_t -> 0 limit, finite differences), l2 and cosine, the
 * SSL encoder end to end (a loss on the pooled CLS feature back through the ViT), the SSL
 * augmentation (replay, parameter ranges, no allocation), the queue and the kNN vote. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "models/heads.h"
#include "loss/loss_ssl.h"
#include "data/augment_ssl.h"
#include "train/ssl.h"
#include "train/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, struct rng *r, float s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = s * rng_normal(r);
}

static void unit_rows(float *x, int n, int D)
{
    float norms[64];
    float tmp[64 * 32];
    KD_ASSERT(n <= 64 && n * D <= 64 * 32);
    l2norm_forward(tmp, norms, x, n, D);
    memcpy(x, tmp, sizeof(float) * n * D);
}

/* ---- ReLU and the projection head */
struct head_ctx {
    struct proj_head *h;
    float *x, *up;
    int B;
};

static double head_loss(void *p)
{
    struct head_ctx *c = p;
    proj_head_forward(c->h, c->x, c->B);
    double s = 0;
    for (int i = 0; i < c->B * c->h->out; i++)
        s += (double)c->h->z[i] * c->up[i];
    return s;
}

static void test_head(void)
{
    float in[4] = {-1.0f, 0.0f, 2.0f, -0.5f}, out[4], din[4] = {0}, dout[4] = {1, 2, 3, 4};
    relu_forward(out, in, 4);
    relu_backward(din, dout, in, 4);
    CHECK(out[0] == 0 && out[2] == 2.0f && out[3] == 0, "relu forward");
    CHECK(din[0] == 0 && din[1] == 0 && din[2] == 3.0f && din[3] == 0, "relu backward");
    enum { B = 3, IN = 6, HID = 6, OUT = 5 };
    struct params ps;
    struct plan pl;
    struct proj_head h;
    struct kd_err e;
    struct rng r;
    float *x, *up, *dx;
    params_begin(&ps);
    proj_head_init(&h, &ps, "proj", IN, HID, OUT);
    CHECK(params_alloc(&ps, &e) == 0, "alloc");
    plan_begin(&pl);
    proj_head_plan(&h, &pl, B);
    plan_add(&pl, &x, B * IN);
    plan_add(&pl, &up, B * OUT);
    plan_add(&pl, &dx, B * IN);
    CHECK(plan_alloc(&pl, &e) == 0, "plan");
    rng_init(&r, 3, RNG_STREAM_OTHER, 0, 0);
    proj_head_reset(&h, &r);
    for (int i = 0; i < ps.n; i++)
        fill(*ps.p[i].w, ps.p[i].n, &r, 0.5f);
    fill(x, B * IN, &r, 1.0f);
    fill(up, B * OUT, &r, 1.0f);
    struct head_ctx c = {&h, x, up, B};
    head_loss(&c);
    params_zero_grad(&ps);
    proj_head_backward(&h, dx, up, x, B);
    /* eps 1e-3: a kink of ReLU inside +-eps is unlikely with these random values. */
    CHECK(gradcheck("proj.x", head_loss, &c, x, dx, B * IN, 1e-3, 1e-2) == 0, "head dx");
    for (int i = 0; i < ps.n; i++)
        CHECK(gradcheck(ps.p[i].name, head_loss, &c, *ps.p[i].w, *ps.p[i].g, ps.p[i].n, 1e-3,
                        1e-2) == 0,
              "head %s", ps.p[i].name);
    params_free(&ps);
    plan_free(&pl);
}

/* ---- losses */
enum { LB = 3, LK = 5, LD = 4 };
struct loss_ctx {
    int which; /* 0 infonce, 1 seed, 2 l2, 3 cosine, 4 l2norm */
    float *z, *t, *queue, *work, *up;
    float tau_s, tau_t;
};

static double loss_eval(void *p)
{
    struct loss_ctx *c = p;
    switch (c->which) {
    case 0: return infonce_loss(NULL, c->work, c->z, c->t, c->queue, c->tau_s, 1, LB, LK, LD);
    case 1:
        return seed_queue_loss(NULL, c->work, c->z, c->t, c->queue, c->tau_s, c->tau_t, 1, LB, LK,
                               LD);
    case 2: return embed_l2_loss(NULL, c->work, c->z, c->t, 1, LB, LD);
    case 3: return embed_cosine_loss(NULL, c->work, c->z, c->t, 1, LB, LD);
    default: {
        float out[LB * LD], norms[LB];
        l2norm_forward(out, norms, c->z, LB, LD);
        double s = 0;
        for (int i = 0; i < LB * LD; i++)
            s += (double)out[i] * c->up[i];
        return s;
    }
    }
}

static void loss_grad(struct loss_ctx *c, float *g, float weight)
{
    memset(g, 0, sizeof(float) * LB * LD);
    switch (c->which) {
    case 0: infonce_loss(g, c->work, c->z, c->t, c->queue, c->tau_s, weight, LB, LK, LD); break;
    case 1:
        seed_queue_loss(g, c->work, c->z, c->t, c->queue, c->tau_s, c->tau_t, weight, LB, LK, LD);
        break;
    case 2: embed_l2_loss(g, c->work, c->z, c->t, weight, LB, LD); break;
    case 3: embed_cosine_loss(g, c->work, c->z, c->t, weight, LB, LD); break;
    default: {
        float out[LB * LD], norms[LB];
        l2norm_forward(out, norms, c->z, LB, LD);
        l2norm_backward(g, c->up, out, norms, LB, LD);
    }
    }
}

/* Straightforward double-precision SEED loss, written from the paper's formulas. */
static double seed_ref(const float *z, const float *t, const float *q, float ts, float tt)
{
    double total = 0;
    for (int b = 0; b < LB; b++) {
        double zn[LD], nz = 0, ls[LK + 1], lt[LK + 1];
        for (int j = 0; j < LD; j++)
            nz += (double)z[b * LD + j] * z[b * LD + j];
        for (int j = 0; j < LD; j++)
            zn[j] = z[b * LD + j] / sqrt(nz);
        for (int k = 0; k <= LK; k++) {
            const float *d = k == 0 ? t + b * LD : q + (k - 1) * LD;
            ls[k] = lt[k] = 0;
            for (int j = 0; j < LD; j++) {
                ls[k] += zn[j] * d[j] / ts;
                lt[k] += (double)t[b * LD + j] * d[j] / tt;
            }
        }
        double ms = ls[0], mt = lt[0], ss = 0, st = 0;
        for (int k = 1; k <= LK; k++)
            ms = fmax(ms, ls[k]), mt = fmax(mt, lt[k]);
        for (int k = 0; k <= LK; k++)
            ss += exp(ls[k] - ms), st += exp(lt[k] - mt);
        for (int k = 0; k <= LK; k++)
            total -= exp(lt[k] - mt) / st * (ls[k] - ms - log(ss));
    }
    return total / LB;
}

static void test_losses(void)
{
    struct rng r;
    rng_init(&r, 11, RNG_STREAM_OTHER, 0, 0);
    float z[LB * LD], t[LB * LD], q[LK * LD], up[LB * LD], g[LB * LD], g2[LB * LD];
    float work[1024];
    KD_ASSERT(seed_queue_work_floats(LB, LK, LD) <= 1024 &&
              infonce_work_floats(LB, LK, LD) <= 1024);
    fill(z, LB * LD, &r, 1.0f);
    fill(t, LB * LD, &r, 1.0f);
    fill(q, LK * LD, &r, 1.0f);
    fill(up, LB * LD, &r, 1.0f);
    unit_rows(t, LB, LD);
    unit_rows(q, LK, LD);
    struct loss_ctx c = {0, z, t, q, work, up, 0.2f, 0.07f};

    /* Hand-computed cases, D = 2, one sample, one negative. */
    {
        float zs[2] = {3, 4}, k[2] = {1, 0}, neg[2] = {0, 1}, w[64];
        /* q = (0.6, 0.8): logits (0.6, 0.8) / 0.5 -> loss = log(1 + e^0.4) - 0 ... exactly
         * -log(e^1.2 / (e^1.2 + e^1.6)) = log(1 + e^0.4). */
        double want = log(1.0 + exp(0.4));
        CHECK(fabs(infonce_loss(NULL, w, zs, k, neg, 0.5f, 1, 1, 1, 2) - want) < 1e-5,
              "infonce hand value");
        /* SEED: teacher t = (1, 0) -> teacher sims (1, 0), student sims (0.6, 0.8). */
        double pt0 = exp(1 / 0.5) / (exp(1 / 0.5) + 1), ls0 = 1.2 - log(exp(1.2) + exp(1.6));
        double ls1 = 1.6 - log(exp(1.2) + exp(1.6));
        double want_s = -(pt0 * ls0 + (1 - pt0) * ls1);
        CHECK(fabs(seed_queue_loss(NULL, w, zs, k, neg, 0.5f, 0.5f, 1, 1, 1, 2) - want_s) < 1e-5,
              "seed hand value");
        /* l2: |(0.6, 0.8) - (1, 0)|^2 = 0.16 + 0.64 = 0.8; cosine: 1 - 0.6 = 0.4 */
        CHECK(fabs(embed_l2_loss(NULL, w, zs, k, 1, 1, 2) - 0.8) < 1e-6, "l2 hand value");
        CHECK(fabs(embed_cosine_loss(NULL, w, zs, k, 1, 1, 2) - 0.4) < 1e-6, "cosine value");
    }
    /* SEED against the reference over a batch, and its InfoNCE limit (tau_t -> 0). */
    double s = seed_queue_loss(NULL, work, z, t, q, 0.2f, 0.07f, 1, LB, LK, LD);
    CHECK(fabs(s - seed_ref(z, t, q, 0.2f, 0.07f)) < 1e-4, "seed vs reference %f", s);
    double lim = seed_queue_loss(NULL, work, z, t, q, 0.2f, 1e-6f, 1, LB, LK, LD);
    double nce = infonce_loss(NULL, work, z, t, q, 0.2f, 1, LB, LK, LD);
    CHECK(fabs(lim - nce) < 1e-4, "seed at tau_t -> 0 is infonce: %f vs %f", lim, nce);

    const char *names[] = {"infonce", "seed_queue", "embed_l2", "embed_cosine", "l2norm"};
    for (int w = 0; w < 5; w++) {
        c.which = w;
        loss_grad(&c, g, 1.0f);
        /* eps 1e-3 in float; tol 1e-2: the losses are smooth and O(1). */
        CHECK(gradcheck(names[w], loss_eval, &c, z, g, LB * LD, 1e-3, 1e-2) == 0, "%s grad",
              names[w]);
        /* weight scales, and the gradient accumulates */
        if (w < 4) {
            loss_grad(&c, g2, 2.5f);
            int ok = 1;
            for (int i = 0; i < LB * LD; i++)
                ok &= fabsf(g2[i] - 2.5f * g[i]) <= 1e-5f * (1 + fabsf(g[i]));
            CHECK(ok, "%s: weight scales the gradient", names[w]);
        }
    }
    /* SEED at the small tau_t of the paper's code, and a sign flip the checker must catch. */
    c.which = 1;
    c.tau_t = 1e-4f;
    loss_grad(&c, g, 1.0f);
    CHECK(gradcheck("seed_queue tau_t=1e-4", loss_eval, &c, z, g, LB * LD, 1e-3, 1e-2) == 0,
          "seed grad at tau_t 1e-4");
    g[gradcheck_point(1, LB * LD)] *= -1.0f;
    fprintf(stderr, "(expected failure follows)\n");
    CHECK(gradcheck("seed_queue flipped", loss_eval, &c, z, g, LB * LD, 1e-3, 1e-2) == 1,
          "gradcheck catches a flipped sign");
}

/* ---- the encoder: a loss on the pooled CLS feature back through the whole ViT */
struct enc_ctx {
    struct ssl_enc *s;
    float *images, *t, *q, *work;
    int B;
};

static double enc_loss(void *p)
{
    struct enc_ctx *c = p;
    ssl_enc_forward(c->s, c->images, c->B, 0, 0, 0);
    return seed_queue_loss(NULL, c->work, c->s->head.z, c->t, c->q, 0.2f, 0.1f, 1, c->B, 6,
                           c->s->D);
}

static void test_encoder(void)
{
    struct model_cfg cfg = {.arch = ARCH_VIT,
                            .img = 8,
                            .in_ch = 1,
                            .classes = 3,
                            .patch = 4,
                            .dim = 8,
                            .depth = 2,
                            .heads = 2,
                            .mlp_ratio = 2,
                            .drop_path = 0};
    enum { B = 2, D = 5, K = 6 };
    struct ssl_enc s, k;
    struct kd_err e;
    struct rng r;
    CHECK(ssl_enc_init(&s, &cfg, D, B, 1, &e) == 0, "encoder init");
    rng_init(&r, 5, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < s.all.n; i++)
        if (strcmp(s.all.p[i].name, "head.weight") && strcmp(s.all.p[i].name, "head.bias"))
            fill(*s.all.p[i].w, s.all.p[i].n, &r, 0.3f);
    float images[B * 64], t[B * D], q[K * D], work[512];
    fill(images, B * 64, &r, 1.0f);
    fill(t, B * D, &r, 1.0f);
    fill(q, K * D, &r, 1.0f);
    unit_rows(t, B, D);
    unit_rows(q, K, D);
    struct enc_ctx c = {&s, images, t, q, work, B};
    enc_loss(&c);
    memset(s.dz, 0, sizeof(float) * B * D);
    seed_queue_loss(s.dz, work, s.head.z, t, q, 0.2f, 0.1f, 1, B, K, D);
    ssl_enc_backward(&s, B);
    const char *check[] = {
        "patch_embed.proj.weight", "cls_token",   "pos_embed",       "blocks.0.attn.qkv.weight",
        "blocks.1.mlp.fc2.weight", "norm.weight", "proj.fc1.weight", "proj.fc2.bias"};
    for (int i = 0; i < 8; i++) {
        struct param *p = params_find(&s.all, check[i]);
        CHECK(p != NULL, "param %s", check[i]);
        /* eps 1e-2 as the ViT checks in test_grad_model (float forward noise). */
        if (p)
            CHECK(gradcheck(check[i], enc_loss, &c, *p->w, *p->g, p->n, 1e-2, 3e-2) == 0,
                  "encoder grad %s", check[i]);
    }
    struct param *hw = params_find(&s.all, "head.weight");
    float hsum = 0;
    for (size_t i = 0; hw && i < hw->n; i++)
        hsum += fabsf((*hw->g)[i]);
    CHECK(hw && hsum == 0.0f, "the unused classifier gets no gradient");
    /* EMA: m = 0 copies, m = 0.5 averages */
    CHECK(ssl_enc_init(&k, &cfg, D, B, 2, &e) == 0, "key init");
    float before = *k.vit.cls, src = *s.vit.cls;
    ssl_enc_ema(&k, &s, 0.5f);
    CHECK(fabsf(*k.vit.cls - 0.5f * (before + src)) < 1e-7f, "ema average");
    ssl_enc_ema(&k, &s, 0.0f);
    CHECK(memcmp(params_values(&k.head_ps), params_values(&s.head_ps), k.head_ps.values.used) == 0,
          "ema m=0 copies");
    ssl_enc_free(&k);
    ssl_enc_free(&s);
}

/* ---- augmentation, queue, kNN */
static void test_augment(void)
{
    uint8_t img[28 * 28];
    for (int i = 0; i < 28 * 28; i++)
        img[i] = (uint8_t)(i * 7);
    struct ssl_augment_cfg cfg = {0.2f, 1, 0.4f, 0.8f, 0.5f, 1.0f};
    struct ssl_view_params a, b;
    float x[28 * 28], y[28 * 28];
    int flips = 0, blurs = 0, jit = 0, differ = 0;
    for (int s = 0; s < 400; s++) {
        ssl_augment_draw(&a, &cfg, 28, 28, 9, 2, s, 0);
        ssl_augment_draw(&b, &cfg, 28, 28, 9, 2, s, 1);
        differ += memcmp(&a, &b, sizeof a) != 0;
        flips += a.flip;
        blurs += a.sigma > 0;
        jit += a.bright != 1.0f;
        float area = a.ch * a.cw / (28.0f * 28.0f);
        CHECK(area >= 0.17f && area <= 1.0f && a.y0 + a.ch <= 28 && a.x0 + a.cw <= 28,
              "crop inside the image, area %.3f", area);
        CHECK(a.sigma == 0 || (a.sigma >= 0.1f && a.sigma <= 1.0f), "sigma range");
        CHECK(a.bright >= 0.6f && a.bright <= 1.4f && a.contrast >= 0.6f && a.contrast <= 1.4f,
              "jitter range");
    }
    CHECK(differ == 400, "the two views differ");
    CHECK(flips > 150 && flips < 250 && blurs > 150 && blurs < 250 && jit > 280 && jit < 360,
          "probabilities: flip %d blur %d jitter %d of 400", flips, blurs, jit);
    ssl_augment_draw(&a, &cfg, 28, 28, 9, 2, 17, 1);
    ssl_augment_draw(&b, &cfg, 28, 28, 9, 2, 17, 1);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "draw replays");
    long allocs = kd_alloc_count;
    ssl_augment_apply(x, img, 28, 28, 1, &a);
    ssl_augment_apply(y, img, 28, 28, 1, &a);
    CHECK(memcmp(x, y, sizeof x) == 0, "apply replays");
    CHECK(kd_alloc_count == allocs, "apply allocates nothing");
    /* Identity parameters reproduce the normalized image. */
    struct ssl_view_params id = {0, 0, 28, 28, 0, 1, 1, 0, 0};
    ssl_augment_apply(x, img, 28, 28, 1, &id);
    float worst = 0;
    for (int i = 0; i < 28 * 28; i++)
        worst = fmaxf(worst, fabsf(x[i] - (img[i] / 255.0f - FMNIST_MEAN) / FMNIST_STD));
    CHECK(worst < 1e-5f, "identity view, worst %g", worst);
    /* flip of the identity crop mirrors */
    id.flip = 1;
    ssl_augment_apply(y, img, 28, 28, 1, &id);
    CHECK(y[0] == x[27] && y[28 * 5 + 3] == x[28 * 5 + 24], "flip mirrors");
}

static void test_queue_knn(void)
{
    struct emb_queue q;
    struct kd_err e;
    CHECK(emb_queue_init(&q, 3, 2, 1, 0, &e) == 0, "queue");
    float z[4] = {1, 0, 0, 1}, z2[2] = {0.6f, 0.8f};
    emb_queue_push(&q, z, 2);
    emb_queue_push(&q, z2, 1);
    emb_queue_push(&q, z, 1);
    CHECK(q.v[0] == 1 && q.v[1] == 0 && q.v[2] == 0 && q.v[3] == 1 && q.v[4] == 0.6f &&
              q.pos[0] == 1,
          "FIFO: the oldest row is overwritten (pos %g)", q.pos[0]);
    /* kNN: two clusters; k = 2; the query near cluster 1 votes 1. */
    float bank[8] = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f}, qr[4] = {0.2f, 1, 1, 0.3f};
    int bl[4] = {0, 0, 1, 1}, ql[2] = {1, 0};
    CHECK(knn_top1(bank, bl, 4, qr, ql, 2, 2, 2, 2, 0.07f) == 1.0, "knn top-1");
    int wrong[2] = {0, 1};
    float qr2[4] = {0.2f, 1, 1, 0.3f}, bank2[8] = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
    CHECK(knn_top1(bank2, bl, 4, qr2, wrong, 2, 2, 2, 2, 0.07f) == 0.0, "knn misses");
    emb_queue_free(&q);
}

int main(void)
{
    test_head();
    test_losses();
    test_encoder();
    test_augment();
    test_queue_knn();
    return check_report("seed");
}
