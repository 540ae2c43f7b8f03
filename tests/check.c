/* Counters and helpers shared by every test binary. */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include "check.h"

#include "base/rng.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int check_passed, check_failed;

int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

double check_close(const float *a, const float *b, size_t n, double atol, double rtol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
        if (!(d <= worst))
            worst = d; /* NaN propagates as the worst */
    }
    return worst;
}

float *check_zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        abort();
    return p;
}

float *check_randn(struct rng *r, size_t n, float s)
{
    float *p = check_zeros(n);
    for (size_t i = 0; i < n; i++)
        p[i] = s * rng_normal(r);
    return p;
}

static char tmpdir[128];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *check_tmpdir(const char *name)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kd_%s_XXXXXX", name);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(remove_tmpdir);
    return tmpdir;
}

const char *check_tmp(const char *file)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, file);
    return b;
}
