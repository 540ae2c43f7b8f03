/* What the fuzz harnesses share. The readers under test take paths, so each input goes through
 * a file in a private folder (on /dev/shm when it exists, to stay in memory). The harnesses are
 * also compiled into tests/test_fuzz_replay.c, which replays the committed corpus and every
 * crash ever found through a normal build; hence the include guard and static helpers. */
#ifndef KD_FUZZ_UTIL_H
#define KD_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir_path[64];

static int fuzz_rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(p);
}

static void fuzz_dir_remove(void)
{
    nftw(fuzz_dir_path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The private folder, made once per process (mkdtemp) and removed at exit. */
static __attribute__((unused)) const char *fuzz_dir(void)
{
    char *dir = fuzz_dir_path;
    if (!dir[0]) {
        struct stat st;
        int shm =
            stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0;
        snprintf(dir, sizeof fuzz_dir_path, "%s/kdlab-fuzz.XXXXXX", shm ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return dir;
}

/* Write data[0..n) to <fuzz_dir>/<name> (folders on the way made), path into out[cap]. */
static __attribute__((unused)) void fuzz_write(char *out, size_t cap, const char *name,
                                               const void *data, size_t n)
{
    snprintf(out, cap, "%s/%s", fuzz_dir(), name);
    char *slash = strrchr(out, '/');
    *slash = '\0';
    mkdir(out, 0777);
    *slash = '/';
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(out);
        abort();
    }
}

#endif
