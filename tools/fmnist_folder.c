/* fmnist_folder: Fashion-MNIST (IDX) written as an image folder of PNGs, the layout data.set:
 * folder reads: OUT/train/<label>/<index>.png and OUT/test/<label>/<index>.png, index being the
 * sample's position in the IDX file (5 digits), so the folder loader (which orders samples by
 * file name) sees the same samples in the same order and training gives the same numbers.
 *   bin/fmnist_folder OUT [IDX_DIR]     (IDX_DIR: /usr/share/datasets/fashion-mnist)
 * Writes OUT/COMPLETE last; a folder with it is not written again. */
#include "kd.h"
#include "train/run.h"

#include <png.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One gray PNG, plain fopen/fwrite: png_write's fsync per file makes 70,000 files take minutes;
 * the folder as a whole is marked complete only at the end instead. */
static int gray_png(const char *path, const uint8_t *px, int h, int w, struct kd_err *e)
{
    if (mkdir_parents(path) != 0)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot create its folder");
    FILE *f = fopen(path, "wb");
    png_structp p = f ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!info || setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        if (f)
            fclose(f);
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot write the PNG");
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (int y = 0; y < h; y++)
        png_write_row(p, px + (size_t)y * w);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    return fclose(f) == 0 ? 0 : kd_err_set(e, KD_ERR_IO, path, 0, "cannot write the PNG");
}

static int write_split(const char *out, const char *idx_dir, const char *split, const char *as,
                       struct kd_err *e)
{
    struct dataset d;
    char path[1024];
    int rc = idx_load(&d, idx_dir, split, e);
    for (int i = 0; !rc && i < d.n; i++) {
        snprintf(path, sizeof path, "%s/%s/%d/%05d.png", out, as, d.labels[i], i);
        rc = gray_png(path, d.pixels + (size_t)i * d.h * d.w, d.h, d.w, e);
    }
    dataset_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    struct kd_err e;
    kd_help_exit(argc, argv, "OUT [IDX_DIR]",
                 "Writes Fashion-MNIST (IDX_DIR, default /usr/share/datasets/fashion-mnist) as\n"
                 "OUT/{train,test}/<label>/<index>.png, an image folder for data.set: folder.\n");
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUT [IDX_DIR]\n", argv[0]);
        return 2;
    }
    const char *idx_dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    char done[1024];
    snprintf(done, sizeof done, "%s/COMPLETE", argv[1]);
    if (access(done, F_OK) == 0) {
        fprintf(stderr, "fmnist_folder: %s is complete\n", argv[1]);
        return 0;
    }
    if (write_split(argv[1], idx_dir, "train", "train", &e) ||
        write_split(argv[1], idx_dir, "t10k", "test", &e))
        die(&e);
    FILE *f = fopen(done, "w");
    if (!f || fclose(f) != 0) {
        kd_err_set(&e, KD_ERR_IO, done, 0, "cannot write the completion mark");
        die(&e);
    }
    fprintf(stderr, "fmnist_folder: wrote %s/{train,test}/<label>/<index>.png\n", argv[1]);
    return 0;
}
