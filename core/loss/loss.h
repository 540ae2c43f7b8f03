/* Losses, one per file. Each returns the mean loss over the batch and, when the gradient pointer
 * is not NULL, ACCUMULATES weight * d(mean loss)/d(input) into it. */
#ifndef KD_LOSS_H
#define KD_LOSS_H

/* ce.c: cross-entropy of logits (B, K) against labels, with label smoothing eps (the target is
 * (1 - eps) one-hot + eps / K). */
float ce_loss(float *dlogits, const float *logits, const int *labels, float smoothing,
              float weight, int B, int K);
/* Number of rows whose arg-max equals the label. */
int ce_correct(const float *logits, const int *labels, int B, int K);

/* soft_ce.c: cross-entropy -sum_k p_k log softmax(logits)_k against target distributions
 * probs (B, K), temperature 1 (TinyViT's stored soft labels, logit KD). */
float soft_ce_loss(float *dlogits, const float *logits, const float *probs, float weight, int B,
                   int K);

#endif
