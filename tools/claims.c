/* claims: each claim of the papers, checked against the table summaries of one scale.
 *   bin/claims SCALE configs/claims.tsv
 * A claim line: id <TAB> table target <TAB> statement <TAB> test, where test is one of
 *   "A > B" / "A < B"   point A's mean beats (is below) point B's
 *   "A < B COL"         the same on another column of the summary (e.g. wall_s, cost_s)
 *   "A ~ B T"           A's mean is within T of B's (a match, in the metric's units)
 *   "A best"            A has the highest mean of its table
 *   "A best B C"        A's mean beats each of the points named (a table that holds points
 *                       the claim is not about, e.g. a variant added beside the paper's)
 *   "increasing"        the mean rises with the table's x value
 *   "increasing A B C"  the mean rises along the points named, in that order (a table whose x
 *                       value does not order all of its points, e.g. the zoo's widths and depths)
 * Verdicts weigh the seeds' noise: a difference of two means counts only beyond its margin,
 * t(0.975, n - 1) standard errors of the difference (n the smaller seed count), so "A > B" holds
 * when A - B is above the margin, does not hold when below minus the margin, and is inconclusive
 * in between or when a point has one seed. Summary columns other than the mean (times, costs)
 * are single measurements and are compared as they are.
 * Prints holds / does not hold / inconclusive / not yet run, with the numbers behind it. */
#include "kd.h"
#include "io/csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct row {
    char point[128];
    double x, mean, sd;
    int n; /* seeds */
};

enum verdict { NOT_RUN = -1, FAILS = 0, HOLDS = 1, INCONCLUSIVE = 2 };

/* Two-sided 95% quantile of Student's t with df degrees of freedom. */
static double t975(int df)
{
    static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571,
                               2.447, 2.365,  2.306, 2.262, 2.228};
    return df <= 10 ? t[df] : df <= 30 ? 2.09 : 1.96;
}

/* The margin a difference of a's and b's means must pass; 0 when either has one seed. */
static double margin(const struct row *a, const struct row *b)
{
    if (a->n < 2 || b->n < 2)
        return 0;
    int n = a->n < b->n ? a->n : b->n;
    return t975(n - 1) * sqrt(a->sd * a->sd / a->n + b->sd * b->sd / b->n);
}

/* "a - b > 0" judged with its margin. */
static enum verdict above(const struct row *a, const struct row *b)
{
    double d = a->mean - b->mean, m = margin(a, b);
    if (a->n < 2 || b->n < 2)
        return INCONCLUSIVE;
    return d > m ? HOLDS : d < -m ? FAILS : INCONCLUSIVE;
}

/* Combine pairwise verdicts: any failure fails, all holding holds, else inconclusive. */
static enum verdict all_of(enum verdict acc, enum verdict v)
{
    if (acc == FAILS || v == FAILS)
        return FAILS;
    return acc == HOLDS && v == HOLDS ? HOLDS : INCONCLUSIVE;
}

/* " (n seeds)" or " (one seed: no spread to judge by)" for the smaller of two points. */
static const char *seeds_note(const struct row *a, const struct row *b, char *buf, size_t cap)
{
    int n = a->n < b->n ? a->n : b->n;
    if (n < 2)
        return " (one seed: no spread to judge by)";
    snprintf(buf, cap, " (%d seeds)", n);
    return buf;
}

/* Read results/SCALE/tables/TARGET.csv (point,title,x,n_seeds,mean,std,...). */
static int summary_read(const char *scale, const char *target, struct row *rows, int cap)
{
    char path[512], line[2048];
    snprintf(path, sizeof path, "results/%s/tables/%s.csv", scale, target);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (!f)
        return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < cap && fgets(line, sizeof line, f)) {
        char *title = strchr(line, '"'), *after = title ? strchr(title + 1, '"') : NULL;
        if (!after)
            continue;
        *strchr(line, ',') = '\0';
        snprintf(rows[n].point, sizeof rows[n].point, "%s", line);
        if (sscanf(after + 1, ",%lf,%d,%lf,%lf", &rows[n].x, &rows[n].n, &rows[n].mean,
                   &rows[n].sd) == 4)
            n++;
    }
    fclose(f);
    return n;
}

static const struct row *find(const struct row *rows, int n, const char *point)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].point, point) == 0)
            return &rows[i];
    return NULL;
}

/* Column col of point's row in the table summary, or NaN. */
static double summary_col(const char *scale, const char *target, const char *point, const char *col)
{
    char path[512];
    struct csv_table t;
    struct kd_err e;
    double v = NAN;
    snprintf(path, sizeof path, "results/%s/tables/%s.csv", scale, target);
    if (csv_read(&t, path, &e))
        return NAN;
    for (int r = 0; r < t.n_rows; r++)
        if (strcmp(csv_cell(&t, r, csv_col(&t, "point")), point) == 0)
            v = csv_num(&t, r, csv_col(&t, col));
    csv_table_free(&t);
    return v;
}

static int cmp_x(const void *a, const void *b)
{
    double d = ((const struct row *)a)->x - ((const struct row *)b)->x;
    return (d > 0) - (d < 0);
}

/* "increasing": each point above the one before it in x (sorted first) or in rows' order. */
static enum verdict check_increasing(struct row *rows, int n, int sort, char *why, size_t cap)
{
    enum verdict v = HOLDS;
    char note[32];
    if (sort)
        qsort(rows, n, sizeof *rows, cmp_x);
    why[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            v = all_of(v, above(&rows[i], &rows[i - 1]));
        snprintf(why + strlen(why), cap - strlen(why), "%s%s %.2f ± %.2f", i ? " < " : "",
                 rows[i].point, rows[i].mean, rows[i].sd);
    }
    if (n > 1)
        snprintf(why + strlen(why), cap - strlen(why), "%s",
                 seeds_note(&rows[0], &rows[n - 1], note, sizeof note));
    return v;
}

/* "increasing A B C": the named points, in that order, each above the one before. */
static enum verdict check_listed(const struct row *rows, int n, const char *names, char *why,
                                 size_t cap)
{
    struct row sel[64];
    char name[128];
    int k = 0, used;
    while (k < 64 && sscanf(names, "%127s%n", name, &used) == 1) {
        const struct row *r = find(rows, n, name);
        if (!r) {
            snprintf(why, cap, "point '%s' not in the table yet", name);
            return NOT_RUN;
        }
        sel[k++] = *r;
        names += used;
    }
    return check_increasing(sel, k, 0, why, cap);
}

/* "A best [B C ...]": A above every other point, or above each point named (names: the list,
 * "" for every point). */
static enum verdict check_best(const struct row *rows, int n, const struct row *a,
                               const char *names, char *why, size_t cap)
{
    enum verdict v = HOLDS;
    const struct row *top = a, *last = &rows[n - 1];
    char note[32], name[128];
    int used;
    for (int i = 0; !*names && i < n; i++) {
        if (&rows[i] == a)
            continue;
        v = all_of(v, above(a, &rows[i]));
        top = rows[i].mean > top->mean ? &rows[i] : top;
    }
    while (sscanf(names, "%127s%n", name, &used) == 1) {
        const struct row *r = find(rows, n, name);
        if (!r) {
            snprintf(why, cap, "point '%s' not in the table yet", name);
            return NOT_RUN;
        }
        v = all_of(v, above(a, r));
        top = r->mean > top->mean ? r : top;
        last = r;
        names += used;
    }
    snprintf(why, cap, "%s %.2f ± %.2f; highest %s %.2f%s", a->point, a->mean, a->sd, top->point,
             top->mean, seeds_note(a, top == a ? last : top, note, sizeof note));
    return v;
}

/* "A ~ B T": |A - B| within T, margin included. */
static enum verdict check_match(const struct row *a, const struct row *b, double tol, char *why,
                                size_t cap)
{
    double d = fabs(a->mean - b->mean), m = margin(a, b);
    char note[32];
    snprintf(why, cap, "%s %.2f vs %s %.2f: differ by %.2f ± %.2f, tolerance %g%s", a->point,
             a->mean, b->point, b->mean, d, m, tol, seeds_note(a, b, note, sizeof note));
    if (a->n < 2 || b->n < 2)
        return INCONCLUSIVE;
    return d + m <= tol ? HOLDS : d - m > tol ? FAILS : INCONCLUSIVE;
}

/* A verdict and, in why, the numbers behind it. */
static enum verdict check(const char *scale, const char *target, const char *test, char *why,
                          size_t cap)
{
    struct row rows[64];
    int n = summary_read(scale, target, rows, 64);
    char a[128], op[8], b[128], col[64] = "", note[32];
    if (n <= 0) {
        snprintf(why, cap, "no results/%s/tables/%s.csv: run `make %s SCALE=%s`", scale, target,
                 target, scale);
        return NOT_RUN;
    }
    if (strcmp(test, "increasing") == 0)
        return check_increasing(rows, n, 1, why, cap);
    if (strncmp(test, "increasing ", 11) == 0)
        return check_listed(rows, n, test + 11, why, cap);
    int k = sscanf(test, "%127s %7s %127s %63s", a, op, b, col);
    const struct row *ra = find(rows, n, a);
    if (!ra) {
        snprintf(why, cap, "point '%s' not in the table yet", a);
        return NOT_RUN;
    }
    int after = 0;
    sscanf(test, "%*s %*s%n", &after);
    if (k >= 2 && strcmp(op, "best") == 0)
        return check_best(rows, n, ra, test + after + strspn(test + after, " \t"), why, cap);
    const struct row *rb = k >= 3 ? find(rows, n, b) : NULL;
    if (!rb) {
        snprintf(why, cap, "point '%s' not in the table yet", k >= 3 ? b : "?");
        return NOT_RUN;
    }
    if (strcmp(op, "~") == 0)
        return check_match(ra, rb, atof(col), why, cap);
    if (k == 4) {
        double va = summary_col(scale, target, a, col), vb = summary_col(scale, target, b, col);
        snprintf(why, cap, "%s %s %.4g vs %s %.4g (single measurements)", col, a, va, b, vb);
        if (isnan(va) || isnan(vb))
            return NOT_RUN;
        return (strcmp(op, ">") == 0 ? va > vb : va < vb) ? HOLDS : FAILS;
    }
    int gt = strcmp(op, ">") == 0;
    snprintf(why, cap, "%s %.2f ± %.2f vs %s %.2f ± %.2f: difference %+.2f, margin %.2f%s", a,
             ra->mean, ra->sd, b, rb->mean, rb->sd, ra->mean - rb->mean, margin(ra, rb),
             seeds_note(ra, rb, note, sizeof note));
    return gt ? above(ra, rb) : above(rb, ra);
}

/* 1 when test is one of the forms `check` knows: "increasing", "A best [B ...]", "A > B",
 * "A < B", "A > B COLUMN", "A < B COLUMN", "A ~ B TOLERANCE" (TOLERANCE a number). */
static int test_valid(const char *test)
{
    char a[128], op[8], b[128], col[64], extra[8];
    int k = sscanf(test, "%127s %7s %127s %63s %7s", a, op, b, col, extra);
    if (k == 1)
        return strcmp(a, "increasing") == 0;
    if (strcmp(a, "increasing") == 0)
        return 1;
    if (k >= 2 && strcmp(op, "best") == 0)
        return 1;
    if (k == 2)
        return 0;
    if (strcmp(op, "~") == 0) {
        char *end;
        return k == 4 && (strtod(col, &end), end != col && *end == '\0');
    }
    return (k == 3 || k == 4) && (strcmp(op, ">") == 0 || strcmp(op, "<") == 0);
}

/* The columns of a claims line into col (id, table, statement, test): 0, 1 for a comment or a
 * blank line, or -1 after printing path:lineno's error (not 4 columns, a test `check` does
 * not know). */
static int claim_columns(char *line, const char *path, int lineno, char *col[4])
{
    if (line[0] == '#' || line[0] == '\n')
        return 1;
    int n = 0;
    for (char *t = strtok(line, "\t\r\n"); t && n < 4; t = strtok(NULL, "\t\r\n"))
        col[n++] = t;
    if (n != 4) {
        fprintf(stderr,
                "%s:%d: error: a claim needs 4 tab-separated columns (fix: id, "
                "table, statement, test)\n",
                path, lineno);
        return -1;
    }
    if (!test_valid(col[3])) {
        fprintf(stderr,
                "%s:%d: error: test '%s' is not one the checker knows (fix: "
                "'increasing [A B ...]', 'A best [B ...]', 'A > B [COLUMN]', "
                "'A < B [COLUMN]' or "
                "'A ~ B TOLERANCE')\n",
                path, lineno, col[3]);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    kd_help_exit(argc, argv, "SCALE CLAIMS.tsv [--markdown]",
                 "Checks each claim of the papers against results/SCALE/tables/*.csv (make "
                 "claims);\n--markdown: as a table (results/SCALE/CLAIMS.md, make report).\n");
    int md = argc == 4 && strcmp(argv[3], "--markdown") == 0;
    if (argc != 3 && !md) {
        fprintf(stderr, "usage: %s SCALE CLAIMS.tsv [--markdown]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open the claims file\n", argv[2]);
        return 1;
    }
    char line[2048], why[1024];
    int counts[4] = {0, 0, 0, 0}, lineno = 0;
    static const char *verdict[] = {"not yet run", "does not hold", "holds", "inconclusive"};
    if (md)
        printf("## Claims at scale %s\n\nEach claim of the papers, tested on results/%s/tables/"
               "*.csv: holds or does not hold when the difference is beyond the seeds' 95%% "
               "margin, inconclusive inside it or with one seed.\n\n| verdict | claim | "
               "paper | test | ours |\n|---|---|---|---|---|\n",
               argv[1], argv[1]);
    else
        printf("claims at scale %s (from results/%s/tables/*.csv)\n", argv[1], argv[1]);
    while (fgets(line, sizeof line, f)) {
        char *col[4];
        int rc = claim_columns(line, argv[2], ++lineno, col);
        if (rc < 0)
            return 1;
        if (rc > 0)
            continue;
        enum verdict v = check(argv[1], col[1], col[3], why, sizeof why);
        counts[v + 1]++;
        if (md)
            printf("| %s | %s (`make %s`) | %s | `%s` | %s |\n", verdict[v + 1], col[0], col[1],
                   col[2], col[3], why);
        else
            printf("%-14s %-24s %s\n    %s (%s)\n", verdict[v + 1], col[0], col[2], col[3], why);
    }
    fclose(f);
    printf("%s%d hold, %d do not hold, %d inconclusive, %d not yet run\n", md ? "\n" : "",
           counts[2], counts[1], counts[3], counts[0]);
    return 0;
}
