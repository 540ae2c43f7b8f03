/* moco: MoCo-v2 pretraining of a ViT (He et al. 2020, Chen et al. 2020; facebookresearch/moco
 * moco/builder.py): a query encoder (ViT + projection MLP) trained by InfoNCE against the
 * momentum (EMA) key encoder's embedding of a second view and a FIFO queue of past keys.
 * Optimizer: optim.* (SEED's tables: the paper's SGD; AdamW, measured better for a MoCo ViT-t
 * here, is a value of optim.name, see configs/base/seed_ssl.yaml). Writes STEM.csv (per epoch:
 * loss, kNN monitor; the last row: kNN, linear probe, semi-supervised fine-tunings), STEM.ckpt
 * (query backbone + head), .yaml, .meta through ssl_fit (train/ssl.h). */
#include "kd.h"
#include "train/ssl.h"
#include "loss/loss_ssl.h"
#include "base/runtime.h"

#include <stdlib.h>
#include <string.h>

struct moco {
    struct ssl_enc q, k;    /* query encoder (trained) and key encoder (EMA of q) */
    struct emb_queue queue; /* past keys: the negatives */
    struct params state;    /* k and queue, for resume points (struct ssl_method) */
    struct ssl_augment_cfg aug;
    float *v2;   /* (B, h, w, c) the second view (ssl_fit makes the first) */
    float *work; /* infonce_work_floats */
    const struct experiment *x;
};

static float moco_step(void *ctx, struct run *r, const float *v1, const int *idx, int B, int epoch,
                       long step)
{
    struct moco *M = ctx;
    const struct seed_cfg *c = &M->x->seed;
    uint64_t seed = (uint64_t)M->x->run.seed;
    ssl_batch(M->v2, &r->train, idx, B, &M->aug, seed, epoch, 1);
    /* The key encoder follows the query weights of before this step's update, as in MoCo. */
    ssl_enc_ema(&M->k, &M->q, c->momentum);
    ssl_enc_forward(&M->k, M->v2, B, 0, seed, (int)step);
    ssl_enc_forward(&M->q, v1, B, 1, seed, (int)step);
    memset(M->q.dz, 0, sizeof(float) * B * M->q.D);
    float loss = infonce_loss(M->q.dz, M->work, M->q.head.z, M->k.zn, M->queue.v, c->tau, 1.0f, B,
                              c->queue, M->q.D);
    ssl_enc_backward(&M->q, B);
    emb_queue_push(&M->queue, M->k.zn, B);
    return loss;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct moco M = {0};
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e))
        die(&e);
    const struct experiment *x = &r.x;
    int B = x->optim.batch, D = x->seed.proj_dim;
    uint64_t seed = (uint64_t)x->run.seed;
    M.x = x;
    M.aug = ssl_augment_of(x);
    if (ssl_enc_init(&M.q, &x->model, D, B, seed, &e) ||
        ssl_enc_init(&M.k, &x->model, D, B, seed, &e) ||
        emb_queue_init(&M.queue, x->seed.queue, D, seed, 0, &e))
        die(&e);
    ssl_enc_ema(&M.k, &M.q, 0.0f);
    size_t img = (size_t)r.train.h * r.train.w * r.train.c;
    M.v2 = malloc(sizeof(float) * B * img);
    M.work = malloc(sizeof(float) * infonce_work_floats(B, x->seed.queue, D));
    if (!M.v2 || !M.work) {
        kd_err_setfix(&e, KD_ERR_NOMEM, x->path, 0, "lower seed.queue or optim.batch",
                      "out of memory");
        die(&e);
    }
    params_begin(&M.state);
    ssl_enc_register(&M.k, &M.state, "key");
    emb_queue_register(&M.queue, &M.state, "queue");
    struct ssl_method m = {&M, moco_step, &M.state};
    if (ssl_fit(&r, &M.q, &m, &e))
        die(&e);
    params_free(&M.state);
    free(M.v2), free(M.work);
    emb_queue_free(&M.queue);
    ssl_enc_free(&M.q);
    ssl_enc_free(&M.k);
    run_free(&r);
    return 0;
}
