/* Errors for user-facing failures: a code, where it happened, what went wrong and how to fix it.
 * Library functions return 0 on success or a negative KD_ERR_* code and fill a struct kd_err;
 * KD_ASSERT is for programmer bugs only, never for user input. */
#ifndef KD_ERR_H
#define KD_ERR_H

#include <stdio.h>
#include <stdlib.h>

enum kd_err_code {
    KD_OK = 0,
    KD_ERR_IO = -1,       /* a file could not be opened, read or written */
    KD_ERR_FORMAT = -2,   /* a file's bytes are not what its format says */
    KD_ERR_CONFIG = -3,   /* YAML syntax, unknown key, wrong type, out of range */
    KD_ERR_MISMATCH = -4, /* a checkpoint or file made for another config */
    KD_ERR_NUMERIC = -5,  /* NaN or Inf in training */
    KD_ERR_NOMEM = -6,
    KD_ERR_USAGE = -7, /* bad command line */
    KD_ERR_BUSY = -8,  /* another process is making the same result */
};

struct kd_err {
    int code;       /* enum kd_err_code */
    char file[256]; /* the file the error is about ("" when none) */
    int line;       /* 1-based line in that file, 0 when unknown */
    char msg[512];  /* what is wrong */
    char fix[256];  /* what to do about it ("" when obvious) */
};

/* Fill e and return code; fmt describes the problem. Use kd_err_fix() to add the hint. */
int kd_err_set(struct kd_err *e, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Set the fix hint of e; returns e->code so that it chains: return kd_err_fix(e, "..."). */
int kd_err_fix(struct kd_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* kd_err_set and kd_err_fix in one call. */
int kd_err_setfix(struct kd_err *e, int code, const char *file, int line, const char *fix,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* One line: "file:line: error: msg (fix: ...)" to stderr. */
void kd_err_print(const struct kd_err *e);

/* When argv holds --help or -h: print "usage: PROG USAGE" and then text (may be NULL) to
 * stdout and exit 0. Every program calls it first, so --help works whatever else is wrong. */
void kd_help_exit(int argc, char **argv, const char *usage, const char *text);

#define KD_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, __LINE__,  \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
