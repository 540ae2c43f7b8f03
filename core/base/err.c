/* Error filling and printing: one line that names the file, the line and the fix. */
#include "err.h"

#include <stdarg.h>
#include <string.h>

static int err_vset(struct kd_err *e, int code, const char *file, int line, const char *fix,
                    const char *fmt, va_list ap)
{
    e->code = code;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    snprintf(e->fix, sizeof e->fix, "%s", fix ? fix : "");
    return code;
}

int kd_err_set(struct kd_err *e, int code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, file, line, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int kd_err_setfix(struct kd_err *e, int code, const char *file, int line, const char *fix,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, file, line, fix, fmt, ap);
    va_end(ap);
    return code;
}

int kd_err_fix(struct kd_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->fix, sizeof e->fix, fmt, ap);
    va_end(ap);
    return e->code;
}

void kd_err_print(const struct kd_err *e)
{
    if (e->file[0] && e->line > 0)
        fprintf(stderr, "%s:%d: error: %s", e->file, e->line, e->msg);
    else if (e->file[0])
        fprintf(stderr, "%s: error: %s", e->file, e->msg);
    else
        fprintf(stderr, "error: %s", e->msg);
    if (e->fix[0])
        fprintf(stderr, " (fix: %s)", e->fix);
    fputc('\n', stderr);
}

void kd_help_exit(int argc, char **argv, const char *usage, const char *text)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") != 0 && strcmp(argv[i], "-h") != 0)
            continue;
        printf("usage: %s %s\n%s", argv[0], usage, text ? text : "");
        exit(0);
    }
}
