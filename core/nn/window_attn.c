/* TinyViT's window attention with LeViT-style attention biases: the map is cut into ws x ws
 * windows (zero-padded at the bottom/right, padded tokens unmasked as in TinyViT), each window
 * attends within itself with a learned bias per head and relative offset (|dy|, |dx|). */
#include "nn/tinyvit_layers.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void window_attn_init(struct window_attn *w, struct params *ps, const char *name, int C, int NH,
                      int ws)
{
    char sub[64];
    w->C = C;
    w->NH = NH;
    w->ws = ws;
    snprintf(sub, sizeof sub, "%s.norm", name);
    norm_init(&w->norm, ps, sub, C);
    snprintf(sub, sizeof sub, "%s.qkv", name);
    linear_init(&w->qkv, ps, sub, C, 3 * C, 1);
    snprintf(sub, sizeof sub, "%s.proj", name);
    linear_init(&w->proj, ps, sub, C, C, 1);
    /* No weight decay on the biases: TinyViT's no_weight_decay_keywords. */
    params_add(ps, &w->ab, &w->gab, 0, name, "attention_biases", NH, ws * ws, 0, 0);
}

void window_attn_reset(struct window_attn *w, struct rng *r)
{
    norm_reset(&w->norm);
    linear_reset(&w->qkv, r);
    linear_reset(&w->proj, r);
    memset(w->ab, 0, sizeof(float) * w->NH * w->ws * w->ws);
}

int window_attn_windows(const struct window_attn *w, int H, int W)
{
    return ((H + w->ws - 1) / w->ws) * ((W + w->ws - 1) / w->ws);
}

void window_attn_plan_acts(const struct window_attn *w, struct plan *pl, struct window_attn_acts *a,
                           int B, int H, int W)
{
    int T = w->ws * w->ws;
    memset(a, 0, sizeof *a);
    a->nwin = window_attn_windows(w, H, W);
    size_t N = (size_t)B * a->nwin * T;
    plan_add(pl, &a->xw, N * w->C);
    plan_add(pl, &a->ln, N * w->C);
    plan_add(pl, &a->ln_s.mean, N);
    plan_add(pl, &a->ln_s.rstd, N);
    plan_add(pl, &a->qkv, N * 3 * w->C);
    plan_add(pl, &a->att, (size_t)B * a->nwin * w->NH * T * T);
    plan_add(pl, &a->atty, N * w->C);
    plan_add(pl, &a->bias, (size_t)w->NH * T * T);
}

/* Backward: two (N, C) buffers, (N, 3C), the full bias gradient (NH, T, T) and the attention
 * scratch; the forward uses the first (N, C) buffer for the projection output. */
size_t window_attn_scratch_floats(const struct window_attn *w, int B, int H, int W)
{
    int T = w->ws * w->ws;
    size_t N = (size_t)B * window_attn_windows(w, H, W) * T;
    return 5 * N * w->C + (size_t)w->NH * T * T + attention_scratch_floats(T);
}

/* Row of window pixel (ty, tx) of window (wy, wx) of image b in (B * nwin, ws*ws, C). */
static size_t window_row(int b, int wy, int wx, int ty, int tx, int nh, int nw, int ws)
{
    return (((size_t)b * nh + wy) * nw + wx) * ws * ws + (size_t)ty * ws + tx;
}

/* win (B * nwin, ws*ws, C) = the windows of map (B, H, W, C), zeros where padded. */
static void windows_from_map(float *win, const float *map, int B, int H, int W, int C, int ws)
{
    int nh = (H + ws - 1) / ws, nw = (W + ws - 1) / ws;
    for (int b = 0; b < B; b++)
        for (int wy = 0; wy < nh; wy++)
            for (int wx = 0; wx < nw; wx++)
                for (int ty = 0; ty < ws; ty++)
                    for (int tx = 0; tx < ws; tx++) {
                        int y = wy * ws + ty, x = wx * ws + tx;
                        float *r = win + window_row(b, wy, wx, ty, tx, nh, nw, ws) * C;
                        if (y < H && x < W)
                            memcpy(r, map + (((size_t)b * H + y) * W + x) * C, sizeof(float) * C);
                        else
                            memset(r, 0, sizeof(float) * C);
                    }
}

/* map (B, H, W, C) += the window rows of win, padded rows dropped. */
static void windows_add_to_map(float *map, const float *win, int B, int H, int W, int C, int ws)
{
    int nh = (H + ws - 1) / ws, nw = (W + ws - 1) / ws;
    for (int b = 0; b < B; b++)
        for (int wy = 0; wy < nh; wy++)
            for (int wx = 0; wx < nw; wx++)
                for (int ty = 0; ty < ws && wy * ws + ty < H; ty++)
                    for (int tx = 0; tx < ws && wx * ws + tx < W; tx++) {
                        float *p = map + (((size_t)b * H + wy * ws + ty) * W + wx * ws + tx) * C;
                        add_forward(p, p, win + window_row(b, wy, wx, ty, tx, nh, nw, ws) * C, C);
                    }
}

/* The table entry of query i and key j of a window: |dy| * ws + |dx|. */
static int bias_index(int i, int j, int ws)
{
    return abs(i / ws - j / ws) * ws + abs(i % ws - j % ws);
}

void window_attn_forward(const struct window_attn *w, float *y, struct window_attn_acts *a,
                         float *scratch, const float *x, int B, int H, int W)
{
    int ws = w->ws, T = ws * ws, C = w->C, NH = w->NH, nb = B * a->nwin, N = nb * T;
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++)
                a->bias[((size_t)h * T + i) * T + j] = w->ab[h * T + bias_index(i, j, ws)];
    windows_from_map(a->xw, x, B, H, W, C, ws);
    norm_forward(&w->norm, a->ln, &a->ln_s, a->xw, N);
    linear_forward(&w->qkv, a->qkv, a->ln, N);
    attention_forward(a->atty, a->att, a->qkv, a->bias, nb, T, C, NH);
    float *o = scratch;
    linear_forward(&w->proj, o, a->atty, N);
    memset(y, 0, sizeof(float) * B * H * W * C);
    windows_add_to_map(y, o, B, H, W, C, ws);
}

void window_attn_backward(struct window_attn *w, float *dx, float *scratch, const float *dy,
                          const struct window_attn_acts *a, int B, int H, int W)
{
    int ws = w->ws, T = ws * ws, C = w->C, NH = w->NH, nb = B * a->nwin, N = nb * T;
    size_t NC = (size_t)N * C;
    float *d1 = scratch, *d2 = d1 + NC, *dqkv = d2 + NC, *dbias = dqkv + 3 * NC;
    float *att_s = dbias + (size_t)NH * T * T;
    windows_from_map(d1, dy, B, H, W, C, ws); /* d1 = d(proj out) */
    memset(d2, 0, sizeof(float) * NC);
    linear_backward(&w->proj, d2, d1, a->atty, N); /* d2 = d atty */
    memset(dqkv, 0, sizeof(float) * 3 * NC);
    memset(dbias, 0, sizeof(float) * NH * T * T);
    attention_backward(dqkv, dbias, att_s, d2, a->qkv, a->att, nb, T, C, NH);
    for (int h = 0; h < NH; h++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++)
                w->gab[h * T + bias_index(i, j, ws)] += dbias[((size_t)h * T + i) * T + j];
    memset(d1, 0, sizeof(float) * NC);
    linear_backward(&w->qkv, d1, dqkv, a->ln, N); /* d1 = d ln */
    memset(d2, 0, sizeof(float) * NC);
    norm_backward(&w->norm, d2, d1, a->xw, &a->ln_s, N); /* d2 = d xw */
    windows_add_to_map(dx, d2, B, H, W, C, ws);
}

double window_attn_macs(const struct window_attn *w, int H, int W)
{
    double T = (double)w->ws * w->ws, N = window_attn_windows(w, H, W) * T, C = w->C;
    return N * C * 3 * C + 2 * N * T * C + N * C * C;
}
