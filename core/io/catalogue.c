/* Reading configs/catalogue.tsv: tab-separated, '#' comments, one table per line (11 columns,
 * or 12 with the optional extra report columns). */
#include "io/catalogue.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

#define COPY(dst, src) snprintf(dst, sizeof dst, "%s", src)

int catalogue_load(struct catalogue *c, const char *path, struct kd_err *e)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;
    c->n = 0;
    if (!f)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot open the table catalogue");
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *col[12];
        int n = 0;
        for (char *p = line; n < 12; n++) {
            col[n] = p;
            p = strpbrk(p, "\t\r\n");
            if (!p || *p != '\t') {
                if (p)
                    *p = '\0';
                n++;
                break;
            }
            *p++ = '\0';
        }
        if ((n != 11 && n != 12) || c->n == 128) {
            fclose(f);
            return kd_err_setfix(e, KD_ERR_FORMAT, path, lineno,
                                 "give 11 tab-separated columns (12 with extra report columns), "
                                 "as the header says",
                                 "has %d columns", n);
        }
        struct catalogue_row *r = &c->rows[c->n++];
        COPY(r->target, col[0]);
        COPY(r->paper, col[1]);
        COPY(r->number, col[2]);
        COPY(r->verified, col[3]);
        COPY(r->folder, col[4]);
        COPY(r->metric, col[5]);
        COPY(r->x_key, col[6]);
        COPY(r->title, col[7]);
        COPY(r->source, col[8]);
        COPY(r->quick, col[9]);
        COPY(r->full, col[10]);
        COPY(r->columns, n == 12 && strcmp(col[11], "-") != 0 ? col[11] : "");
    }
    fclose(f);
    return 0;
}

const struct catalogue_row *catalogue_find(const struct catalogue *c, const char *target)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->rows[i].target, target) == 0)
            return &c->rows[i];
    return NULL;
}
