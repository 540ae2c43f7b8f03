/* Private to core/io: the one schema table behind struct experiment and the value codec it
 * drives (text -> typed field with type and range checks, typed field -> YAML text). The YAML
 * loader (config.c) only walks documents and calls cfg_value_set with file:line. */
#ifndef KD_CONFIG_SCHEMA_H
#define KD_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

#include "io/config.h" /* struct experiment, CONFIG_METHODS */

struct kd_err;

enum cfg_type {
    CFG_INT,
    CFG_FLOAT,
    CFG_BOOL,   /* stored as int 0/1; printed true/false */
    CFG_STRING, /* char[size] */
    CFG_ENUM,   /* a C enum (int-sized): value i is names[i], or for a loss key the loss at
                 * index i of loss/loss_table.h, offered when it fits the key's `losses` */
    CFG_INTS,   /* int[CFG_LIST] with an int count at count_off */
    CFG_FLOATS, /* float[CFG_LIST] with an int count at count_off */
};

struct cfg_key {
    const char *key; /* dotted path, "optim.lr" */
    enum cfg_type type;
    size_t off;               /* offsetof(struct experiment, field) */
    size_t count_off;         /* lists: offset of the int element count */
    size_t size;              /* strings: buffer bytes; enums: sizeof the enum field */
    double min, max;          /* numbers and list elements: inclusive range */
    const char *def;          /* default, as the text a YAML file would hold */
    const char *const *names; /* enums: the choices in value order, NULL-terminated */
    const char *doc;          /* one line for --help-config */
    int losses;               /* loss keys: the inputs the method provides (enum loss_need bits) */
};

/* Where a value came from, for error messages: "<command line>" has line 0. */
struct cfg_origin {
    const char *file;
    int line;
};

/* The schema is the core table (config_schema.c) followed by one table per method, each in
 * its own file (schema_<method>.c) and ended by an entry whose key is NULL. */
#define SCHEMA_OF(m) extern const struct cfg_key schema_##m[];
CONFIG_METHODS(SCHEMA_OF)
#undef SCHEMA_OF
const struct cfg_key *cfg_schema_table(void);
int cfg_schema_count(void);
#define cfg_schema (cfg_schema_table())
#define cfg_schema_n (cfg_schema_count())

/* Row builders for schema tables: key, field of struct experiment, range, default, doc. An
 * ENUM names its choices in the order of the field's enum: CHOICES("adamw", "sgd"). A LOSS
 * key's choices are the losses of loss/loss_table.h that need no more than `provides`. */
#define OFF(f) offsetof(struct experiment, f)
#define SIZE(f) sizeof(((struct experiment *)0)->f)
#define INT(k, f, lo, hi, d, doc)                                                                  \
    {                                                                                              \
        k, CFG_INT, OFF(f), 0, 0, lo, hi, d, NULL, doc, 0                                          \
    }
#define FLT(k, f, lo, hi, d, doc)                                                                  \
    {                                                                                              \
        k, CFG_FLOAT, OFF(f), 0, 0, lo, hi, d, NULL, doc, 0                                        \
    }
#define BOOL(k, f, d, doc)                                                                         \
    {                                                                                              \
        k, CFG_BOOL, OFF(f), 0, 0, 0, 1, d, NULL, doc, 0                                           \
    }
#define STR(k, f, d, doc)                                                                          \
    {                                                                                              \
        k, CFG_STRING, OFF(f), 0, SIZE(f), 0, 0, d, NULL, doc, 0                                   \
    }
#define CHOICES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ENUM(k, f, ch, d, doc)                                                                     \
    {                                                                                              \
        k, CFG_ENUM, OFF(f), 0, SIZE(f), 0, 0, d, ch, doc, 0                                       \
    }
#define LOSS(k, f, provides, d, doc)                                                               \
    {                                                                                              \
        k, CFG_ENUM, OFF(f), 0, SIZE(f), 0, 0, d, NULL, doc, provides                              \
    }
#define INTS(k, f, n, lo, hi, d, doc)                                                              \
    {                                                                                              \
        k, CFG_INTS, OFF(f), OFF(n), 0, lo, hi, d, NULL, doc, 0                                    \
    }
#define FLTS(k, f, n, lo, hi, d, doc)                                                              \
    {                                                                                              \
        k, CFG_FLOATS, OFF(f), OFF(n), 0, lo, hi, d, NULL, doc, 0                                  \
    }
#define SCHEMA_END                                                                                 \
    {                                                                                              \
        NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0                                                \
    }

/* Index of key in the schema, or -1. */
int cfg_find(const char *key);
/* Set schema entry k of x from YAML text. `items`/`n_items` is a sequence (NULL, -1 for a
 * scalar); `quoted` marks a quoted scalar (never null). Returns 0 or KD_ERR_CONFIG with e at o. */
int cfg_value_set(struct experiment *x, int k, const char *text, int quoted, const char **items,
                  int n_items, struct cfg_origin o, struct kd_err *e);
/* Set entry k from command-line text: a list is "[1, 2]" or "1,2" (brackets optional); any
 * other type is one scalar taken as written. Same errors as cfg_value_set. */
int cfg_value_parse(struct experiment *x, int k, const char *text, struct cfg_origin o,
                    struct kd_err *e);
/* Every schema default into x (also zeroes x). Returns 0 (a failure is a schema bug). */
int cfg_defaults(struct experiment *x, struct kd_err *e);
/* Fill e with "expected <type> for '<key>', got <got>" ("a list", "a mapping") at o. */
int cfg_err_shape(int k, const char *got, struct cfg_origin o, struct kd_err *e);
/* Fill e with "unknown key 'key'" at o and the closest schema key as the fix. */
int cfg_unknown_key(const char *key, struct cfg_origin o, struct kd_err *e);
/* The value of entry k in x as YAML text (no key). Returns the length written (< cap). */
int cfg_value_format(const struct experiment *x, int k, char *buf, size_t cap);
/* Edit distance between a and b (bytes). */
int cfg_levenshtein(const char *a, const char *b);

#endif
