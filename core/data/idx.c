/* Fashion-MNIST from its gzip'd IDX files (LeCun's format: big-endian magic, dims, then bytes).
 * Every check names the file and says how to fix it, because a half-downloaded data set is the
 * most common way a first run fails. zlib reads plain (non-gzip) files transparently too. */
#include "dataset.h"

#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAX_DIM 65536
#define IDX_CLASSES 10

#define IDX_DEBIAN_DIR "/usr/share/datasets/fashion-mnist/"

/* The fix for a missing (missing = 1) or broken file: Debian's package only for its own folder;
 * a file of the user's own data.dir is theirs to replace. */
static const char *idx_fix(const char *path, int missing)
{
    if (strncmp(path, IDX_DEBIAN_DIR, strlen(IDX_DEBIAN_DIR)) == 0)
        return missing ? "run `make deps` (installs dataset-fashion-mnist)"
                       : "re-install dataset-fashion-mnist (make deps)";
    return missing ? "check data.dir: it must hold the four Fashion-MNIST IDX files (Debian's "
                     "are in " IDX_DEBIAN_DIR ", the default)"
                   : "replace it with a whole copy (Debian's is in " IDX_DEBIAN_DIR ")";
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read exactly len bytes; a short read is a truncated file, a zlib error a corrupt one. `more`
 * bytes are still expected after these (for the message). */
static int idx_read(gzFile f, void *buf, size_t len, size_t more, const char *path,
                    struct kd_err *e)
{
    unsigned char *p = buf;
    while (len > 0) {
        unsigned chunk = len > (1u << 30) ? 1u << 30 : (unsigned)len;
        int got = gzread(f, p, chunk);
        if (got < 0 || (got == 0 && !gzeof(f))) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            if (zerr == Z_BUF_ERROR)
                break; /* gzip stream ends early: truncated */
            return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, idx_fix(path, 0),
                                 "corrupt gzip data: %s", msg);
        }
        if (got == 0)
            break;
        p += got;
        len -= (size_t)got;
    }
    if (len > 0)
        return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, idx_fix(path, 0),
                             "file is truncated (%zu bytes short of what its header declares)",
                             len + more);
    return 0;
}

/* Open path, check magic and read the dims (3 for images, 1 for labels) into dims. */
static int idx_open(gzFile *out, const char *path, uint32_t magic, int ndim, uint32_t *dims,
                    struct kd_err *e)
{
    unsigned char hdr[16];
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return kd_err_setfix(e, KD_ERR_IO, path, 0, idx_fix(path, 1),
                             "cannot open Fashion-MNIST file: %s",
                             errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1 << 18);
    int rc = idx_read(f, hdr, 4 + 4 * (size_t)ndim, 0, path, e);
    if (rc == 0 && be32(hdr) != magic)
        rc = kd_err_setfix(e, KD_ERR_FORMAT, path, 0, idx_fix(path, 0),
                           "bad IDX magic 0x%08x (expected 0x%08x, %s)", be32(hdr), magic,
                           magic == IDX_MAGIC_IMAGES ? "images" : "labels");
    for (int i = 0; rc == 0 && i < ndim; i++) {
        dims[i] = be32(hdr + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > (i == 0 ? 100000000u : IDX_MAX_DIM))
            rc = kd_err_setfix(e, KD_ERR_FORMAT, path, 0, idx_fix(path, 0),
                               "implausible IDX dimension %d: %u", i, dims[i]);
    }
    if (rc) {
        gzclose(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* Read the len-byte payload into *out (malloc'd) and check that nothing follows it. Closes f.
 * The buffer grows as bytes arrive, so a corrupt header that declares gigabytes costs only what
 * the file really holds before the truncation is reported. */
static int idx_body(gzFile f, uint8_t **out, size_t len, const char *path, struct kd_err *e)
{
    unsigned char extra;
    size_t cap = 0, have = 0;
    uint8_t *buf = NULL;
    int rc = 0;
    while (rc == 0 && have < len) {
        cap = cap == 0 ? (len < (1u << 20) ? len : 1u << 20) : (len - cap < cap ? len : 2 * cap);
        uint8_t *grown = realloc(buf, cap);
        if (!grown)
            rc = kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory for %zu bytes", len);
        else
            rc = idx_read(f, (buf = grown) + have, cap - have, len - cap, path, e);
        have = cap;
    }
    *out = buf;
    if (rc == 0 && gzread(f, &extra, 1) != 0)
        rc = kd_err_setfix(e, KD_ERR_FORMAT, path, 0, idx_fix(path, 0),
                           "file holds more bytes than its header declares");
    gzclose(f);
    return rc;
}

int idx_load(struct dataset *d, const char *dir, const char *split, struct kd_err *e)
{
    char ipath[1024], lpath[1024];
    uint32_t idim[3], ldim[1];
    gzFile fi = NULL, fl = NULL;
    memset(d, 0, sizeof *d);
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    int rc = idx_open(&fi, ipath, IDX_MAGIC_IMAGES, 3, idim, e);
    if (rc)
        return rc;
    rc = idx_open(&fl, lpath, IDX_MAGIC_LABELS, 1, ldim, e);
    if (rc) {
        gzclose(fi);
        return rc;
    }
    if (idim[0] != ldim[0]) {
        gzclose(fi);
        gzclose(fl);
        return kd_err_setfix(e, KD_ERR_MISMATCH, lpath, 0, idx_fix(lpath, 0),
                             "%u labels but %s holds %u images", ldim[0], ipath, idim[0]);
    }
    size_t n = idim[0], img = (size_t)idim[1] * idim[2];
    rc = idx_body(fl, &d->labels, n, lpath, e);
    if (rc)
        gzclose(fi);
    else
        rc = idx_body(fi, &d->pixels, n * img, ipath, e);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (d->labels[i] >= IDX_CLASSES)
            rc = kd_err_setfix(e, KD_ERR_FORMAT, lpath, 0, idx_fix(lpath, 0),
                               "label %u of sample %zu is not below %d", d->labels[i], i,
                               IDX_CLASSES);
    if (rc) {
        dataset_free(d);
        return rc;
    }
    d->n = (int)n;
    d->h = (int)idim[1];
    d->w = (int)idim[2];
    d->c = 1;
    d->classes = IDX_CLASSES;
    return 0;
}

void dataset_free(struct dataset *d)
{
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
