/* bench: training and inference throughput of the reference ViT (dim 192, depth 6, 3 heads,
 * patch 4, 28x28x1, batch 128, AdamW) in kdlab and in PyTorch, with this machine's sgemm rate,
 * all measured in this one run under the same OpenBLAS, and printed as ratios.
 * Each measurement runs in a fresh process so that peak memory is its own.
 *   bin/bench [--steps N] [--threads "1 2"] [--no-torch]       -> stdout, results/bench.csv */
#include "kd.h"
#include "base/runtime.h"
#include "models/vit.h"
#include "train/optim.h"
#include "train/run.h"
#include "loss/loss.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TORCH_PYTHON "/usr/bin/python3" /* Debian's python3-torch is installed for it */

struct sample {
    double train_ips, infer_ips, rss_mb, gflop_train;
    int ok;
};

static double sgemm_gflops(int n, int reps)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double t0 = now_seconds();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double secs = now_seconds() - t0;
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n * reps / secs / 1e9;
}

static struct model_cfg reference_model(void)
{
    struct model_cfg m = {.img = 28, .in_ch = 1, .classes = 10, .patch = 4, .dim = 192,
                          .depth = 6, .heads = 3, .mlp_ratio = 4, .drop_path = 0};
    snprintf(m.arch, sizeof m.arch, "vit");
    return m;
}

/* The child: one kdlab measurement, printed as key=value lines. */
static int kdlab_child(int steps, int B)
{
    struct kd_err e;
    struct model_cfg cfg = reference_model();
    struct optim_cfg oc = {.lr = 1e-4f, .weight_decay = 0.05f, .beta1 = 0.9f, .beta2 = 0.999f};
    snprintf(oc.name, sizeof oc.name, "adamw");
    double rss0 = peak_rss_mb();
    struct vit m;
    struct optim o;
    if (vit_init(&m, &cfg, B, &e) || optim_init(&o, &m.params, &oc, &e))
        die(&e);
    vit_reset(&m, 1);
    float *images = malloc(sizeof(float) * B * 28 * 28), *dlogits = malloc(sizeof(float) * B * 10);
    int *labels = malloc(sizeof(int) * B);
    struct rng r;
    rng_init(&r, 1, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < B * 28 * 28; i++)
        images[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        labels[i] = i % 10;
    double t0 = 0;
    for (int s = -2; s < steps; s++) {
        if (s == 0)
            t0 = now_seconds();
        vit_forward(&m, images, B, 1, 1, s);
        memset(dlogits, 0, sizeof(float) * B * 10);
        ce_loss(dlogits, m.logits, labels, 0, 1, B, 10);
        params_zero_grad(&m.params);
        vit_backward(&m, dlogits, NULL, B);
        optim_step(&o, &m.params, 1e-4f);
    }
    double train = steps * B / (now_seconds() - t0);
    for (int s = -2; s < steps; s++) {
        if (s == 0)
            t0 = now_seconds();
        vit_forward(&m, images, B, 0, 0, 0);
    }
    double infer = steps * B / (now_seconds() - t0);
    printf("train_img_s=%.2f\ninfer_img_s=%.2f\nrss_growth_mb=%.1f\nmacs=%.0f\n", train, infer,
           peak_rss_mb() - rss0, vit_macs(&m));
    return 0;
}

static struct sample parse(FILE *p, double *macs)
{
    struct sample s = {0};
    char line[256], key[64], val[64];
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63[^=]=%63s", key, val) == 2) {
            if (!strcmp(key, "train_img_s"))
                s.train_ips = atof(val), s.ok = 1;
            else if (!strcmp(key, "infer_img_s"))
                s.infer_ips = atof(val);
            else if (!strcmp(key, "rss_growth_mb"))
                s.rss_mb = atof(val);
            else if (!strcmp(key, "macs") && macs)
                *macs = atof(val);
        }
    return s;
}

static struct sample measure(const char *cmd, double *macs)
{
    FILE *p = popen(cmd, "r");
    struct sample s = {0};
    if (p) {
        s = parse(p, macs);
        if (pclose(p) != 0)
            s.ok = 0;
    }
    return s;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    int steps = 10, torch = 1, B = 128;
    const char *threads = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--child") && i + 1 < argc)
            return kdlab_child(atoi(argv[i + 1]), B);
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = argv[++i];
        else if (!strcmp(argv[i], "--no-torch"))
            torch = 0;
    }
    int counts[2] = {1, kd_threads()}, n_counts = kd_threads() > 1 ? 2 : 1;
    if (threads)
        n_counts = sscanf(threads, "%d %d", &counts[0], &counts[1]);
    printf("kdlab bench: reference ViT (dim 192, depth 6, 3 heads, patch 4, batch %d, AdamW)\n"
           "OpenBLAS kernels: %s (%s)\n\n", B, kd_blas_corename(), kd_blas_core_source());
    printf("%-8s %8s %10s %10s %10s %10s %9s %9s\n", "engine", "threads", "sgemm GF/s",
           "train i/s", "infer i/s", "train GF/s", "of sgemm", "peak MB");
    struct atomic_file af;
    struct kd_err e;
    if (atomic_open(&af, "results/bench.csv", &e))
        die(&e);
    fprintf(af.f, "engine,threads,blas_core,sgemm_gflops,train_img_s,infer_img_s,train_gflops,"
                  "sgemm_fraction,peak_mb\n");
    for (int c = 0; c < n_counts; c++) {
        char cmd[512];
        double macs = 0;
        openblas_set_num_threads(counts[c]);
        double gf = sgemm_gflops(1024, 6);
        snprintf(cmd, sizeof cmd, "KD_THREADS=%d /proc/%d/exe --child %d", counts[c],
                 (int)getpid(), steps);
        struct sample k = measure(cmd, &macs), t = {0};
        if (torch) {
            snprintf(cmd, sizeof cmd, TORCH_PYTHON " tools/bench_torch.py --threads %d "
                     "--steps %d 2>/dev/null", counts[c], steps);
            t = measure(cmd, NULL);
        }
        struct sample *rows[2] = {&k, &t};
        for (int j = 0; j < (torch ? 2 : 1); j++) {
            struct sample *s = rows[j];
            double tgf = s->train_ips * 6 * macs / 1e9;
            const char *name = j ? "pytorch" : "kdlab";
            if (!s->ok) {
                printf("%-8s %8d %10.1f  (not available%s)\n", name, counts[c], gf,
                       j ? ": apt-get install python3-torch" : "");
                continue;
            }
            printf("%-8s %8d %10.1f %10.1f %10.1f %10.1f %8.0f%% %9.0f\n", name, counts[c], gf,
                   s->train_ips, s->infer_ips, tgf, 100 * tgf / gf, s->rss_mb);
            fprintf(af.f, "%s,%d,%s,%.1f,%.2f,%.2f,%.1f,%.3f,%.1f\n", name, counts[c],
                    kd_blas_corename(), gf, s->train_ips, s->infer_ips, tgf, tgf / gf, s->rss_mb);
        }
        if (torch && t.ok && k.ok)
            printf("%-8s %8d %10s %9.2fx %9.2fx %21s %8.2fx\n", "ratio", counts[c], "",
                   k.train_ips / t.train_ips, k.infer_ips / t.infer_ips, "", k.rss_mb / t.rss_mb);
    }
    if (atomic_commit(&af, &e))
        die(&e);
    printf("\nratio = kdlab / PyTorch at the same thread count (memory: lower is better).\n"
           "results/bench.csv holds these rows.\n");
    return 0;
}
