/* The method sections of struct experiment, one line each. A method declares its section in
 * io/config_<method>.h (struct <method>_cfg, the enums of its keys) and its schema rows in
 * io/schema_<method>.c (const struct cfg_key schema_<method>[], ended by SCHEMA_END); here it
 * is included and named in CONFIG_METHODS, which makes its field of struct experiment (named
 * <method>, so its keys are "<method>.*") and appends its rows to the schema. The list's order
 * is the order of the keys in the resolved YAML, which the config hash reads: a new method goes
 * last. Included by config.h only. */
#ifndef KD_CONFIG_METHODS_H
#define KD_CONFIG_METHODS_H

#include "io/config_tinyvit.h"
#include "io/config_seed.h"
#include "io/config_tinymim.h"
#include "io/config_dcvit.h"
#include "io/config_interop.h"

#define CONFIG_METHODS(X) X(tinyvit) X(seed) X(tinymim) X(dcvit) X(interop)

#endif
