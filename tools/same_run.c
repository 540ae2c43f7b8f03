/* same_run: a result that is the same run as another one already made. Two configs that differ
 * only in what changes no computation (a title; a point shared by two tables: TinyMIM's relation
 * student stands in five) have the same key (train/result_key.h), so their runs would write the
 * same bytes; bin/plan makes one of them and this copies its files to the others' stems, after
 * checking that FROM's .meta records the very key CONFIG gives now.
 *   bin/same_run FROM_STEM CONFIG.yaml --scale S --out STEM [run.seed=N]
 * Writes STEM's files as a run would: FROM's CSV and files beside it (a checkpoint, soft labels,
 * a layout: hard links when they are large), CONFIG's resolved YAML, and FROM's .meta naming
 * CONFIG, with a line `same_run: FROM_STEM`. */
#include "kd.h"
#include "train/run.h"
#include "base/fsio.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files at least this large are hard-linked, not copied (a checkpoint, soft labels); the CSV is
 * always copied, so that its date is the copy's (Make dates it). */
#define LINK_BYTES (1 << 20)

static int copy_file(const char *from, const char *to, struct kd_err *e)
{
    struct atomic_file af;
    char buf[1 << 16];
    size_t got;
    FILE *in = fopen(from, "rb");
    if (!in)
        return kd_err_set(e, KD_ERR_IO, from, 0, "cannot open: %s", strerror(errno));
    if (atomic_open(&af, to, e)) {
        fclose(in);
        return e->code;
    }
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, got, af.f);
    int failed = ferror(in);
    fclose(in);
    if (failed) {
        atomic_abort(&af);
        return kd_err_set(e, KD_ERR_IO, from, 0, "read failed");
    }
    return atomic_commit(&af, e);
}

/* A large file as a second name of the same bytes (to.tmp, then renamed over to); a copy where
 * links do not go (another file system). */
static int link_file(const char *from, const char *to, struct kd_err *e)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    unlink(tmp);
    if (link(from, tmp) != 0)
        return copy_file(from, to, e);
    if (rename(tmp, to) != 0) {
        unlink(tmp);
        return kd_err_set(e, KD_ERR_IO, to, 0, "cannot rename into place: %s", strerror(errno));
    }
    return 0;
}

/* A file of FROM's that the copy takes beside its CSV (copied last): not its .meta and .yaml
 * (written for CONFIG), key stamp, lock, resume point or temporary files. */
static int is_result_file(const char *ext)
{
    static const char *const skip[] = {"csv", "meta", "yaml", "key", "lock", "run.lock"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(ext, skip[i]) == 0)
            return 0;
    return strncmp(ext, "part.", 5) != 0 && !strstr(ext, "tmp");
}

/* Every file FROM.<ext> beside FROM's CSV (a checkpoint, soft labels, a DC-ViT layout and
 * trial) to OUT.<ext>. */
static int copy_beside(const char *from, const char *out, struct kd_err *e)
{
    char dir[600], base[600], src[1200], dst[1200];
    snprintf(dir, sizeof dir, "%s", from);
    snprintf(base, sizeof base, "%s.", basename(dir));
    snprintf(dir, sizeof dir, "%s", from);
    const char *folder = dirname(dir);
    DIR *d = opendir(folder);
    if (!d)
        return kd_err_set(e, KD_ERR_IO, folder, 0, "cannot read the folder: %s", strerror(errno));
    size_t nb = strlen(base);
    int rc = 0;
    for (struct dirent *f; !rc && (f = readdir(d));) {
        if (strncmp(f->d_name, base, nb) != 0 || !is_result_file(f->d_name + nb))
            continue;
        struct stat st;
        snprintf(src, sizeof src, "%s/%s", folder, f->d_name);
        snprintf(dst, sizeof dst, "%s.%s", out, f->d_name + nb);
        if (stat(src, &st) == 0 && st.st_size >= LINK_BYTES)
            rc = link_file(src, dst, e);
        else
            rc = copy_file(src, dst, e);
    }
    closedir(d);
    return rc;
}

/* FROM's .meta for OUT: the same lines but `config:`, which names CONFIG, and `same_run:`. */
static int write_meta(const char *from, const char *out, const char *config, struct kd_err *e)
{
    char path[700], *text;
    size_t len;
    struct atomic_file af;
    snprintf(path, sizeof path, "%s.meta", from);
    if (file_read_all(path, &text, &len, e))
        return e->code;
    snprintf(path, sizeof path, "%s.meta", out);
    if (atomic_open(&af, path, e)) {
        free(text);
        return e->code;
    }
    fprintf(af.f, "config: %s\n", config);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "config: ", 8) != 0 && strncmp(line, "same_run: ", 10) != 0)
            fprintf(af.f, "%s\n", line);
    }
    fprintf(af.f, "same_run: %s\n", from);
    free(text);
    return atomic_commit(&af, e);
}

static int write_yaml(const struct experiment *x, const char *out, struct kd_err *e)
{
    char path[700];
    struct atomic_file af;
    snprintf(path, sizeof path, "%s.yaml", out);
    if (atomic_open(&af, path, e))
        return e->code;
    config_write_resolved(x, af.f);
    return atomic_commit(&af, e);
}

/* FROM is made, unedited, and computed what CONFIG computes now at seed (the check every reader
 * of a result makes). */
static int check_same(const char *from, const struct experiment *x, struct kd_err *e)
{
    char csv[700], fix[720];
    snprintf(csv, sizeof csv, "%s.csv", from);
    snprintf(fix, sizeof fix, "make %s", csv);
    if (access(csv, F_OK) != 0)
        return kd_err_setfix(e, KD_ERR_IO, csv, 0, fix, "not made yet: nothing to copy");
    return run_result_check(from, x->path, x->scale, x->run.seed, e);
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s FROM_STEM CONFIG.yaml --scale S --out STEM [run.seed=N]\n", prog);
    return 2;
}

/* OUT.csv from FROM.csv, written last but for the .meta: as a run writes its result. */
static int copy_csv(const char *from, const char *out, struct kd_err *e)
{
    char src[700], dst[700];
    snprintf(src, sizeof src, "%s.csv", from);
    snprintf(dst, sizeof dst, "%s.csv", out);
    return copy_file(src, dst, e);
}

int main(int argc, char **argv)
{
    struct kd_err e;
    static struct experiment x;
    kd_help_exit(argc, argv, "FROM_STEM CONFIG.yaml --scale S --out STEM [run.seed=N]",
                 "Makes STEM the result of CONFIG by copying FROM_STEM's, the same run (the same "
                 "key): bin/plan's rule for a config that another one already computes.\n");
    if (argc < 3)
        return usage(argv[0]);
    const char *from = argv[1], *config = argv[2], *scale = NULL, *out = NULL;
    char **over = calloc(argc, sizeof *over);
    int n_over = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strncmp(argv[i], "run.seed=", 9) == 0)
            over[n_over++] = argv[i];
        else
            scale = out = NULL, i = argc;
    }
    if (!scale || !out || strcmp(from, out) == 0) {
        free(over);
        return usage(argv[0]);
    }
    if (config_load(&x, config, scale, n_over, over, &e) || run_lock(out, &e) ||
        check_same(from, &x, &e) || copy_beside(from, out, &e) || copy_csv(from, out, &e) ||
        write_yaml(&x, out, &e) || write_meta(from, out, x.path, &e))
        die(&e);
    fprintf(stderr, "[%s] the same run as %s: its result copied\n", out, from);
    free(over);
    return 0;
}
