/* The table catalogue (configs/catalogue.tsv), shared by bin/plan, bin/report and bin/claims. */
#ifndef KD_CATALOGUE_H
#define KD_CATALOGUE_H

struct kd_err;

struct catalogue_row {
    char target[96];  /* make target, e.g. "tinyvit-topk" */
    char paper[32];   /* tinyvit, seed, tinymim, dcvit, kdlab */
    char number[16];  /* the paper's table number, or "-" */
    char verified[8]; /* "yes": that number and the paper.csv values are in papers.md */
    char folder[256]; /* configs folder whose YAML files are the points */
    char metric[64];  /* CSV column reported (last row) */
    char x_key[96];   /* config key for the x axis, or "-" */
    char title[256];
    char source[256];
    char quick[32], full[32];
    char columns[64]; /* optional 12th column: extra report columns "params,macs,cost", or "" */
};

struct catalogue {
    struct catalogue_row rows[128];
    int n;
};

int catalogue_load(struct catalogue *c, const char *path, struct kd_err *e);
const struct catalogue_row *catalogue_find(const struct catalogue *c, const char *target);

#endif
