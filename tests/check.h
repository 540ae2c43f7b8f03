/* A dozen lines of test harness (Redis test_cond): CHECK counts, the runner prints
 * "N passed, N failed" and exits non-zero on any failure. */
#ifndef KD_CHECK_H
#define KD_CHECK_H

#include <stdio.h>

extern int check_passed, check_failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Print the closing line "<name>: N passed, N failed" and return the exit code. */
int check_report(const char *name);

/* Largest |a - b| / (atol + rtol * |b|) over n values; <= 1 means within tolerance. */
double check_close(const float *a, const float *b, size_t n, double atol, double rtol);

/* A new folder /tmp/kd_<name>_XXXXXX for the test's files, removed with all it holds at exit.
 * Exits when it cannot be made. check_tmp(file) is "<folder>/<file>" (four buffers in turn). */
const char *check_tmpdir(const char *name);
const char *check_tmp(const char *file);

struct rng;
/* n zeroed floats (aborts when out of memory: tests only). */
float *check_zeros(size_t n);
/* n floats, normal with std s, drawn from r. */
float *check_randn(struct rng *r, size_t n, float s);

#endif
