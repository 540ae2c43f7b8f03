/* 1 - cosine similarity between student and teacher features, per row (a token), averaged
 * over rows: a feature target that matches each token's direction and ignores its scale
 * (tinymim.target feature_cosine, beside TinyMIM's smooth-L1 "feature"). Dot products and
 * norms in double; a norm below 1e-8 counts as 1e-8. */
#include "loss/loss.h"
#include "loss/loss_table.h"

#include <math.h>

#define NORM_MIN 1e-8

/* Mean over rows of 1 - cos(pred_r, target_r), pred and target (rows, D); dpred ACCUMULATES
 * weight * d/d(pred), or is NULL. */
static float feature_cosine_loss(float *dpred, const float *pred, const float *target, float weight,
                                 int rows, int D)
{
    double total = 0, k = (double)weight / rows;
    for (int r = 0; r < rows; r++) {
        const float *p = pred + (size_t)r * D, *t = target + (size_t)r * D;
        double pt = 0, pp = 0, tt = 0;
        for (int j = 0; j < D; j++) {
            pt += (double)p[j] * t[j];
            pp += (double)p[j] * p[j];
            tt += (double)t[j] * t[j];
        }
        double np = fmax(sqrt(pp), NORM_MIN), nt = fmax(sqrt(tt), NORM_MIN);
        double c = pt / (np * nt);
        total += 1.0 - c;
        /* d(1 - c)/dp = -(t / nt - c p / np) / np */
        for (int j = 0; dpred && j < D; j++)
            dpred[(size_t)r * D + j] += (float)(-k * (t[j] / nt - c * p[j] / np) / np);
    }
    return (float)(total / rows);
}

/* The table's "feature_cosine" (loss_table.h: LOSS_FEATURE). */
size_t feature_cosine_work(const struct loss_in *in)
{
    return 0;
}

double feature_cosine_forward(const struct loss_in *in)
{
    return feature_cosine_loss(in->ds, in->s, in->t, in->weight, in->rows, in->D);
}
