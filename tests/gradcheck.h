/* Finite-difference gradient checker shared by the op, layer, model and loss tests (ggml
 * test-backend-ops): central differences in double around the same float forward that training
 * calls. */
#ifndef KD_GRADCHECK_H
#define KD_GRADCHECK_H

#include <stddef.h>

/* Runs the float forward with the current input values and returns the scalar loss, typically
 * sum(out * upstream) with a random, non-uniform upstream, accumulated in double. */
typedef double (*gradcheck_fn)(void *ctx);

/* Checks analytic[i] = d f / d x[i]. Each checked x[i] is moved to x[i] +- eps in place and
 * restored bit-exactly; the numeric derivative is (f+ - f-) / (x+ - x-) with the step actually
 * representable in float. An entry passes when
 *     |num - ana| <= tol * max(|num|, |ana|, GRADCHECK_FLOOR * scale),
 * scale being the largest |ana| or |num| over the checked entries: relative where the entry is
 * large, absolute (relative to the gradient's own magnitude) where it is near zero, since the
 * float forward's rounding noise does not shrink with the entry.
 * For n > GRADCHECK_MAX_POINTS, a deterministic evenly spaced sample of that many indices
 * (first and last included) is checked. On failure, prints the worst entry and the count of
 * failures to stderr (and, with GRADCHECK_VERBOSE set in the environment, the worst error of
 * passing checks too, for tuning tolerances). Returns 0 pass, 1 fail. */
#define GRADCHECK_MAX_POINTS 200
#define GRADCHECK_FLOOR 0.05
int gradcheck(const char *name, gradcheck_fn f, void *ctx, float *x, const float *analytic,
              size_t n, double eps, double tol);

/* The sample: gradcheck checks x[gradcheck_point(k, n)] for k < gradcheck_points(n). Tests use
 * it to plant an error where the checker will look. */
size_t gradcheck_points(size_t n);
size_t gradcheck_point(size_t k, size_t n);

#endif
