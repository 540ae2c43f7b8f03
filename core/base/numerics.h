/* The engine's numerics version: part of every result's key (core/train/result_key.h), so a
 * change that alters what a run computes makes every result stale. Bump KD_NUMERICS by hand
 * with such a change (a kernel's order of operations, an initialization, an augmentation draw);
 * tests/test_numerics.sh fails when results move without a bump, on the reference kernels. */
#ifndef KD_NUMERICS_H
#define KD_NUMERICS_H

#define KD_NUMERICS 1

/* KD_NUMERICS, or the KD_NUMERICS environment variable when it holds a positive integer (the
 * tests pretend a bump with it). */
int kd_numerics(void);

#endif
