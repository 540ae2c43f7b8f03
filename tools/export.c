/* export: a trained network's weights as safetensors for PyTorch (timm VisionTransformer names
 * and torch shapes, so load_state_dict(strict=True) takes them; a TinyViT's in the names and
 * layouts of TinyViT's own code, tools/torch_tinyvit.py, BatchNorm statistics included). The
 * model shape comes from the config stored in the checkpoint; the file keeps those model.* lines
 * in its __metadata__. Checkpoints that hold more or less than that model (MAE, MoCo, SEED,
 * DC-ViT, PRACTISE) go through ckpt_export_vit: the encoder in the same names, decoder.* and
 * head_proj.* beside it, compressed blocks as they are, and a notice when timm cannot load the
 * file strictly.
 *   bin/export CKPT OUT.safetensors
 *   bin/export --config CFG.yaml [--scale S] [--seed N] OUT.safetensors   (initial weights at
 *       scale S, quick by default: tests)
 * Also converts back: bin/export IN.safetensors OUT.safetensors re-writes a kdlab export. */
#include "kd.h"
#include "train/net.h"
#include "train/run.h"
#include "train/weights.h"
#include "train/ckpt_export.h"

#include <string.h>

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s CKPT OUT.safetensors\n"
            "       %s --config CFG.yaml [--scale S] [--seed N] OUT.safetensors\n"
            "e.g.   make export CKPT=results/quick/teachers/vit_s-s0.ckpt "
            "OUT=vit_s.safetensors\n",
            prog, prog);
    return 2;
}

static int is_checkpoint(const char *path)
{
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, 8, f) : 0;
    if (f)
        fclose(f);
    return got == 8 && memcmp(magic, "KDLABCKP", 8) == 0;
}

/* A checkpoint that is not just its model: every tensor, and what timm can do with it. */
static int export_other(const char *in, const char *out)
{
    struct kd_err e;
    struct ckpt_export_info info;
    if (ckpt_export_vit(in, out, &info, &e))
        die(&e);
    fprintf(stderr, "export: %s -> %s (kind %s: %d tensors, %zu parameters)\n", in, out, info.kind,
            info.n_tensors, info.n_values);
    if (*info.extras)
        fprintf(stderr, "export: the encoder in timm ViT names, beside it %s\n", info.extras);
    if (*info.compressed)
        fprintf(stderr,
                "export: notice: %s: timm's VisionTransformer cannot load this file "
                "strictly (__metadata__ kdlab.layout gives each block)\n",
                info.compressed);
    return 0;
}

int main(int argc, char **argv)
{
    struct kd_err e;
    const char *config = NULL, *scale = "quick", *in = NULL, *out = NULL;
    int seed = 0;
    kd_help_exit(
        argc, argv,
        "CKPT OUT.safetensors | --config CFG.yaml [--scale S] [--seed N] OUT.safetensors",
        "Writes a checkpoint's weights as safetensors under timm's ViT names, a TinyViT's\n"
        "under TinyViT's own (e.g. make export CKPT=results/quick/teachers/vit_s-s0.ckpt "
        "OUT=vit_s.safetensors).\n");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = argv[++i];
        else if (argv[i][0] == '-')
            return usage(argv[0]);
        else if (!in && !config)
            in = argv[i];
        else if (!out)
            out = argv[i];
        else
            return usage(argv[0]);
    }
    if (!out || (!in && !config))
        return usage(argv[0]);
    struct experiment *x = malloc(sizeof *x);
    struct net n;
    char *text = NULL;
    size_t cap = 1 << 16;
    if (!x || !(text = calloc(cap, 1)))
        return 1;
    int rc = config ? config_load(x, config, scale, 0, NULL, &e) : weights_model_cfg(x, in, &e);
    if (rc)
        die(&e);
    FILE *f = fmemopen(text, cap - 1, "w");
    config_write_resolved(x, f);
    fclose(f);
    if (config)
        rc = net_create(&n, &x->model, 1, (uint64_t)seed, &e);
    else
        rc = net_create_from_weights(&n, in, &x->model, 1, &e);
    if (rc == KD_ERR_MISMATCH && is_checkpoint(in)) {
        free(text);
        free(x);
        return export_other(in, out);
    }
    if (rc || net_weights_save(&n, out, text, &e))
        die(&e);
    fprintf(stderr, "export: %s -> %s (%d tensors, %zu parameters)\n", in ? in : config, out,
            n.params->n, n.params->total);
    net_destroy(&n);
    free(text);
    free(x);
    return 0;
}
