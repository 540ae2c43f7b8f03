/* YAML -> struct experiment: loads a file and its base: chain with libyaml's document API
 * (line numbers from node marks), flattens nested mappings to dotted keys, applies the scale
 * block and command-line overrides, and writes the resolved config back as flat YAML. Every
 * value goes through the schema codec (config_schema.c), so all errors read the same. */
#include "io/config.h"
#include "io/config_schema.h"
#include "data/dataset.h"
#include "base/err.h"
#include "base/fsio.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILES 64 /* files loaded, counting a base reached twice twice */
#define MAX_DEPTH 16 /* base: nesting */
#define MAX_NEST 8   /* mapping nesting inside one file */
#define MAX_KEYS 512 /* schema entries (MAX_SCHEMA) */
#define CMDLINE "<command line>"

static const char *scale_names[] = {"smoke", "quick", "full"};

/* Each scale's presets, applied over the schema defaults before any file: a config that names
 * no base still runs at its scale's size. The values of configs/base/data_fmnist.yaml's scale
 * block, which every table inherits and which then sets them again. */
static const char *const scale_presets[3][6] = {
    {"data.train_n=2000", "data.test_n=1000", "optim.epochs=1", "optim.warmup_epochs=0",
     "run.seeds=[0]", NULL},
    {"data.train_n=20000", "data.test_n=2000", "optim.epochs=5", NULL},
    {"data.train_n=0", "data.test_n=0", NULL},
};

struct loader {
    struct experiment *x;
    struct experiment scratch; /* where unrequested scale blocks are checked */
    const char *scale;
    yaml_document_t docs[MAX_FILES]; /* kept until the scale blocks are applied */
    char *paths[MAX_FILES];          /* as shown in errors (joined, not canonical) */
    int n_docs;
    int order[MAX_FILES]; /* docs in the order they finished (bases first) */
    int n_order;
    char *stack[MAX_DEPTH]; /* canonical paths of the files being loaded */
    int depth;
    struct cfg_origin origin[MAX_KEYS]; /* where each key of x was last set */
    struct kd_err *e;
};

/* One walk over a mapping scope (a file's body or one scale block). */
struct walk {
    struct loader *L;
    struct experiment *dst;
    yaml_document_t *doc;
    const char *file;
    int root;           /* 1: the file's body, where base: and scale: live */
    int seen[MAX_KEYS]; /* line each key was set on in this scope, 0: not yet */
};

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static int is_group(const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; i < cfg_schema_n; i++)
        if (strncmp(cfg_schema[i].key, prefix, n) == 0 && cfg_schema[i].key[n] == '.')
            return 1;
    return 0;
}

/* A value written where a group of keys belongs ("optim: 3"). */
static int err_group(struct walk *W, const char *full, yaml_node_t *v)
{
    size_t n = strlen(full);
    const char *example = "";
    for (int i = 0; i < cfg_schema_n && !*example; i++)
        if (strncmp(cfg_schema[i].key, full, n) == 0 && cfg_schema[i].key[n] == '.')
            example = cfg_schema[i].key;
    return kd_err_setfix(W->L->e, KD_ERR_CONFIG, W->file, line_of(v),
                         "indent the keys under it, or write them dotted",
                         "'%s' is a group of keys (such as '%s'), not a value", full, example);
}

static int is_null_scalar(const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *t = (const char *)v->data.scalar.value;
    return !*t || strcmp(t, "~") == 0 || strcmp(t, "null") == 0;
}

/* Duplicate keys within one YAML mapping (libyaml keeps both silently). */
static int check_duplicates(struct walk *W, yaml_node_t *map)
{
    yaml_node_pair_t *a = map->data.mapping.pairs.start, *end = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = a; p < end; p++) {
        yaml_node_t *k = yaml_document_get_node(W->doc, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return kd_err_setfix(W->L->e, KD_ERR_CONFIG, W->file, line_of(k),
                                 "write keys as plain names", "a key must be a plain name");
        for (yaml_node_pair_t *q = a; q < p; q++) {
            yaml_node_t *j = yaml_document_get_node(W->doc, q->key);
            if (strcmp((char *)j->data.scalar.value, (char *)k->data.scalar.value) == 0)
                return kd_err_setfix(W->L->e, KD_ERR_CONFIG, W->file, line_of(k),
                                     "keep one of the two", "duplicate key '%s' (lines %d and %d)",
                                     (char *)k->data.scalar.value, line_of(j), line_of(k));
        }
    }
    return 0;
}

/* Apply one leaf value to schema entry k: scalar or sequence, with the per-scope check that
 * no key is set twice (a nested and a dotted spelling of one key count as the same). */
static int apply_value(struct walk *W, int k, const char *full, yaml_node_t *v)
{
    struct kd_err *e = W->L->e;
    struct cfg_origin o = {W->file, line_of(v)};
    if (W->seen[k])
        return kd_err_setfix(e, KD_ERR_CONFIG, W->file, o.line, "keep one of the two",
                             "duplicate key '%s' (lines %d and %d)", full, W->seen[k], o.line);
    W->seen[k] = o.line;
    int rc;
    if (v->type == YAML_MAPPING_NODE) {
        return cfg_err_shape(k, "a mapping", o, e);
    } else if (v->type == YAML_SEQUENCE_NODE) {
        const char *items[CFG_LIST + 1];
        int n = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top && n <= CFG_LIST; it++) {
            yaml_node_t *item = yaml_document_get_node(W->doc, *it);
            if (item->type != YAML_SCALAR_NODE)
                return kd_err_setfix(e, KD_ERR_CONFIG, W->file, line_of(item),
                                     "write a flat list: [1, 2, 3]",
                                     "'%s' takes a list of plain values", full);
            items[n++] = (const char *)item->data.scalar.value;
        }
        rc = cfg_value_set(W->dst, k, "", 0, items, n, o, e);
    } else {
        int quoted = v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        rc = cfg_value_set(W->dst, k, (const char *)v->data.scalar.value, quoted, NULL, -1, o, e);
    }
    if (!rc && W->dst == W->L->x)
        W->L->origin[k] = o;
    return rc;
}

static int walk_mapping(struct walk *W, yaml_node_t *map, const char *prefix, int nest)
{
    if (nest > MAX_NEST)
        return kd_err_set(W->L->e, KD_ERR_CONFIG, W->file, line_of(map),
                          "mappings nest deeper "
                          "than %d levels",
                          MAX_NEST);
    if (check_duplicates(W, map))
        return W->L->e->code;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(W->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(W->doc, p->value);
        const char *name = (const char *)kn->data.scalar.value;
        char full[256];
        if (W->root && !*prefix && (strcmp(name, "base") == 0 || strcmp(name, "scale") == 0))
            continue;
        if (snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", name) >=
            (int)sizeof full)
            return cfg_unknown_key(name, (struct cfg_origin){W->file, line_of(kn)}, W->L->e);
        int k = cfg_find(full), rc = 0;
        if (k >= 0)
            rc = apply_value(W, k, full, v);
        else if (v->type == YAML_MAPPING_NODE &&
                 v->data.mapping.pairs.top > v->data.mapping.pairs.start)
            rc = walk_mapping(W, v, full, nest + 1);
        else if (is_group(full) && !is_null_scalar(v) && v->type != YAML_MAPPING_NODE)
            rc = err_group(W, full, v);
        else if (!is_group(full))
            rc = cfg_unknown_key(full, (struct cfg_origin){W->file, line_of(kn)}, W->L->e);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_scope(struct loader *L, struct experiment *dst, int doc_i, yaml_node_t *map,
                      int root)
{
    struct walk *W = calloc(1, sizeof *W);
    if (!W)
        return kd_err_set(L->e, KD_ERR_NOMEM, NULL, 0, "out of memory");
    W->L = L;
    W->dst = dst;
    W->doc = &L->docs[doc_i];
    W->file = L->paths[doc_i];
    W->root = root;
    int rc = walk_mapping(W, map, "", 0);
    free(W);
    return rc;
}

/* The value node of key `name` in the top-level mapping of doc, or NULL. */
static yaml_node_t *root_value(yaml_document_t *doc, const char *name, yaml_node_t **key)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, name) == 0) {
            if (key)
                *key = k;
            return yaml_document_get_node(doc, p->value);
        }
    }
    return NULL;
}

static int scale_index(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, scale_names[i]) == 0)
            return i;
    return -1;
}

static int err_scale(struct kd_err *e, const char *file, int line, const char *name)
{
    const char *near = NULL;
    for (int i = 0; i < 3; i++)
        if (cfg_levenshtein(name, scale_names[i]) <= 2)
            near = scale_names[i];
    kd_err_set(e, KD_ERR_CONFIG, file, line, "unknown scale '%s'", name);
    if (near)
        return kd_err_fix(e, "did you mean '%s'?", near);
    return kd_err_fix(e, "use smoke, quick or full");
}

/* Check every block of `scale:` in doc i (unrequested ones into scratch); apply none yet. */
static int check_scales(struct loader *L, int i)
{
    yaml_document_t *doc = &L->docs[i];
    yaml_node_t *key = NULL, *sc = root_value(doc, "scale", &key);
    if (!sc || is_null_scalar(sc))
        return 0;
    if (sc->type != YAML_MAPPING_NODE)
        return kd_err_setfix(L->e, KD_ERR_CONFIG, L->paths[i], line_of(sc),
                             "write scale: {smoke: {...}, quick: {...}, full: {...}}",
                             "expected a mapping of scale names for 'scale'");
    struct walk W = {.L = L, .doc = doc, .file = L->paths[i]};
    if (check_duplicates(&W, sc))
        return L->e->code;
    for (yaml_node_pair_t *p = sc->data.mapping.pairs.start; p < sc->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (scale_index((char *)k->data.scalar.value) < 0)
            return err_scale(L->e, L->paths[i], line_of(k), (char *)k->data.scalar.value);
        if (is_null_scalar(v))
            continue;
        if (v->type != YAML_MAPPING_NODE)
            return kd_err_setfix(L->e, KD_ERR_CONFIG, L->paths[i], line_of(v),
                                 "write key: value pairs under the scale name",
                                 "expected a mapping of overrides for 'scale.%s'",
                                 (char *)k->data.scalar.value);
        if (walk_scope(L, &L->scratch, i, v, 0))
            return L->e->code;
    }
    return 0;
}

/* Apply doc i's block for the requested scale, right after doc i's own keys: a file's plain
 * keys then override the scale presets of its bases, and its own presets override it. */
static int apply_scale_of(struct loader *L, int i)
{
    yaml_node_t *block = root_value(&L->docs[i], "scale", NULL);
    if (!block || block->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = block->data.mapping.pairs.start; p < block->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&L->docs[i], p->key);
        yaml_node_t *v = yaml_document_get_node(&L->docs[i], p->value);
        if (strcmp((char *)k->data.scalar.value, L->scale) == 0 && v->type == YAML_MAPPING_NODE &&
            walk_scope(L, L->x, i, v, 0))
            return L->e->code;
    }
    return 0;
}

/* The first line up to `upto` (1-based) whose indentation holds a tab, or 0: libyaml then
 * reports "cannot start any token" or similar, which does not say tab. */
static int tab_line(const char *text, size_t len, int upto)
{
    int line = 1, lead = 1;
    for (size_t i = 0; i < len && line <= upto; i++) {
        if (text[i] == '\n') {
            line++;
            lead = 1;
        } else if (text[i] == '\t' && lead) {
            return line;
        } else if (text[i] != ' ') {
            lead = 0;
        }
    }
    return 0;
}

/* Parse text (one YAML document) into doc. Returns 0 or KD_ERR_CONFIG with file:line. */
static int parse_yaml(yaml_document_t *doc, const char *text, size_t len, const char *path,
                      struct kd_err *e)
{
    yaml_parser_t p;
    yaml_document_t extra;
    int rc = 0;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc))
        goto syntax;
    if (!yaml_parser_load(&p, &extra)) {
        yaml_document_delete(doc);
        goto syntax;
    }
    if (yaml_document_get_root_node(&extra)) {
        rc = kd_err_setfix(e, KD_ERR_CONFIG, path, (int)extra.start_mark.line + 1,
                           "remove the '---' and merge the documents",
                           "a config holds one YAML document, this file has more");
        yaml_document_delete(doc);
    }
    yaml_document_delete(&extra);
    yaml_parser_delete(&p);
    return rc;
syntax:
    rc = tab_line(text, len, (int)p.problem_mark.line + 1);
    if (rc > 0) {
        rc = kd_err_setfix(e, KD_ERR_CONFIG, path, rc, "indent with spaces: replace the tab",
                           "YAML syntax error: a tab indents this line (YAML indents with "
                           "spaces only)");
        yaml_parser_delete(&p);
        return rc;
    }
    rc = kd_err_set(e, KD_ERR_CONFIG, path, (int)p.problem_mark.line + 1,
                    "YAML syntax error: %s%s%s", p.problem ? p.problem : "unknown",
                    p.context ? " " : "", p.context ? p.context : "");
    kd_err_fix(e, "check indentation, colons and quotes near this line");
    yaml_parser_delete(&p);
    return rc;
}

static int load_file(struct loader *L, const char *path, const char *from, int from_line);

/* Drop "." and "dir/.." components in place, lexically ("a/b/../c" -> "a/c"). */
static void path_normalize(char *p)
{
    char *parts[256], *save = NULL, buf[PATH_MAX];
    int n = 0, abs = p[0] == '/';
    snprintf(buf, sizeof buf, "%s", p);
    for (char *t = strtok_r(buf, "/", &save); t && n < 256; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0)
            n--;
        else if (!(strcmp(t, "..") == 0 && abs))
            parts[n++] = t;
    }
    size_t len = 0;
    p[0] = '\0';
    for (int i = 0; i < n; i++)
        len += sprintf(p + len, "%s%s", i || abs ? "/" : "", parts[i]);
    if (len == 0)
        strcpy(p, abs ? "/" : ".");
}

/* Record path among x->sources (once). */
static int add_source(struct loader *L, const char *path, const char *from, int from_line)
{
    struct experiment *x = L->x;
    for (int i = 0; i < x->n_sources; i++)
        if (strcmp(x->sources[i], path) == 0)
            return 0;
    if (x->n_sources == CFG_SOURCES || strlen(path) >= CFG_STR)
        return kd_err_set(L->e, KD_ERR_CONFIG, from ? from : path, from_line,
                          "more than %d config files, or a path over %d bytes", CFG_SOURCES,
                          CFG_STR - 1);
    snprintf(x->sources[x->n_sources++], CFG_STR, "%s", path);
    return 0;
}

static int load_bases(struct loader *L, int i)
{
    yaml_document_t *doc = &L->docs[i];
    yaml_node_t *b = root_value(doc, "base", NULL);
    if (!b || is_null_scalar(b))
        return 0;
    const char *file = L->paths[i];
    yaml_node_item_t one = 0, *start = &one, *top = &one + 1;
    if (b->type == YAML_SEQUENCE_NODE) {
        start = b->data.sequence.items.start;
        top = b->data.sequence.items.top;
    } else if (b->type != YAML_SCALAR_NODE)
        return kd_err_setfix(L->e, KD_ERR_CONFIG, file, line_of(b),
                             "write base: other.yaml or "
                             "base: [a.yaml, b.yaml]",
                             "expected a path or a list of paths for "
                             "'base'");
    const char *slash = strrchr(file, '/');
    int dir_len = slash ? (int)(slash - file + 1) : 0;
    for (yaml_node_item_t *it = start; it < top; it++) {
        yaml_node_t *n = it == &one ? b : yaml_document_get_node(doc, *it);
        if (n->type != YAML_SCALAR_NODE || !*n->data.scalar.value)
            return kd_err_setfix(L->e, KD_ERR_CONFIG, file, line_of(n), "write a file name",
                                 "expected a path in 'base'");
        const char *name = (const char *)n->data.scalar.value;
        char joined[PATH_MAX];
        if (snprintf(joined, sizeof joined, "%.*s%s", name[0] == '/' ? 0 : dir_len, file, name) >=
            (int)sizeof joined)
            return kd_err_set(L->e, KD_ERR_CONFIG, file, line_of(n), "base path too long");
        path_normalize(joined);
        if (load_file(L, joined, file, line_of(n)))
            return L->e->code;
    }
    return 0;
}

static int check_cycle(struct loader *L, const char *real, const char *from, int from_line)
{
    for (int d = 0; d < L->depth; d++) {
        if (strcmp(L->stack[d], real) != 0)
            continue;
        char chain[2048] = "";
        size_t n = 0;
        for (int j = d; j < L->depth && n < sizeof chain; j++) {
            const char *s = strrchr(L->stack[j], '/');
            n += snprintf(chain + n, sizeof chain - n, "%.100s -> ", s ? s + 1 : L->stack[j]);
        }
        const char *s = strrchr(real, '/');
        if (n < sizeof chain)
            snprintf(chain + n, sizeof chain - n, "%.100s", s ? s + 1 : real);
        return kd_err_setfix(L->e, KD_ERR_CONFIG, from, from_line,
                             "remove one base: entry of the loop", "base cycle: %s", chain);
    }
    if (L->depth >= MAX_DEPTH || L->n_docs >= MAX_FILES)
        return kd_err_set(L->e, KD_ERR_CONFIG, from, from_line,
                          "more than %d nested base files or %d files in all", MAX_DEPTH,
                          MAX_FILES);
    return 0;
}

/* Load path's bases (depth first, in list order), then path's own keys into L->x. */
static int load_file(struct loader *L, const char *path, const char *from, int from_line)
{
    char real[PATH_MAX], *text = NULL;
    size_t len = 0;
    if (!realpath(path, real) || file_read_all(path, &text, &len, L->e)) {
        int err = errno;
        if (!from)
            return kd_err_setfix(L->e, KD_ERR_IO, path, 0,
                                 "check the path; `make list` shows the tables and their folders",
                                 "cannot open the config: %s", strerror(err));
        return kd_err_setfix(L->e, KD_ERR_CONFIG, from, from_line,
                             "base paths are relative to the file that names them",
                             "cannot open base file '%s': %s", path, strerror(err));
    }
    int rc = check_cycle(L, real, from, from_line);
    rc = rc ? rc : add_source(L, path, from, from_line);
    int i = L->n_docs;
    if (!rc)
        rc = parse_yaml(&L->docs[i], text, len, path, L->e);
    free(text);
    if (rc)
        return rc;
    L->paths[i] = strdup(path);
    L->n_docs++;
    L->stack[L->depth++] = strdup(real);
    yaml_node_t *root = yaml_document_get_root_node(&L->docs[i]);
    if (root && root->type != YAML_MAPPING_NODE && !is_null_scalar(root))
        rc = kd_err_setfix(L->e, KD_ERR_CONFIG, path, line_of(root), "write key: value lines",
                           "expected key: value pairs at the top level");
    else if (root && root->type == YAML_MAPPING_NODE) {
        struct walk W = {.L = L, .doc = &L->docs[i], .file = path};
        rc = check_duplicates(&W, root);
        rc = rc ? rc : load_bases(L, i);
        rc = rc ? rc : walk_scope(L, L->x, i, root, 1);
        rc = rc ? rc : check_scales(L, i);
        rc = rc ? rc : apply_scale_of(L, i);
    }
    free(L->stack[--L->depth]);
    if (!rc)
        L->order[L->n_order++] = i;
    return rc;
}

static int apply_override(struct loader *L, const char *arg)
{
    const char *eq = strchr(arg, '=');
    struct cfg_origin o = {CMDLINE, 0};
    char key[256];
    if (!eq || eq == arg)
        return kd_err_setfix(L->e, KD_ERR_CONFIG, CMDLINE, 0, "write key=value",
                             "expected key=value, got '%s'", arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
    int k = cfg_find(key);
    if (k < 0)
        return cfg_unknown_key(key, o, L->e);
    if (cfg_value_parse(L->x, k, eq + 1, o, L->e))
        return L->e->code;
    L->origin[k] = o;
    return 0;
}

/* The built-in presets of the requested scale (scale_presets), as the lowest layer above the
 * schema defaults. */
static int apply_presets(struct loader *L, int scale)
{
    for (const char *const *p = scale_presets[scale]; *p; p++) {
        const char *eq = strchr(*p, '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - *p), *p);
        if (cfg_value_parse(L->x, cfg_find(key), eq + 1, L->origin[cfg_find(key)], L->e))
            return L->e->code;
    }
    return 0;
}

/* Checks across keys, named at the place the second key was set. */
static int check_cross(struct loader *L)
{
    struct experiment *x = L->x;
    struct cfg_origin o;
    if (x->model.dim % x->model.heads) {
        o = L->origin[cfg_find("model.heads")];
        return kd_err_setfix(L->e, KD_ERR_CONFIG, o.file, o.line, "pick heads that divide dim",
                             "model.dim = %d is not divisible by model.heads = %d", x->model.dim,
                             x->model.heads);
    }
    if (x->model.img % x->model.patch) {
        o = L->origin[cfg_find("model.patch")];
        return kd_err_setfix(L->e, KD_ERR_CONFIG, o.file, o.line, "pick a patch that divides img",
                             "model.img = %d is not divisible by model.patch = %d", x->model.img,
                             x->model.patch);
    }
    if (x->optim.min_lr > x->optim.lr) {
        o = L->origin[cfg_find("optim.min_lr")];
        return kd_err_setfix(L->e, KD_ERR_CONFIG, o.file, o.line, "lower optim.min_lr",
                             "optim.min_lr = %g is above optim.lr = %g", (double)x->optim.min_lr,
                             (double)x->optim.lr);
    }
    if (x->optim.layer_decay > 0 && x->optim.layer_decay < 1 && x->model.arch != ARCH_VIT) {
        o = L->origin[cfg_find("optim.layer_decay")];
        return kd_err_setfix(L->e, KD_ERR_CONFIG, o.file, o.line, "set optim.layer_decay: 1",
                             "optim.layer_decay = %g needs model.arch vit (layer ids of its "
                             "blocks), not %s",
                             (double)x->optim.layer_decay,
                             config_choice_name("model.arch", x->model.arch));
    }
    long px = (long)x->model.img * x->model.img * x->model.in_ch;
    int strong = x->data.rrc_scale_min > 0 || x->data.randaug_n > 0 || x->data.erase_prob > 0;
    if (strong && px > AUGMENT_MAX_PIXELS) {
        o = L->origin[cfg_find("model.img")];
        return kd_err_setfix(L->e, KD_ERR_CONFIG, o.file, o.line,
                             "turn off data.rrc_scale_min, data.randaug_n and data.erase_prob",
                             "images of %ld values exceed the %d that RandAugment, erasing and "
                             "the resized crop handle",
                             px, AUGMENT_MAX_PIXELS);
    }
    return 0;
}

int config_load(struct experiment *x, const char *path, const char *scale, int n_overrides,
                char **overrides, struct kd_err *e)
{
    struct loader *L = calloc(1, sizeof *L);
    if (!L)
        return kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    KD_ASSERT(cfg_schema_n <= MAX_KEYS);
    L->x = x;
    L->e = e;
    L->scale = scale ? scale : "quick";
    for (int k = 0; k < cfg_schema_n; k++)
        L->origin[k] = (struct cfg_origin){path, 0};
    int rc = cfg_defaults(x, e);
    if (!rc && scale_index(L->scale) < 0)
        rc = err_scale(e, CMDLINE, 0, L->scale);
    rc = rc ? rc : apply_presets(L, scale_index(L->scale));
    rc = rc ? rc : load_file(L, path, NULL, 0);
    for (int i = 0; !rc && i < n_overrides; i++)
        rc = apply_override(L, overrides[i]);
    rc = rc ? rc : check_cross(L);
    if (!rc) {
        snprintf(x->path, sizeof x->path, "%s", path);
        snprintf(x->scale, sizeof x->scale, "%s", L->scale);
    }
    for (int i = 0; i < L->n_docs; i++) {
        yaml_document_delete(&L->docs[i]);
        free(L->paths[i]);
    }
    free(L);
    return rc;
}

int config_set(struct experiment *x, const char *key, const char *value, struct kd_err *e)
{
    struct cfg_origin o = {CMDLINE, 0};
    int k = cfg_find(key);
    if (k < 0)
        return cfg_unknown_key(key, o, e);
    return cfg_value_parse(x, k, value, o, e);
}

int config_get(const struct experiment *x, const char *key, char *buf, size_t cap)
{
    int k = cfg_find(key);
    if (k < 0 || cap == 0)
        return -1;
    if (cfg_schema[k].type == CFG_STRING)
        snprintf(buf, cap, "%s", (const char *)x + cfg_schema[k].off);
    else
        cfg_value_format(x, k, buf, cap);
    return 0;
}

/* "key: value\n" of schema entry k; the one formatter behind the resolved file and its hash. */
static int resolved_line(const struct experiment *x, int k, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s: ", cfg_schema[k].key);
    n += cfg_value_format(x, k, buf + n, cap - n);
    return n + snprintf(buf + n, cap - n, "\n");
}

int config_write_resolved(const struct experiment *x, FILE *f)
{
    char line[2048];
    for (int k = 0; k < cfg_schema_n; k++) {
        resolved_line(x, k, line, sizeof line);
        if (fputs(line, f) == EOF)
            return KD_ERR_IO;
    }
    return 0;
}

/* Keys that do not change what a run computes: a title, which seeds a table repeats over (each
 * run is one seed, run.seed), how often it logs and leaves a resume point. */
static int hash_ignores(const char *key)
{
    static const char *const ignored[] = {"title", "run.seeds", "run.log_every", "run.ckpt_every"};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (strcmp(key, ignored[i]) == 0)
            return 1;
    return 0;
}

uint64_t config_hash(const struct experiment *x)
{
    uint64_t h = 0xcbf29ce484222325ull;
    char line[2048];
    for (int k = 0; k < cfg_schema_n; k++) {
        if (hash_ignores(cfg_schema[k].key))
            continue;
        resolved_line(x, k, line, sizeof line);
        for (const unsigned char *p = (const unsigned char *)line; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
    }
    return h;
}

int config_check_kind(const struct experiment *x, const char *prog, struct kd_err *e)
{
    if (!x->kind[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "copy the 'base:' and 'kind:' lines of another config of its "
                             "folder, or write 'kind: train' and a 'model:' block as "
                             "configs/teachers/vit_s.yaml does",
                             "names no 'kind' (the program that runs it), nor a base that does");
    const char *self = prog ? strrchr(prog, '/') : NULL;
    self = self ? self + 1 : prog;
    if (!self || strcmp(self, x->kind) == 0)
        return 0;
    kd_err_set(e, KD_ERR_USAGE, x->path, 0, "is kind '%s', a config of bin/%s, not of %s", x->kind,
               x->kind, prog);
    return kd_err_fix(e, "run it with bin/%s (make runs each config with its own program)",
                      x->kind);
}

int config_first_seed(const struct experiment *x)
{
    return x->run.n_seeds > 0 ? x->run.seeds[0] : x->run.seed;
}

int config_paired_seed(const struct experiment *ref, int seed)
{
    for (int i = 0; i < ref->run.n_seeds; i++)
        if (ref->run.seeds[i] == seed)
            return seed;
    return config_first_seed(ref);
}

int config_refs_of(const struct experiment *x, const char **out)
{
    int n = 0;
    if (x->teacher[0] && !x->interop.teacher_weights[0]) /* else weights from that file */
        out[n++] = x->teacher;
    if (x->tinyvit.softlabels[0])
        out[n++] = x->tinyvit.softlabels;
    if (x->init[0])
        out[n++] = x->init;
    return n + dcvit_refs_of(x, out + n);
}
