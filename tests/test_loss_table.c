/* The loss table (core/loss/loss_table.c), entry by entry through its forward on inputs of its
 * needs: the gradient against central differences, then a planted sign error that must be
 * caught; the weight scales the gradient and the gradient accumulates. A loss added to the
 * table is checked here with no test of its own. Also feature_cosine's values by hand, and
 * which losses the config keys offer. */
#include "kd.h"
#include "check.h"
#include "gradcheck.h"
#include "loss/loss.h"
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 3, D = 8, K = 5, T = 5, CS = 8, CT = 12, HEADS = 2 };

static struct rng R;

/* n floats of std s, each row of D made a unit vector when unit is set. */
static float *draw(size_t n, float s, int unit)
{
    float *x = check_randn(&R, n, s);
    for (size_t r = 0; unit && r < n / D; r++) {
        double nn = 0;
        for (int j = 0; j < D; j++)
            nn += (double)x[r * D + j] * x[r * D + j];
        for (int j = 0; j < D; j++)
            x[r * D + j] = (float)(x[r * D + j] / sqrt(nn));
    }
    return x;
}

/* Inputs of every need (a loss reads its own); s is the student's, of n_s floats. */
static struct loss_in inputs_of(const struct loss_def *L, size_t *n_s)
{
    int rel = (L->needs & LOSS_RELATION) != 0;
    *n_s = rel ? (size_t)ROWS * T * 3 * CS : (size_t)ROWS * D;
    struct loss_in in = {.weight = 1.0f,
                         .rows = ROWS,
                         .D = D,
                         .K = K,
                         .tau_s = 0.5f,
                         .tau_t = 0.3f,
                         .tau = 0.5f,
                         .key_weight = 0.7f,
                         .T = T,
                         .Cs = CS,
                         .Ct = CT,
                         .heads = HEADS,
                         .pairs = RELATION_QK | RELATION_VV};
    /* Features at scale 3: smooth-L1 (beta 2) sees both of its pieces. */
    in.s = draw(*n_s, L->needs & LOSS_FEATURE ? 3.0f : 1.0f, 0);
    in.t = rel ? draw((size_t)ROWS * T * 3 * CT, 1.0f, 0)
               : draw((size_t)ROWS * D, 1.0f, (L->needs & LOSS_EMBED) != 0);
    in.queue = draw(K * D, 1.0f, 1);
    in.keys = draw(ROWS * D, 1.0f, 1);
    in.key_queue = draw(K * D, 1.0f, 1);
    in.work = check_zeros(L->work_floats(&in) + 1);
    return in;
}

struct ctx {
    const struct loss_def *L;
    struct loss_in in;
};

static double loss_only(void *p)
{
    struct ctx *c = p;
    struct loss_in in = c->in;
    in.ds = NULL;
    return c->L->forward(&in);
}

/* The gradient of entry L at weight w into a fresh g of n floats. */
static float *grad_of(struct ctx *c, size_t n, float w)
{
    float *g = check_zeros(n);
    c->in.ds = g;
    c->in.weight = w;
    c->L->forward(&c->in);
    c->in.weight = 1.0f;
    return g;
}

static void check_entry(const struct loss_def *L)
{
    size_t n;
    struct ctx c = {L, inputs_of(L, &n)};
    float *s = (float *)c.in.s, *g = grad_of(&c, n, 1.0f), *g2 = grad_of(&c, n, 2.5f);
    CHECK(gradcheck(L->name, loss_only, &c, s, g, n, 1e-2, 2e-2) == 0, "%s gradient", L->name);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= fabsf(g2[i] - 2.5f * g[i]) <= 1e-5f * (1 + fabsf(g[i]));
    CHECK(ok, "%s: the weight scales the gradient", L->name);
    c.in.ds = g2; /* already 2.5 g: one more pass at weight 1 makes 3.5 g */
    L->forward(&c.in);
    ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= fabsf(g2[i] - 3.5f * g[i]) <= 1e-5f * (1 + fabsf(g[i]));
    CHECK(ok, "%s: the gradient accumulates", L->name);
    size_t worst = 0;
    for (size_t k = 0; k < gradcheck_points(n); k++)
        if (fabsf(g[gradcheck_point(k, n)]) > fabsf(g[worst]))
            worst = gradcheck_point(k, n);
    g[worst] = -g[worst];
    fprintf(stderr, "(expected failure follows)\n");
    CHECK(gradcheck(L->name, loss_only, &c, s, g, n, 1e-2, 2e-2) != 0, "%s: planted error caught",
          L->name);
    free(s), free((float *)c.in.t), free((float *)c.in.queue), free((float *)c.in.keys);
    free((float *)c.in.key_queue), free(c.in.work), free(g), free(g2);
}

static const struct loss_def *find(const char *name)
{
    for (int i = 0; i < loss_count(); i++)
        if (strcmp(loss_at(i)->name, name) == 0)
            return loss_at(i);
    return NULL;
}

/* 1 - cos per row: (3, 4) against (1, 0) is 0.4, against (-3, -4) 2, against (6, 8) 0. */
static void test_feature_cosine_values(void)
{
    const struct loss_def *L = find("feature_cosine");
    CHECK(L && L->needs == LOSS_FEATURE, "feature_cosine is in the table, on features");
    if (!L)
        return;
    float s[2] = {3, 4}, t[4][2] = {{1, 0}, {-3, -4}, {6, 8}, {0.6f, 0.8f}}, g[2] = {0, 0};
    double want[4] = {0.4, 2.0, 0.0, 0.0};
    for (int i = 0; i < 4; i++) {
        struct loss_in in = {.s = s, .t = t[i], .weight = 1.0f, .rows = 1, .D = 2};
        CHECK(fabs(L->forward(&in) - want[i]) < 1e-6, "feature_cosine value %d", i);
    }
    /* Aligned: no gradient; two rows average. */
    struct loss_in in = {.s = s, .t = t[2], .ds = g, .weight = 1.0f, .rows = 1, .D = 2};
    L->forward(&in);
    CHECK(fabsf(g[0]) < 1e-7f && fabsf(g[1]) < 1e-7f, "aligned: zero gradient");
    float s2[4] = {3, 4, 3, 4}, t2[4] = {1, 0, 6, 8};
    struct loss_in two = {.s = s2, .t = t2, .weight = 1.0f, .rows = 2, .D = 2};
    CHECK(fabs(L->forward(&two) - 0.2) < 1e-6, "mean over rows");
}

/* The keys offer the losses their methods feed, in table order, and refuse the others. */
static void test_keys(void)
{
    struct experiment x;
    struct kd_err e;
    char buf[64];
    CHECK(config_load(&x, "tests/configs/good/empty.yaml", NULL, 0, NULL, &e) == 0, "load");
    CHECK(!strcmp(loss_at(x.seed.strategy)->name, "seed") &&
              !strcmp(loss_at(x.tinymim.target)->name, "relation"),
          "defaults");
    CHECK(config_set(&x, "tinymim.target", "feature_cosine", &e) == 0 &&
              !strcmp(loss_at(x.tinymim.target)->name, "feature_cosine") &&
              config_get(&x, "tinymim.target", buf, sizeof buf) == 0 &&
              !strcmp(buf, "feature_cosine"),
          "tinymim.target: feature_cosine");
    CHECK(config_set(&x, "seed.strategy", "feature_cosine", &e) == KD_ERR_CONFIG &&
              strstr(e.msg, "expected one of seed|l2|cosine|seed_moco for 'seed.strategy'"),
          "seed.strategy refuses a feature loss: %s", e.msg);
    CHECK(config_set(&x, "tinymim.target", "cosine", &e) == KD_ERR_CONFIG &&
              strstr(e.msg, "relation|feature|cls|feature_cosine"),
          "tinymim.target refuses an embedding loss: %s", e.msg);
    for (int i = 0; i < loss_count(); i++)
        CHECK(loss_fits(i, LOSS_EMBED | LOSS_QUEUE | LOSS_KEYS) ||
                  loss_fits(i, LOSS_RELATION | LOSS_FEATURE | LOSS_LOGITS),
              "%s: some key offers it", loss_at(i)->name);
}

int main(void)
{
    rng_init(&R, 26, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < loss_count(); i++)
        check_entry(loss_at(i));
    test_feature_cosine_values();
    test_keys();
    return check_report("test_loss_table");
}
