/* Atomic writes (Redis rdbSave pattern) and small file helpers. */
#include "fsio.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int mkdir_parents(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return KD_ERR_IO;
        *p = '/';
    }
    return 0;
}

int file_lock_hold(const char *path, const char *what, struct kd_err *e)
{
    if (mkdir_parents(path) != 0)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot create the folder: %s", strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot open the lock: %s", strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        char id[32];
        int n = snprintf(id, sizeof id, "%ld\n", (long)getpid());
        /* the id only names the holder in another process's message: not writing it is no error */
        int named = ftruncate(fd, 0) == 0 && pwrite(fd, id, n, 0) == n;
        (void)named;
        return 0; /* fd stays open: the kernel drops the lock when the process ends */
    }
    int saved = errno;
    char id[32] = "";
    ssize_t n = pread(fd, id, sizeof id - 1, 0);
    close(fd);
    if (saved != EWOULDBLOCK)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot lock: %s", strerror(saved));
    long pid = n > 0 ? strtol(id, NULL, 10) : 0;
    if (pid > 0) {
        kd_err_set(e, KD_ERR_BUSY, path, 0, "process %ld is making %s now", pid, what);
        return kd_err_fix(e, "let it finish, or stop it (kill %ld) and run again", pid);
    }
    return kd_err_setfix(e, KD_ERR_BUSY, path, 0, "let it finish, or stop it and run again",
                         "another process is making %s now", what);
}

int atomic_open(struct atomic_file *af, const char *path, struct kd_err *e)
{
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp", path);
    if (mkdir_parents(path) != 0)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot create the folder: %s", strerror(errno));
    af->f = fopen(af->tmp, "wb");
    if (!af->f)
        return kd_err_set(e, KD_ERR_IO, af->tmp, 0, "cannot write: %s", strerror(errno));
    return 0;
}

static void fsync_parent(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int atomic_commit(struct atomic_file *af, struct kd_err *e)
{
    int bad = fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) != 0;
    int saved = errno;
    bad |= fclose(af->f) != 0;
    af->f = NULL;
    if (bad || rename(af->tmp, af->path) != 0) {
        if (!bad)
            saved = errno;
        unlink(af->tmp);
        return kd_err_set(e, KD_ERR_IO, af->path, 0, "cannot write: %s", strerror(saved));
    }
    fsync_parent(af->path);
    return 0;
}

void atomic_abort(struct atomic_file *af)
{
    if (af->f)
        fclose(af->f);
    af->f = NULL;
    unlink(af->tmp);
}

int file_read_all(const char *path, char **out, size_t *len, struct kd_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot open: %s", strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return kd_err_set(e, KD_ERR_IO, path, 0, "read failed");
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

const char *file_remake_hint(const char *path, const char *otherwise, char *out, size_t cap)
{
    const char *scale = strncmp(path, "results/", 8) == 0 ? path + 8 : NULL;
    const char *rel = scale ? strchr(scale, '/') : NULL, *seed = NULL;
    snprintf(out, cap, "%s", otherwise);
    if (!rel)
        return out;
    rel++;
    /* the last "-s<digits>." ends the config's path; what follows is the file's extension */
    for (const char *p = strstr(rel, "-s"); p; p = strstr(p + 2, "-s")) {
        size_t d = strspn(p + 2, "0123456789");
        if (d > 0 && p[2 + d] == '.')
            seed = p;
    }
    if (!seed || strchr(rel, '+') || strncmp(strchr(seed, '.'), ".part.", 6) == 0)
        return out;
    snprintf(out, cap, "make rerun CONFIG=configs/%.*s.yaml SCALE=%.*s", (int)(seed - rel), rel,
             (int)(rel - 1 - scale), scale);
    return out;
}

FILE *file_open_made(const char *path, const char *mode, const char *what, const char *otherwise,
                     struct kd_err *e)
{
    char hint[300];
    FILE *f = fopen(path, mode);
    if (!f)
        kd_err_setfix(e, KD_ERR_IO, path, 0, file_remake_hint(path, otherwise, hint, sizeof hint),
                      "cannot open %s", what);
    return f;
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    for (const unsigned char *b = p, *end = b + n; b < end; b++)
        h = (h ^ *b) * 0x100000001b3ull;
    return h;
}

int file_fnv1a(const char *path, uint64_t *h)
{
    char *buf;
    size_t len;
    struct kd_err ignored;
    if (file_read_all(path, &buf, &len, &ignored))
        return -1;
    *h = fnv1a(FNV1A_INIT, buf, len);
    free(buf);
    return 0;
}

int file_value(const char *path, const char *key, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t kn = strlen(key);
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kn) != 0 || line[kn] != ':')
            continue;
        char *v = line + kn + 1;
        v += strspn(v, " \"");
        v[strcspn(v, "\"\r\n")] = '\0';
        snprintf(out, cap, "%s", v);
        found = 1;
    }
    if (f)
        fclose(f);
    return found;
}
