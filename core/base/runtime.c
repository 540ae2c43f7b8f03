/* Process setup: BLAS kernel family (re-exec once with OPENBLAS_CORETYPE when OpenBLAS chose
 * AVX2 kernels on an AVX-512 CPU) and BLAS thread count (KD_THREADS, Slurm, make -j, cores).
 * See runtime.h for why a re-exec is the only way to change the kernels. */
#include "runtime.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Declared here rather than through <cblas.h>: the system cblas.h may be netlib's, which lacks
 * these OpenBLAS extensions. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

#define KD_REEXEC_MARKER "KD_RUNTIME_REEXEC"

static int runtime_threads = 1;
static const char *runtime_core_source = "detected";

/* Positive decimal integer in [1, 4096] filling the whole string, else 0. */
static int parse_count(const char *s)
{
    if (!s || !*s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < 1 || v > 4096)
        return 0;
    return (int)v;
}

/* Words after "--" are variable assignments. */
int kd_make_parallel(const char *mf)
{
    if (!mf)
        return 0;
    const char *p = mf;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        char word[64];
        if (n == 0)
            break;
        size_t k = n < sizeof word - 1 ? n : sizeof word - 1;
        memcpy(word, p, k);
        word[k] = '\0';
        p += n;
        if (strcmp(word, "--") == 0)
            break;
        if (strncmp(word, "--jobserver", 11) == 0)
            return 1;
        const char *count = NULL;
        if (strncmp(word, "--jobs", 6) == 0)
            count = word[6] == '=' ? word + 7 : word + 6;
        else if (strncmp(word, "-j", 2) == 0)
            count = word + 2;
        if (count && (*count == '\0' || parse_count(count) > 1))
            return 1;
    }
    return 0;
}

int kd_threads_choose(const char *kd_threads_env, const char *slurm_cpus, const char *makeflags,
                      int ncores)
{
    int n = parse_count(kd_threads_env);
    if (n)
        return n;
    n = parse_count(slurm_cpus);
    if (n)
        return n;
    if (kd_make_parallel(makeflags))
        return 1;
    return ncores > 0 ? ncores : 1;
}

int kd_coretype_should_switch(const char *env_coretype, const char *reexec_marker, int cpu_avx512,
                              const char *corename)
{
    static const char *const avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    if (env_coretype || reexec_marker || !cpu_avx512 || !corename)
        return 0;
    for (size_t i = 0; i < sizeof avx512_cores / sizeof avx512_cores[0]; i++)
        if (strcasecmp(corename, avx512_cores[i]) == 0)
            return 0;
    return 1;
}

/* AVX-512 usable by user code: the CPU has F and BW (what OpenBLAS's SkylakeX kernels need)
 * and the OS saves the ZMM state (libgcc checks XCR0 before reporting these). */
static int cpu_has_avx512(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

/* Cores this process may run on: the affinity mask (smaller under taskset or a cgroup'd
 * scheduler) when it can be read, else the online count. */
static int usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Why this run is slower than it could be, or "" (see kd_blas_advice). */
static char runtime_advice[256];

static void runtime_select_core(char **argv)
{
    const char *env_core = getenv("OPENBLAS_CORETYPE");
    const char *marker = getenv(KD_REEXEC_MARKER);
    if (marker) {
        /* We are the re-exec'd process; keep the marker out of our own children. */
        unsetenv(KD_REEXEC_MARKER);
        runtime_core_source = "switched";
        return;
    }
    if (env_core) {
        /* A preset is the user's choice and is kept; but a family without AVX-512 on a CPU
         * that has it runs every GEMM at about half speed (Haswell's kernels on Zen 5), so say
         * so once a run. */
        runtime_core_source = "env";
        if (cpu_has_avx512() && kd_coretype_should_switch(NULL, NULL, 1, env_core))
            snprintf(runtime_advice, sizeof runtime_advice,
                     "OPENBLAS_CORETYPE=%s is kept, but this CPU has AVX-512, whose SkylakeX "
                     "kernels are about twice as fast (fix: unset OPENBLAS_CORETYPE and kdlab "
                     "chooses)",
                     env_core);
        return;
    }
    if (!argv || !argv[0] ||
        !kd_coretype_should_switch(env_core, marker, cpu_has_avx512(), openblas_get_corename()))
        return;
    fflush(NULL);
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) == 0 && setenv(KD_REEXEC_MARKER, "1", 1) == 0)
        execv("/proc/self/exe", argv);
    fprintf(stderr,
            "kdlab: warning: could not re-exec with OPENBLAS_CORETYPE=SkylakeX; "
            "running with %s kernels (fix: export OPENBLAS_CORETYPE=SkylakeX)\n",
            openblas_get_corename());
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(KD_REEXEC_MARKER);
}

void kd_runtime_setup(int argc, char **argv)
{
    runtime_select_core(argv);
    const char *kt = getenv("KD_THREADS");
    if (kt && !parse_count(kt))
        fprintf(stderr, "kdlab: warning: KD_THREADS='%s' is not a positive integer; ignored\n", kt);
    runtime_threads =
        kd_threads_choose(kt, getenv("SLURM_CPUS_PER_TASK"), getenv("MAKEFLAGS"), usable_cores());
    openblas_set_num_threads(runtime_threads);
}

int kd_threads(void)
{
    return runtime_threads;
}

const char *kd_blas_corename(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}

/* The value of the first "key<blanks>: value" line of /proc/cpuinfo into out ("" if none). */
static void cpuinfo_field(const char *key, char *out, size_t size)
{
    char line[512];
    size_t klen = strlen(key);
    out[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        const char *v = line + klen + strspn(line + klen, " \t");
        if (*v != ':') /* "model" must not take the "model name" line */
            continue;
        for (v++; *v == ' ' || *v == '\t'; v++)
            ;
        snprintf(out, size, "%.*s", (int)strcspn(v, "\n"), v);
        break;
    }
    fclose(f);
}

const char *kd_cpu_name(void)
{
    static char name[256];
    if (!name[0]) {
        char model[160], family[32], number[32];
        cpuinfo_field("model name", model, sizeof model);
        cpuinfo_field("cpu family", family, sizeof family);
        cpuinfo_field("model", number, sizeof number);
        if (!model[0])
            snprintf(name, sizeof name, "unknown");
        else if (family[0] && number[0])
            snprintf(name, sizeof name, "%s (family %s, model %s)", model, family, number);
        else
            snprintf(name, sizeof name, "%s", model);
    }
    return name;
}

const char *kd_blas_advice(void)
{
    return runtime_advice[0] ? runtime_advice : NULL;
}

const char *kd_blas_core_source(void)
{
    return runtime_core_source;
}

double kd_env_number(const char *name, double dflt, const char *what)
{
    const char *s = getenv(name);
    char *end;
    if (!s || !*s)
        return dflt;
    double v = strtod(s, &end);
    if (*end || !(v >= 0)) {
        fprintf(stderr, "kdlab: warning: %s='%s' is not %s; using %g\n", name, s, what, dflt);
        return dflt;
    }
    return v;
}
