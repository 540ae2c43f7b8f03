/* Runtime setup: the thread choice (KD_THREADS, Slurm, make -j, cores) and the BLAS kernel
 * switch decision, both pure functions of environment strings; then the real setup in this
 * process, which must report a kernel name and a thread count; and settings read as numbers from
 * the environment. */
#include "base/runtime.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static void test_threads_choose(void)
{
    CHECK(kd_threads_choose(NULL, NULL, NULL, 2) == 2, "no env: all cores");
    CHECK(kd_threads_choose(NULL, NULL, NULL, 0) == 1, "unknown core count: 1");
    CHECK(kd_threads_choose("3", NULL, " -j2 --jobserver-auth=3,4", 2) == 3, "KD_THREADS wins");
    CHECK(kd_threads_choose("0", NULL, NULL, 2) == 2, "KD_THREADS=0 ignored");
    CHECK(kd_threads_choose("two", NULL, NULL, 2) == 2, "KD_THREADS non-numeric ignored");
    CHECK(kd_threads_choose("2x", NULL, NULL, 4) == 4, "KD_THREADS trailing junk ignored");
    CHECK(kd_threads_choose("", NULL, NULL, 2) == 2, "empty KD_THREADS ignored");
    CHECK(kd_threads_choose(NULL, "1", NULL, 2) == 1, "SLURM_CPUS_PER_TASK used");
    CHECK(kd_threads_choose(NULL, "2", " -j2", 2) == 2, "Slurm allocation beats make -j");
    CHECK(kd_threads_choose("1", "2", NULL, 2) == 1, "KD_THREADS beats Slurm");
    CHECK(kd_threads_choose(NULL, NULL, " -j2 --jobserver-auth=3,4", 2) == 1, "make -j2: 1");
    CHECK(kd_threads_choose(NULL, NULL, "-j2", 2) == 1, "-j2 alone: 1");
    CHECK(kd_threads_choose(NULL, NULL, " -j", 2) == 1, "bare -j (unlimited): 1");
    CHECK(kd_threads_choose(NULL, NULL, "--jobs=4", 2) == 1, "--jobs=4: 1");
    CHECK(kd_threads_choose(NULL, NULL, " -j1", 2) == 2, "-j1 is serial: all cores");
    CHECK(kd_threads_choose(NULL, NULL, "s -- X=-j8", 2) == 2, "-j after -- is a variable");
    CHECK(kd_threads_choose(NULL, NULL, "--jobserver-auth=fifo:/tmp/m", 2) == 1,
          "jobserver without -j (recursive make): 1");
    CHECK(kd_threads_choose(NULL, NULL, "--jobserver-fds=3,4 -j", 2) == 1,
          "old jobserver spelling: 1");
    CHECK(kd_threads_choose(NULL, NULL, "rR", 2) == 2, "single-letter flags: all cores");
    CHECK(kd_threads_choose(NULL, NULL, "", 2) == 2, "empty MAKEFLAGS: all cores");
}

static void test_coretype_switch(void)
{
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, "Haswell") == 1, "Zen 5 case switches");
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, "Zen") == 1, "Zen kernels switch");
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, "Cooperlake") == 0, "Zen 4 case stays");
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, "SkylakeX") == 0, "SkylakeX stays");
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, "SAPPHIRERAPIDS") == 0, "case-insensitive");
    CHECK(kd_coretype_should_switch("Haswell", NULL, 1, "Haswell") == 0, "user env kept");
    CHECK(kd_coretype_should_switch("", NULL, 1, "Haswell") == 0, "user env kept even empty");
    CHECK(kd_coretype_should_switch(NULL, "1", 1, "Haswell") == 0, "no second re-exec");
    CHECK(kd_coretype_should_switch(NULL, NULL, 0, "Haswell") == 0, "no AVX-512: stay");
    CHECK(kd_coretype_should_switch(NULL, NULL, 1, NULL) == 0, "no corename: stay");
}

/* Settings from the environment: a number, else the default (with a warning when set wrongly). */
static void test_env_number(void)
{
    unsetenv("KD_TEST_NUMBER");
    CHECK(kd_env_number("KD_TEST_NUMBER", 7, "a count") == 7, "unset: the default");
    setenv("KD_TEST_NUMBER", "", 1);
    CHECK(kd_env_number("KD_TEST_NUMBER", 7, "a count") == 7, "empty: the default");
    setenv("KD_TEST_NUMBER", "0.25", 1);
    CHECK(kd_env_number("KD_TEST_NUMBER", 7, "a count") == 0.25, "a number");
    setenv("KD_TEST_NUMBER", "0", 1);
    CHECK(kd_env_number("KD_TEST_NUMBER", 7, "a count") == 0, "zero");
    const char *bad[] = {"12MB", "-1", "nan", "x"};
    for (int i = 0; i < 4; i++) {
        setenv("KD_TEST_NUMBER", bad[i], 1);
        CHECK(kd_env_number("KD_TEST_NUMBER", 7, "a count") == 7, "'%s': the default", bad[i]);
    }
    unsetenv("KD_TEST_NUMBER");
}

int main(int argc, char **argv)
{
    test_threads_choose();
    test_coretype_switch();

    test_env_number();
    kd_runtime_setup(argc, argv);
    const char *core = kd_blas_corename();
    CHECK(core && strlen(core) > 0 && strcmp(core, "unknown") != 0, "corename reported");
    CHECK(kd_threads() >= 1 && kd_threads() <= 4096, "threads %d in range", kd_threads());
    const char *src = kd_blas_core_source();
    CHECK(!strcmp(src, "env") || !strcmp(src, "switched") || !strcmp(src, "detected"),
          "core source '%s'", src);
    /* the .meta's cpu line: this machine's name with its family and model numbers */
    const char *cpu = kd_cpu_name();
    CHECK(strcmp(cpu, "unknown") != 0 && strstr(cpu, "(family ") && strstr(cpu, ", model ") &&
              !strstr(cpu, "model name") && !strchr(cpu, '\n'),
          "cpu name '%s'", cpu);
    printf("test_runtime: %s, blas core %s (%s), %d threads\n", cpu, core, src, kd_threads());
    return check_report("test_runtime");
}
