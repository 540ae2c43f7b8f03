/* Counters and helpers shared by every test binary. */
#include "check.h"

#include "base/rng.h"

#include <math.h>
#include <stdlib.h>

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
