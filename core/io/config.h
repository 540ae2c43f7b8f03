/* Experiment configuration: YAML (libyaml) -> typed struct experiment, driven by one schema
 * table (config_schema.c: key, type, range, default, doc). Keys are dotted paths ("optim.lr");
 * nested YAML mappings and dotted keys are the same thing. Unknown, duplicate or mistyped keys
 * are errors naming file:line and a fix. Order of precedence, lowest first: schema defaults,
 * the requested scale's built-in presets (data size, epochs), then each file in load order
 * (its base: files first, depth first, in list order), each file's own keys followed by its
 * `scale: {<scale>: {...}}` block, then command-line key=value overrides. So a file's plain
 * keys beat its bases' scale presets, and its own presets beat its plain keys. */
#ifndef KD_CONFIG_H
#define KD_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

struct kd_err;

#define CFG_STR 256    /* max length of string values */
#define CFG_LIST 32    /* max length of list values */
#define CFG_SOURCES 32 /* max distinct YAML files behind one config */

/* Enum keys hold C enums, parsed once by the schema: value i is the i-th of the key's choices
 * in its schema row, so each enum lists its values in that order. */
enum data_set { DATA_FASHION_MNIST, DATA_FOLDER };   /* data.set: fashion-mnist|folder */
enum model_arch { ARCH_VIT, ARCH_TINYVIT };          /* model.arch: vit|tinyvit */
enum model_init { INIT_TORCH, INIT_TIMM };           /* model.weight_init: torch|timm */
enum optim_name { OPTIM_ADAMW, OPTIM_SGD };          /* optim.name: adamw|sgd */
enum lr_schedule { SCHEDULE_COSINE, SCHEDULE_STEP }; /* optim.schedule: cosine|step */

struct run_cfg {
    int seed;            /* base seed of every random stream */
    int seeds[CFG_LIST]; /* seeds to repeat the run over (Make runs one process each) */
    int n_seeds;
    int log_every;  /* steps between progress lines when not on a terminal */
    int ckpt_every; /* epochs between resumable checkpoints (0: only at the end) */
};

struct data_cfg {
    enum data_set set;   /* the reader: Fashion-MNIST IDX files or an image folder */
    char dir[CFG_STR];   /* where the files are */
    int train_n;         /* first N of a seeded shuffle of the train set (0: all) */
    int per_class;       /* N per class instead (0: off); few-shot sets */
    int test_n;          /* first N of the test set (0: all) */
    int crop_pad;        /* random crop after zero padding by this many pixels (0: off) */
    int flip;            /* random horizontal flip */
    float rrc_scale_min; /* random resized crop, area in [this, 1] (0: off) */
    int randaug_n;       /* RandAugment ops per image (0: off) */
    float randaug_m;     /* RandAugment magnitude, 0..10 */
    float randaug_mstd;  /* std of the magnitude's noise (0: fixed magnitude) */
    float erase_prob;    /* random erasing probability (0: off) */
};

struct model_cfg {
    enum model_arch arch;        /* network family */
    int img;                     /* input side, pixels */
    int in_ch;                   /* input channels */
    int classes;                 /* output classes */
    int patch;                   /* ViT patch side */
    int dim;                     /* ViT width */
    int depth;                   /* ViT blocks */
    int heads;                   /* ViT heads */
    float mlp_ratio;             /* hidden = mlp_ratio * dim */
    float drop_path;             /* stochastic depth rate (linear over depth) */
    enum model_init weight_init; /* initial weights: PyTorch's defaults or timm's */
    /* TinyViT: one entry per stage; stage 1 is MBConv, later stages window-attention blocks */
    int stage_dims[CFG_LIST]; /* widths */
    int n_stage_dims;
    int stage_depths[CFG_LIST]; /* blocks per stage */
    int n_stage_depths;
    int stage_heads[CFG_LIST]; /* attention heads (stage 1's entry unused) */
    int n_stage_heads;
    int windows[CFG_LIST]; /* window side, tokens (stage 1's entry unused) */
    int n_windows;
};

struct optim_cfg {
    enum optim_name name;  /* the optimizer */
    float lr;              /* peak learning rate for batch `batch` */
    float min_lr;          /* cosine floor */
    float weight_decay;    /* decoupled; not applied to norms, biases, tokens, embeddings */
    float beta1, beta2;    /* AdamW */
    float momentum;        /* SGD */
    float clip_grad;       /* global grad-norm clip (0: off) */
    float label_smoothing; /* for cross-entropy with labels */
    float layer_decay;     /* layer-wise lr decay of a ViT (BEiT's; 1, or 0 unset: off) */
    int epochs;
    int warmup_epochs;         /* linear warmup, then cosine */
    int batch;                 /* effective batch size */
    enum lr_schedule schedule; /* after warmup: cosine to min_lr, or a step */
    float step_at;             /* step schedule: fraction of the steps after which lr drops */
    float step_gamma;          /* step schedule: factor of the drop */
};

#include "io/config_methods.h"

struct experiment {
    char path[CFG_STR];    /* the YAML this came from */
    char scale[16];        /* smoke | quick | full */
    char kind[CFG_STR];    /* which experiment binary runs it: "train", ... */
    char title[CFG_STR];   /* one line for tables and legends */
    char teacher[CFG_STR]; /* config of the teacher whose checkpoint this run reads, or "" */
    char init[CFG_STR];    /* config whose checkpoint initializes matching tensors, or "" */
    struct run_cfg run;
    struct data_cfg data;
    struct model_cfg model;
    struct optim_cfg optim;
    /* Method sections: struct <method>_cfg <method>; for each of io/config_methods.h. */
#define CONFIG_SECTION(m) struct m##_cfg m;
    CONFIG_METHODS(CONFIG_SECTION)
#undef CONFIG_SECTION
    /* Provenance, not configuration (not in the resolved YAML or the hash): every YAML file
     * read, the file first, then its bases in load order, each once, paths normalized
     * ("configs/teachers/../base/vit.yaml" -> "configs/base/vit.yaml"); for Make rules. */
    char sources[CFG_SOURCES][CFG_STR];
    int n_sources;
};

/* Load path (with its base chain), apply the scale block and the overrides ("key=value").
 * scale NULL means "quick". Returns 0 or KD_ERR_CONFIG / KD_ERR_IO with e naming the file and
 * line (x is then partly filled and must not be used). */
int config_load(struct experiment *x, const char *path, const char *scale, int n_overrides,
                char **overrides, struct kd_err *e);
/* The configs whose results x reads (teacher, soft labels, init, DC-ViT's references), at most
 * CONFIG_MAX_REFS paths into out; returns how many. bin/plan makes them prerequisites and
 * bin/report counts their cost. Add a line there when a key comes to name another config. */
#define CONFIG_MAX_REFS 8
int config_refs_of(const struct experiment *x, const char **out);
/* 0 when x names a kind (the program that runs it) and, when prog (argv[0] or a program name)
 * is given, that kind is prog's own; else KD_ERR_CONFIG (no kind) or KD_ERR_USAGE (another
 * program's config) naming x->path and the program to use. */
int config_check_kind(const struct experiment *x, const char *prog, struct kd_err *e);
/* x's first seed: the first of run.seeds, else run.seed. */
int config_first_seed(const struct experiment *x);
/* The seed of input ref that a run at `seed` reads: that same seed when ref runs it too, so a
 * chain (pretraining, then fine-tuning) stays paired seed by seed and the seeds' spread holds
 * the whole chain's noise; else ref's first seed (a teacher trained once serves every seed). */
int config_paired_seed(const struct experiment *ref, int seed);
/* Every key with its resolved value, as YAML that config_load reads back to the same struct. */
int config_write_resolved(const struct experiment *x, FILE *f);
/* FNV-1a over the resolved YAML but the keys that change no computation (title, run.seeds,
 * run.log_every, run.ckpt_every): two runs with the same hash computed the same thing. */
uint64_t config_hash(const struct experiment *x);
/* The schema as a table: key, type, default, range, doc (for --help-config). */
void config_print_help(FILE *f);
/* Set one key from text as written on a command line ("0.1", "[0, 1, 2]" or "0,1,2" for lists),
 * with the same type and range checks as a file; e names "<command line>". Cross-key checks
 * (model.dim % model.heads, ...) are config_load's, not this function's. Returns 0 or
 * KD_ERR_CONFIG (x unchanged on error for scalars). */
int config_set(struct experiment *x, const char *key, const char *value, struct kd_err *e);
/* The value of key as text (strings raw, lists "[0, 1]", floats shortest exact). Returns 0, or
 * -1 for an unknown key. */
int config_get(const struct experiment *x, const char *key, char *buf, size_t cap);
/* The text of value v of enum key (as a YAML file writes it), for messages: "?" when key is no
 * enum key or v none of its values. */
const char *config_choice_name(const char *key, int v);
/* The schema keys, in schema order: i in [0, config_key_count()). NULL out of range. */
int config_key_count(void);
const char *config_key_name(int i);

#endif
