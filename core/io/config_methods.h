/* The method sections of struct experiment, one header each, so that each method's keys live
 * beside its own code. Included by config.h only. */
#ifndef KD_CONFIG_METHODS_H
#define KD_CONFIG_METHODS_H

#include "io/config_tinyvit.h"
#include "io/config_seed.h"
#include "io/config_tinymim.h"
#include "io/config_dcvit.h"
#include "io/config_interop.h"

#endif
