/* bench: training and inference throughput of the reference ViT (dim 192, depth 6, 3 heads,
 * patch 4, 28x28x1, batch 128, AdamW) in kdlab and in PyTorch, with this machine's sgemm rate,
 * all measured in this one run under the same OpenBLAS, and printed as ratios. PyTorch runs
 * three times, plainly, with --malloc-tune, and with --malloc-tune --autocast (bf16 mixed
 * precision, what a PyTorch user turns on where the CPU has bf16 units, and only there; see
 * tools/bench_torch.py); ratios are against the fastest of the three by training img/s, and
 * the autocast run's bf16 matmul rate is printed as the bf16 path's limit. Each measurement
 * runs in a fresh process so that peak memory is its own. CPU time per image is printed too: on
 * a machine shared with other jobs it moves much less than wall-clock rates do. The load
 * average at the start and end is printed beside the table. kdlab also runs with KD_GEMM=blas
 * (row kdlab-blas: attention's products by OpenBLAS), for ops_sgemm_small's gain.
 *   bin/bench [--steps N] [--threads "1 2"] [--no-torch]       -> stdout, results/bench.csv
 *   bin/bench --scaling [--steps N]     img/s against tokens (patch 7, 4, 2) and width (96,
 *                                       192, 384) at kd_threads() -> results/bench-scaling.csv
 *   bin/bench --arch tinyvit [...]      the table for the zoo's hybrid teacher (TINYVIT_CONFIG,
 *                                       built as bin/train builds it; PyTorch gets its stage
 *                                       lists), with both sides' parameter counts
 *                                       -> results/bench-tinyvit.csv */
#include "kd.h"
#include "base/runtime.h"
#include "models/vit.h"
#include "train/model_spec.h"
#include "train/net.h"
#include "train/optim.h"
#include "train/run.h"
#include "loss/loss.h"
#include "io/progress.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TORCH_PYTHON "/usr/bin/python3" /* Debian's python3-torch is installed for it */
/* --arch tinyvit times this config's model: the hybrid teacher of the zoo */
#define TINYVIT_CONFIG "configs/teachers/hybrid/tinyvit_5m.yaml"

struct sample {
    double train_ips, infer_ips, rss_mb;
    double cpu_ms, infer_cpu_ms; /* process CPU time per trained / inferred image */
    double bf16_gflops;          /* the autocast run's bf16 matmul 1024^3 rate, else 0 */
    double params;               /* trainable parameters the run reported, else 0 */
    int ok;
};

/* A model: the ViT of patch, dim and heads (the reference is {4, 192, 3}), or, where tinyvit
 * is set, TINYVIT_CONFIG's model (patch, dim and heads unused). */
struct shape {
    int patch, dim, heads;
    const struct tinyvit_spec *tinyvit;
};

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* CPU time of the calling thread only. */
static double thread_cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double load_avg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* sgemm n^3 rate by wall clock, the best of `trials` runs of `reps` calls: another job taking
 * a core for a moment halved a single 2-thread measurement (85 GFLOP/s printed at 2 threads,
 * under the 1-thread rate), and the best run is the machine's rate. *cpu_rate gets the best
 * rate per CPU-second (all threads' time summed; at 1 thread the caller's own time: OpenBLAS's
 * idle pool thread yields in a loop for a while and was counted, which printed 61.6 GFLOP per
 * CPU-second beside 92 by the wall clock). */
static double sgemm_gflops(int n, int trials, int reps, int threads, double *cpu_rate)
{
    double (*cpu)(void) = threads == 1 ? thread_cpu_seconds : cpu_seconds;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 0, flops = 2.0 * n * n * (double)n * reps;
    *cpu_rate = 0;
    for (int t = 0; t < trials; t++) {
        double t0 = now_seconds(), c0 = cpu();
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double secs = now_seconds() - t0, csecs = cpu() - c0;
        best = flops / secs > best ? flops / secs : best;
        *cpu_rate = flops / csecs / 1e9 > *cpu_rate ? flops / csecs / 1e9 : *cpu_rate;
    }
    free(a), free(b), free(c);
    return best / 1e9;
}

static struct vit_spec model_of(struct shape s)
{
    return (struct vit_spec){.img = 28,
                             .in_ch = 1,
                             .classes = 10,
                             .patch = s.patch,
                             .dim = s.dim,
                             .depth = 6,
                             .heads = s.heads,
                             .mlp_ratio = 4,
                             .drop_path = 0,
                             .init = WEIGHT_INIT_TORCH};
}

/* The ViT of sh behind struct net, as bin/train builds one, so that one timing loop serves both
 * models. Not freed: the child exits. */
static int vit_net(struct net *n, struct shape sh, int B, struct kd_err *e)
{
    struct vit_spec spec = model_of(sh);
    return net_create_vit_spec(n, &spec, B, 1, e);
}

/* TINYVIT_CONFIG's model keys, loaded once; dies unless it is a TinyViT of the 28x28x1 images and
 * 10 classes the children feed. */
static const struct model_cfg *tinyvit_config(void)
{
    static struct experiment x; /* kilobytes of paths: not on the stack */
    struct kd_err e;
    if (!x.path[0] && config_load(&x, TINYVIT_CONFIG, NULL, 0, NULL, &e))
        die(&e);
    const struct model_cfg *m = &x.model;
    if (m->arch != ARCH_TINYVIT || m->img != 28 || m->in_ch != 1 || m->classes != 10) {
        kd_err_set(&e, KD_ERR_CONFIG, TINYVIT_CONFIG, 0,
                   "bench --arch tinyvit needs model.arch tinyvit, img 28, in_ch 1, classes 10");
        die(&e);
    }
    return m;
}

/* Floats the optimizer updates: what torch counts as parameters (the BN running statistics,
 * frozen parameters here, are buffers there). */
static double trainable(const struct params *ps)
{
    double n = 0;
    for (int i = 0; i < ps->n; i++)
        n += ps->p[i].frozen ? 0 : (double)ps->p[i].n;
    return n;
}

/* A child's fixed batch: normal images, labels 0..9 in turn. */
struct batch {
    int B;
    float *images, *dlogits;
    int *labels;
};

static struct batch batch_make(int B)
{
    struct batch b = {B, malloc(sizeof(float) * B * 28 * 28), malloc(sizeof(float) * B * 10),
                      malloc(sizeof(int) * B)};
    struct rng r;
    rng_init(&r, 1, RNG_STREAM_OTHER, 0, 0);
    for (int i = 0; i < B * 28 * 28; i++)
        b.images[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        b.labels[i] = i % 10;
    return b;
}

/* Training img/s over `steps` steps after two untimed ones; *cpu_ms gets the CPU ms per image,
 * *loss the last step's loss. */
static double time_train(struct net *n, struct optim *o, const struct batch *b, int steps,
                         double *cpu_ms, float *loss)
{
    int B = b->B;
    double t0 = 0, c0 = 0;
    for (int s = -2; s < steps; s++) {
        if (s == 0)
            t0 = now_seconds(), c0 = cpu_seconds();
        net_forward(n, b->images, B, 1, 1, s);
        memset(b->dlogits, 0, sizeof(float) * B * 10);
        *loss = ce_loss(b->dlogits, n->logits, b->labels, 0, 1, B, 10);
        params_zero_grad(n->params);
        net_backward(n, b->dlogits, B);
        optim_step(o, n->params, 1e-4f);
        progress_step(*loss, B);
    }
    double ips = steps * B / (now_seconds() - t0);
    *cpu_ms = 1e3 * (cpu_seconds() - c0) / (steps * B);
    return ips;
}

/* Inference img/s, as time_train. */
static double time_infer(struct net *n, const struct batch *b, int steps, double *cpu_ms)
{
    double t0 = 0, c0 = 0;
    for (int s = -2; s < steps; s++) {
        if (s == 0)
            t0 = now_seconds(), c0 = cpu_seconds();
        net_forward(n, b->images, b->B, 0, 0, 0);
        progress_step(NAN, b->B);
    }
    double ips = steps * b->B / (now_seconds() - t0);
    *cpu_ms = 1e3 * (cpu_seconds() - c0) / (steps * b->B);
    return ips;
}

/* The child: one kdlab measurement of sh, printed as key=value lines. */
static int kdlab_child(int steps, int B, struct shape sh)
{
    struct kd_err e;
    struct optim_cfg oc = {
        .name = OPTIM_ADAMW, .lr = 1e-4f, .weight_decay = 0.05f, .beta1 = 0.9f, .beta2 = 0.999f};
    double rss0 = peak_rss_mb(), cpu_ms, infer_cpu_ms;
    struct net n;
    struct optim o;
    int rc = sh.tinyvit ? net_create(&n, tinyvit_config(), B, 1, &e) : vit_net(&n, sh, B, &e);
    if (rc || optim_init(&o, n.params, &oc, &e))
        die(&e);
    struct batch b = batch_make(B);
    char label[64];
    if (sh.tinyvit)
        snprintf(label, sizeof label, "bench kdlab x%d tinyvit", kd_threads());
    else
        snprintf(label, sizeof label, "bench kdlab x%d patch %d dim %d", kd_threads(), sh.patch,
                 sh.dim);
    progress_begin(label, 2L * (steps + 2), 0, 0);
    float loss = NAN;
    double train = time_train(&n, &o, &b, steps, &cpu_ms, &loss);
    double infer = time_infer(&n, &b, steps, &infer_cpu_ms);
    progress_end();
    if (!isfinite(loss)) {
        fprintf(stderr, "bench: kdlab's training loss is %g\n", loss);
        return 1;
    }
    printf("train_img_s=%.2f\ninfer_img_s=%.2f\nrss_growth_mb=%.1f\ntrain_cpu_ms=%.3f\n"
           "infer_cpu_ms=%.3f\nmacs=%.0f\nparams=%.0f\nfinal_loss=%.4f\n",
           train, infer, peak_rss_mb() - rss0, cpu_ms, infer_cpu_ms, n.macs, trainable(n.params),
           loss);
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
            else if (!strcmp(key, "train_cpu_ms"))
                s.cpu_ms = atof(val);
            else if (!strcmp(key, "infer_cpu_ms"))
                s.infer_cpu_ms = atof(val);
            else if (!strcmp(key, "bf16_matmul_gflops"))
                s.bf16_gflops = atof(val);
            else if (!strcmp(key, "params"))
                s.params = atof(val);
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

/* kdlab's step in a child process; blas: with KD_GEMM=blas (attention's products by OpenBLAS,
 * not ops_sgemm_small). */
static struct sample run_kdlab(int threads, int steps, struct shape sh, int blas, double *macs)
{
    char cmd[512];
    const char *gemm = blas ? "KD_GEMM=blas " : "";
    if (sh.tinyvit)
        snprintf(cmd, sizeof cmd, "%sKD_THREADS=%d /proc/%d/exe --child-tinyvit %d", gemm, threads,
                 (int)getpid(), steps);
    else
        snprintf(cmd, sizeof cmd, "%sKD_THREADS=%d /proc/%d/exe --child %d %d %d %d", gemm, threads,
                 (int)getpid(), steps, sh.patch, sh.dim, sh.heads);
    return measure(cmd, macs);
}

/* PyTorch's ways of running the reference ViT, by the flags of tools/bench_torch.py. */
enum { TORCH_PLAIN, TORCH_MALLOC_TUNE, TORCH_BF16, TORCH_WAYS };
static const char *const torch_names[TORCH_WAYS] = {"pytorch", "pytorch-mt", "pytorch-bf16"};
static const char *const torch_flags[TORCH_WAYS] = {"", " --malloc-tune",
                                                    " --malloc-tune --autocast"};

/* 1 when the CPU has bf16 units (AVX512-BF16 or AMX-BF16). Only there is autocast's bf16 the
 * fastest way a PyTorch user has; elsewhere oneDNN emulates bf16, one step takes minutes (a Zen 3:
 * over 8 minutes for 13 steps at one thread) and nobody would choose it. */
static int cpu_has_bf16(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#else
    return 0;
#endif
}

/* "32,64,80,160": list's n entries, into buf (cap bytes). */
static const char *join_ints(char *buf, size_t cap, const int *list, int n)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < cap; i++)
        at += snprintf(buf + at, cap - at, "%s%d", i ? "," : "", list[i]);
    return buf;
}

/* tools/bench_torch.py's flags for sh's model. */
static void torch_model_flags(char *buf, size_t cap, struct shape sh)
{
    const struct tinyvit_spec *t = sh.tinyvit;
    char l[4][64];
    if (!t) {
        snprintf(buf, cap, "--patch %d --dim %d --heads %d", sh.patch, sh.dim, sh.heads);
        return;
    }
    snprintf(buf, cap,
             "--arch tinyvit --stage-dims %s --stage-depths %s --stage-heads %s --windows %s "
             "--mlp-ratio %g",
             join_ints(l[0], sizeof l[0], t->dims, t->n_dims),
             join_ints(l[1], sizeof l[1], t->depths, t->n_depths),
             join_ints(l[2], sizeof l[2], t->heads, t->n_heads),
             join_ints(l[3], sizeof l[3], t->windows, t->n_windows), t->mlp_ratio);
}

static struct sample run_torch(int threads, int steps, int warmup, struct shape sh, int way)
{
    char cmd[768], model[384];
    torch_model_flags(model, sizeof model, sh);
    snprintf(cmd, sizeof cmd,
             TORCH_PYTHON " tools/bench_torch.py --threads %d --steps %d --warmup %d %s%s "
                          "2>/dev/null",
             threads, steps, warmup, model, torch_flags[way]);
    return measure(cmd, NULL);
}

/* gf, gf_cpu: sgemm's rate by wall clock and per CPU-second at this thread count. */
static void print_row(FILE *csv, const char *name, int threads, double gf, double gf_cpu,
                      double macs, const struct sample *s)
{
    double tgf = s->train_ips * 6 * macs / 1e9;
    double cgf = s->cpu_ms > 0 ? 6 * macs / s->cpu_ms / 1e6 : 0;
    if (!s->ok) {
        printf("%-12s %3d  (not available%s)\n", name, threads,
               strncmp(name, "pytorch", 7) ? "" : ": apt-get install python3-torch");
        return;
    }
    printf("%-12s %3d %8.1f %8.1f %6.0f %8.1f %7.1f %5.0f%% %7.2f %7.2f %7.1f %5.0f%%\n", name,
           threads, s->train_ips, s->infer_ips, s->rss_mb, gf, tgf, 100 * tgf / gf, s->cpu_ms,
           s->infer_cpu_ms, cgf, 100 * cgf / gf_cpu);
    fprintf(csv, "%s,%d,%s,%.1f,%.2f,%.2f,%.1f,%.3f,%.1f,%.3f,%.3f,%.1f,%.1f,%.3f,%.2f\n", name,
            threads, kd_blas_corename(), gf, s->train_ips, s->infer_ips, tgf, tgf / gf, s->rss_mb,
            s->cpu_ms, s->infer_cpu_ms, gf_cpu, cgf, cgf / gf_cpu, load_avg());
}

/* The table's rows at one thread count: sgemm's rate, kdlab, PyTorch's ways, the bf16 limit
 * and kdlab's ratio to PyTorch's fastest way. params gets the parameter counts kdlab and
 * PyTorch's fastest way reported (0: not run). */
static void bench_threads(FILE *csv, struct shape ref, int threads, int steps, int torch,
                          double params[2])
{
    double macs = 0, gf_cpu = 0;
    openblas_set_num_threads(threads);
    double gf = sgemm_gflops(1024, 5, 4, threads, &gf_cpu);
    struct sample k = run_kdlab(threads, steps, ref, 0, &macs), t[TORCH_WAYS];
    memset(t, 0, sizeof t);
    print_row(csv, "kdlab", threads, gf, gf_cpu, macs, &k);
    struct sample kb = run_kdlab(threads, steps, ref, 1, &macs);
    print_row(csv, "kdlab-blas", threads, gf, gf_cpu, macs, &kb);
    if (k.ok && kb.ok) /* CPU time: the kernel's own gain, whatever else the machine runs */
        printf("%-12s %3d  attention's products by ops_sgemm_small, not OpenBLAS: CPU per "
               "image %.2fx less in training, %.2fx in inference\n",
               "small gemm", threads, kb.cpu_ms / k.cpu_ms, kb.infer_cpu_ms / k.infer_cpu_ms);
    int best = -1;
    for (int w = 0; torch && w < TORCH_WAYS; w++) {
        if (w == TORCH_BF16 && !cpu_has_bf16()) {
            printf("%-12s %3d  (skipped: this CPU has no bf16 units, AVX512-BF16 or AMX)\n",
                   torch_names[w], threads);
            continue;
        }
        t[w] = run_torch(threads, steps, 3, ref, w);
        print_row(csv, torch_names[w], threads, gf, gf_cpu, macs, &t[w]);
        if (t[w].ok && (best < 0 || t[w].train_ips > t[best].train_ips))
            best = w;
    }
    if (t[TORCH_BF16].ok && t[TORCH_BF16].bf16_gflops > 0) {
        double bgf = t[TORCH_BF16].train_ips * 6 * macs / 1e9;
        printf("%-12s %3d  bf16 matmul 1024^3 (oneDNN, through torch) %.1f GF; "
               "pytorch-bf16 trains at %.1f GF, %.0f%% of it\n",
               "bf16 limit", threads, t[TORCH_BF16].bf16_gflops, bgf,
               100 * bgf / t[TORCH_BF16].bf16_gflops);
    }
    if (best >= 0 && k.ok)
        printf("%-12s %3d %7.2fx %7.2fx %5.2fx | %27s | %6.2fx %6.2fx   (vs %s)\n", "ratio",
               threads, k.train_ips / t[best].train_ips, k.infer_ips / t[best].infer_ips,
               k.rss_mb / t[best].rss_mb, "", t[best].cpu_ms / k.cpu_ms,
               t[best].infer_cpu_ms / k.infer_cpu_ms, torch_names[best]);
    params[0] = k.params;
    params[1] = best >= 0 ? t[best].params : 0;
}

/* The table's first lines: the model, the kernels and the load. */
static void print_heading(struct shape sh)
{
    const struct tinyvit_spec *t = sh.tinyvit;
    char l[4][64];
    if (t)
        printf("kdlab bench: hybrid TinyViT of %s (batch 128, AdamW):\n"
               "stage dims %s, depths %s, heads %s, windows %s, mlp ratio %g\n",
               TINYVIT_CONFIG, join_ints(l[0], sizeof l[0], t->dims, t->n_dims),
               join_ints(l[1], sizeof l[1], t->depths, t->n_depths),
               join_ints(l[2], sizeof l[2], t->heads, t->n_heads),
               join_ints(l[3], sizeof l[3], t->windows, t->n_windows), t->mlp_ratio);
    else
        printf("kdlab bench: reference ViT (dim 192, depth 6, 3 heads, patch 4, batch 128, "
               "AdamW)\n");
    printf("OpenBLAS kernels: %s (%s); load average at start %.2f on %ld cores\n\n",
           kd_blas_corename(), kd_blas_core_source(), load_avg(), sysconf(_SC_NPROCESSORS_ONLN));
}

/* Both sides' parameter counts, which say that they built the same network. */
static void print_params(const double params[2])
{
    printf("\nparameters (trainable): kdlab %.0f", params[0]);
    if (params[1] > 0)
        printf(", PyTorch %.0f: %s", params[1],
               params[0] == params[1] ? "equal" : "UNEQUAL, the two are not the same network");
    printf("\n");
}

static int bench_table(struct shape sh, int steps, int torch, const char *threads)
{
    int counts[2] = {1, kd_threads()}, n_counts = kd_threads() > 1 ? 2 : 1;
    const char *path = sh.tinyvit ? "results/bench-tinyvit.csv" : "results/bench.csv";
    double params[2] = {0, 0};
    if (threads)
        n_counts = sscanf(threads, "%d %d", &counts[0], &counts[1]);
    print_heading(sh);
    if (kd_blas_advice())
        printf("notice: %s\n\n", kd_blas_advice());
    printf("%-12s %3s %8s %8s %6s | %8s %7s %6s | %7s %7s %7s %6s\n", "", "", "", "", "", "wall",
           "clock:", "", "CPU", "time:", "", "");
    printf("%-12s %3s %8s %8s %6s | %8s %7s %6s | %7s %7s %7s %6s\n", "engine", "thr", "train/s",
           "infer/s", "MB", "sgemm GF", "train GF", "of", "ms/img", "inf ms", "GF/cpu-s", "of");
    struct atomic_file af;
    struct kd_err e;
    if (atomic_open(&af, path, &e))
        die(&e);
    fprintf(af.f, "engine,threads,blas_core,sgemm_gflops,train_img_s,infer_img_s,train_gflops,"
                  "sgemm_fraction,peak_mb,train_cpu_ms_per_img,infer_cpu_ms_per_img,"
                  "sgemm_gflops_per_cpu_s,train_gflops_per_cpu_s,cpu_sgemm_fraction,load\n");
    for (int c = 0; c < n_counts; c++)
        bench_threads(af.f, sh, counts[c], steps, torch, params);
    if (atomic_commit(&af, &e))
        die(&e);
    if (sh.tinyvit)
        print_params(params);
    printf("\nload average at end %.2f.\n"
           "ratio: kdlab / PyTorch's fastest run (by training img/s) at the same thread count for\n"
           "img/s and memory (MB: peak RSS growth, lower is better); PyTorch / kdlab for CPU ms.\n"
           "train GF: counted FLOPs (6 x MACs) per wall second; 'of' = of sgemm 1024^3 at the\n"
           "same threads. GF/cpu-s: the same FLOPs per CPU-second (all threads), 'of' = of\n"
           "sgemm's FLOPs per CPU-second: steady under load, where wall-clock columns are not.\n"
           "pytorch-mt = tools/bench_torch.py --malloc-tune; pytorch-bf16 adds --autocast (bf16\n"
           "mixed precision: its GF columns count the same FLOPs against sgemm's fp32 rate).\n"
           "%s holds these rows.\n",
           load_avg(), path);
    return 0;
}

/* img/s against tokens (patch 7, 4, 2 at width 192) and width (96, 192, 384 at patch 4).
 * PyTorch runs with --malloc-tune only, its faster setting here (see `make bench`), and one
 * warm-up step: patch 2 and width 384 take minutes per run on a shared machine. */
static int bench_scaling(int steps)
{
    static const struct shape pts[] = {{7, 192, 3, NULL},
                                       {4, 192, 3, NULL},
                                       {2, 192, 3, NULL},
                                       {4, 96, 3, NULL},
                                       {4, 384, 6, NULL}};
    int th = kd_threads();
    struct atomic_file af;
    struct kd_err e;
    if (atomic_open(&af, "results/bench-scaling.csv", &e))
        die(&e);
    fprintf(af.f, "engine,threads,patch,tokens,dim,heads,train_img_s,infer_img_s,"
                  "train_cpu_ms_per_img,peak_mb,train_gflop_per_img,load\n");
    printf("%-10s %5s %6s %4s %10s %10s %9s %9s\n", "engine", "patch", "tokens", "dim", "train i/s",
           "infer i/s", "cpu ms/i", "peak MB");
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        struct shape sh = pts[i];
        int tokens = (28 / sh.patch) * (28 / sh.patch) + 1;
        double macs = 0;
        struct sample s[2];
        s[0] = run_kdlab(th, steps, sh, 0, &macs);
        s[1] = run_torch(th, steps, 1, sh, TORCH_MALLOC_TUNE);
        const char *names[2] = {"kdlab", "pytorch-mt"};
        for (int j = 0; j < 2; j++) {
            if (!s[j].ok)
                continue;
            printf("%-10s %5d %6d %4d %10.1f %10.1f %9.2f %9.0f\n", names[j], sh.patch, tokens,
                   sh.dim, s[j].train_ips, s[j].infer_ips, s[j].cpu_ms, s[j].rss_mb);
            fprintf(af.f, "%s,%d,%d,%d,%d,%d,%.2f,%.2f,%.3f,%.1f,%.4f,%.2f\n", names[j], th,
                    sh.patch, tokens, sh.dim, sh.heads, s[j].train_ips, s[j].infer_ips, s[j].cpu_ms,
                    s[j].rss_mb, 6 * macs / 1e9, load_avg());
        }
        fflush(stdout);
    }
    if (atomic_commit(&af, &e))
        die(&e);
    printf("results/bench-scaling.csv holds these rows (%d threads).\n", th);
    return 0;
}

#define USAGE "[--arch vit|tinyvit] [--steps N] [--threads \"1 2\"] [--no-torch] [--scaling]"

static int usage(int rc)
{
    fprintf(stderr, "usage: bin/bench " USAGE "  (see experiments/bench.c)\n");
    return rc;
}

/* The model of --arch: the reference ViT, or TINYVIT_CONFIG's, whose spec goes to *spec. */
static struct shape shape_of(int tinyvit, struct tinyvit_spec *spec)
{
    struct shape ref = {4, 192, 3, NULL};
    if (tinyvit) {
        *spec = model_spec_tinyvit(tinyvit_config());
        ref.tinyvit = spec;
    }
    return ref;
}

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    int steps = 10, torch = 1, scaling = 0;
    const char *threads = NULL, *arch = "vit";
    struct tinyvit_spec spec;
    kd_help_exit(argc, argv, USAGE,
                 "Times a training step and inference of the reference ViT (or, with --arch\n"
                 "tinyvit, of the hybrid TinyViT teacher) in kdlab and PyTorch\n"
                 "(make bench, make bench-tinyvit; experiments/bench.c).\n");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--child") && i + 4 < argc)
            return kdlab_child(
                atoi(argv[i + 1]), 128,
                (struct shape){atoi(argv[i + 2]), atoi(argv[i + 3]), atoi(argv[i + 4]), NULL});
        if (!strcmp(argv[i], "--child-tinyvit") && i + 1 < argc)
            return kdlab_child(atoi(argv[i + 1]), 128, shape_of(1, &spec));
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = argv[++i];
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            arch = argv[++i];
        else if (!strcmp(argv[i], "--no-torch"))
            torch = 0;
        else if (!strcmp(argv[i], "--scaling"))
            scaling = 1;
        else
            return usage(strcmp(argv[i], "--help") ? 2 : 0);
    }
    int tinyvit = !strcmp(arch, "tinyvit");
    if ((!tinyvit && strcmp(arch, "vit")) || (tinyvit && scaling))
        return usage(2);
    if (scaling)
        return bench_scaling(steps);
    return bench_table(shape_of(tinyvit, &spec), steps, torch, threads);
}
