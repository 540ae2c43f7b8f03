/* libFuzzer harness: checkpoint bytes through ckpt_load into a small ViT and its optimizer,
 * checked against the model's resolved config. The CRC32 at the end would stop nearly every
 * mutation at the checksum test, so when the first input byte is odd the harness appends the
 * right CRC to the rest: the fuzzer then reaches the header, config and tensor parsing. */
#include "fuzz_util.h"
#include "fuzz_ckpt.h"

#include "train/ckpt_params.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fuzz_model *m = fuzz_model_get();
    int fix_crc = data[0] & 1;
    size_t n = size - 1;
    uint8_t *buf = malloc(n + 4);
    memcpy(buf, data + 1, n);
    if (fix_crc) {
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), buf, (uInt)n);
        memcpy(buf + n, &crc, 4);
        n += 4;
    }
    char path[512];
    fuzz_write(path, sizeof path, "ckpt/in.ckpt", buf, n);
    free(buf);
    struct ckpt_info info;
    struct kd_err e;
    int with_opt = data[0] & 2, check_config = data[0] & 4;
    if (ckpt_load(path, m->net.params, with_opt ? &m->opt : NULL, check_config ? m->config : NULL,
                  "", &info, &e) != 0 &&
        (e.code >= 0 || !e.msg[0] || !e.file[0])) {
        fprintf(stderr, "fuzz_ckpt: failure without a message naming the file\n");
        abort();
    }
    return 0;
}
