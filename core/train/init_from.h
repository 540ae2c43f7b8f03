/* Runs that start from another run's weights: `init:` names a config whose checkpoint
 * initializes the model (MAE-pretrained -> fine-tuned, distilled -> fine-tuned), and TinyMIM
 * reads its MAE teacher the same way. Tensors are matched by name and shape, so an MAE
 * checkpoint's decoder or a head of another size are skipped, and the log says what was used. */
#ifndef KD_INIT_FROM_H
#define KD_INIT_FROM_H

#include <stddef.h>
#include "nn/params.h"
#include "io/config.h"

struct kd_err;

/* results/<scale>/<config path>-s<seed>.ckpt into out, at the seed reader reads it
 * (run_ref_stem, the rule bin/plan writes for a referenced config). Errors: the config does not
 * load, or that result is not config's. */
int ref_ckpt_path(char *out, size_t cap, const struct experiment *reader, const char *config,
                  struct kd_err *e);
/* Load the checkpoint of config `ref` (at x's scale) into ps, matching by name and shape, and
 * print one line to stderr: tensors loaded, skipped, and parameters left as initialized.
 * require_all: a parameter of ps absent from the file is an error (a teacher); otherwise
 * loading nothing is the only error (init of a fine-tune). */
int init_from_config(struct params *ps, const struct experiment *x, const char *ref,
                     int require_all, struct kd_err *e);

#endif
