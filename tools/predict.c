/* predict: logits of a weights file (kdlab checkpoint or safetensors, e.g. from PyTorch) on raw
 * float32 images, for interoperability tests and quick checks outside an experiment.
 *   bin/predict WEIGHTS IMAGES.f32 LOGITS.f32 [--config CFG.yaml [--scale S]]
 * IMAGES.f32: normalized images (N, img, img, in_ch), float32 little-endian, no header.
 * LOGITS.f32: (N, classes) float32. The model shape comes from --config at scale S (quick by
 * default: a config's shape may differ by scale, e.g. the ViTs' patch), else from the config
 * stored in the weights file. Inference mode (no drop-path). */
#include "kd.h"
#include "train/net.h"
#include "train/run.h"
#include "train/weights.h"

#include <string.h>

#define PREDICT_BATCH 64

int main(int argc, char **argv)
{
    struct kd_err e;
    const char *config = NULL, *scale = "quick", *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    kd_help_exit(argc, argv, "WEIGHTS IMAGES.f32 LOGITS.f32 [--config CFG.yaml [--scale S]]",
                 "Writes the logits of a kdlab checkpoint or safetensors file on raw float32 "
                 "images.\n");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = argv[++i];
        else if (argv[i][0] != '-' && n_pos < 3)
            pos[n_pos++] = argv[i];
        else
            n_pos = 9;
    }
    if (n_pos != 3) {
        fprintf(stderr, "usage: %s WEIGHTS IMAGES.f32 LOGITS.f32 [--config CFG.yaml [--scale S]]\n",
                argv[0]);
        return 2;
    }
    struct experiment *x = malloc(sizeof *x);
    struct net n;
    char *buf = NULL;
    size_t len = 0;
    if (!x)
        return 1;
    int rc = config ? config_load(x, config, scale, 0, NULL, &e) : weights_model_cfg(x, pos[0], &e);
    if (rc || net_create_from_weights(&n, pos[0], &x->model, PREDICT_BATCH, &e) ||
        file_read_all(pos[1], &buf, &len, &e))
        die(&e);
    size_t per = (size_t)x->model.img * x->model.img * x->model.in_ch * sizeof(float);
    if (len % per != 0) {
        kd_err_setfix(&e, KD_ERR_FORMAT, pos[1], 0, "write (N, img, img, in_ch) float32",
                      "%zu bytes is not a whole number of %zu-byte images", len, per);
        die(&e);
    }
    int N = (int)(len / per), K = n.classes;
    float *logits = malloc(sizeof(float) * (size_t)(N ? N : 1) * K);
    for (int b = 0; b < N; b += PREDICT_BATCH) {
        int B = N - b < PREDICT_BATCH ? N - b : PREDICT_BATCH;
        net_forward(&n, (const float *)(buf + per * b), B, 0, 0, 0);
        memcpy(logits + (size_t)b * K, n.logits, sizeof(float) * B * K);
    }
    struct atomic_file af;
    if (atomic_open(&af, pos[2], &e))
        die(&e);
    fwrite(logits, sizeof(float), (size_t)N * K, af.f);
    if (atomic_commit(&af, &e))
        die(&e);
    net_destroy(&n);
    free(logits);
    free(buf);
    free(x);
    return 0;
}
