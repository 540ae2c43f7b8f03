/* report: one table from its points' CSVs, beside the paper's published numbers.
 *   bin/report SCALE TARGET RESULT.csv...  -> results/SCALE/tables/TARGET.{csv,md}
 *   bin/report SCALE --all TARGET...       -> all tables' markdown on stdout (REPORT.md); a
 *                                            table not made yet lists its finished runs
 *   bin/report SCALE --beside OTHER TARGET... -> each table beside its results at scale OTHER
 *                                            (the published full scale: make demo)
 * A table with a figure script (plots/TARGET.gp) links its figure, results/SCALE/figures/
 * TARGET.png, relative to the markdown that shows it (tables/TARGET.md or REPORT.md).
 * The reported number of a run is its metric in the LAST row (last epoch, never the best);
 * seeds of one point give mean and sample std. A table whose catalogue row names extra columns
 * (12th column, e.g. "params,macs,cost") also gets the model's parameters and MACs and the wall
 * seconds of the point's whole pipeline (see pipeline_wall). */
#include "kd.h"
#include "io/catalogue.h"
#include "io/csv.h"
#include "base/fsio.h"
#include "train/run.h"
#include "train/net.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_POINTS 64
#define MAX_SEEDS 16

struct point {
    char name[128]; /* config file name without .yaml */
    char stem[512]; /* results/SCALE/<folder>/<name> */
    char csv0[600]; /* the CSV of its first seed */
    char title[256];
    char x[64];          /* value of the catalogue's x key, or "" */
    double v[MAX_SEEDS]; /* metric of each seed's last row */
    int n;
    double wall;   /* seconds over all seeds */
    char cpu[160]; /* the CPU its runs' .meta name, MIXED_CPUS when they differ, "" if none */
    char paper[64], paper_note[256];
    int rank;                  /* its line in the folder's paper.csv, or INT_MAX */
    double params, macs, cost; /* extra columns (NaN when not asked for or not known) */
};

/* What a point or table says of its runs' CPUs when they name different ones. */
#define MIXED_CPUS "several CPUs (each run's .meta names its own)"

/* Fold one run's CPU ("" when its .meta names none: an older run) into what a point or table
 * says of its runs' CPUs. */
static void merge_cpu(char *dst, size_t size, const char *cpu, int first)
{
    if (first)
        snprintf(dst, size, "%s", cpu);
    else if (strcmp(dst, cpu) != 0)
        snprintf(dst, size, "%s", MIXED_CPUS);
}

/* Inputs from outside a table's folder (the shared teacher): in no row's cost, stated once. */
#define MAX_SHARED 8
static struct {
    char path[256];
    double wall;
} shared[MAX_SHARED];
static int n_shared;

/* Value of column `col` in the last row of a CSV, or NAN. */
static double csv_last(const char *path, const char *col)
{
    struct csv_table t;
    struct kd_err e;
    if (csv_read(&t, path, &e))
        return NAN;
    double v = csv_num(&t, t.n_rows - 1, csv_col(&t, col));
    csv_table_free(&t);
    return v;
}

static void paper_lookup(const char *folder, struct point *p)
{
    char path[600], line[1024];
    snprintf(path, sizeof path, "%s/paper.csv", folder);
    FILE *f = fopen(path, "r");
    size_t n = strlen(p->name);
    p->rank = INT_MAX;
    for (int at = 0; f && fgets(line, sizeof line, f); at++) {
        if (strncmp(line, p->name, n) != 0 || line[n] != ',')
            continue;
        p->rank = at;
        char *v = line + n + 1, *note = strchr(v, ',');
        if (note)
            *note++ = '\0';
        snprintf(p->paper, sizeof p->paper, "%s", v);
        if (note) {
            note[strcspn(note, "\r\n")] = '\0';
            snprintf(p->paper_note, sizeof p->paper_note, "%s", note);
        }
    }
    if (f)
        fclose(f);
}

static int add_result(struct point *pts, int n, const char *csv, const struct catalogue_row *t)
{
    char stem[512];
    snprintf(stem, sizeof stem, "%s", csv);
    char *dash = strrchr(stem, '-');
    if (!dash || dash[1] != 's')
        return n;
    *dash = '\0';
    int i = 0;
    while (i < n && strcmp(pts[i].stem, stem) != 0)
        i++;
    struct point *p = &pts[i];
    if (i == n) {
        if (n == MAX_POINTS)
            return n;
        memset(p, 0, sizeof *p);
        snprintf(p->stem, sizeof p->stem, "%s", stem);
        snprintf(p->csv0, sizeof p->csv0, "%s", csv);
        const char *base = strrchr(stem, '/');
        snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : stem);
        paper_lookup(t->folder, p);
        n++;
    }
    char side[600], wall[64] = "0", cpu[160] = "";
    snprintf(side, sizeof side, "%.*s.yaml", (int)(strlen(csv) - 4), csv);
    file_value(side, "title", p->title, sizeof p->title);
    if (strcmp(t->x_key, "-") != 0)
        file_value(side, t->x_key, p->x, sizeof p->x);
    snprintf(side, sizeof side, "%.*s.meta", (int)(strlen(csv) - 4), csv);
    file_value(side, "wall_seconds", wall, sizeof wall);
    p->wall += atof(wall);
    file_value(side, "cpu", cpu, sizeof cpu);
    merge_cpu(p->cpu, sizeof p->cpu, cpu, p->n == 0);
    if (p->n < MAX_SEEDS)
        p->v[p->n++] = csv_last(csv, t->metric);
    return n;
}

/* The point's result csv (results/SCALE/<folder under configs/>/<name>-s<seed>.csv) must be
 * what configs/.../<name>.yaml makes now at that seed (run_result_check): a run by hand with
 * overrides, or a YAML edited since, is refused rather than reported. */
static int result_check(const char *csv, const char *folder, const char *scale, struct kd_err *e)
{
    char stem[600], config[700];
    int seed, n = (int)strlen(csv) - 4;
    snprintf(stem, sizeof stem, "%.*s", n > 0 ? n : 0, csv);
    const char *name = strrchr(stem, '/'), *dash = strrchr(stem, '-');
    name = name ? name + 1 : stem;
    if (!dash || dash < name || sscanf(dash, "-s%d", &seed) != 1)
        return kd_err_setfix(e, KD_ERR_USAGE, csv, 0, "pass results/SCALE/<path>-s<seed>.csv",
                             "is not a result of a table's point");
    snprintf(config, sizeof config, "%s/%.*s.yaml", folder, (int)(dash - name), name);
    return run_result_check(stem, config, scale, seed, e);
}

/* Wall seconds of the run of config `path` at scale (its first seed's .meta), or NaN. */
static double config_wall(const char *path, const char *scale)
{
    static struct experiment x;
    struct kd_err e;
    char stem[600], side[700], wall[64];
    if (config_load(&x, path, scale, 0, NULL, &e))
        return NAN;
    run_stem_of(stem, sizeof stem, path, scale, config_first_seed(&x));
    snprintf(side, sizeof side, "%s.meta", stem);
    return file_value(side, "wall_seconds", wall, sizeof wall) ? atof(wall) : NAN;
}

/* Wall seconds of the runs that config `path` needs, recursively, and that live under the
 * table's folder (its labels pass, its pretraining): the point's own pipeline. Inputs from
 * outside the folder (the teacher every point shares) go to shared[], counted once. */
static double pipeline_wall(const char *path, const char *folder, const char *scale, int depth)
{
    struct experiment x;
    struct kd_err e;
    const char *refs[CONFIG_MAX_REFS];
    double sum = 0;
    size_t fn = strlen(folder);
    if (depth > 8 || config_load(&x, path, scale, 0, NULL, &e))
        return NAN;
    int n = config_refs_of(&x, refs);
    for (int i = 0; i < n; i++) {
        if (strncmp(refs[i], folder, fn) == 0 && refs[i][fn] == '/') {
            sum += config_wall(refs[i], scale) + pipeline_wall(refs[i], folder, scale, depth + 1);
            continue;
        }
        int k = 0;
        while (k < n_shared && strcmp(shared[k].path, refs[i]) != 0)
            k++;
        if (k == n_shared && n_shared < MAX_SHARED) {
            snprintf(shared[k].path, sizeof shared[k].path, "%s", refs[i]);
            shared[n_shared++].wall = config_wall(refs[i], scale);
        }
    }
    return sum;
}

/* Parameters and forward MACs per image: the CSV's last row when it has them (a compressed
 * model), else the model of the point's config. */
static void model_size(struct point *p, const char *csv, const char *config, const char *scale)
{
    static struct experiment x;
    struct kd_err e;
    struct net n;
    p->params = csv_last(csv, "params");
    p->macs = csv_last(csv, "macs");
    if (!isnan(p->params) && !isnan(p->macs))
        return;
    if (config_load(&x, config, scale, 0, NULL, &e) || net_create(&n, &x.model, 1, 0, &e))
        return;
    p->params = (double)n.params->total;
    p->macs = n.macs;
    net_destroy(&n);
}

/* The extra columns of every point, when the catalogue row asks for any. */
static void add_extras(struct point *pts, int n, const struct catalogue_row *t, const char *scale)
{
    char config[600];
    for (int i = 0; i < n; i++) {
        struct point *p = &pts[i];
        p->params = p->macs = p->cost = NAN;
        if (!t->columns[0])
            continue;
        snprintf(config, sizeof config, "%s/%s.yaml", t->folder, p->name);
        model_size(p, p->csv0, config, scale);
        p->cost = p->wall + pipeline_wall(config, t->folder, scale, 0);
    }
}

static void stats(const struct point *p, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (int i = 0; i < p->n; i++)
        s += p->v[i];
    *mean = s / p->n;
    for (int i = 0; i < p->n; i++)
        ss += (p->v[i] - *mean) * (p->v[i] - *mean);
    *sd = p->n > 1 ? sqrt(ss / (p->n - 1)) : 0;
}

/* By rank (the line in paper.csv), then by name. */
static int cmp_point(const void *a, const void *b)
{
    const struct point *p = a, *q = b;
    if (p->rank != q->rank)
        return p->rank < q->rank ? -1 : 1;
    return strcmp(p->name, q->name);
}

/* Accuracies are printed in percent; other metrics as they are. */
static double shown(const char *metric, double v)
{
    return strstr(metric, "acc") ? 100 * v : v;
}

/* The extra columns of a table (its catalogue line's 12th column names them). */
struct extras {
    int params, macs, cost;
};

/* A paper.csv that lists every point orders the table (its line is a point's rank); else the
 * points' names do. */
static void order_points(struct point *pts, int n)
{
    int listed = 1;
    for (int i = 0; i < n; i++)
        listed &= pts[i].rank != INT_MAX;
    for (int i = 0; i < n && !listed; i++)
        pts[i].rank = 0;
    qsort(pts, n, sizeof *pts, cmp_point);
}

/* The markdown's heading: target and alias, the paper's table, what ours are (seeds, wall
 * time), what the extra columns count, and the header row. */
static void write_md_head(FILE *md, const char *scale, const struct catalogue_row *t,
                          const struct point *pts, int n, struct extras x)
{
    double wall = 0;
    int seeds = 0;
    char cpu[160] = "";
    for (int i = 0; i < n; i++) {
        wall += pts[i].wall, seeds = pts[i].n > seeds ? pts[i].n : seeds;
        merge_cpu(cpu, sizeof cpu, pts[i].cpu, i == 0);
    }
    fprintf(md, "### %s\n\n`make %s`", t->title, t->target);
    if (strcmp(t->number, "-") != 0)
        fprintf(md, " (alias `make %s-table%s`)", t->paper, t->number);
    fprintf(md,
            "; paper: %s, table %s (verified: %s; source: %s).\n"
            "Scale `%s`; ours: %s of the last epoch%s, mean ± std over up to %d seed%s; "
            "wall time %.1f min%s%s.\n",
            t->paper, t->number, t->verified, t->source, scale, t->metric,
            strstr(t->metric, "acc") ? " in %" : "", seeds, seeds == 1 ? "" : "s", wall / 60,
            cpu[0] ? " on " : "", cpu);
    if (x.params || x.macs)
        fprintf(md, "Parameters and MACs: of the final model (forward pass, one image).\n");
    if (x.cost) {
        fprintf(md,
                "Cost: wall seconds of the point's run plus the runs under `%s/` it needs "
                "(e.g. a labels pass, a pretraining); inputs from outside it are shared, "
                "counted once and in no row:",
                t->folder);
        for (int i = 0; i < n_shared; i++)
            fprintf(md, "%s `%s` (%.0f s)", i ? "," : "", shared[i].path, shared[i].wall);
        fprintf(md, "%s.\n", n_shared ? "" : " none");
    }
    fprintf(md, "\n| point | setting | paper | ours |%s%s%s\n|---|---|---|---|%s%s%s\n",
            x.params ? " params |" : "", x.macs ? " MACs |" : "", x.cost ? " cost (s) |" : "",
            x.params ? "---|" : "", x.macs ? "---|" : "", x.cost ? "---|" : "");
}

/* Point p's row of the CSV and of the markdown (a comma in its title becomes ';'). */
static void write_row(FILE *csv, FILE *md, const struct catalogue_row *t, struct point *p,
                      struct extras x)
{
    double m, sd;
    stats(p, &m, &sd);
    for (char *c = (char *)p->title; *c; c++)
        *c = *c == ',' ? ';' : *c;
    fprintf(csv, "%s,\"%s\",%s,%d,%.6g,%.6g,%s,%.1f", p->name, p->title, p->x[0] ? p->x : "0", p->n,
            shown(t->metric, m), shown(t->metric, sd), p->paper[0] ? p->paper : "NaN", p->wall);
    fprintf(md, "| %s | %s | %s%s%s%s | %.2f ± %.2f (n=%d) |", p->name, p->title,
            p->paper[0] ? p->paper : "-", p->paper_note[0] ? " (" : "", p->paper_note,
            p->paper_note[0] ? ")" : "", shown(t->metric, m), shown(t->metric, sd), p->n);
    if (x.params) {
        fprintf(csv, ",%.0f", p->params);
        fprintf(md, " %.3f M |", p->params / 1e6);
    }
    if (x.macs) {
        fprintf(csv, ",%.0f", p->macs);
        fprintf(md, " %.1f M |", p->macs / 1e6);
    }
    if (x.cost) {
        fprintf(csv, ",%.1f", p->cost);
        fprintf(md, " %.0f (own run %.0f) |", p->cost, p->wall);
    }
    fprintf(csv, "\n");
    fprintf(md, "\n");
}

static int write_table(const char *scale, const struct catalogue_row *t, struct point *pts, int n,
                       struct kd_err *e)
{
    char path[512];
    struct atomic_file csv, md;
    order_points(pts, n);
    snprintf(path, sizeof path, "results/%s/tables/%s.csv", scale, t->target);
    if (atomic_open(&csv, path, e))
        return e->code;
    snprintf(path, sizeof path, "results/%s/tables/%s.md", scale, t->target);
    if (atomic_open(&md, path, e))
        return e->code;
    struct extras x = {strstr(t->columns, "params") != NULL, strstr(t->columns, "macs") != NULL,
                       strstr(t->columns, "cost") != NULL};
    fprintf(csv.f, "point,title,x,n_seeds,mean,std,paper,wall_s%s%s%s\n", x.params ? ",params" : "",
            x.macs ? ",macs" : "", x.cost ? ",cost_s" : "");
    write_md_head(md.f, scale, t, pts, n, x);
    for (int i = 0; i < n; i++)
        write_row(csv.f, md.f, t, &pts[i], x);
    snprintf(path, sizeof path, "plots/%s.gp", t->target);
    if (access(path, R_OK) == 0) /* gnuplot draws it next, beside this scale's tables */
        fprintf(md.f, "\n![%s at scale %s](../figures/%s.png)\n", t->target, scale, t->target);
    if (atomic_commit(&csv, e) || atomic_commit(&md, e))
        return e->code;
    return 0;
}

/* A table's markdown with its relative links ("](../figures/...)", written from tables/) made
 * relative to the scale's folder, where REPORT.md lives ("](figures/...)"). */
static void md_print_rebased(const char *text)
{
    const char *at;
    while ((at = strstr(text, "](../")) != NULL) {
        fwrite(text, 1, (size_t)(at - text) + 2, stdout);
        text = at + 5;
    }
    fputs(text, stdout);
}

/* Column c of t's row r, or "" when t has no such column. */
static const char *cell(const struct csv_table *t, int r, const char *c)
{
    for (int j = 0; j < t->n_cols; j++)
        if (strcmp(t->names[j], c) == 0)
            return t->cells[(size_t)r * t->n_cols + j];
    return "";
}

/* "mean ± std (n=N)" of a summary row, or "-" when the point has no result there. */
static void summary_cell(char *out, size_t cap, const struct csv_table *t, const char *point)
{
    snprintf(out, cap, "-");
    for (int r = 0; t && r < t->n_rows; r++)
        if (strcmp(cell(t, r, "point"), point) == 0 && strcmp(cell(t, r, "mean"), "NaN") != 0)
            snprintf(out, cap, "%.2f ± %.2f (n=%s)", strtod(cell(t, r, "mean"), NULL),
                     strtod(cell(t, r, "std"), NULL), cell(t, r, "n_seeds"));
}

/* Table `target` made at scale beside its published result at `other` (results/<other>/tables/
 * <target>.csv, in the repository) and the paper: what this machine reproduces (make demo). */
static void print_beside(const char *scale, const char *other, const char *target)
{
    char path[512], ours[96], theirs[96];
    struct csv_table here, pub;
    struct kd_err e;
    snprintf(path, sizeof path, "results/%s/tables/%s.csv", scale, target);
    if (csv_read(&here, path, &e)) {
        printf("### %s\n\nnot run at scale %s (`make %s SCALE=%s`)\n\n", target, scale, target,
               scale);
        return;
    }
    snprintf(path, sizeof path, "results/%s/tables/%s.csv", other, target);
    int has_pub = csv_read(&pub, path, &e) == 0;
    printf("### %s: scale %s here, beside scale %s as published\n\n", target, scale, other);
    if (!has_pub)
        printf("Scale %s: not yet published (`make %s SCALE=%s`).\n\n", other, target, other);
    printf("| point | setting | paper | %s, published | %s, here |\n|---|---|---|---|---|\n", other,
           scale);
    for (int r = 0; r < here.n_rows; r++) {
        const char *point = cell(&here, r, "point"), *paper = cell(&here, r, "paper");
        summary_cell(ours, sizeof ours, &here, point);
        summary_cell(theirs, sizeof theirs, has_pub ? &pub : NULL, point);
        printf("| %s | %s | %s | %s | %s |\n", point, cell(&here, r, "title"),
               strcmp(paper, "NaN") == 0 ? "-" : paper, theirs, ours);
    }
    printf("\n");
    csv_table_free(&here);
    if (has_pub)
        csv_table_free(&pub);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A table not made yet at this scale: the runs of its points that are finished (valid by
 * content, as the table would take them), each with its metric. No mean and no verdict: a
 * reader sees how far the table is and what its runs say so far. Returns the runs listed. */
static int print_partial(const char *scale, const struct catalogue_row *t)
{
    static struct experiment x;
    char *names[MAX_POINTS];
    int n_names = 0, total = 0, done = 0;
    DIR *d = opendir(t->folder);
    struct dirent *de;
    while (d && (de = readdir(d)) && n_names < MAX_POINTS) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0)
            names[n_names++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, n_names, sizeof *names, cmp_name);
    for (int i = 0; i < n_names; i++) {
        char path[600], stem[700], csv[720], side[720], title[256] = "", wall[64] = "0";
        struct kd_err e;
        snprintf(path, sizeof path, "%s/%s", t->folder, names[i]);
        if (config_load(&x, path, scale, 0, NULL, &e))
            continue;
        int n_seeds = x.run.n_seeds > 0 ? x.run.n_seeds : 1;
        for (int s = 0; s < n_seeds; s++) {
            int seed = x.run.n_seeds > 0 ? x.run.seeds[s] : x.run.seed;
            total++;
            run_stem_of(stem, sizeof stem, path, scale, seed);
            snprintf(csv, sizeof csv, "%s.csv", stem);
            if (access(csv, F_OK) != 0 || run_result_check(stem, path, scale, seed, &e))
                continue;
            if (done++ == 0)
                printf("| run | setting | %s%s | wall time |\n|---|---|---|---|\n", t->metric,
                       strstr(t->metric, "acc") ? " (%)" : "");
            snprintf(side, sizeof side, "%s.yaml", stem);
            file_value(side, "title", title, sizeof title);
            snprintf(side, sizeof side, "%s.meta", stem);
            file_value(side, "wall_seconds", wall, sizeof wall);
            const char *base = strrchr(stem, '/');
            printf("| %s | %s | %.2f | %.1f h |\n", base ? base + 1 : stem, title,
                   shown(t->metric, csv_last(csv, t->metric)), atof(wall) / 3600);
        }
    }
    for (int i = 0; i < n_names; i++)
        free(names[i]);
    if (done)
        printf("\n%d of the table's %d runs finished (`make %s SCALE=%s` makes the rest); "
               "single runs of an unfinished table: no mean, no verdict.\n\n",
               done, total, t->target, scale);
    return done;
}

int main(int argc, char **argv)
{
    struct kd_err e;
    struct catalogue cat;
    static struct point pts[MAX_POINTS];
    kd_help_exit(argc, argv,
                 "SCALE TARGET RESULT.csv... | SCALE --all TARGET... | SCALE --beside OTHER "
                 "TARGET...",
                 "Writes results/SCALE/tables/TARGET.{csv,md} from its points' CSVs (make <table>\n"
                 "runs it), or prints every named table's markdown (--all; make report), or\n"
                 "each table beside its results at scale OTHER (--beside full; make demo).\n");
    if (argc < 3) {
        fprintf(stderr, "usage: %s SCALE TARGET RESULT.csv... | SCALE --all TARGET...\n", argv[0]);
        return 2;
    }
    if (catalogue_load(&cat, "configs/catalogue.tsv", &e))
        die(&e);
    if (strcmp(argv[2], "--beside") == 0 && argc > 3) {
        for (int i = 4; i < argc; i++)
            print_beside(argv[1], argv[3], argv[i]);
        return 0;
    }
    if (strcmp(argv[2], "--all") == 0) {
        printf("# kdlab results at scale `%s`\n\nEvery number below came from runs this "
               "harness made; the paper columns are the published values.\n\n",
               argv[1]);
        for (int i = 3; i < argc; i++) {
            char path[512], *text;
            snprintf(path, sizeof path, "results/%s/tables/%s.md", argv[1], argv[i]);
            if (file_read_all(path, &text, NULL, &e) == 0) {
                md_print_rebased(text);
                printf("\n");
                free(text);
            } else {
                const struct catalogue_row *t = catalogue_find(&cat, argv[i]);
                printf("### %s\n\n", argv[i]);
                if (!t || !print_partial(argv[1], t))
                    printf("not yet run at this scale (`make %s SCALE=%s`)\n\n", argv[i], argv[1]);
            }
        }
        return 0;
    }
    const struct catalogue_row *t = catalogue_find(&cat, argv[2]);
    if (!t) {
        fprintf(stderr, "configs/catalogue.tsv: error: no table '%s' (fix: see make list)\n",
                argv[2]);
        return 1;
    }
    int n = 0;
    for (int i = 3; i < argc; i++) {
        if (result_check(argv[i], t->folder, argv[1], &e))
            die(&e);
        n = add_result(pts, n, argv[i], t);
    }
    add_extras(pts, n, t, argv[1]);
    if (write_table(argv[1], t, pts, n, &e))
        die(&e);
    return 0;
}
