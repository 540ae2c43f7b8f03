/* Replays the fuzz seed corpus (tests/fuzz/corpus/<harness>/) and every input that ever crashed
 * a harness (tests/fuzz/regress/<harness>/) through the harnesses, in the normal build and
 * under `make asan`: a fixed reader bug stays fixed without clang or libFuzzer. A harness
 * aborts on a bad outcome, so a regression shows up as a crash of this test. */
#include "check.h"

#include "base/fsio.h"

#include <dirent.h>

#define LLVMFuzzerTestOneInput fuzz_config_one
#include "fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_idx_one
#include "fuzz/fuzz_idx.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_png_one
#include "fuzz/fuzz_png.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ckpt_one
#include "fuzz/fuzz_ckpt.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_csv_one
#include "fuzz/fuzz_csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_softlabel_one
#include "fuzz/fuzz_softlabel.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput

struct harness {
    const char *name;
    int (*one)(const uint8_t *data, size_t size);
};

static const struct harness harnesses[] = {
    {"fuzz_config", fuzz_config_one},
    {"fuzz_idx", fuzz_idx_one},
    {"fuzz_png", fuzz_png_one},
    {"fuzz_ckpt", fuzz_ckpt_one},
    {"fuzz_csv", fuzz_csv_one},
    {"fuzz_softlabel", fuzz_softlabel_one},
    {"fuzz_safetensors", fuzz_safetensors_one},
};

/* Every regular file of dir through h; returns how many. */
static int replay_dir(const struct harness *h, const char *dir)
{
    DIR *d = opendir(dir);
    int count = 0;
    if (!d)
        return 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        char path[1024];
        uint8_t *buf;
        size_t len;
        struct kd_err e;
        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        CHECK(file_read_all(path, (char **)&buf, &len, &e) == 0, "cannot read %s", path);
        if (check_failed)
            continue;
        CHECK(h->one(buf, len) == 0, "%s: %s", h->name, path);
        free(buf);
        count++;
    }
    closedir(d);
    return count;
}

int main(void)
{
    for (size_t i = 0; i < sizeof harnesses / sizeof *harnesses; i++) {
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", harnesses[i].name);
        int seeds = replay_dir(&harnesses[i], dir);
        CHECK(seeds > 0, "no seed files in %s", dir);
        snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", harnesses[i].name);
        int regress = replay_dir(&harnesses[i], dir);
        printf("test_fuzz_replay: %s: %d seeds, %d regression inputs\n", harnesses[i].name, seeds,
               regress);
    }
    return check_report("test_fuzz_replay");
}
