/* The safetensors format (Hugging Face): u64 little-endian header length N, N bytes of JSON
 * {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the
 * raw little-endian tensor bytes, offsets relative to the end of the header. Reading validates
 * everything against the file's size before any tensor is touched; writing emits F32. */
#ifndef KD_SAFETENSORS_H
#define KD_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

struct kd_err;

#define ST_MAX_DIMS 8
#define ST_NAME_MAX 256
#define ST_MAX_HEADER (100u << 20) /* the reference implementation's limit, bytes */

enum st_dtype {
    ST_BOOL,
    ST_U8,
    ST_I8,
    ST_F8_E4M3,
    ST_F8_E5M2,
    ST_I16,
    ST_U16,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_U32,
    ST_F32,
    ST_I64,
    ST_U64,
    ST_F64,
    ST_NDTYPES
};

struct st_tensor {
    char name[ST_NAME_MAX];
    int dtype; /* enum st_dtype */
    int ndim;  /* 0 for a scalar */
    int64_t shape[ST_MAX_DIMS];
    size_t numel;      /* product of shape (1 for a scalar) */
    size_t begin, end; /* byte offsets in the data section */
};

struct safetensors {
    char path[256];      /* for error messages */
    char *owned;         /* the file's bytes when st_open read them, else NULL */
    const uint8_t *data; /* the data section */
    size_t data_len;     /* bytes */
    struct st_tensor *t; /* (n) in header order */
    int n;
    char **meta_key, **meta_val; /* (n_meta) __metadata__ pairs */
    int n_meta;
};

/* Parse and validate a whole file held in memory (buf is borrowed, not copied: keep it alive
 * while st is used). label names the file in errors. Checks: header length within the file,
 * JSON object, every entry's dtype known, shape non-negative integers, offsets integers with
 * begin <= end, end - begin = numel * dtype size, inside the data section, no two tensors
 * overlapping, no gaps, and the last ending at the end of the file (as the reference reader
 * demands), names unique and shorter than ST_NAME_MAX. Returns 0 or KD_ERR_FORMAT / NOMEM with
 * e naming the file and tensor. On error st is cleaned up. */
int st_parse(struct safetensors *st, const void *buf, size_t len, const char *label,
             struct kd_err *e);
/* Read path and st_parse it. KD_ERR_IO when it cannot be read. */
int st_open(struct safetensors *st, const char *path, struct kd_err *e);
void st_close(struct safetensors *st);

const struct st_tensor *st_find(const struct safetensors *st, const char *name);
/* A __metadata__ value, or NULL. */
const char *st_meta(const struct safetensors *st, const char *key);
/* "F32", ... */
const char *st_dtype_name(int dtype);
/* Convert tensor t to float32 into out (numel floats): F32, F16, BF16 and F64 are accepted;
 * any other dtype is KD_ERR_FORMAT naming the tensor. */
int st_read_f32(const struct safetensors *st, const struct st_tensor *t, float *out,
                struct kd_err *e);

/* One tensor to write: float32 values in row-major order of shape. */
struct st_entry {
    const char *name;
    const float *data;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
};
/* Write n tensors (F32, in the given order) and n_meta metadata pairs to path atomically. The
 * header is padded with spaces to a multiple of 8 bytes so the data is aligned. Returns 0,
 * KD_ERR_USAGE for duplicate or overlong names, or KD_ERR_IO. */
int st_write(const char *path, const struct st_entry *t, int n, const char *const *meta_key,
             const char *const *meta_val, int n_meta, struct kd_err *e);

/* IEEE half and bfloat16 to float (exact). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);

#endif
