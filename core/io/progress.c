/* Progress lines (ggml's bar with ETA, darknet's "hours left"): each line is formatted into a
 * stack buffer and written with one fputs, so the bar does not flicker and nothing allocates.
 * The state is one static struct: a process shows one bar at a time on its one stderr. */
#include "io/progress.h"
#include "base/runtime.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 20
#define REDRAW_SECONDS 0.25

static struct {
    FILE *f;    /* NULL: stderr */
    int width;  /* terminal columns; 0: plain lines */
    int forced; /* progress_output was called: keep f and width */
    int active; /* between progress_begin and progress_end */
    int drawn;  /* a bar is on screen and needs clearing before a line */
    char label[256];
    long total, done;        /* steps in all; finished before this process */
    long at;                 /* steps finished so far, done included */
    int log_every;           /* plain lines: steps between them (0: none) */
    double t0;               /* monotonic seconds at progress_begin */
    double t_win;            /* start of the window that loss and img/s average over */
    double t_draw;           /* last redraw, for the rate limit */
    double loss_sum, images; /* over the window */
    long loss_n;
} P;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *progress_fmt_count(char *out, size_t cap, double n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%.0f", fabs(n) < 1e18 ? fabs(n) : 0.0);
    size_t k = 0;
    if (n <= -0.5 && k + 1 < cap)
        out[k++] = '-';
    for (int i = 0; i < len && k + 1 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0 && k + 2 < cap)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    if (cap)
        out[k < cap ? k : cap - 1] = '\0';
    return out;
}

char *progress_fmt_eta(char *out, size_t cap, double seconds)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e8) {
        snprintf(out, cap, "?");
        return out;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, cap, "%ld:%02ld", s / 60, s % 60);
    return out;
}

void progress_output(FILE *f, int width)
{
    P.f = f;
    P.width = width;
    P.forced = f != NULL;
}

/* Columns of the terminal on stderr, or 0 for plain lines: stderr is no terminal, they are
 * asked for, or a parallel make runs other experiments on the same terminal (two bars redrawn
 * on one line would garble both). */
static int terminal_width(void)
{
    const char *mode = getenv("KD_PROGRESS"), *term = getenv("TERM");
    if (!isatty(STDERR_FILENO) || (mode && strcmp(mode, "plain") == 0) ||
        (term && strcmp(term, "dumb") == 0) || kd_make_parallel(getenv("MAKEFLAGS")))
        return 0;
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void progress_begin(const char *label, long total, long done, int log_every)
{
    if (!P.forced) {
        P.f = stderr;
        P.width = terminal_width();
    }
    progress_end();
    snprintf(P.label, sizeof P.label, "%s", label ? label : "run");
    P.total = total > 0 ? total : 1;
    P.done = P.at = done > 0 ? done : 0;
    P.log_every = log_every > 0 ? log_every : 0;
    P.t0 = P.t_win = now();
    P.t_draw = -1;
    P.loss_sum = P.images = 0;
    P.loss_n = 0;
    P.active = 1;
}

/* " 1,234/4,700 loss 0.4123 1,830 img/s ETA 2:41" for the window up to t. */
static void format_stats(char *out, size_t cap, double t)
{
    char at[32], total[32], ips[32], eta[32], loss[32] = "";
    double secs = t - P.t_win, run = (double)(P.at - P.done);
    progress_fmt_count(at, sizeof at, (double)P.at);
    progress_fmt_count(total, sizeof total, (double)P.total);
    progress_fmt_count(ips, sizeof ips, secs > 0 ? P.images / secs : 0);
    progress_fmt_eta(eta, sizeof eta, run > 0 ? (P.total - P.at) * (t - P.t0) / run : NAN);
    if (P.loss_n > 0)
        snprintf(loss, sizeof loss, " loss %.4f", P.loss_sum / P.loss_n);
    snprintf(out, cap, " %s/%s%s %s img/s ETA %s", at, total, loss, ips, eta);
}

/* How much of the label and the bar fit beside the stats in the terminal: the line must not
 * wrap, or \r would redraw only its last row. The bar gives way to 10 columns, the label to 16,
 * the bar to none, then the label again. */
static void fit_line(int stats_len, int *label_len, int *bar_len)
{
    int avail = P.width - 1 - stats_len - 5, len = (int)strlen(P.label);
    int keep = len < 16 ? len : 16, lab = len, bw = BAR_WIDTH;
    if (lab + bw > avail)
        bw = avail - lab > 10 ? avail - lab : 10;
    if (lab + bw > avail)
        lab = avail - bw > keep ? avail - bw : keep;
    if (lab + bw > avail)
        bw = avail - lab >= 5 ? avail - lab : 0;
    if (lab + bw > avail)
        lab = avail - bw > 0 ? avail - bw : 0;
    *label_len = lab;
    *bar_len = bw;
}

static void draw_bar(double t)
{
    char stats[128], bar[BAR_WIDTH + 4] = "", line[512];
    int lab, bw, len = (int)strlen(P.label);
    format_stats(stats, sizeof stats, t);
    fit_line((int)strlen(stats), &lab, &bw);
    if (bw > 0) {
        int fill = (int)((double)P.at / P.total * bw);
        bar[0] = ' ', bar[1] = '[';
        for (int i = 0; i < bw; i++)
            bar[2 + i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[2 + bw] = ']', bar[3 + bw] = '\0';
    }
    if (lab < len) /* the label's end says most: "..vit_s-s0" */
        snprintf(line, sizeof line, "\r[%s%s]%s%s\033[K", lab >= 4 ? ".." : "",
                 lab >= 4 ? P.label + len - (lab - 2) : "", bar, stats);
    else
        snprintf(line, sizeof line, "\r[%s]%s%s\033[K", P.label, bar, stats);
    fputs(line, P.f);
    fflush(P.f);
    P.drawn = 1;
    P.t_draw = t;
}

static void window_reset(double t)
{
    P.t_win = t;
    P.loss_sum = P.images = 0;
    P.loss_n = 0;
}

void progress_step(float loss, int images)
{
    if (!P.active)
        return;
    double t = now();
    P.at++;
    P.images += images;
    if (isfinite(loss)) {
        P.loss_sum += loss;
        P.loss_n++;
    }
    if (P.width) {
        if (t - P.t_draw >= REDRAW_SECONDS || P.at == P.total)
            draw_bar(t);
    } else if (P.log_every > 0 && P.at % P.log_every == 0) {
        char stats[128], line[512];
        format_stats(stats, sizeof stats, t);
        snprintf(line, sizeof line, "[%s] step%s\n", P.label, stats);
        fputs(line, P.f);
        fflush(P.f);
        window_reset(t);
    }
}

static void bar_clear(void)
{
    if (P.drawn) {
        fputs("\r\033[K", P.f);
        fflush(P.f);
        P.drawn = 0;
    }
}

void progress_printf(const char *fmt, ...)
{
    FILE *f = P.f ? P.f : stderr;
    va_list ap;
    bar_clear();
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
    if (P.active)
        window_reset(now());
}

void progress_end(void)
{
    bar_clear();
    P.active = 0;
}
