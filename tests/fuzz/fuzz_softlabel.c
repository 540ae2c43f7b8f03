/* libFuzzer harness: TinyViT soft-label files through softlabel_open, then what a student does
 * with one: softlabel_check, and every record's top-K turned into a dense label. As for
 * checkpoints, an odd first byte makes the harness append the right CRC32 to the rest, so
 * mutations get past the checksum to the header, index table and records. */
#include "fuzz_util.h"

#include "base/err.h"
#include "data/softlabel.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *buf = malloc(n + 4);
    memcpy(buf, data + 1, n);
    if (data[0] & 1) {
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), buf, (uInt)n);
        memcpy(buf + n, &crc, 4);
        n += 4;
    }
    char path[512];
    fuzz_write(path, sizeof path, "softlabel/in.bin", buf, n);
    free(buf);
    struct softlabel_file f;
    struct kd_err e;
    if (softlabel_open(&f, path, &e) != 0) {
        if (e.code >= 0 || !e.msg[0] || !e.file[0])
            abort();
        return 0;
    }
    const struct softlabel_info *in = &f.info;
    struct softlabel_need need = {in->k,        1,        in->samples, in->classes,
                                  in->crop_pad, in->flip, 0,           in->aug_hash};
    if (softlabel_check(&f, &need, "fuzz.yaml", &e) != 0)
        abort();
    uint16_t *idx = malloc(2 * in->k), *val = malloc(2 * in->k);
    float *dense = malloc(sizeof(float) * in->classes);
    for (uint32_t ep = 0; ep < in->epochs && ep < 4; ep++)
        for (uint32_t s = 0; s < in->samples && s < 64; s++) {
            const uint8_t *rec = softlabel_record(&f, (int)ep, (int)s);
            softlabel_record_seed(rec);
            softlabel_record_topk(idx, val, rec, (int)in->k, (int)in->k);
            softlabel_dense(dense, idx, val, (int)in->classes, (int)in->k);
        }
    free(idx);
    free(val);
    free(dense);
    softlabel_close(&f);
    return 0;
}
