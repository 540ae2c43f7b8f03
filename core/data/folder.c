/* An image-folder data set (torchvision ImageFolder layout): <dir>/<class>/<file>.png, classes
 * the sorted subfolder names, files in sorted order so sample indices, and hence augmentation
 * and subset draws, do not depend on the order the file system lists them in. */
#include "dataset.h"

#include "base/err.h"
#include "png.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define FOLDER_MAX_CLASSES 256

struct name_list {
    char **v;
    int n, cap;
};

static void names_free(struct name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_png_name(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcasecmp(name + len - 4, ".png") == 0;
}

/* Sorted names in dir: subfolders when want_dirs, else regular files ending in .png. Hidden
 * entries are skipped. Returns 0 or KD_ERR_IO / KD_ERR_NOMEM. */
static int names_list(struct name_list *l, const char *dir, int want_dirs, struct kd_err *e)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir(dir);
    if (!d)
        return kd_err_setfix(e, KD_ERR_IO, dir, 0, "check data.dir", "cannot open image folder: %s",
                             strerror(errno));
    struct dirent *de;
    char path[2048];
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
            continue;
        if (!want_dirs && !is_png_name(de->d_name))
            continue;
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 64;
            char **v = realloc(l->v, sizeof(char *) * cap);
            if (!v)
                break;
            l->v = v, l->cap = cap;
        }
        if (!(l->v[l->n] = strdup(de->d_name)))
            break;
        l->n++;
    }
    int ended = de == NULL;
    closedir(d);
    if (!ended) {
        names_free(l);
        return kd_err_set(e, KD_ERR_NOMEM, dir, 0, "out of memory listing the folder");
    }
    if (l->n > 1)
        qsort(l->v, (size_t)l->n, sizeof(char *), names_cmp);
    return 0;
}

/* Copy a (h, w, from) image into (h, w, to) pixels: gray to RGB repeats, RGB to gray uses the
 * ITU-R 601 luma weights (what PIL's convert("L") does). */
static void folder_convert(uint8_t *dst, const uint8_t *src, size_t hw, int from, int to)
{
    for (size_t i = 0; i < hw; i++) {
        const uint8_t *s = src + i * from;
        if (from == to)
            memcpy(dst + i * to, s, (size_t)to);
        else if (to == 3)
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = s[0];
        else
            dst[i] = (uint8_t)((299u * s[0] + 587u * s[1] + 114u * s[2] + 500u) / 1000u);
    }
}

/* Read one file into slot k of d. */
static int folder_read_one(struct dataset *d, int k, const char *path, struct kd_err *e)
{
    uint8_t *px;
    int h, w, c;
    int rc = png_read(path, &px, &h, &w, &c, e);
    if (rc)
        return rc;
    if (h != d->h || w != d->w) {
        free(px);
        return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, "resize every image to the same size",
                             "image is %dx%d, expected %dx%d (h x w)", h, w, d->h, d->w);
    }
    size_t hw = (size_t)h * w;
    folder_convert(d->pixels + hw * d->c * k, px, hw, c, d->c);
    free(px);
    return 0;
}

struct folder_key {
    const char *name; /* file name */
    int cls, at;      /* class, index in class-major order */
};

static int folder_key_cmp(const void *a, const void *b)
{
    const struct folder_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->cls != y->cls ? x->cls - y->cls : x->at - y->at;
}

/* Reorder d's samples (read class by class from files) by file name, then class. */
static int folder_sort_by_name(struct dataset *d, struct name_list *files, int n_classes,
                               struct kd_err *e)
{
    size_t px = (size_t)d->h * d->w * d->c;
    struct folder_key *k = malloc(sizeof *k * (size_t)d->n);
    uint8_t *pixels = malloc(px * (size_t)d->n), *labels = malloc((size_t)d->n);
    int at = 0;
    if (!k || !pixels || !labels) {
        free(k), free(pixels), free(labels);
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory sorting the image folder");
    }
    for (int c = 0; c < n_classes; c++)
        for (int i = 0; i < files[c].n; i++, at++)
            k[at] = (struct folder_key){files[c].v[i], c, at};
    qsort(k, (size_t)d->n, sizeof *k, folder_key_cmp);
    for (int i = 0; i < d->n; i++) {
        memcpy(pixels + px * i, d->pixels + px * k[i].at, px);
        labels[i] = d->labels[k[i].at];
    }
    free(d->pixels), free(d->labels), free(k);
    d->pixels = pixels;
    d->labels = labels;
    return 0;
}

static int folder_read(struct dataset *d, const char *dir, int h, int w, int c, int by_name,
                       struct kd_err *e)
{
    struct name_list classes, files[FOLDER_MAX_CLASSES];
    char path[4096];
    memset(d, 0, sizeof *d);
    memset(files, 0, sizeof files);
    if (h <= 0 || w <= 0 || h > 16384 || w > 16384 || (c != 1 && c != 3))
        return kd_err_set(e, KD_ERR_USAGE, dir, 0, "bad image shape %dx%dx%d (c must be 1 or 3)", h,
                          w, c);
    int rc = names_list(&classes, dir, 1, e);
    if (rc)
        return rc;
    if (classes.n == 0 || classes.n > FOLDER_MAX_CLASSES)
        rc = kd_err_setfix(e, KD_ERR_FORMAT, dir, 0, "lay it out as <dir>/<class>/<file>.png",
                           "image folder has %d class subfolders (need 1 to %d)", classes.n,
                           FOLDER_MAX_CLASSES);
    size_t n = 0;
    for (int k = 0; rc == 0 && k < classes.n; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, classes.v[k]);
        rc = names_list(&files[k], path, 0, e);
        n += (size_t)files[k].n;
    }
    if (rc == 0 && (n == 0 || n > 100000000))
        rc = kd_err_setfix(e, KD_ERR_FORMAT, dir, 0, "lay it out as <dir>/<class>/<file>.png",
                           "image folder holds %zu .png files", n);
    if (rc == 0) {
        d->h = h, d->w = w, d->c = c, d->classes = classes.n;
        d->pixels = malloc(n * h * w * c);
        d->labels = malloc(n);
        if (!d->pixels || !d->labels)
            rc = kd_err_set(e, KD_ERR_NOMEM, dir, 0, "out of memory for %zu images", n);
    }
    for (int k = 0; rc == 0 && k < classes.n; k++) {
        for (int i = 0; rc == 0 && i < files[k].n; i++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[k], files[k].v[i]);
            rc = folder_read_one(d, d->n, path, e);
            d->labels[d->n++] = (uint8_t)k;
        }
    }
    if (rc == 0 && by_name)
        rc = folder_sort_by_name(d, files, classes.n, e);
    for (int k = 0; k < classes.n && k < FOLDER_MAX_CLASSES; k++)
        names_free(&files[k]);
    names_free(&classes);
    if (rc)
        dataset_free(d);
    return rc;
}

int folder_load(struct dataset *d, const char *dir, int h, int w, int c, struct kd_err *e)
{
    return folder_read(d, dir, h, w, c, 0, e);
}

int folder_load_by_name(struct dataset *d, const char *dir, int h, int w, int c, struct kd_err *e)
{
    return folder_read(d, dir, h, w, c, 1, e);
}
