/* seed: SEED, self-supervised distillation (Fang et al., ICLR 2021; jacobswan1/SEED
 * seed/builder.py). A frozen MoCo-v2 teacher (the `teacher:` config, kind moco, and its
 * checkpoint) and a student ViT with its own projection head see the same augmented view; the
 * student learns the teacher's similarity distribution over [its own embedding; a FIFO queue of
 * teacher embeddings] (seed.strategy seed), or one of SEED Table 4's alternatives: l2 or cosine
 * between embeddings, or SEED plus the student's own MoCo-v2 loss (seed_moco, with an EMA copy
 * of the student, a second view and a queue of student keys). seed.strategy picks any loss of
 * core/loss/loss_table.c on embeddings, and what the loss needs says what is built (the
 * student's keys). The teacher's embeddings of a batch enter the queue after the loss. A
 * supervised teacher (kind train, a classifier ViT with model.dim == seed.proj_dim) works too:
 * its embedding is its normalized pooled CLS feature (the survey's SEED point distils the
 * supervised ViT-s). Outputs as experiments/moco.c. */
#include "kd.h"
#include "train/ssl.h"
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"
#include "base/runtime.h"
#include "train/init_from.h"

#include <stdlib.h>
#include <string.h>

struct seed {
    struct ssl_enc t, s, sk; /* frozen teacher, student, student key encoder (seed_moco) */
    struct emb_queue tq, sq; /* teacher embeddings; student keys (seed_moco) */
    struct params state;     /* tq (and sk, sq), for resume points (struct ssl_method) */
    struct ssl_augment_cfg aug;
    const struct loss_def *loss; /* seed.strategy */
    int keys;                    /* the loss needs the student's own keys (LOSS_KEYS) */
    int supervised;              /* the teacher is a classifier: embedding = unit pooled CLS */
    float *v2;                   /* (B, h, w, c): the key view (seed_moco); ssl_fit makes the
                                  * view student and teacher share */
    float *work;                 /* loss scratch */
    const struct experiment *x;
};

/* The teacher's unit embeddings of images into S->t.zn: its projection head (MoCo teacher) or
 * its pooled CLS feature (supervised teacher). */
static void teacher_embed(struct seed *S, const float *images, int B, uint64_t seed, int step)
{
    if (!S->supervised) {
        ssl_enc_forward(&S->t, images, B, 0, seed, step);
        return;
    }
    vit_forward(&S->t.vit, images, B, 0, seed, step);
    l2norm_forward(S->t.zn, S->t.norms, S->t.vit.pooled, B, S->t.D);
}

/* The loss's inputs but the student's and teacher's embeddings (in.s, in.t, in.ds): shapes,
 * queues, temperatures. */
static struct loss_in loss_inputs(const struct seed *S, int B)
{
    const struct seed_cfg *c = &S->x->seed;
    return (struct loss_in){.work = S->work,
                            .weight = 1.0f,
                            .rows = B,
                            .D = c->proj_dim,
                            .queue = S->tq.v,
                            .K = c->queue,
                            .tau_s = c->tau_s,
                            .tau_t = c->tau_t,
                            .keys = S->sk.zn,
                            .key_queue = S->sq.v,
                            .tau = c->tau,
                            .key_weight = c->moco_weight};
}

static float seed_step(void *ctx, struct run *r, const float *v1, const int *idx, int B, int epoch,
                       long step)
{
    struct seed *S = ctx;
    const struct seed_cfg *c = &S->x->seed;
    uint64_t seed = (uint64_t)S->x->run.seed;
    int D = S->s.D;
    teacher_embed(S, v1, B, seed, (int)step);
    ssl_enc_forward(&S->s, v1, B, 1, seed, (int)step);
    if (S->keys) {
        ssl_batch(S->v2, &r->train, idx, B, &S->aug, seed, epoch, 1);
        ssl_enc_ema(&S->sk, &S->s, c->momentum);
        ssl_enc_forward(&S->sk, S->v2, B, 0, seed, (int)step);
    }
    memset(S->s.dz, 0, sizeof(float) * B * D);
    struct loss_in in = loss_inputs(S, B);
    in.s = S->s.head.z;
    in.t = S->t.zn;
    in.ds = S->s.dz;
    float loss = (float)S->loss->forward(&in);
    ssl_enc_backward(&S->s, B);
    emb_queue_push(&S->tq, S->t.zn, B);
    if (S->keys)
        emb_queue_push(&S->sq, S->sk.zn, B);
    return loss;
}

/* The teacher: its config (kind moco, same proj_dim) and checkpoint at this run's scale. */
static int load_teacher(struct seed *S, const struct experiment *x, int Bmax, struct kd_err *e)
{
    struct experiment tx;
    char stem[600];
    if (!x->teacher[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "add `teacher: configs/seed/<...>/<moco config>.yaml`",
                             "a seed run needs a MoCo teacher");
    if (config_load(&tx, x->teacher, x->scale, 0, NULL, e))
        return e->code;
    S->supervised = strcmp(tx.kind, "train") == 0;
    if (S->supervised && (tx.model.arch != ARCH_VIT || tx.model.dim != x->seed.proj_dim))
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "set seed.proj_dim to the teacher's model.dim (a ViT teacher)",
                             "teacher %s is kind 'train' (supervised), arch '%s' of dim %d, "
                             "not seed.proj_dim %d",
                             x->teacher, config_choice_name("model.arch", tx.model.arch),
                             tx.model.dim, x->seed.proj_dim);
    if (S->supervised)
        return ssl_enc_init(&S->t, &tx.model, x->seed.proj_dim, Bmax, 0, e)
                   ? e->code
                   : init_from_config(&S->t.vit.params, x, x->teacher, 1, e);
    if (strcmp(tx.kind, "moco") != 0 || tx.seed.proj_dim != x->seed.proj_dim)
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "name a kind: moco config with the same seed.proj_dim, or a "
                             "kind: train ViT",
                             "teacher %s is kind '%s' with proj_dim %d (this run: %d)", x->teacher,
                             tx.kind, tx.seed.proj_dim, x->seed.proj_dim);
    if (run_ref_stem(stem, sizeof stem, NULL, x, x->teacher, e))
        return e->code;
    char ckpt[640];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", stem);
    int rc = ssl_enc_init(&S->t, &tx.model, tx.seed.proj_dim, Bmax, 0, e);
    return rc ? rc : ssl_enc_load(&S->t, ckpt, e);
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct seed S;
    memset(&S, 0, sizeof S);
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e))
        die(&e);
    const struct experiment *x = &r.x;
    int B = x->optim.batch, D = x->seed.proj_dim, K = x->seed.queue;
    uint64_t seed = (uint64_t)x->run.seed;
    S.x = x;
    S.aug = ssl_augment_of(x);
    S.loss = loss_at(x->seed.strategy);
    S.keys = (S.loss->needs & LOSS_KEYS) != 0;
    if (load_teacher(&S, x, B, &e) || ssl_enc_init(&S.s, &x->model, D, B, seed, &e) ||
        emb_queue_init(&S.tq, K, D, seed, 1, &e))
        die(&e);
    if (S.keys) {
        if (ssl_enc_init(&S.sk, &x->model, D, B, seed, &e) ||
            emb_queue_init(&S.sq, K, D, seed, 2, &e))
            die(&e);
        ssl_enc_ema(&S.sk, &S.s, 0.0f);
    }
    size_t img = (size_t)r.train.h * r.train.w * r.train.c;
    S.v2 = malloc(sizeof(float) * B * img);
    struct loss_in shape = loss_inputs(&S, B);
    S.work = malloc(sizeof(float) * (S.loss->work_floats(&shape) + 1)); /* + 1: never 0 bytes */
    if (!S.v2 || !S.work) {
        kd_err_setfix(&e, KD_ERR_NOMEM, x->path, 0, "lower seed.queue or optim.batch",
                      "out of memory");
        die(&e);
    }
    params_begin(&S.state);
    emb_queue_register(&S.tq, &S.state, "teacher_queue");
    if (S.keys) {
        ssl_enc_register(&S.sk, &S.state, "key");
        emb_queue_register(&S.sq, &S.state, "key_queue");
    }
    struct ssl_method m = {&S, seed_step, &S.state};
    if (ssl_fit(&r, &S.s, &m, &e))
        die(&e);
    params_free(&S.state);
    free(S.v2), free(S.work);
    emb_queue_free(&S.tq);
    emb_queue_free(&S.sq);
    ssl_enc_free(&S.t);
    ssl_enc_free(&S.s);
    if (S.keys)
        ssl_enc_free(&S.sk);
    run_free(&r);
    return 0;
}
