/* PNG through libpng with setjmp error handling: libpng reports errors by longjmp, so every
 * resource touched after setjmp is volatile or owned by the png struct, and one cleanup path
 * frees it. libpng's messages are captured into the kd_err instead of going to stderr. */
#include "png.h"

#include "base/err.h"
#include "base/fsio.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#define PNG_MAX_SIDE 16384

struct png_ctx {
    char msg[200]; /* libpng's last error message */
};

static void png_ctx_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_ctx_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int png_write(const char *path, const uint8_t *pixels, int h, int w, int c, struct kd_err *e)
{
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGB_ALPHA};
    if (h <= 0 || w <= 0 || h > PNG_MAX_SIDE || w > PNG_MAX_SIDE || (c != 1 && c != 3 && c != 4))
        return kd_err_set(e, KD_ERR_USAGE, path, 0, "cannot write a %dx%dx%d image as PNG", h, w,
                          c);
    struct atomic_file af;
    int rc = atomic_open(&af, path, e);
    if (rc)
        return rc;
    struct png_ctx ctx = {""};
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_ctx_error, png_ctx_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        atomic_abort(&af);
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "libpng could not allocate");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        atomic_abort(&af);
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot write PNG: %s", ctx.msg);
    }
    png_init_io(png, af.f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, types[c], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, pixels + (size_t)y * w * c);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return atomic_commit(&af, e);
}

int png_write_gray(const char *path, const uint8_t *pixels, int h, int w, struct kd_err *e)
{
    return png_write(path, pixels, h, w, 1, e);
}

int png_write_rgb(const char *path, const uint8_t *pixels, int h, int w, struct kd_err *e)
{
    return png_write(path, pixels, h, w, 3, e);
}

/* Check the 8-byte signature, naming the usual impostors (a JPEG or GIF renamed to .png). */
static int png_check_signature(FILE *f, const char *path, struct kd_err *e)
{
    unsigned char sig[8];
    size_t got = fread(sig, 1, sizeof sig, f);
    if (got == sizeof sig && png_sig_cmp(sig, 0, sizeof sig) == 0)
        return 0;
    const char *what = "not a PNG file (bad signature)";
    if (got >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF)
        what = "is a JPEG file, not a PNG (only the name says .png)";
    else if (got >= 4 && memcmp(sig, "GIF8", 4) == 0)
        what = "is a GIF file, not a PNG (only the name says .png)";
    else if (got < sizeof sig)
        what = "not a PNG file (shorter than the 8-byte signature)";
    return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, "convert it, e.g. `convert in.jpg out.png`",
                         "%s", what);
}

/* Ask libpng for 8-bit gray or RGB whatever the file holds; returns the channel count. */
static int png_set_transforms(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) == 16)
        png_set_strip_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_expand_gray_1_2_4_to_8(png);
    if (type & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    return png_get_channels(png, info);
}

int png_read(const char *path, uint8_t **pixels, int *h, int *w, int *c, struct kd_err *e)
{
    *pixels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot open: %s", strerror(errno));
    int rc = png_check_signature(f, path, e);
    if (rc) {
        fclose(f);
        return rc;
    }
    struct png_ctx ctx = {""};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_ctx_error, png_ctx_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "libpng could not allocate");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(buf);
        free(rows);
        return kd_err_setfix(e, KD_ERR_FORMAT, path, 0, "re-export or re-download the image",
                             "corrupt or truncated PNG: %s", ctx.msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
    png_read_info(png, info);
    int ch = png_set_transforms(png, info);
    int hh = (int)png_get_image_height(png, info), ww = (int)png_get_image_width(png, info);
    size_t stride = (size_t)ww * ch;
    if ((ch != 1 && ch != 3) || png_get_rowbytes(png, info) != stride)
        png_error(png, "unsupported pixel layout");
    buf = malloc(stride * hh);
    rows = malloc(sizeof(png_bytep) * hh);
    if (!buf || !rows)
        png_error(png, "out of memory");
    for (int y = 0; y < hh; y++)
        rows[y] = buf + stride * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(rows);
    *pixels = buf;
    *h = hh, *w = ww, *c = ch;
    return 0;
}
