/* libFuzzer harness: safetensors bytes through st_parse (the in-memory reader st_open uses),
 * then every tensor converted to float32 as the weight importer does (when its dtype allows). */
#include "fuzz_util.h"

#include "base/err.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct safetensors st;
    struct kd_err e;
    if (st_parse(&st, data, size, "fuzz.safetensors", &e) != 0) {
        if (e.code >= 0 || !e.msg[0] || !e.file[0])
            abort();
        return 0;
    }
    for (int i = 0; i < st.n; i++) {
        const struct st_tensor *t = &st.t[i];
        if (t->end > st.data_len || t->begin > t->end || st_find(&st, t->name) == NULL)
            abort();
        float *out = malloc(sizeof(float) * (t->numel ? t->numel : 1));
        st_read_f32(&st, t, out, &e);
        free(out);
    }
    for (int i = 0; i < st.n_meta; i++)
        if (st_meta(&st, st.meta_key[i]) == NULL)
            abort();
    st_close(&st);
    return 0;
}
