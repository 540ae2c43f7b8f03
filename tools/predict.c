/* predict: logits of a weights file (kdlab checkpoint or safetensors, e.g. from PyTorch) on raw
 * float32 images, for interoperability tests and quick checks outside an experiment.
 *   bin/predict WEIGHTS IMAGES.f32 LOGITS.f32 [--config CFG.yaml [--scale S]]
 *               [--train LABELS.i32 STATE.safetensors]
 * IMAGES.f32: normalized images (N, img, img, in_ch), float32 little-endian, no header.
 * LOGITS.f32: (N, classes) float32. The model shape comes from --config at scale S (quick by
 * default: a config's shape may differ by scale, e.g. the ViTs' patch), else from the config
 * stored in the weights file. Inference mode (no drop-path).
 * --train: one training step's forward and backward instead, the N images as one batch
 * (BatchNorm on batch statistics; drop-path as the model config says), cross-entropy against
 * LABELS.i32 ((N) int32) without smoothing; LOGITS.f32 gets the training-mode logits and
 * STATE.safetensors the gradients in the weights' torch names and layout (net_grads_save: the
 * running statistics as the forward moved them), the loss in __metadata__ kdlab.loss. For the
 * PyTorch twin of the TinyViT (tests/test_tinyvit_twin.sh). */
#include "kd.h"
#include "train/net.h"
#include "train/run.h"
#include "train/weights.h"
#include "loss/loss.h"

#include <string.h>

#define PREDICT_BATCH 64

struct predict_args {
    const char *config, *scale, *weights, *images, *logits;
    const char *labels, *state; /* --train, else NULL */
};

static int parse_args(struct predict_args *a, int argc, char **argv)
{
    const char **pos[3] = {&a->weights, &a->images, &a->logits};
    int n_pos = 0;
    *a = (struct predict_args){.scale = "quick"};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            a->config = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            a->scale = argv[++i];
        else if (strcmp(argv[i], "--train") == 0 && i + 2 < argc) {
            a->labels = argv[++i];
            a->state = argv[++i];
        } else if (argv[i][0] != '-' && n_pos < 3)
            *pos[n_pos++] = argv[i];
        else
            n_pos = 9;
    }
    return n_pos == 3 ? 0 : -1;
}

/* Logits of the N images in eval mode, PREDICT_BATCH at a time. */
static void eval_logits(struct net *n, float *logits, const char *images, size_t per, int N)
{
    int K = n->classes;
    for (int b = 0; b < N; b += PREDICT_BATCH) {
        int B = N - b < PREDICT_BATCH ? N - b : PREDICT_BATCH;
        net_forward(n, (const float *)(images + per * b), B, 0, 0, 0);
        memcpy(logits + (size_t)b * K, n->logits, sizeof(float) * B * K);
    }
}

/* One training-mode forward and backward of all N images; the state to a->state. */
static void train_step(struct net *n, float *logits, const float *images, int N,
                       const struct predict_args *a)
{
    struct kd_err e;
    char *buf = NULL, loss_text[32];
    size_t len = 0;
    if (file_read_all(a->labels, &buf, &len, &e))
        die(&e);
    if (len != sizeof(int) * (size_t)N) {
        kd_err_setfix(&e, KD_ERR_FORMAT, a->labels, 0, "write one int32 label an image",
                      "%zu bytes for %d images", len, N);
        die(&e);
    }
    int K = n->classes;
    float *dlogits = calloc((size_t)N * K, sizeof(float));
    KD_ASSERT(dlogits);
    params_zero_grad(n->params);
    net_forward(n, images, N, 1, 0, 0);
    memcpy(logits, n->logits, sizeof(float) * N * K);
    float loss = ce_loss(dlogits, n->logits, (const int *)buf, 0.0f, 1.0f, N, K);
    net_backward(n, dlogits, N);
    snprintf(loss_text, sizeof loss_text, "%.9g", loss);
    if (net_grads_save(n, a->state, "kdlab.loss", loss_text, &e))
        die(&e);
    free(dlogits);
    free(buf);
}

static void write_logits(const char *path, const float *logits, size_t n)
{
    struct kd_err e;
    struct atomic_file af;
    if (atomic_open(&af, path, &e))
        die(&e);
    fwrite(logits, sizeof(float), n, af.f);
    if (atomic_commit(&af, &e))
        die(&e);
}

/* The number of images in the file, or die. */
static int image_count(const struct experiment *x, const char *path, size_t len, size_t *per)
{
    struct kd_err e;
    *per = (size_t)x->model.img * x->model.img * x->model.in_ch * sizeof(float);
    if (len % *per != 0) {
        kd_err_setfix(&e, KD_ERR_FORMAT, path, 0, "write (N, img, img, in_ch) float32",
                      "%zu bytes is not a whole number of %zu-byte images", len, *per);
        die(&e);
    }
    return (int)(len / *per);
}

int main(int argc, char **argv)
{
    struct kd_err e;
    struct predict_args a;
    const char *use = "WEIGHTS IMAGES.f32 LOGITS.f32 [--config CFG.yaml [--scale S]] "
                      "[--train LABELS.i32 STATE.safetensors]";
    kd_help_exit(argc, argv, use,
                 "Writes the logits of a kdlab checkpoint or safetensors file on raw float32 "
                 "images\n(--train: of one training step, and its gradients).\n");
    if (parse_args(&a, argc, argv)) {
        fprintf(stderr, "usage: %s %s\n", argv[0], use);
        return 2;
    }
    struct experiment *x = malloc(sizeof *x);
    struct net n;
    char *buf = NULL;
    size_t len = 0, per;
    if (!x)
        return 1;
    int rc = a.config ? config_load(x, a.config, a.scale, 0, NULL, &e)
                      : weights_model_cfg(x, a.weights, &e);
    if (rc || file_read_all(a.images, &buf, &len, &e))
        die(&e);
    int N = image_count(x, a.images, len, &per);
    int Bmax = a.state && N > 0 ? N : PREDICT_BATCH;
    if (net_create_from_weights(&n, a.weights, &x->model, Bmax, &e))
        die(&e);
    float *logits = malloc(sizeof(float) * (size_t)(N ? N : 1) * n.classes);
    KD_ASSERT(logits);
    if (a.state)
        train_step(&n, logits, (const float *)buf, N, &a);
    else
        eval_logits(&n, logits, buf, per, N);
    write_logits(a.logits, logits, (size_t)N * n.classes);
    net_destroy(&n);
    free(logits);
    free(buf);
    free(x);
    return 0;
}
