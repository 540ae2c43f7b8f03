/* Result tables: a CSV writer with a fixed header whose rows live in memory and are written
 * whole and atomically (fsio.h: .tmp, fsync, rename), so a reader never sees a torn file; a
 * resume path that reads the rows back up to the checkpoint's epoch; the .meta file beside a
 * CSV; and a small reader (header + cells as strings or doubles) for the table tools. */
#ifndef KD_CSV_H
#define KD_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct kd_err;

struct csv {
    char path[1024];   /* where csv_write puts the table by default */
    char header[1024]; /* "epoch,train_loss,...", fixed at open */
    int n_cols;
    char *rows;      /* "\n"-terminated rows, header excluded (malloc'd, grows) */
    size_t len, cap; /* bytes used and allocated in rows */
    int n_rows;
};

/* A new, empty table for path with a fixed header (comma-separated names). Nothing is written
 * until csv_write. Returns 0, or KD_ERR_USAGE for an empty or overlong header. */
int csv_open(struct csv *c, const char *path, const char *header, struct kd_err *e);
/* Resume: like csv_open, then read `from` (NULL: path) and keep its rows whose first column is
 * <= upto (the checkpoint's epoch), in order; later rows are dropped so that rewriting never
 * duplicates them. A missing file keeps no rows. Returns 0, KD_ERR_MISMATCH when the file's
 * header differs, KD_ERR_FORMAT for a malformed file. The caller checks c->n_rows. */
int csv_resume(struct csv *c, const char *path, const char *header, const char *from, int upto,
               struct kd_err *e);
/* Append one row, printf-style, no newline (e.g. "%d,%.6f"). The number of fields must match
 * the header (a programmer bug otherwise: KD_ASSERT). Text fields go through csv_quote. */
void csv_row(struct csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write header and rows atomically to `to` (NULL: c->path). Returns 0 or KD_ERR_IO. */
int csv_write(const struct csv *c, const char *to, struct kd_err *e);
/* FNV-1a of the bytes csv_write writes: what a .meta records as csv_hash. */
uint64_t csv_hash(const struct csv *c);
void csv_free(struct csv *c);
/* s as one CSV field: as is, or in double quotes with "" when it holds , " or a newline. */
void csv_quote(char *out, size_t cap, const char *s);

/* What a .meta file beside a result records. */
struct csv_meta {
    const char *config;   /* config path */
    uint64_t config_hash; /* config_hash() of the resolved config */
    const char *scale;    /* smoke | quick | full */
    int seed;
    time_t start;        /* wall clock at start (written as UTC ISO 8601) */
    double wall_seconds; /* run time */
    const char *extra;   /* more "key: value\n" lines, or NULL */
};
/* Write "<csv_path>.meta" atomically as "key: value" lines: config, config_hash (16 hex digits),
 * scale, seed, revision (csv_revision()), host, start, wall_seconds, then m->extra.
 * Returns 0 or KD_ERR_IO. */
int csv_write_meta(const char *csv_path, const struct csv_meta *m, struct kd_err *e);
/* The code revision: the KD_REVISION macro given at build time, else the KD_REVISION
 * environment variable (Make sets it), else `git describe --always --dirty` of the folder
 * holding the program, else "unknown". */
const char *csv_revision(void);

/* A whole CSV in memory: names[n_cols], cells[row * n_cols + col], all NUL-terminated strings
 * pointing into one block. */
struct csv_table {
    int n_cols, n_rows;
    char **names;
    char **cells;
    char *text; /* owns every string */
};
/* Read path (RFC 4180 quoting, CRLF accepted). Every row must have n_cols fields. Returns 0,
 * KD_ERR_IO, or KD_ERR_FORMAT with the line. Free with csv_table_free. */
int csv_read(struct csv_table *t, const char *path, struct kd_err *e);
/* Column index of name, or -1. */
int csv_col(const struct csv_table *t, const char *name);
/* The cell as a string ("" out of range). */
const char *csv_cell(const struct csv_table *t, int row, int col);
/* The cell as a number: NAN when out of range, empty or not a number. */
double csv_num(const struct csv_table *t, int row, int col);
void csv_table_free(struct csv_table *t);

#endif
