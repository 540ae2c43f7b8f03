/* Resume points of the one loop (loop.h: the epochs of loop_train, the stages of loop_stages)
 * and of TinyViT's teacher pass. Every run.ckpt_every epochs but the last (every stage but the
 * last), STEM.part.csv (the rows so far), STEM.part.meta (the run's key: numerics version,
 * config, inputs' keys) and STEM.part.ckpt (every parameter set the loop carries, with its
 * optimizer moments) are written; the same command run again continues after that point and
 * ends with the bytes of a run that was never stopped. A point made by another computation (a
 * numerics bump, an input with another key or made again since) is dropped, and the run starts
 * over. */
#ifndef KD_RESUME_H
#define KD_RESUME_H

#include "train/run.h"
#include "nn/params.h"

struct optim;

/* 1 when a resume point follows the epoch that makes `done` epochs completed. */
int resume_due(const struct run *r, int done);
/* Write STEM.part.csv (r's rows), STEM.part.meta, then STEM.part.ckpt: the sets with the moments of
 * opts (ckpt_save_sets) after `done` epochs and `step` optimizer steps. Returns 0 or fills e. */
int resume_save(struct run *r, struct params *const *sets, struct optim *const *opts, int n_sets,
                int done, long step, struct kd_err *e);
/* When STEM.part.ckpt exists, load it into the sets and opts (its config must equal r's
 * resolved one), keep the rows of STEM.part.csv up to its epoch in r->csv (opened with its
 * header already), say "resuming after epoch N" on stderr and set *done to N; otherwise set
 * *done to 0. A point made by another computation (its STEM.part.meta records another key) or
 * older than a result r reads (config_refs_of: a teacher trained again since) is removed
 * instead, and *done is 0. Returns 0 or fills e naming the file and a fix. */
int resume_load(struct run *r, struct params *const *sets, struct optim *const *opts, int n_sets,
                int *done, struct kd_err *e);
/* resume_load for a loop of epoch_steps steps an epoch whose points may also fall inside an
 * epoch (loop.h: KD_RESUME_MINUTES): such a point holds one more set, sums (no optimizer), and
 * *in_epoch gets the steps of epoch *done + 1 it had taken (0: a point between epochs, which
 * holds no sums). The message then says "resuming after step S of epoch N". */
int resume_load_steps(struct run *r, struct params *const *sets, struct optim *const *opts,
                      int n_sets, long epoch_steps, struct params *sums, int *done, long *in_epoch,
                      struct kd_err *e);
/* Loops whose model depends on how far they got (DC-ViT's progressive compression; rows are
 * stages 0, 1, ..., a point after stage `done` is resume_save(r, &set, NULL, 1, done, 0, e)).
 * resume_peek_stage sets *done to the stage of a current STEM.part.ckpt, or -1 when there is
 * none (a stale one is removed, as resume_load does); build the model of that stage, then
 * resume_load_stage loads it (no optimizer) and keeps the rows of stages 0..done. Both return 0
 * or fill e naming the file and a fix. */
int resume_peek_stage(struct run *r, int *done, struct kd_err *e);
int resume_load_stage(struct run *r, struct params *set, int done, struct kd_err *e);
/* Remove STEM.part.ckpt, .part.csv and .part.meta (and their .tmp), once the results are written.
 */
void resume_clear(const struct run *r);

#endif
