/* Crash-safe file output: write to "<path>.tmp", fsync, rename over <path>, fsync the folder.
 * A run killed at any moment leaves the old file or the new one, never a torn one. */
#ifndef KD_FSIO_H
#define KD_FSIO_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

struct kd_err;

struct atomic_file {
    FILE *f;         /* write through this */
    char path[1024]; /* final name */
    char tmp[1040];  /* path + ".tmp" */
};

/* Open <path>.tmp for writing (creating parent folders). Returns 0 or KD_ERR_IO. */
int atomic_open(struct atomic_file *af, const char *path, struct kd_err *e);
/* Flush, fsync, close and rename into place. Returns 0 or KD_ERR_IO (the .tmp is removed). */
int atomic_commit(struct atomic_file *af, struct kd_err *e);
/* Close and remove the .tmp: the old file, if any, stays. */
void atomic_abort(struct atomic_file *af);

/* Hold an exclusive lock on path (created, with its parent folders) until the process exits,
 * and write this process's id into it. Two processes must not make one result: both would write
 * the same "<file>.tmp". Returns 0, or KD_ERR_BUSY naming the process that holds it (when it
 * wrote its id) and the fix, or KD_ERR_IO. */
int file_lock_hold(const char *path, const char *what, struct kd_err *e);
/* Create every folder on the way to path's parent (mkdir -p of dirname). */
int mkdir_parents(const char *path);
/* Read a whole file into a malloc'd buffer (NUL-terminated). Returns 0 or KD_ERR_IO. */
int file_read_all(const char *path, char **out, size_t *len, struct kd_err *e);
/* The value of the first line "key: value" of a YAML-like file (a resolved config, a .meta),
 * without quotes, into out. Returns 1, or 0 when there is no such line or file. */
int file_value(const char *path, const char *key, char *out, size_t cap);
/* FNV-1a (64 bits) of n bytes at p, going on from h (FNV1A_INIT to begin): the hashes of result
 * keys and of the CSVs a .meta vouches for. */
#define FNV1A_INIT 0xcbf29ce484222325ull
uint64_t fnv1a(uint64_t h, const void *p, size_t n);
/* FNV-1a of the file at path into *h. Returns 0, or -1 when it cannot be read. */
int file_fnv1a(const char *path, uint64_t *h);
/* The hint that makes path again. For a result of a config, results/<scale>/<path under
 * configs/>-s<seed>.<ext> (not a .part.* resume point), "make rerun CONFIG=configs/<...>.yaml
 * SCALE=<scale>" into out: Make does not remake a lost or broken file whose CSV exists, so
 * "delete it and run make" would be a dead end. Else `otherwise`. Returns out. */
const char *file_remake_hint(const char *path, const char *otherwise, char *out, size_t cap);
/* fopen(path, mode) of a file that a run makes (a checkpoint, a layout, a synthetic set). NULL
 * when it cannot be opened, with the error "cannot open <what>" and as fix the hint that makes it
 * again (file_remake_hint), else `otherwise`. */
FILE *file_open_made(const char *path, const char *mode, const char *what, const char *otherwise,
                     struct kd_err *e);

#endif
