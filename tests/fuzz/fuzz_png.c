/* libFuzzer harness: PNG bytes through png_read (libpng behind kdlab's error handling). A
 * decoded image is walked whole so that a short buffer shows up under AddressSanitizer. */
#include "fuzz_util.h"

#include "base/err.h"
#include "data/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_write(path, sizeof path, "png/in.png", data, size);
    uint8_t *px;
    int h, w, c;
    struct kd_err e;
    if (png_read(path, &px, &h, &w, &c, &e) == 0) {
        if (h <= 0 || w <= 0 || (c != 1 && c != 3))
            abort();
        unsigned sum = 0;
        for (size_t i = 0; i < (size_t)h * w * c; i++)
            sum += px[i];
        free(px);
        (void)sum;
    } else if (px || e.code >= 0 || !e.msg[0] || !e.file[0]) {
        fprintf(stderr, "fuzz_png: failure without a message naming the file, or pixels\n");
        abort();
    }
    return 0;
}
