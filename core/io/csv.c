/* CSV results: rows kept in memory and written whole through atomic_open/atomic_commit (the
 * Redis rdbSave pattern), resume that reads rows back without duplicates, .meta files, and an
 * in-place RFC 4180 reader for the table and report tools. */
#include "io/csv.h"
#include "base/err.h"
#include "base/fsio.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fields in one CSV line, counting commas outside double quotes. */
static int count_fields(const char *s)
{
    int n = 1, quoted = 0;
    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == ',' && !quoted)
            n++;
    }
    return n;
}

int csv_open(struct csv *c, const char *path, const char *header, struct kd_err *e)
{
    memset(c, 0, sizeof *c);
    if (!header || !*header || strlen(header) >= sizeof c->header || strchr(header, '\n'))
        return kd_err_set(e, KD_ERR_USAGE, path, 0,
                          "a CSV header must be one non-empty line "
                          "under %zu bytes",
                          sizeof c->header);
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->header, sizeof c->header, "%s", header);
    c->n_cols = count_fields(header);
    return 0;
}

static void reserve(struct csv *c, size_t more)
{
    if (c->len + more + 1 <= c->cap)
        return;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + more + 1)
        cap *= 2;
    char *p = realloc(c->rows, cap);
    KD_ASSERT(p != NULL);
    c->rows = p;
    c->cap = cap;
}

void csv_row(struct csv *c, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    KD_ASSERT(n >= 0);
    reserve(c, (size_t)n + 1);
    vsnprintf(c->rows + c->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    KD_ASSERT(!memchr(c->rows + c->len, '\n', (size_t)n));
    KD_ASSERT(count_fields(c->rows + c->len) == c->n_cols);
    c->len += (size_t)n;
    c->rows[c->len++] = '\n';
    c->rows[c->len] = '\0';
    c->n_rows++;
}

void csv_quote(char *out, size_t cap, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        snprintf(out, cap, "%s", s);
        return;
    }
    size_t n = 0;
    if (cap < 3) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[n++] = '"';
    for (; *s && n + 3 < cap; s++) {
        if (*s == '"')
            out[n++] = '"';
        out[n++] = *s;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Append one row of the table t (re-quoted) to c. */
static void append_cells(struct csv *c, const struct csv_table *t, int row)
{
    char field[1024];
    for (int j = 0; j < t->n_cols; j++) {
        csv_quote(field, sizeof field, csv_cell(t, row, j));
        size_t n = strlen(field);
        reserve(c, n + 2);
        if (j)
            c->rows[c->len++] = ',';
        memcpy(c->rows + c->len, field, n);
        c->len += n;
    }
    c->rows[c->len++] = '\n';
    c->rows[c->len] = '\0';
    c->n_rows++;
}

static int same_header(const struct csv *c, const struct csv_table *t)
{
    char joined[1024];
    size_t n = 0;
    for (int j = 0; j < t->n_cols && n < sizeof joined; j++)
        n += snprintf(joined + n, sizeof joined - n, "%s%s", j ? "," : "", t->names[j]);
    return n < sizeof joined && strcmp(joined, c->header) == 0;
}

int csv_resume(struct csv *c, const char *path, const char *header, const char *from, int upto,
               struct kd_err *e)
{
    struct csv_table t;
    if (csv_open(c, path, header, e))
        return e->code;
    from = from ? from : path;
    if (access(from, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (csv_read(&t, from, e))
        return e->code;
    int rc = 0;
    if (!same_header(c, &t))
        rc = kd_err_setfix(e, KD_ERR_MISMATCH, from, 1, "delete the file to start over",
                           "the CSV header differs from this run's: expected '%s'", c->header);
    for (int i = 0; !rc && i < t.n_rows; i++) {
        double v = csv_num(&t, i, 0);
        if (isnan(v))
            rc = kd_err_set(e, KD_ERR_FORMAT, from, i + 2, "first column '%s' is not a number",
                            csv_cell(&t, i, 0));
        else if (v <= upto)
            append_cells(c, &t, i);
    }
    csv_table_free(&t);
    return rc;
}

int csv_write(const struct csv *c, const char *to, struct kd_err *e)
{
    struct atomic_file af;
    if (atomic_open(&af, to ? to : c->path, e))
        return e->code;
    fprintf(af.f, "%s\n", c->header);
    if (c->len)
        fwrite(c->rows, 1, c->len, af.f);
    return atomic_commit(&af, e);
}

uint64_t csv_hash(const struct csv *c)
{
    uint64_t h = fnv1a(FNV1A_INIT, c->header, strlen(c->header));
    h = fnv1a(h, "\n", 1);
    return c->len ? fnv1a(h, c->rows, c->len) : h;
}

void csv_free(struct csv *c)
{
    free(c->rows);
    c->rows = NULL;
    c->len = c->cap = 0;
    c->n_rows = 0;
}

/* The revision of the git work tree holding this program (a binary run by hand, outside Make),
 * or "unknown". */
static void revision_of_program(char *out, size_t cap)
{
    char exe[1024], cmd[1200];
    snprintf(out, cap, "unknown");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash || strchr(exe, '\''))
        return;
    *slash = '\0';
    snprintf(cmd, sizeof cmd, "git -C '%s' describe --always --dirty 2>/dev/null", exe);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[128];
    if (fgets(line, sizeof line, p) && line[0] != '\n') {
        line[strcspn(line, "\n")] = '\0';
        snprintf(out, cap, "%s", line);
    }
    pclose(p);
}

const char *csv_revision(void)
{
#ifdef KD_REVISION
    return KD_REVISION;
#else
    static char found[128];
    const char *env = getenv("KD_REVISION");
    if (env && *env)
        return env;
    if (!found[0])
        revision_of_program(found, sizeof found);
    return found;
#endif
}

int csv_write_meta(const char *csv_path, const struct csv_meta *m, struct kd_err *e)
{
    char path[1100], host[256] = "unknown", start[32] = "unknown";
    struct tm tm;
    struct atomic_file af;
    snprintf(path, sizeof path, "%s.meta", csv_path);
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    if (gmtime_r(&m->start, &tm))
        strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (atomic_open(&af, path, e))
        return e->code;
    fprintf(af.f,
            "config: %s\nconfig_hash: %016llx\nscale: %s\nseed: %d\nrevision: %s\n"
            "host: %s\nstart: %s\nwall_seconds: %.1f\n",
            m->config ? m->config : "", (unsigned long long)m->config_hash,
            m->scale ? m->scale : "", m->seed, csv_revision(), host, start, m->wall_seconds);
    if (m->extra)
        fputs(m->extra, af.f);
    return atomic_commit(&af, e);
}

/* Growing array of cell pointers. */
struct cells {
    char **v;
    int n, cap;
};

static void cells_push(struct cells *f, char *s)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        char **p = realloc(f->v, sizeof *p * f->cap);
        KD_ASSERT(p != NULL);
        f->v = p;
    }
    f->v[f->n++] = s;
}

static int is_eol(const char *r)
{
    return *r == '\n' || (r[0] == '\r' && r[1] == '\n');
}

/* Parse one record at *rp, unquoting in place at *wp (never ahead of *rp). Returns 0, or -1
 * for a bad quote. *line counts newlines crossed. */
static int parse_record(char **rp, char **wp, struct cells *f, int *line)
{
    char *r = *rp, *w = *wp;
    for (;;) {
        char *cell = w;
        if (*r == '"') {
            for (r++;;) {
                if (!*r)
                    return -1;
                if (*r == '"' && r[1] != '"') {
                    r++;
                    break;
                }
                *line += *r == '\n';
                r += *r == '"'; /* "" is one quote */
                *w++ = *r++;
            }
            if (*r && *r != ',' && !is_eol(r))
                return -1;
        } else {
            while (*r && *r != ',' && !is_eol(r))
                *w++ = *r++;
        }
        char end = *r;
        *w++ = '\0';
        cells_push(f, cell);
        r += end == '\r' ? 2 : end != '\0';
        if (end != ',') {
            *line += end != '\0';
            break;
        }
    }
    *rp = r;
    *wp = w;
    return 0;
}

int csv_read(struct csv_table *t, const char *path, struct kd_err *e)
{
    struct cells f = {0};
    char *text = NULL;
    int line = 1, rc = 0;
    memset(t, 0, sizeof *t);
    if (file_read_all(path, &text, NULL, e))
        return e->code;
    char *r = text, *w = text;
    while (*r && !rc) {
        if (is_eol(r)) { /* blank line */
            r += *r == '\r' ? 2 : 1;
            line++;
            continue;
        }
        int first = f.n, at = line;
        if (parse_record(&r, &w, &f, &line))
            rc = kd_err_set(e, KD_ERR_FORMAT, path, at, "unbalanced double quote");
        else if (first == 0)
            t->n_cols = f.n;
        else if (f.n - first != t->n_cols)
            rc = kd_err_set(e, KD_ERR_FORMAT, path, at, "row has %d fields, the header has %d",
                            f.n - first, t->n_cols);
    }
    if (!rc && f.n == 0)
        rc = kd_err_set(e, KD_ERR_FORMAT, path, 1, "empty CSV: no header");
    if (rc) {
        free(f.v);
        free(text);
        return rc;
    }
    t->n_rows = f.n / t->n_cols - 1;
    t->names = f.v;
    t->cells = f.v + t->n_cols;
    t->text = text;
    return 0;
}

int csv_col(const struct csv_table *t, const char *name)
{
    for (int j = 0; j < t->n_cols; j++)
        if (strcmp(t->names[j], name) == 0)
            return j;
    return -1;
}

const char *csv_cell(const struct csv_table *t, int row, int col)
{
    if (row < 0 || row >= t->n_rows || col < 0 || col >= t->n_cols)
        return "";
    return t->cells[(size_t)row * t->n_cols + col];
}

double csv_num(const struct csv_table *t, int row, int col)
{
    const char *s = csv_cell(t, row, col);
    char *end;
    if (!*s)
        return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

void csv_table_free(struct csv_table *t)
{
    free(t->names);
    free(t->text);
    memset(t, 0, sizeof *t);
}
