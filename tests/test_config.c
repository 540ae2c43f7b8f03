/* Config, CSV and progress tests. Good configs under tests/configs/good are checked value by
 * value; every YAML file in tests/configs/bad starts with "# expect: <text>" and must fail with an
 * error line ("file:line: msg (fix: ...)") containing that text. Run from the repo root. */
#include "io/config.h"
#include "io/csv.h"
#include "io/progress.h"
#include "train/optim.h"
#include "base/err.h"
#include "base/fsio.h"
#include "check.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOOD "tests/configs/good/"
#define BAD "tests/configs/bad/"

/* The line kd_err_print would print, without the "error: " word. */
static void err_line(const struct kd_err *e, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s:%d: %s", e->file, e->line, e->msg);
    if (e->fix[0] && n < (int)cap)
        snprintf(buf + n, cap - n, " (fix: %s)", e->fix);
}

static int load(struct experiment *x, const char *path, const char *scale, int n, char **over)
{
    struct kd_err e = {0};
    int rc = config_load(x, path, scale, n, over, &e);
    if (rc)
        kd_err_print(&e);
    return rc;
}

static void test_defaults(void)
{
    struct experiment x;
    CHECK(load(&x, GOOD "empty.yaml", NULL, 0, NULL) == 0, "empty file loads");
    CHECK(x.model.img == 28 && x.model.in_ch == 1 && x.model.classes == 10, "model defaults");
    CHECK(x.model.patch == 4 && x.model.dim == 192 && x.model.depth == 6 && x.model.heads == 3,
          "vit defaults");
    CHECK(x.model.mlp_ratio == 4.0f && x.model.drop_path == 0.1f, "float defaults");
    CHECK(x.optim.name == OPTIM_ADAMW && x.optim.lr == 1e-3f && x.optim.min_lr == 1e-5f,
          "optim defaults");
    CHECK(x.optim.beta1 == 0.9f && x.optim.beta2 == 0.999f && x.optim.weight_decay == 0.05f,
          "adamw defaults");
    CHECK(x.optim.epochs == 5 && x.optim.warmup_epochs == 1 && x.optim.batch == 128,
          "sched (quick's presets: %d epochs)", x.optim.epochs);
    CHECK(x.data.train_n == 20000 && x.data.test_n == 2000, "quick's data size: %d",
          x.data.train_n);
    CHECK(x.optim.clip_grad == 5.0f && x.optim.label_smoothing == 0.1f, "clip, smoothing");
    CHECK(x.data.set == DATA_FASHION_MNIST && x.data.crop_pad == 2 && x.data.flip == 1,
          "data defaults");
    CHECK(x.run.n_seeds == 1 && x.run.seeds[0] == 0 && x.run.log_every == 50, "run defaults");
    CHECK(x.kind[0] == '\0' && strcmp(x.scale, "quick") == 0, "no kind by default, scale");
    CHECK(strcmp(x.path, GOOD "empty.yaml") == 0, "path recorded");
}

/* The presets in config.c are configs/base/data_fmnist.yaml's scale block written again (for
 * a config with no base): the two agree at every scale. */
static void test_presets_match_base(void)
{
    static const char *const scales[] = {"smoke", "quick", "full"};
    for (int i = 0; i < 3; i++) {
        struct experiment bare, based;
        CHECK(load(&bare, GOOD "empty.yaml", scales[i], 0, NULL) == 0 &&
                  load(&based, "configs/base/data_fmnist.yaml", scales[i], 0, NULL) == 0,
              "%s: both load", scales[i]);
        CHECK(bare.data.train_n == based.data.train_n && bare.data.test_n == based.data.test_n &&
                  bare.optim.epochs == based.optim.epochs &&
                  bare.optim.warmup_epochs == based.optim.warmup_epochs &&
                  bare.run.n_seeds == based.run.n_seeds,
              "%s: config.c's presets are data_fmnist.yaml's (%d vs %d images, %d vs %d epochs)",
              scales[i], bare.data.train_n, based.data.train_n, bare.optim.epochs,
              based.optim.epochs);
    }
}

/* Every scale's presets reach a config that names no base; a base's block and the file's own
 * keys still beat them. */
static void test_presets(void)
{
    struct experiment x;
    struct kd_err e;
    CHECK(load(&x, GOOD "empty.yaml", "smoke", 0, NULL) == 0, "empty file at smoke");
    CHECK(x.data.train_n == 2000 && x.data.test_n == 1000 && x.optim.epochs == 1 &&
              x.optim.warmup_epochs == 0,
          "smoke's presets without a base: %d images, %d epochs", x.data.train_n, x.optim.epochs);
    CHECK(load(&x, GOOD "empty.yaml", "full", 0, NULL) == 0, "empty file at full");
    CHECK(x.data.train_n == 0 && x.data.test_n == 0 && x.optim.epochs == 10, "full: all data");
    CHECK(load(&x, GOOD "chain_root.yaml", "smoke", 0, NULL) == 0, "chain root at smoke");
    CHECK(x.optim.epochs == 3 && x.data.train_n == 2000, "the file's epochs beat the preset");
    CHECK(load(&x, GOOD "empty.yaml", "smoke", 0, NULL) == 0 && config_check_kind(&x, NULL, &e) &&
              strstr(e.msg, "no 'kind'") && strcmp(e.file, GOOD "empty.yaml") == 0 && e.fix[0],
          "a config without kind is refused: %s", e.msg);
    CHECK(load(&x, GOOD "comments.yaml", NULL, 0, NULL) == 0 &&
              config_check_kind(&x, "build/bin/train", &e) == 0 &&
              config_check_kind(&x, "bin/seed", &e) && strstr(e.fix, "bin/train"),
          "another program's config names its own: %s", e.fix);
}

static void test_chain(void)
{
    struct experiment x;
    CHECK(load(&x, GOOD "chain_child.yaml", "full", 0, NULL) == 0, "chain loads");
    CHECK(strcmp(x.title, "mid") == 0, "mid overrides root: %s", x.title);
    CHECK(x.model.depth == 4 && x.model.dim == 64 && x.model.heads == 2, "depth %d", x.model.depth);
    CHECK(x.optim.epochs == 7 && x.optim.lr == 0.002f, "epochs %d", x.optim.epochs);
    CHECK(x.model.patch == 4, "untouched keys keep defaults");
    CHECK(x.n_sources == 3 && strcmp(x.sources[0], GOOD "chain_child.yaml") == 0 &&
              strcmp(x.sources[1], GOOD "sub/chain_mid.yaml") == 0 &&
              strcmp(x.sources[2], GOOD "chain_root.yaml") == 0,
          "sources, normalized: %d %s", x.n_sources, x.sources[2]);

    CHECK(load(&x, GOOD "list_base.yaml", NULL, 0, NULL) == 0, "list base loads");
    CHECK(x.optim.lr == 0.2f, "later base wins: %g", (double)x.optim.lr);
    CHECK(x.optim.batch == 64 && x.data.crop_pad == 0, "file beats bases, a's keys stay");
    CHECK(x.run.n_seeds == 3 && x.run.seeds[2] == 3, "list value from base");
}

/* A run reads an input at its own seed when the input runs that seed too, else at the input's
 * first: fine-tuning seed s starts from pretraining seed s; one teacher serves every seed. */
static void test_paired_seed(void)
{
    struct experiment x;
    char *over[] = {"run.seeds=[0, 1, 2]"};
    CHECK(load(&x, GOOD "scale_child.yaml", "quick", 1, over) == 0, "three seeds");
    CHECK(config_paired_seed(&x, 0) == 0 && config_paired_seed(&x, 2) == 2,
          "a seed the input runs is read at that seed");
    CHECK(config_paired_seed(&x, 5) == 0, "another seed reads the input's first");
    char *one[] = {"run.seeds=[3]"};
    CHECK(load(&x, GOOD "scale_child.yaml", "quick", 1, one) == 0, "one seed");
    CHECK(config_paired_seed(&x, 0) == 3 && config_paired_seed(&x, 1) == 3,
          "a one-seed teacher serves every seed: %d", config_paired_seed(&x, 1));
}

static void test_scale(void)
{
    struct experiment x;
    CHECK(load(&x, GOOD "scale_child.yaml", "quick", 0, NULL) == 0, "quick");
    CHECK(x.optim.epochs == 30, "the file body beats its base's scale block: %d", x.optim.epochs);
    CHECK(x.optim.batch == 32 && x.data.train_n == 2000, "file's block beats base's block");
    CHECK(load(&x, GOOD "scale_child.yaml", "smoke", 0, NULL) == 0, "smoke");
    CHECK(x.optim.epochs == 30 && x.data.train_n == 100 && x.optim.batch == 256, "smoke values");
    CHECK(load(&x, GOOD "scale_child.yaml", "full", 0, NULL) == 0, "full");
    CHECK(x.optim.epochs == 30 && x.data.train_n == 50000 && strcmp(x.scale, "full") == 0,
          "empty full block");

    char *over[] = {"optim.epochs=2", "run.seeds=[4, 5]", "title=a, b", "data.flip=false",
                    "model.drop_path=0"};
    CHECK(load(&x, GOOD "scale_child.yaml", "quick", 5, over) == 0, "overrides");
    CHECK(x.optim.epochs == 2, "override beats scale block");
    CHECK(x.run.n_seeds == 2 && x.run.seeds[0] == 4 && x.run.seeds[1] == 5, "list override");
    CHECK(strcmp(x.title, "a, b") == 0 && x.data.flip == 0, "string and bool overrides");
}

static void test_syntax_variants(void)
{
    struct experiment x;
    CHECK(load(&x, GOOD "comments.yaml", NULL, 0, NULL) == 0, "comments");
    CHECK(strcmp(x.title, "has # inside quotes") == 0, "title '%s'", x.title);
    CHECK(x.optim.name == OPTIM_SGD && x.optim.momentum == 0.8f, "inline comments");
    CHECK(x.model.dim == 96 && x.model.heads == 4, "flow mapping");
    CHECK(x.data.flip == 0 && x.data.set == DATA_FOLDER, "bool and enum");
    CHECK(strcmp(x.data.dir, "relative/dir") == 0 && x.teacher[0] == '\0', "quoted, null");
    CHECK(x.run.n_seeds == 2 && x.run.seeds[1] == 6, "flow list");

    char *text = NULL;
    struct kd_err e;
    CHECK(file_read_all(GOOD "crlf_bom.yaml", &text, NULL, &e) == 0 && strstr(text, "\r\n") &&
              (unsigned char)text[0] == 0xef,
          "fixture still has CRLF and a BOM (git must not normalize it)");
    free(text);
    CHECK(load(&x, GOOD "crlf_bom.yaml", NULL, 0, NULL) == 0, "CRLF + BOM loads");
    CHECK(x.model.depth == 9 && x.model.drop_path == 0.25f && strcmp(x.title, "crlf") == 0,
          "CRLF values");
    CHECK(x.optim.lr == 0.1f, "CRLF base");
}

/* Write x resolved, load it back, compare every byte (path aside) and the hash. */
static void round_trip(const struct experiment *x, const char *what)
{
    struct experiment y;
    const char *path = check_tmp("resolved.yaml");
    FILE *f = fopen(path, "w");
    CHECK(f && config_write_resolved(x, f) == 0, "write resolved");
    fclose(f);
    CHECK(load(&y, path, x->scale, 0, NULL) == 0, "resolved loads (%s)", what);
    memcpy(y.path, x->path, sizeof y.path);
    memcpy(y.sources, x->sources, sizeof y.sources);
    y.n_sources = x->n_sources;
    CHECK(memcmp(x, &y, sizeof y) == 0, "round trip is exact (%s)", what);
    CHECK(config_hash(x) == config_hash(&y), "same hash (%s)", what);
}

static void test_round_trip(void)
{
    struct experiment x;
    char *over[] = {"title=quote \" backslash \\ tab \t colon: #hash", "optim.lr=0.00123456789",
                    "model.mlp_ratio=3.3333333", "optim.weight_decay=1e-7", "teacher=ünïcode ✓"};
    CHECK(load(&x, GOOD "scale_child.yaml", "smoke", 5, over) == 0, "load for round trip");
    round_trip(&x, "overrides");
    CHECK(load(&x, GOOD "comments.yaml", "full", 0, NULL) == 0, "load comments");
    round_trip(&x, "comments");
    CHECK(load(&x, GOOD "empty.yaml", NULL, 0, NULL) == 0, "load empty");
    round_trip(&x, "defaults");

    FILE *f = tmpfile();
    char line[512];
    int lines = 0;
    config_write_resolved(&x, f);
    rewind(f);
    while (fgets(line, sizeof line, f))
        lines += strchr(line, ':') != NULL;
    fclose(f);
    CHECK(lines == config_key_count(), "one line per key: %d of %d", lines, config_key_count());

    uint64_t h = config_hash(&x);
    struct kd_err e;
    CHECK(config_set(&x, "optim.lr", "0.5", &e) == 0 && x.optim.lr == 0.5f, "config_set");
    CHECK(config_hash(&x) != h, "hash changes with a value");
    h = config_hash(&x);
    CHECK(config_set(&x, "title", "another title", &e) == 0 &&
              config_set(&x, "run.seeds", "[0, 1, 2, 3, 4]", &e) == 0 &&
              config_set(&x, "run.log_every", "7", &e) == 0 &&
              config_set(&x, "run.ckpt_every", "3", &e) == 0,
          "config_set of the keys outside the computation");
    CHECK(config_hash(&x) == h, "title, run.seeds, run.log_every, run.ckpt_every: same hash");
    CHECK(config_set(&x, "run.seed", "4", &e) == 0 && config_hash(&x) != h,
          "run.seed changes the hash");
}

static void test_set_get(void)
{
    struct experiment x;
    struct kd_err e;
    char buf[128], line[1024];
    CHECK(load(&x, GOOD "empty.yaml", NULL, 0, NULL) == 0, "load");
    CHECK(config_set(&x, "run.seeds", "1,2,3", &e) == 0 && x.run.n_seeds == 3, "list set");
    CHECK(config_get(&x, "run.seeds", buf, sizeof buf) == 0 && strcmp(buf, "[1, 2, 3]") == 0,
          "get list: %s", buf);
    CHECK(config_get(&x, "optim.min_lr", buf, sizeof buf) == 0 && strcmp(buf, "1e-05") == 0,
          "shortest float: %s", buf);
    CHECK(config_get(&x, "data.dir", buf, sizeof buf) == 0 && buf[0] == '/', "raw string");
    CHECK(config_get(&x, "nope", buf, sizeof buf) == -1, "unknown get");
    CHECK(config_set(&x, "optim.lr", "abc", &e) == KD_ERR_CONFIG && x.optim.lr == 1e-3f,
          "bad value leaves x alone");
    CHECK(config_set(&x, "run.seeds", "[7, x]", &e) == KD_ERR_CONFIG && x.run.seeds[0] == 1,
          "bad list leaves x alone");
    CHECK(config_set(&x, "model.deph", "3", &e) == KD_ERR_CONFIG, "unknown set");
    err_line(&e, line, sizeof line);
    CHECK(strcmp(line, "<command line>:0: unknown key 'model.deph' (fix: did you mean "
                       "'model.depth'?)") == 0,
          "%s", line);

    char *bad[][1] = {{"optim.lr"}, {"optim.lrr=1"}, {"model.dim=abc"}};
    const char *want[] = {"expected key=value", "did you mean 'optim.lr'?",
                          "expected an integer for 'model.dim', got 'abc'"};
    for (int i = 0; i < 3; i++) {
        CHECK(config_load(&x, GOOD "empty.yaml", NULL, 1, bad[i], &e) == KD_ERR_CONFIG, "bad");
        err_line(&e, line, sizeof line);
        CHECK(strstr(line, "<command line>") && strstr(line, want[i]), "%s", line);
    }
    CHECK(config_load(&x, GOOD "empty.yaml", "fast", 0, NULL, &e) == KD_ERR_CONFIG &&
              strstr(e.msg, "unknown scale 'fast'"),
          "bad scale argument");
    CHECK(config_load(&x, GOOD "no_such.yaml", NULL, 0, NULL, &e) == KD_ERR_IO, "missing file");

    FILE *f = tmpfile();
    config_print_help(f);
    rewind(f);
    int rows = 0, has_lr = 0;
    while (fgets(line, sizeof line, f)) {
        rows++;
        has_lr |= strncmp(line, "optim.lr ", 9) == 0 && strstr(line, "[0, 10]") != NULL;
    }
    fclose(f);
    CHECK(rows == config_key_count() + 1 && has_lr, "help table: %d rows", rows);
}

/* Enum keys hold C enums: each choice's text sets its constant (the enums list their values in
 * the order of the schema's choices), reads back as the same text, and names it in messages. */
static void test_enums(void)
{
    struct experiment x;
    struct kd_err e;
    char buf[64];
    CHECK(load(&x, GOOD "empty.yaml", NULL, 0, NULL) == 0, "load");
    CHECK(x.data.set == DATA_FASHION_MNIST && x.model.arch == ARCH_VIT &&
              x.model.weight_init == INIT_TORCH && x.optim.name == OPTIM_ADAMW &&
              x.optim.schedule == SCHEDULE_COSINE && x.dcvit.metric == METRIC_SYNTHETIC &&
              x.dcvit.practise_budget == BUDGET_PAPER && x.tinymim.relations == RELATIONS_QK_VV,
          "enum defaults");
    struct {
        const char *key, *text;
        const int *field;
        int want;
    } set[] = {
        {"data.set", "folder", (const int *)&x.data.set, DATA_FOLDER},
        {"model.arch", "tinyvit", (const int *)&x.model.arch, ARCH_TINYVIT},
        {"model.weight_init", "timm", (const int *)&x.model.weight_init, INIT_TIMM},
        {"optim.name", "sgd", (const int *)&x.optim.name, OPTIM_SGD},
        {"optim.schedule", "step", (const int *)&x.optim.schedule, SCHEDULE_STEP},
        {"dcvit.metric", "real", (const int *)&x.dcvit.metric, METRIC_REAL},
        {"dcvit.metric", "none", (const int *)&x.dcvit.metric, METRIC_NONE},
        {"dcvit.practise_budget", "equal", (const int *)&x.dcvit.practise_budget, BUDGET_EQUAL},
        {"tinymim.relations", "qq_kk_vv", (const int *)&x.tinymim.relations, RELATIONS_QQ_KK_VV},
        {"tinymim.relations", "qk", (const int *)&x.tinymim.relations, RELATIONS_QK},
        {"tinymim.relations", "vv", (const int *)&x.tinymim.relations, RELATIONS_VV},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        CHECK(config_set(&x, set[i].key, set[i].text, &e) == 0 && *set[i].field == set[i].want,
              "%s: %s", set[i].key, set[i].text);
        CHECK(config_get(&x, set[i].key, buf, sizeof buf) == 0 && !strcmp(buf, set[i].text),
              "%s reads back '%s'", set[i].key, buf);
        CHECK(!strcmp(config_choice_name(set[i].key, set[i].want), set[i].text), "%s name",
              set[i].key);
    }
    CHECK(!strcmp(config_choice_name("model.arch", 7), "?") &&
              !strcmp(config_choice_name("model.dim", 0), "?"),
          "no such value, no enum");
    CHECK(config_set(&x, "optim.name", "adam", &e) == KD_ERR_CONFIG && x.optim.name == OPTIM_SGD,
          "a bad choice leaves x alone");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_bad_file(const char *name)
{
    char path[512], first[512], line[1200];
    struct experiment x;
    struct kd_err e = {0};
    snprintf(path, sizeof path, BAD "%s", name);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(first, sizeof first, f) || strncmp(first, "# expect: ", 10) != 0) {
        CHECK(0, "%s: first line must be '# expect: ...'", path);
        if (f)
            fclose(f);
        return;
    }
    fclose(f);
    first[strcspn(first, "\r\n")] = '\0';
    int rc = config_load(&x, path, "quick", 0, NULL, &e);
    err_line(&e, line, sizeof line);
    CHECK(rc == KD_ERR_CONFIG, "%s: expected a config error, got %d", name, rc);
    CHECK(rc && strstr(line, first + 10), "%s:\n  want: %s\n  got:  %s", name, first + 10, line);
    CHECK(!strchr(line, '\n'), "%s: error is one line", name);
}

static void test_bad_files(void)
{
    DIR *d = opendir(BAD);
    char *names[256];
    int n = 0;
    CHECK(d != NULL, "open " BAD);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d)) && n < 256;) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        check_bad_file(names[i]);
        free(names[i]);
    }
    CHECK(n >= 30, "bad files found: %d", n);
}

/* The repository's own configs must load at every scale. */
static void test_repo_configs(void)
{
    const char *files[] = {"configs/teachers/vit_t.yaml", "configs/teachers/vit_m.yaml"};
    const char *scales[] = {"smoke", "quick", "full"};
    struct experiment x;
    for (int i = 0; i < 2; i++) {
        if (access(files[i], R_OK) != 0)
            continue;
        for (int s = 0; s < 3; s++)
            CHECK(load(&x, files[i], scales[s], 0, NULL) == 0, "%s at %s", files[i], scales[s]);
    }
}

static int file_has(const char *path, const char *needle)
{
    char *text = NULL;
    struct kd_err e;
    if (file_read_all(path, &text, NULL, &e))
        return 0;
    int found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

static void test_csv(void)
{
    struct csv c;
    struct csv_table t;
    struct kd_err e;
    const char *hdr = "epoch,loss,note";
    char q[64], path[128];
    snprintf(path, sizeof path, "%s", check_tmp("run.csv"));
    CHECK(csv_open(&c, path, hdr, &e) == 0 && c.n_cols == 3, "open");
    csv_quote(q, sizeof q, "a, \"b\"");
    CHECK(strcmp(q, "\"a, \"\"b\"\"\"") == 0, "quote: %s", q);
    for (int i = 1; i <= 3; i++)
        csv_row(&c, "%d,%.3f,%s", i, 1.0 / i, i == 2 ? q : "x");
    CHECK(csv_write(&c, NULL, &e) == 0 && access(check_tmp("run.csv.tmp"), F_OK) != 0, "write");
    csv_free(&c);
    CHECK(csv_read(&t, path, &e) == 0 && t.n_rows == 3 && t.n_cols == 3, "read back");
    CHECK(csv_col(&t, "loss") == 1 && csv_num(&t, 1, 1) == 0.5, "number cell");
    CHECK(strcmp(csv_cell(&t, 1, 2), "a, \"b\"") == 0, "quoted cell: %s", csv_cell(&t, 1, 2));
    CHECK(isnan(csv_num(&t, 0, 2)) && isnan(csv_num(&t, 9, 0)), "NAN for text, out of range");
    csv_table_free(&t);

    CHECK(csv_resume(&c, path, hdr, NULL, 2, &e) == 0 && c.n_rows == 2, "resume keeps 2");
    csv_row(&c, "3,0.25,new");
    CHECK(csv_write(&c, NULL, &e) == 0, "rewrite");
    csv_free(&c);
    CHECK(csv_read(&t, path, &e) == 0 && t.n_rows == 3, "no duplicates: %d rows", t.n_rows);
    CHECK(strcmp(csv_cell(&t, 2, 2), "new") == 0 && strcmp(csv_cell(&t, 1, 2), "a, \"b\"") == 0,
          "old rows intact, new row last");
    csv_table_free(&t);
    CHECK(csv_resume(&c, path, "epoch,acc", NULL, 2, &e) == KD_ERR_MISMATCH, "header differs");
    csv_free(&c);
    CHECK(csv_resume(&c, check_tmp("none.csv"), hdr, NULL, 5, &e) == 0 && c.n_rows == 0,
          "missing file resumes empty");
    csv_free(&c);

    FILE *f = fopen(check_tmp("crlf.csv"), "wb");
    fputs("a,b\r\n1,\"x\r\ny\"\r\n\r\n2,3", f);
    fclose(f);
    CHECK(csv_read(&t, check_tmp("crlf.csv"), &e) == 0 && t.n_rows == 2, "CRLF csv");
    CHECK(strcmp(csv_cell(&t, 0, 1), "x\r\ny") == 0 && csv_num(&t, 1, 1) == 3, "CRLF cells");
    csv_table_free(&t);
    f = fopen(check_tmp("bad.csv"), "wb");
    fputs("a,b\n1,2\n3\n", f);
    fclose(f);
    CHECK(csv_read(&t, check_tmp("bad.csv"), &e) == KD_ERR_FORMAT && e.line == 3, "short row");

    struct csv_meta m = {"cfg.yaml", 0xff, "smoke", 3, 0, 12.34, NULL};
    setenv("KD_REVISION", "abc123", 1);
    CHECK(csv_write_meta(path, &m, &e) == 0, "meta");
    const char *meta = check_tmp("run.csv.meta");
    CHECK(file_has(meta, "config_hash: 00000000000000ff\n") && file_has(meta, "seed: 3\n"),
          "meta hash and seed");
    CHECK(file_has(meta, "revision: abc123\n") && file_has(meta, "wall_seconds: 12.3\n") &&
              file_has(meta, "start: 1970-01-01T00:00:00Z\n") && file_has(meta, "host: "),
          "meta revision, wall, start, host");
}

static void test_progress(void)
{
    char buf[64], line[512];
    CHECK(strcmp(progress_fmt_count(buf, sizeof buf, 1830), "1,830") == 0, "%s", buf);
    CHECK(strcmp(progress_fmt_count(buf, sizeof buf, 999), "999") == 0, "%s", buf);
    CHECK(strcmp(progress_fmt_count(buf, sizeof buf, 1234567.4), "1,234,567") == 0, "%s", buf);
    CHECK(strcmp(progress_fmt_eta(buf, sizeof buf, 161), "2:41") == 0, "%s", buf);
    CHECK(strcmp(progress_fmt_eta(buf, sizeof buf, 3725), "1:02:05") == 0, "%s", buf);
    CHECK(strcmp(progress_fmt_eta(buf, sizeof buf, NAN), "?") == 0, "%s", buf);

    /* plain: a line every 3 steps, the epoch line through progress_printf, nothing else */
    FILE *f = tmpfile();
    progress_output(f, 0);
    progress_begin("t", 20, 0, 3);
    for (int ep = 0; ep < 2; ep++) {
        for (int s = 0; s < 10; s++)
            progress_step(0.5f, 8);
        progress_printf("[t] epoch %d/2 test_acc %.3f\n", ep + 1, 0.875);
    }
    progress_end();
    rewind(f);
    int n = 0, steps = 0, epochs = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        steps += strncmp(line, "[t] step 3/20 loss 0.5000 ", 26) == 0;
        epochs += strcmp(line, "[t] epoch 2/2 test_acc 0.875\n") == 0;
    }
    fclose(f);
    CHECK(n == 8 && steps == 1 && epochs == 1, "plain lines: %d", n);

    /* a resumed run counts from its done steps; no loss to show (NAN) leaves it out */
    f = tmpfile();
    progress_output(f, 0);
    progress_begin("t", 12, 8, 2);
    for (int s = 0; s < 4; s++)
        progress_step(NAN, 8);
    progress_end();
    rewind(f);
    CHECK(fgets(line, sizeof line, f) && strncmp(line, "[t] step 10/12 ", 15) == 0 &&
              !strstr(line, "loss"),
          "resumed: %s", line);
    fclose(f);

    /* terminal: the bar is redrawn in place, cleared before a line; a long label gives way */
    f = tmpfile();
    progress_output(f, 100);
    progress_begin("a/very/long/label/that/does/not/fit/in/sixty/columns/at/all", 4, 0, 0);
    for (int s = 0; s < 4; s++)
        progress_step(1.0f, 8);
    progress_printf("[t] epoch 1/1 done\n");
    progress_end();
    rewind(f);
    size_t len = fread(line, 1, sizeof line - 1, f);
    line[len] = '\0';
    fclose(f);
    CHECK(strstr(line, "\r[..") && strstr(line, "at/all] [==========] 4/4 loss 1.0000 "), "bar: %s",
          line);
    CHECK(strstr(line, " img/s ETA 0:00\033[K") && strstr(line, "\r\033[K[t] epoch 1/1 done\n"),
          "epoch line: %s", line);
    const char *last = strrchr(line, '\r');
    const char *bar = line;
    for (const char *q = line; q < last; q++)
        if (*q == '\r' && q[1] == '[')
            bar = q;
    CHECK(strcspn(bar + 1, "\033") <= 99, "the bar is wider than the terminal: %s", bar + 1);
    progress_output(NULL, 0);
}

/* A run by hand (no KD_REVISION from Make) still records the revision of its checkout: the
 * one Make found (`make unit-tests` exports it), as both ask git in the same work tree. */
static void test_revision(const char *from_make)
{
    setenv("KD_REVISION", "v-from-make", 1);
    CHECK(strcmp(csv_revision(), "v-from-make") == 0, "revision from the environment");
    unsetenv("KD_REVISION");
    const char *rev = csv_revision();
    if (from_make[0])
        CHECK(strcmp(rev, from_make) == 0, "revision by hand '%s', Make's '%s'", rev, from_make);
    else
        CHECK(rev[0] != '\0', "revision by hand is empty");
}

/* optim.layer_decay: BEiT's layer ids from the parameter names, each parameter's lr scaled by
 * decay^(depth + 1 - id) in the AdamW step, and 1 (or 0, unset in code) bit for bit as without. */
static const char *lrd_names[] = {
    "patch_embed.proj.weight", "cls_token",   "pos_embed",  "blocks.0.attn.qkv.weight",
    "blocks.1.mlp.fc1.bias",   "norm.weight", "head.weight"};
#define LRD_N 7

/* A toy set with lrd_names, zero weights and unit gradients; after one AdamW step at lr 1e-2
 * (no weight decay) each weight is -1e-2 x its lr scale. */
static void lrd_step(float *after, float decay, int *rc)
{
    struct params ps;
    float *w[LRD_N], *g[LRD_N];
    struct kd_err e;
    params_begin(&ps);
    for (int i = 0; i < LRD_N; i++)
        params_add(&ps, &w[i], &g[i], 1, "", lrd_names[i], 2, 0, 0, 0);
    KD_ASSERT(params_alloc(&ps, &e) == 0);
    for (int i = 0; i < LRD_N; i++)
        g[i][0] = g[i][1] = 1.0f;
    struct optim_cfg cfg = {
        .name = OPTIM_ADAMW, .beta1 = 0.9f, .beta2 = 0.999f, .layer_decay = decay};
    struct optim o;
    *rc = optim_init(&o, &ps, &cfg, &e);
    if (*rc == 0) {
        optim_step(&o, &ps, 1e-2f);
        for (int i = 0; i < LRD_N; i++)
            after[i] = w[i][0];
        optim_free(&o);
    }
    params_free(&ps);
}

static void test_layer_decay(void)
{
    const int id[LRD_N] = {0, 0, 0, 1, 2, 3, 3};
    int ok = 1;
    for (int i = 0; i < LRD_N; i++)
        ok &= optim_layer_id(lrd_names[i], 2) == id[i];
    CHECK(ok, "layer ids: embeddings 0, blocks.i i + 1, norm and head depth + 1");
    CHECK(optim_layer_id("blocks.11.norm1.weight", 12) == 12, "two-digit block index");
    float plain[LRD_N], one[LRD_N], half[LRD_N];
    int rc;
    lrd_step(plain, 0.0f, &rc);
    lrd_step(one, 1.0f, &rc);
    CHECK(!memcmp(plain, one, sizeof one), "layer_decay 1 is bit-identical to none");
    lrd_step(half, 0.5f, &rc);
    CHECK(rc == 0, "layer decay on a ViT's names");
    const float scale[LRD_N] = {0.125f, 0.125f, 0.125f, 0.25f, 0.5f, 1, 1};
    ok = 1;
    for (int i = 0; i < LRD_N; i++)
        ok &= fabsf(half[i] - plain[i] * scale[i]) < 1e-9f && plain[i] < -0.0099f;
    CHECK(ok, "lr x 0.5^(3 - id): %g %g %g %g", half[0], half[3], half[4], half[6]);
    struct experiment x;
    struct kd_err e;
    char buf[32];
    CHECK(config_load(&x, "configs/teachers/vit_t.yaml", "quick", 0, NULL, &e) == 0 &&
              config_get(&x, "optim.layer_decay", buf, sizeof buf) == 0 && !strcmp(buf, "1"),
          "optim.layer_decay defaults to 1 (off): %s", buf);
    struct params ps;
    float *w, *g;
    params_begin(&ps);
    params_add(&ps, &w, &g, 1, "", "fc.weight", 2, 0, 0, 0);
    KD_ASSERT(params_alloc(&ps, &e) == 0);
    struct optim_cfg cfg = {.name = OPTIM_ADAMW, .layer_decay = 0.65f};
    struct optim o;
    CHECK(optim_init(&o, &ps, &cfg, &e) == KD_ERR_CONFIG && strstr(e.msg, "blocks") &&
              strstr(e.fix, "layer_decay"),
          "no ViT blocks: %s", e.msg);
    params_free(&ps);
}

int main(void)
{
    char from_make[128]; /* before test_csv sets its own */
    snprintf(from_make, sizeof from_make, "%s", getenv("KD_REVISION") ? getenv("KD_REVISION") : "");
    check_tmpdir("test_config");
    test_defaults();
    test_presets();
    test_presets_match_base();
    test_chain();
    test_paired_seed();
    test_scale();
    test_syntax_variants();
    test_round_trip();
    test_set_get();
    test_enums();
    test_bad_files();
    test_repo_configs();
    test_layer_decay();
    test_csv();
    test_progress();
    test_revision(from_make);
    return check_report("test_config");
}
