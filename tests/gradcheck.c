/* Central-difference gradient checker; see gradcheck.h for the pass rule. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

size_t gradcheck_points(size_t n)
{
    return n < GRADCHECK_MAX_POINTS ? n : GRADCHECK_MAX_POINTS;
}

size_t gradcheck_point(size_t k, size_t n)
{
    size_t m = gradcheck_points(n);
    if (m == n || m < 2)
        return k;
    return (size_t)((double)k * (n - 1) / (m - 1));
}

int gradcheck(const char *name, gradcheck_fn f, void *ctx, float *x, const float *analytic,
              size_t n, double eps, double tol)
{
    size_t m = gradcheck_points(n);
    double num[GRADCHECK_MAX_POINTS];
    double scale = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = gradcheck_point(k, n);
        float x0 = x[i];
        float xp = (float)(x0 + eps), xm = (float)(x0 - eps);
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = x0;
        num[k] = (fp - fm) / ((double)xp - (double)xm);
        scale = fmax(scale, fmax(fabs(num[k]), fabs((double)analytic[i])));
    }
    double worst = 0;
    size_t worst_i = 0, worst_k = 0, failed = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = gradcheck_point(k, n);
        double a = analytic[i];
        double denom = fmax(fmax(fabs(num[k]), fabs(a)), GRADCHECK_FLOOR * scale);
        double err = denom > 0 ? fabs(num[k] - a) / denom : 0;
        if (!(err <= tol))
            failed++;
        if (!isnan(worst) && (isnan(err) || err > worst)) { /* a NaN is the worst */
            worst = err;
            worst_i = i;
            worst_k = k;
        }
    }
    if (!failed) {
        if (getenv("GRADCHECK_VERBOSE"))
            fprintf(stderr, "gradcheck %s: ok, %zu checked, worst rel err %.3g at [%zu]\n", name, m,
                    worst, worst_i);
        return 0;
    }
    fprintf(stderr,
            "gradcheck %s: %zu of %zu checked entries off; worst [%zu] analytic %.6g numeric "
            "%.6g (rel err %.3g > tol %.3g, eps %.3g, gradient scale %.3g)\n",
            name, failed, m, worst_i, analytic[worst_i], num[worst_k], worst, tol, eps, scale);
    return 1;
}
