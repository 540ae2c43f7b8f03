/* DC-ViT pieces: MACs of compressed models against a hand formula, the structure from a MACs
 * target, the weight copy (kept units, dropped blocks) checked functionally, finite-difference
 * checks of a compressed ViT (attention-free block with fewer hidden units), of the gradient
 * with respect to the input images and of the inversion priors, the jitter adjoint, a short
 * deterministic inversion; what fine-tuning trains, the block trial's plan, PRACTISE's step
 * schedule, and the papers' settings as the DC-ViT tables' defaults. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "models/vit_compress.h"
#include "train/invert.h"
#include "train/compress.h"
#include "train/optim.h"
#include "loss/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct vit_spec small = {.img = 8,
                                      .in_ch = 1,
                                      .classes = 3,
                                      .patch = 4,
                                      .dim = 8,
                                      .depth = 4,
                                      .heads = 2,
                                      .mlp_ratio = 4};

static void perturb(struct vit *m, uint64_t seed, float s)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < m->params.n; i++)
        for (size_t j = 0; j < m->params.p[i].n; j++)
            (*m->params.p[i].w)[j] += s * rng_normal(&r);
}

static void fill_normal(float *x, size_t n, uint64_t seed)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_OTHER, 1, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = rng_normal(&r);
}

/* vit_s as in configs/teachers/vit_s.yaml: T = 50, C = 128, hidden 512, depth 6. */
static void test_macs(void)
{
    struct vit_spec c = {.img = 28,
                         .in_ch = 1,
                         .classes = 10,
                         .patch = 4,
                         .dim = 128,
                         .depth = 6,
                         .heads = 4,
                         .mlp_ratio = 4};
    struct vit m, k;
    struct kd_err e;
    struct vit_compress st;
    CHECK(vit_init(&m, &c, 1, &e) == 0, "vit_s init");
    double T = 50, C = 128, H = 512;
    double attn = 3 * T * C * C + 2 * T * T * C + T * C * C, mlp = 2 * T * C * H;
    double embed = 49.0 * 16 * C, head = C * 10;
    CHECK(vit_attn_macs(&m) == attn && vit_mlp_macs(&m, 512) == mlp, "block MACs formula");
    CHECK(vit_macs(&m) == embed + 6 * (attn + mlp) + head, "original MACs %.0f", vit_macs(&m));
    /* 1.5 blocks removed: n = ceil(1.5) = 2, r = 4 (1 - (1.5 (a + m) - 2 a) / (2 m)). */
    double removed = 1.5 * (attn + mlp);
    CHECK(vit_compress_structure(&st, &m, removed, 0, 4, &e) == 0 && st.n == 2, "n = 2");
    int want = (int)lround(H * (1 - (removed - 2 * attn) / (2 * mlp)));
    CHECK(st.hidden == want, "hidden %d, formula %d", st.hidden, want);
    int blocks[2] = {1, 3};
    struct vit_layout lay;
    vit_compress_layout(&lay, &m, blocks, 2, st.hidden);
    CHECK(vit_init_layout(&k, &c, &lay, 1, &e) == 0, "compressed init");
    double hand = embed + 4 * (attn + mlp) + 2 * 2 * T * C * st.hidden + head;
    CHECK(vit_macs(&k) == hand, "compressed MACs %.0f vs %.0f", vit_macs(&k), hand);
    /* Rounding the width to whole units misses the target by less than half a unit per block. */
    CHECK(fabs(vit_macs(&m) - vit_macs(&k) - removed) <= 2 * 0.5 * 2 * T * C, "MACs target");
    size_t hand_params = vit_param_count(&m) - 2 * (2 * C + 3 * C * C + 3 * C + C * C + C) -
                         2 * (2 * C * (H - st.hidden) + (H - st.hidden));
    CHECK(vit_param_count(&k) == hand_params, "params %zu vs %zu", vit_param_count(&k),
          hand_params);
    /* The paper's k + 1 blocks at the MACs of k: explicit count; ceil alone leaves no MLP. */
    CHECK(vit_compress_structure(&st, &m, 2 * (attn + mlp), 0, 4, &e) == KD_ERR_CONFIG,
          "integer target with ceil: no unit left is an error");
    CHECK(vit_compress_structure(&st, &m, 2 * (attn + mlp), 3, 4, &e) == 0 && st.n == 3 &&
              st.hidden == (int)lround(H * (1 - (2 * (attn + mlp) - 3 * attn) / (3 * mlp))),
          "explicit n_blocks = 3");
    CHECK(vit_compress_structure(&st, &m, 4.5 * (attn + mlp), 0, 4, &e) == KD_ERR_CONFIG,
          "more blocks than candidates is an error");
    vit_free(&k);
    vit_free(&m);
}

/* A compressed copy equals the original whose removed parts were zeroed. */
static void test_copy(void)
{
    enum { B = 2 };
    struct vit m, k, d;
    struct kd_err e;
    struct vit_layout lay;
    CHECK(vit_init(&m, &small, B, &e) == 0, "init");
    vit_reset(&m, 3);
    perturb(&m, 4, 0.2f);
    int blk = 2, h = 13;
    vit_compress_layout(&lay, &m, &blk, 1, h);
    CHECK(vit_init_layout(&k, &small, &lay, B, &e) == 0, "compressed init");
    vit_compress_copy(&k, &m, NULL, 42);
    const struct block *s = &m.blocks[blk], *c = &k.blocks[blk];
    int H = s->hidden, C = s->C, kept[64], prev = -1, ok = 1;
    for (int j = 0; j < h; j++) {
        kept[j] = -1;
        for (int u = 0; u < H; u++)
            if (memcmp(c->fc1.w + j * C, s->fc1.w + u * C, sizeof(float) * C) == 0)
                kept[j] = u;
        ok &= kept[j] > prev && c->fc1.b[j] == s->fc1.b[kept[j]];
        for (int o = 0; o < C; o++)
            ok &= c->fc2.w[o * h + j] == s->fc2.w[o * H + kept[j]];
        prev = kept[j];
    }
    CHECK(ok, "kept units are original units, in order, with their fc2 columns");
    float images[B * 64], ref[B * 3];
    fill_normal(images, B * 64, 5);
    vit_forward(&k, images, B, 0, 0, 0);
    memcpy(ref, k.logits, sizeof ref);
    struct block *w = &m.blocks[blk];
    memset(w->proj.w, 0, sizeof(float) * C * C);
    memset(w->proj.b, 0, sizeof(float) * C);
    for (int u = 0, j = 0; u < H; u++) {
        if (j < h && kept[j] == u) {
            j++;
            continue;
        }
        for (int o = 0; o < C; o++)
            w->fc2.w[o * H + u] = 0;
    }
    vit_forward(&m, images, B, 0, 0, 0);
    CHECK(check_close(m.logits, ref, B * 3, 1e-5, 1e-4) <= 1, "compressed = zeroed original");
    /* Dropping a block equals the original with that block's branches zeroed. */
    struct vit_spec c3 = small;
    c3.depth = 3;
    int map[3] = {0, 1, 3};
    CHECK(vit_init(&d, &c3, B, &e) == 0, "dropped init");
    vit_compress_copy(&d, &m, map, 0);
    memset(w->fc2.w, 0, sizeof(float) * C * H);
    memset(w->fc2.b, 0, sizeof(float) * C);
    vit_forward(&d, images, B, 0, 0, 0);
    memcpy(ref, d.logits, sizeof ref);
    vit_forward(&m, images, B, 0, 0, 0);
    CHECK(check_close(m.logits, ref, B * 3, 1e-5, 1e-4) <= 1, "dropped = identity block");
    vit_free(&d);
    vit_free(&k);
    vit_free(&m);
}

struct feat_ctx {
    struct vit *m;
    float *images, *up;
    int B;
};

/* sum(feat * up) + sum(logits * up'): the fine-tuning MSE path and the classifier path. */
static double feat_loss(void *p)
{
    struct feat_ctx *c = p;
    vit_forward(c->m, c->images, c->B, 0, 0, 0);
    size_t n = (size_t)c->B * c->m->T * c->m->C;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)c->m->feat[i] * c->up[i];
    for (int i = 0; i < c->B * c->m->classes; i++)
        s += (double)c->m->logits[i] * c->up[n + i];
    return s;
}

static void test_grad_compressed(void)
{
    enum { B = 2 };
    struct vit m, k;
    struct kd_err e;
    struct vit_layout lay;
    int blocks[2] = {1, 2};
    CHECK(vit_init(&m, &small, B, &e) == 0, "init");
    vit_reset(&m, 6);
    perturb(&m, 7, 0.3f);
    vit_compress_layout(&lay, &m, blocks, 2, 5);
    CHECK(vit_init_layout(&k, &small, &lay, B, &e) == 0 && !k.blocks[1].attn &&
              k.blocks[2].hidden == 5 && k.blocks[3].attn,
          "layout");
    vit_compress_copy(&k, &m, NULL, 1);
    size_t nf = (size_t)B * k.T * k.C, ni = (size_t)B * 64;
    float *up = malloc(sizeof(float) * (nf + B * 3)), images[B * 64], dimg[B * 64] = {0};
    fill_normal(up, nf + B * 3, 8);
    fill_normal(images, ni, 9);
    struct feat_ctx c = {&k, images, up, B};
    feat_loss(&c);
    params_zero_grad(&k.params);
    vit_backward_images(&k, dimg, up + nf, up, B);
    /* eps 1e-2 in float: central differences carry ~1e-4 relative noise (test_grad_model). */
    for (int i = 0; i < k.params.n; i++)
        CHECK(gradcheck(k.params.p[i].name, feat_loss, &c, *k.params.p[i].w, *k.params.p[i].g,
                        k.params.p[i].n, 1e-2, 2e-2) == 0,
              "compressed vit %s", k.params.p[i].name);
    CHECK(gradcheck("images", feat_loss, &c, images, dimg, ni, 1e-2, 2e-2) == 0,
          "d(images) of vit_backward_images");
    /* The checker can fail: a wrong sign in one checked entry is caught. */
    dimg[gradcheck_point(3, ni)] *= -1;
    CHECK(gradcheck("images (planted error)", feat_loss, &c, images, dimg, ni, 1e-2, 2e-2) == 1,
          "planted error caught");
    free(up);
    vit_free(&k);
    vit_free(&m);
}

struct prior_ctx {
    float *x;
    int tv;
};

static double prior_loss(void *p)
{
    struct prior_ctx *c = p;
    return c->tv ? invert_tv(NULL, c->x, 5, 6, 2, 1) : invert_l2(NULL, c->x, 60, 1);
}

static void test_priors(void)
{
    float x[60], g[60];
    fill_normal(x, 60, 10);
    for (int tv = 0; tv <= 1; tv++) {
        struct prior_ctx c = {x, tv};
        memset(g, 0, sizeof g);
        if (tv)
            invert_tv(g, x, 5, 6, 2, 1);
        else
            invert_l2(g, x, 60, 1);
        /* |d|^0.6 is steep near 0: smaller steps than elsewhere. */
        CHECK(gradcheck(tv ? "tv" : "l2", prior_loss, &c, x, g, 60, 1e-3, 2e-2) == 0,
              "prior %s gradient", tv ? "tv" : "l2");
    }
    /* Adjoint of the jitter: <J x, y> == <x, J^T y>. */
    float a[2 * 7 * 7], b[2 * 7 * 7], ja[2 * 7 * 7], jb[2 * 7 * 7] = {0};
    fill_normal(a, 98, 11);
    fill_normal(b, 98, 12);
    invert_jitter(ja, a, 7, 2, 2, -3, 1, 0);
    invert_jitter(jb, b, 7, 2, 2, -3, 1, 1);
    double l = 0, r = 0;
    for (int i = 0; i < 98; i++)
        l += (double)ja[i] * b[i], r += (double)a[i] * jb[i];
    CHECK(fabs(l - r) < 1e-4, "jitter adjoint %g vs %g", l, r);
}

struct inv_log {
    double first, last, acc;
};

static void inv_cb(void *p, int it, const struct invert_stats *s)
{
    struct inv_log *l = p;
    if (it == 0)
        l->first = s->ce;
    l->last = s->ce;
    l->acc = s->acc;
}

static void test_invert(void)
{
    struct vit m;
    struct kd_err e;
    CHECK(vit_init(&m, &small, 4, &e) == 0, "init");
    vit_reset(&m, 13);
    perturb(&m, 14, 1.0f);
    int targets[6];
    invert_targets(targets, 6, 3, 1);
    CHECK(targets[0] != targets[1] && targets[1] != targets[2] && targets[0] != targets[2],
          "first K targets distinct");
    struct invert_cfg c = {6, 100, 5, 0.3f, 0.5f, 0.9f, 1e-3f, 1e-4f, 1, 1, -3.0f, 3.0f};
    float x1[6 * 64], x2[6 * 64];
    struct inv_log l1, l2;
    CHECK(invert_run(&m, x1, targets, &c, 3, inv_cb, &l1, &e) == 0, "invert runs");
    CHECK(invert_run(&m, x2, targets, &c, 3, inv_cb, &l2, &e) == 0, "invert runs again");
    CHECK(memcmp(x1, x2, sizeof x1) == 0, "same seed, same images");
    CHECK(l1.last < 0.8 * l1.first, "CE falls: %.3f -> %.3f", l1.first, l1.last);
    int in_range = 1;
    for (int i = 0; i < 6 * 64; i++)
        in_range &= x1[i] >= c.lo && x1[i] <= c.hi;
    CHECK(in_range, "pixels clipped to the data range");
    vit_free(&m);
}

static int frozen_of(const struct vit *m, const char *prefix)
{
    int all = 1, any = 0;
    for (int i = 0; i < m->params.n; i++)
        if (strncmp(m->params.p[i].name, prefix, strlen(prefix)) == 0) {
            all &= m->params.p[i].frozen;
            any = 1;
        }
    return any ? all : -1;
}

/* DC-ViT's official code freezes the head and the blocks after `upto` only; freeze_embed adds
 * the embeddings and the final norm (kdlab's earlier setting); PRACTISE (upto < 0) the head. */
static void test_trainable(void)
{
    struct vit m;
    struct kd_err e;
    CHECK(vit_init(&m, &small, 1, &e) == 0, "init");
    compress_set_trainable(&m, 1, 0);
    CHECK(frozen_of(&m, "head.") == 1 && frozen_of(&m, "blocks.2.") == 1 &&
              frozen_of(&m, "blocks.3.") == 1,
          "official: head and blocks after upto frozen");
    CHECK(frozen_of(&m, "blocks.0.") == 0 && frozen_of(&m, "blocks.1.") == 0 &&
              frozen_of(&m, "cls_token") == 0 && frozen_of(&m, "pos_embed") == 0 &&
              frozen_of(&m, "norm.") == 0 && frozen_of(&m, "patch") == 0,
          "official: blocks 0..upto, embeddings and final norm train");
    compress_set_trainable(&m, 1, 1);
    CHECK(frozen_of(&m, "cls_token") == 1 && frozen_of(&m, "pos_embed") == 1 &&
              frozen_of(&m, "norm.") == 1 && frozen_of(&m, "patch") == 1 &&
              frozen_of(&m, "blocks.1.") == 0 && frozen_of(&m, "blocks.2.") == 1,
          "freeze_embed: only blocks 0..upto train");
    compress_set_trainable(&m, -1, 1);
    CHECK(frozen_of(&m, "head.") == 1 && frozen_of(&m, "patch") == 0 &&
              frozen_of(&m, "blocks.3.") == 0,
          "PRACTISE: all but the head");
    vit_free(&m);
}

/* The trial of candidate c fine-tunes up to c + 1, every candidate on the same batch stream. */
static void test_trial_plan(void)
{
    struct dcvit_cfg d = {.trial_neighbour = 1, .trial_shared_batches = 1};
    int u1, u2;
    uint32_t t1, t2;
    compress_trial_plan(&d, 1, &u1, &t1);
    compress_trial_plan(&d, 4, &u2, &t2);
    CHECK(u1 == 2 && u2 == 5 && t1 == t2, "official: upto c+1 (%d, %d), one stream", u1, u2);
    d.trial_neighbour = d.trial_shared_batches = 0;
    compress_trial_plan(&d, 1, &u1, &t1);
    compress_trial_plan(&d, 4, &u2, &t2);
    CHECK(u1 == 1 && u2 == 4 && t1 != t2, "earlier: upto c, a stream per candidate");
}

/* PRACTISE's step decay: lr until 40% of the steps, then lr * 0.1; cosine stays the default. */
static void test_step_schedule(void)
{
    struct optim_cfg c = {.name = OPTIM_SGD,
                          .lr = 0.02f,
                          .min_lr = 0,
                          .epochs = 1,
                          .schedule = SCHEDULE_STEP,
                          .step_at = 0.4f,
                          .step_gamma = 0.1f};
    CHECK(lr_at(&c, 0, 100) == 0.02f && lr_at(&c, 39, 100) == 0.02f, "before the drop");
    CHECK(lr_at(&c, 40, 100) == 0.02f * 0.1f && lr_at(&c, 99, 100) == 0.02f * 0.1f,
          "after the drop");
    c.schedule = SCHEDULE_COSINE;
    CHECK(lr_at(&c, 40, 100) < 0.02f && lr_at(&c, 40, 100) > 0.002f, "cosine unchanged");
}

static void load_full(struct experiment *x, const char *path)
{
    struct kd_err e;
    CHECK(config_load(x, path, "full", 0, NULL, &e) == 0, "load %s", path);
}

/* The DC-ViT tables' settings are the papers' (papers.md, DC-ViT and PRACTISE). */
static void test_paper_settings(void)
{
    struct experiment x;
    load_full(&x, "configs/dcvit/macs/dcvit_r1.yaml");
    CHECK(x.optim.name == OPTIM_ADAMW && x.optim.lr == 3e-5f && x.dcvit.steps == 2000 &&
              x.optim.batch == 64 && !x.dcvit.freeze_embed && x.dcvit.trial_neighbour &&
              x.dcvit.trial_shared_batches,
          "DC-ViT: AdamW 3e-5, 2,000 a stage, official trial");
    load_full(&x, "configs/dcvit/macs/practise_r2.yaml");
    CHECK(x.optim.name == OPTIM_SGD && x.optim.lr == 0.02f && x.optim.momentum == 0.9f &&
              x.optim.weight_decay == 1e-4f && x.optim.schedule == SCHEDULE_STEP &&
              x.optim.step_at == 0.4f && x.dcvit.practise_budget == BUDGET_PAPER &&
              x.dcvit.practise_steps == 0 && x.dcvit.steps == 2000,
          "PRACTISE: SGD 0.02, step decay at 40%%, 2,000 iterations once");
    load_full(&x, "configs/dcvit/macs/equal_practise_r1.yaml");
    CHECK(x.optim.name == OPTIM_ADAMW && x.dcvit.practise_budget == BUDGET_EQUAL &&
              strstr(x.title, "equal budget"),
          "the equal-budget point");
}

int main(void)
{
    test_macs();
    test_copy();
    test_grad_compressed();
    test_priors();
    test_invert();
    test_trainable();
    test_trial_plan();
    test_step_schedule();
    test_paper_settings();
    return check_report("test_dcvit");
}
