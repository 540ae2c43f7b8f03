/* Losses on embeddings for self-supervised learning and distillation (MoCo-v2, SEED and the
 * alternatives SEED's Table 4 compares), one per file, with the L2 normalization they share.
 * Conventions as loss/loss.h: each returns the mean loss over the batch and, when the gradient
 * pointer is not NULL, ACCUMULATES weight * d(mean loss)/d(input) into it.
 * Inputs named z* are raw embeddings (B, D): each loss normalizes them itself and back-propagates
 * through the normalization. Keys, teacher embeddings and queues are already unit vectors and
 * get no gradient (MoCo's stop-gradient; SEED's frozen teacher). `work` is caller scratch of the
 * loss's *_work_floats size, so a training step allocates nothing. */
#ifndef KD_LOSS_SSL_H
#define KD_LOSS_SSL_H

#include <stddef.h>

/* l2norm.c: out (N, D) = inp / max(||inp||, 1e-12) per row (torch F.normalize); norms (N) are
 * the clamped norms, saved for backward. out may not alias inp. */
void l2norm_forward(float *out, float *norms, const float *inp, int N, int D);
/* dinp += (dout - out (out . dout)) / norm, row by row. */
void l2norm_backward(float *dinp, const float *dout, const float *out, const float *norms, int N,
                     int D);

/* queue_sim.c: the similarities s (B, 1 + K) = [a_b . pos_b, a queue^T] of rows a (B, D) with
 * their own positive pos (B, D) first and a queue (K, D) after. */
void queue_sim_forward(float *s, const float *a, const float *pos, const float *queue, int B, int K,
                       int D);
/* Backward of the similarities s (B, 1 + K) = [zn . pos, zn queue^T] of normalized
 * embeddings zn (B, D) (norms from l2norm_forward) to a positive pos (B, D) and a queue (K, D):
 * dzn = ds[:, 0] pos + ds[:, 1:] queue (scratch, overwritten), then dz += its backward through the
 * normalization. Shared by InfoNCE and SEED. */
void queue_sim_backward(float *dz, float *dzn, const float *ds, const float *pos,
                        const float *queue, const float *zn, const float *norms, int B, int K,
                        int D);

/* infonce.c: MoCo's contrastive loss. logits (B, 1 + K) = [q.k, q.queue^T] / tau with q
 * normalized, cross-entropy against column 0. k (B, D) positives, queue (K, D) negatives. */
size_t infonce_work_floats(int B, int K, int D);
float infonce_loss(float *dq, float *work, const float *q, const float *k, const float *queue,
                   float tau, float weight, int B, int K, int D);

/* seed_queue.c: SEED. D+ = [zt_b; queue] per sample b (the teacher's own embedding first);
 * p_T = softmax(zt_b . D+ / tau_t), p_S = softmax(zs_b . D+ / tau_s) with zs normalized;
 * loss = mean_b sum_j -p_T,j log p_S,j. zt (B, D) unit teacher embeddings, queue (K, D). */
size_t seed_queue_work_floats(int B, int K, int D);
float seed_queue_loss(float *dzs, float *work, const float *zs, const float *zt, const float *queue,
                      float tau_s, float tau_t, float weight, int B, int K, int D);

/* embed_l2.c: mean_b || zs_b / ||zs_b|| - zt_b ||^2 against unit teacher embeddings zt. */
size_t embed_l2_work_floats(int B, int D);
float embed_l2_loss(float *dzs, float *work, const float *zs, const float *zt, float weight, int B,
                    int D);

/* embed_cosine.c: mean_b (1 - cos(zs_b, zt_b)), zt unit vectors. On unit vectors this is
 * embed_l2 / 2: the two differ only in the step size they imply. */
size_t embed_cosine_work_floats(int B, int D);
float embed_cosine_loss(float *dzs, float *work, const float *zs, const float *zt, float weight,
                        int B, int D);

#endif
