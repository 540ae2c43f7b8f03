/* libFuzzer harness: YAML config text through config_load. The input is written as
 * <dir>/exp/in.yaml beside copies of configs/base/, so `base: ../base/vit.yaml` chains resolve;
 * bytes after the first NUL are command-line overrides (NUL-separated key=value). A config that
 * loads must also survive its own resolved YAML: write, reload, same hash. */
#include "fuzz_util.h"

#include "base/err.h"
#include "io/config.h"

static void fuzz_config_init(void)
{
    static int done;
    static const char *bases[] = {"vit.yaml", "data_fmnist.yaml", "optim_adamw.yaml"};
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        char src[256], dst[512], buf[1 << 14];
        snprintf(src, sizeof src, "configs/base/%s", bases[i]);
        FILE *f = fopen(src, "rb");
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        snprintf(src, sizeof src, "base/%s", bases[i]);
        fuzz_write(dst, sizeof dst, src, buf, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct experiment x, y;
    char path[512], *over[8], *text = malloc(size + 1);
    fuzz_config_init();
    memcpy(text, data, size);
    text[size] = '\0';
    size_t yaml_len = strlen(text);
    int n_over = 0;
    for (size_t at = yaml_len + 1; at < size && n_over < 8; at += strlen(text + at) + 1)
        over[n_over++] = text + at;
    fuzz_write(path, sizeof path, "exp/in.yaml", text, yaml_len);
    struct kd_err e;
    if (config_load(&x, path, "smoke", n_over, over, &e) == 0) {
        char back[512], *resolved = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&resolved, &len);
        config_write_resolved(&x, f);
        fclose(f);
        fuzz_write(back, sizeof back, "exp/back.yaml", resolved, len);
        if (config_load(&y, back, "smoke", 0, NULL, &e) != 0) {
            kd_err_print(&e);
            fprintf(stderr, "fuzz_config: the resolved config does not load back:\n%s\n", resolved);
            abort();
        }
        if (config_hash(&x) != config_hash(&y)) {
            fprintf(stderr, "fuzz_config: the resolved config loads to another hash\n");
            abort();
        }
        free(resolved);
    } else if (e.code >= 0 || !e.msg[0]) {
        fprintf(stderr, "fuzz_config: failure without an error message (code %d)\n", e.code);
        abort();
    }
    free(text);
    return 0;
}
