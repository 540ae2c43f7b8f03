/* What the 2-D convolutions (conv.c, dwconv.c) share: the output side, and which taps of the
 * kernel fall inside the image for one output pixel, so that a loop visits exactly those, in
 * kernel order, instead of testing each (padding reads as zero and is skipped). */
#ifndef KD_CONV_TAPS_H
#define KD_CONV_TAPS_H

/* Output side of a K-wide kernel over n pixels: (n + 2 pad - K) / stride + 1. */
static inline int conv_out(int n, int K, int stride, int pad)
{
    return (n + 2 * pad - K) / stride + 1;
}

/* For output position o, the kernel offsets k in [*k0, *k1) whose input o * stride - pad + k
 * lies in [0, n) (an empty range when none does). Along a row they are adjacent pixels, so
 * im2col copies each run at once. */
static inline void conv_run(int o, int n, int K, int stride, int pad, int *k0, int *k1)
{
    int i0 = o * stride - pad;
    *k0 = i0 < 0 ? -i0 : 0;
    if (*k0 > K)
        *k0 = K;
    *k1 = n - i0 < K ? n - i0 : K;
    if (*k1 < *k0)
        *k1 = *k0;
}

/* The taps of output pixel (oh, ow) inside an H x W image: kh in [kh0, kh1), kw in [kw0, kw1). */
struct conv_taps {
    int kh0, kh1, kw0, kw1;
};

static inline struct conv_taps conv_taps_at(int oh, int ow, int H, int W, int K, int stride,
                                            int pad)
{
    struct conv_taps t;
    conv_run(oh, H, K, stride, pad, &t.kh0, &t.kh1);
    conv_run(ow, W, K, stride, pad, &t.kw0, &t.kw1);
    return t;
}

#endif
