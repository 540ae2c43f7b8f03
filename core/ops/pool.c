/* Mean over tokens, (B, T, C) -> (B, C): the pooled feature of DeiT-style heads without a class
 * token and of feature-distillation targets. */
#include "ops.h"

/* out (B, C) = (1 / T) sum_t inp (B, T, C); rows are summed in order so the inner loop over C
 * is contiguous. */
void meanpool_forward(float *restrict out, const float *restrict inp, int B, int T, int C)
{
    float inv = 1.0f / T;
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * C;
        for (int c = 0; c < C; c++)
            o[c] = 0.0f;
        for (int t = 0; t < T; t++) {
            const float *x = inp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                o[c] += x[c];
        }
        for (int c = 0; c < C; c++)
            o[c] *= inv;
    }
}

/* dinp (B, T, C) += dout (B, C) / T for every token. */
void meanpool_backward(float *restrict dinp, const float *restrict dout, int B, int T, int C)
{
    float inv = 1.0f / T;
    for (int b = 0; b < B; b++) {
        const float *d = dout + (size_t)b * C;
        for (int t = 0; t < T; t++) {
            float *dx = dinp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                dx[c] += d[c] * inv;
        }
    }
}
