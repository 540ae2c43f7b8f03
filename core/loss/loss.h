/* Losses, one per file. Each returns the mean loss over the batch and, when the gradient pointer
 * is not NULL, ACCUMULATES weight * d(mean loss)/d(input) into it. */
#ifndef KD_LOSS_H
#define KD_LOSS_H

/* ce.c: cross-entropy of logits (B, K) against labels, with label smoothing eps (the target is
 * (1 - eps) one-hot + eps / K). */
float ce_loss(float *dlogits, const float *logits, const int *labels, float smoothing, float weight,
              int B, int K);
/* Number of rows whose arg-max equals the label. */
int ce_correct(const float *logits, const int *labels, int B, int K);

/* soft_ce.c: cross-entropy -sum_k p_k log softmax(logits)_k against target distributions
 * probs (B, K), temperature 1 (TinyViT's stored soft labels, logit KD). */
float soft_ce_loss(float *dlogits, const float *logits, const float *probs, float weight, int B,
                   int K);

/* ---- TinyMIM, MAE and DC-ViT (core/loss/qk_vv_relation.c, smooth_l1.c, kl_div.c, mae_pixel.c,
 * feature_mse.c) */
#include <stddef.h>

/* qk_vv_relation.c: relation distillation. For each sample, head and chosen pair (X, Y) of
 * Q, K, V: R = softmax(X Y^T * hd^-0.5) over all T tokens, for the student (qkv (B, T, 3Cs))
 * and the teacher (qkv (B, T, 3Ct)), both split into NH heads; returns KL(R_t || R_s) summed
 * over keys, averaged over batch, heads and queries, summed over pairs. d_sqkv (B, T, 3Cs)
 * ACCUMULATES weight * d(loss)/d(student qkv), or is NULL. scratch holds
 * relation_scratch_floats(T, largest head dim) floats. */
enum { RELATION_QK = 1, RELATION_VV = 2, RELATION_QQ = 4, RELATION_KK = 8 };
size_t relation_scratch_floats(int T, int hd_max);
float relation_loss(float *d_sqkv, float *scratch, const float *s_qkv, const float *t_qkv,
                    int pairs, float weight, int B, int T, int Cs, int Ct, int NH);

/* smooth_l1.c: mean over n of torch's SmoothL1(pred - target, beta). */
float smooth_l1_loss(float *dpred, const float *pred, const float *target, float beta, float weight,
                     size_t n);

/* kl_div.c: mean over B rows of KL(softmax(target) || softmax(logits)), both (B, K);
 * scratch 2K floats. */
float kl_div_loss(float *dlogits, float *scratch, const float *logits, const float *target,
                  float weight, int B, int K);
/* acc + the sum over B rows of the same KL, in double without gradient, each probability
 * clamped at 1e-12 inside the log (DC-ViT's block scores: one running sum over batches);
 * K <= KL_DIV_ADD_MAX_K. */
#define KL_DIV_ADD_MAX_K 256
double kl_div_add(double acc, const float *logits, const float *target, int B, int K);

/* feature_mse.c: mean over n of (pred - target)^2, in double (DC-ViT's few-shot fine-tuning:
 * the returned mean is reported to 6 digits and averaged over steps, so it keeps double). */
double feature_mse_loss(float *dpred, const float *pred, const float *target, float weight,
                        size_t n);
/* acc + the sum over n of (pred - target)^2, each difference in float, summed in double in
 * index order (held-out MSE over several batches: one running sum). */
double feature_sq_err_add(double acc, const float *pred, const float *target, size_t n);

/* mae_pixel.c: MAE reconstruction loss of pred (B, NP, PPC) against the image's patches
 * target (B, NP, PPC) over the patches whose mask (B, NP) is 1; norm_pix normalizes each
 * target patch by its mean and unbiased std. */
float mae_pixel_loss(float *dpred, const float *pred, const float *target, const float *mask,
                     int norm_pix, float weight, int B, int NP, int PPC);

#endif
