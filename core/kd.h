/* kdlab's one public header: everything an experiment or a test needs from the core. */
#ifndef KD_H
#define KD_H

#include "base/err.h"
#include "base/arena.h"
#include "base/rng.h"
#include "base/fsio.h"
#include "base/runtime.h"
#include "ops/ops.h"
#include "io/config.h"
#include "data/dataset.h"

#endif
