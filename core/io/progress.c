/* Progress lines (ggml's bar with ETA, darknet's "hours left"): each line is formatted into a
 * stack buffer and written with one fputs, so the bar does not flicker and nothing allocates. */
#include "io/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 20
#define REDRAW_SECONDS 0.1

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

void progress_init(struct progress *p, FILE *f, const char *name, int epochs, int steps,
                   int batch, int log_every)
{
    const char *mode = getenv("KD_PROGRESS"), *term = getenv("TERM");
    memset(p, 0, sizeof *p);
    p->f = f ? f : stderr;
    p->tty = isatty(fileno(p->f)) && !(mode && strcmp(mode, "plain") == 0) &&
             !(term && strcmp(term, "dumb") == 0);
    snprintf(p->name, sizeof p->name, "%s", name ? name : "run");
    p->epochs = epochs;
    p->steps = steps > 0 ? steps : 1;
    p->batch = batch;
    p->log_every = log_every;
    p->first_epoch = -1;
    p->epoch = -1;
    p->t0 = p->t_epoch = now();
    p->t_draw = -1;
}

/* Seconds left for the whole run, from this process's average step time. */
static double eta_seconds(const struct progress *p, int epoch, int step, double t)
{
    double done = (double)(epoch - p->first_epoch) * p->steps + step + 1;
    double left = (double)(p->epochs - epoch) * p->steps - step - 1;
    return done > 0 && t > p->t0 ? left * (t - p->t0) / done : NAN;
}

static void draw_bar(struct progress *p, int epoch, int step, double t)
{
    char bar[BAR_WIDTH + 1], ips[32], eta[32], line[256];
    double frac = (double)(step + 1) / p->steps;
    int fill = (int)(frac * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[BAR_WIDTH] = '\0';
    double secs = t - p->t_epoch;
    progress_fmt_count(ips, sizeof ips, secs > 0 ? (step + 1.0) * p->batch / secs : 0);
    progress_fmt_eta(eta, sizeof eta, eta_seconds(p, epoch, step, t));
    snprintf(line, sizeof line, "\r[%s] epoch %d/%d [%s] %3d%% loss %.3f %s img/s ETA %s\033[K",
             p->name, epoch + 1, p->epochs, bar, (int)(100 * frac + 0.5),
             p->loss_sum / p->loss_n, ips, eta);
    fputs(line, p->f);
    fflush(p->f);
    p->drawn = 1;
    p->t_draw = t;
}

static void plain_line(struct progress *p, int epoch, int step, double t)
{
    char ips[32], eta[32], line[256];
    double secs = t - p->t_epoch;
    progress_fmt_count(ips, sizeof ips, secs > 0 ? (step + 1.0) * p->batch / secs : 0);
    progress_fmt_eta(eta, sizeof eta, eta_seconds(p, epoch, step, t));
    snprintf(line, sizeof line, "[%s] epoch %d/%d step %d/%d loss %.3f %s img/s ETA %s\n",
             p->name, epoch + 1, p->epochs, step + 1, p->steps, p->loss_sum / p->loss_n, ips,
             eta);
    fputs(line, p->f);
}

void progress_step(struct progress *p, int epoch, int step, float loss)
{
    double t = now();
    if (p->first_epoch < 0)
        p->first_epoch = epoch;
    if (epoch != p->epoch) {
        if (p->loss_n > 0) /* the last epoch ended without progress_epoch */
            p->t_epoch = t;
        p->epoch = epoch;
        p->loss_sum = 0;
        p->loss_n = 0;
    }
    p->loss_sum += loss;
    p->loss_n++;
    if (p->tty) {
        if (t - p->t_draw >= REDRAW_SECONDS || step + 1 == p->steps)
            draw_bar(p, epoch, step, t);
    } else if (p->log_every > 0 && (step + 1) % p->log_every == 0 && step + 1 < p->steps) {
        plain_line(p, epoch, step, t);
    }
}

void progress_clear(struct progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
        p->drawn = 0;
    }
}

void progress_epoch(struct progress *p, int epoch, const char *fmt, ...)
{
    char summary[256], ips[32], eta[32], line[512];
    double t = now(), secs = t - p->t_epoch;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(summary, sizeof summary, fmt, ap);
    va_end(ap);
    if (p->first_epoch < 0)
        p->first_epoch = epoch;
    progress_fmt_count(ips, sizeof ips, secs > 0 ? (double)p->steps * p->batch / secs : 0);
    progress_fmt_eta(eta, sizeof eta, eta_seconds(p, epoch, p->steps - 1, t));
    snprintf(line, sizeof line, "[%s] epoch %d/%d %s%s%.1f s %s img/s ETA %s\n", p->name,
             epoch + 1, p->epochs, summary, *summary ? " " : "", secs, ips, eta);
    progress_clear(p);
    fputs(line, p->f);
    fflush(p->f);
    p->t_epoch = t;
    p->loss_sum = 0;
    p->loss_n = 0;
    p->epoch = epoch + 1;
}
