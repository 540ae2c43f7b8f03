/* Process setup every experiment main() calls first: BLAS kernel choice and thread count.
 * OpenBLAS picks its kernels when the library loads, and on some AVX-512 CPUs (Zen 5 with
 * OpenBLAS 0.3.21) it picks AVX2 kernels at half speed; the only fix is OPENBLAS_CORETYPE in
 * the environment before load, so setup may re-exec the process once. The decisions are pure
 * functions of environment strings so that tests can check them without touching the process. */
#ifndef KD_RUNTIME_H
#define KD_RUNTIME_H

/* Call first in main(), before any other work or output. May replace the process with itself
 * (execv of /proc/self/exe, same argv) once, with OPENBLAS_CORETYPE=SkylakeX, when: the
 * environment does not set OPENBLAS_CORETYPE, the CPU has AVX-512F/BW, and OpenBLAS chose
 * kernels without AVX-512. Then sets the BLAS thread count (see kd_threads_choose). Never
 * fails: when the re-exec fails it warns on stderr and runs on with the detected kernels. */
void kd_runtime_setup(int argc, char **argv);

/* BLAS threads chosen by kd_runtime_setup (1 before it runs). */
int kd_threads(void);

/* OpenBLAS kernel family in use, e.g. "SkylakeX", "Cooperlake", "Haswell". */
const char *kd_blas_corename(void);

/* The CPU as /proc/cpuinfo names it, with its family and model numbers, e.g. "AMD EPYC (family
 * 26, model 2)": run times recorded in a result's .meta are only comparable on the same kind.
 * "unknown" when /proc/cpuinfo cannot be read. */
const char *kd_cpu_name(void);

/* Set by kd_runtime_setup when the kernels are slower than this CPU allows and the user chose
 * them: a preset OPENBLAS_CORETYPE of a family without AVX-512 on a CPU that has it (kept, as
 * the user's choice). A sentence with its fix, printed when a run has written its result
 * (run_finish) and by bin/bench, so that the error of a failed run stays one line; NULL
 * otherwise. */
const char *kd_blas_advice(void);

/* How the kernels were chosen: "env" (OPENBLAS_CORETYPE set by the user), "switched"
 * (setup re-exec'd with SkylakeX) or "detected" (OpenBLAS's own detection). */
const char *kd_blas_core_source(void);

/* Pure thread choice. Arguments are environment strings (NULL when unset) and the usable core
 * count. Precedence: a positive integer in kd_threads_env (KD_THREADS); else a positive integer
 * in slurm_cpus (SLURM_CPUS_PER_TASK: the job's allocation); else 1 when makeflags (MAKEFLAGS)
 * shows a parallel make ("-jN" with N > 1, a bare "-j", or "--jobserver"), since make then
 * runs one experiment per core; else ncores (at least 1). */
int kd_threads_choose(const char *kd_threads_env, const char *slurm_cpus, const char *makeflags,
                      int ncores);
/* 1 when makeflags (MAKEFLAGS) shows a parallel make ("-jN" with N > 1, a bare "-j", or
 * "--jobserver"): several experiments then share one terminal. */
int kd_make_parallel(const char *makeflags);

/* Pure kernel choice: 1 when setup should re-exec with OPENBLAS_CORETYPE=SkylakeX. env_coretype
 * is OPENBLAS_CORETYPE (NULL when unset), reexec_marker the loop guard set before re-exec (NULL
 * when unset), cpu_avx512 whether the CPU and OS support AVX-512F and BW, corename what
 * OpenBLAS reports. Kernel families with AVX-512 (SkylakeX, Cooperlake, SapphireRapids) stay. */
int kd_coretype_should_switch(const char *env_coretype, const char *reexec_marker, int cpu_avx512,
                              const char *corename);

/* The non-negative number in the environment variable `name` (a setting that changes no result,
 * so the environment's and not a config's), or dflt when it is unset or empty; anything else
 * gets a one-line warning naming `what` it should be, and dflt. */
double kd_env_number(const char *name, double dflt, const char *what);

#endif
