/* libFuzzer harness: Fashion-MNIST IDX files (gzip or plain) through idx_load. The input is
 * u16 L (little-endian), then L bytes of the labels file, then the images file. */
#include "fuzz_util.h"

#include "base/err.h"
#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t nl = (size_t)data[0] | (size_t)data[1] << 8;
    if (nl > size - 2)
        nl = size - 2;
    char lpath[512], ipath[512];
    fuzz_write(lpath, sizeof lpath, "idx/train-labels-idx1-ubyte.gz", data + 2, nl);
    fuzz_write(ipath, sizeof ipath, "idx/train-images-idx3-ubyte.gz", data + 2 + nl, size - 2 - nl);
    *strrchr(lpath, '/') = '\0';
    struct dataset d;
    struct kd_err e;
    if (idx_load(&d, lpath, "train", &e) == 0) {
        long sum = 0;
        for (long i = 0; i < (long)d.n * d.h * d.w * d.c; i++)
            sum += d.pixels[i];
        for (int i = 0; i < d.n; i++)
            if (d.labels[i] >= d.classes)
                abort();
        dataset_free(&d);
        (void)sum;
    } else if (e.code >= 0 || !e.msg[0] || !e.file[0]) {
        fprintf(stderr, "fuzz_idx: failure without a message naming the file\n");
        abort();
    }
    return 0;
}
