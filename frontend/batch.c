/*
 * `trapeze batch JOBFILE`: many VM jobs over a pool of host threads
 * (docs/batch.md has the job file format and the output).
 *
 * Each worker thread takes the next job, creates its VM, runs it to its end
 * (vm_run: the VM owns the thread until then), checks the expectations and
 * writes one JSON line; so at most --threads VMs (and their RAM) exist at
 * once, whatever the number of jobs. Consoles go to files in --output-dir
 * unless the job names its own, and the markers are searched there.
 *
 * Exit status: 0 when every job met its expectations, 1 when one did not
 * (or could not start), 2 for a usage or job-file error (nothing runs),
 * 130 when interrupted (jobs not started are not run).
 */
#include "batch.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../vmm/machine.h"
#include "../vmm/scheduler.h"
#include "vmspec.h"

#define MAX_EXPECT 16

struct job {
    struct vm_spec spec;
    char *line;          /* the job as written (for the JSON line) */
    int lineno;
    int index;           /* in the whole job file (the JSON "job"), not the slice */
    char *expect[MAX_EXPECT];
    int nexpect;
    int expect_status;   /* -1: 0 or 33 */
    /* "file:PATH" of its consoles (heap: jobs move when the array grows),
     * NULL when a console goes nowhere the markers could be read. */
    char *serial_path, *debug_path;
};

struct batch {
    struct job *jobs;
    int n, next, done, running, failed;
    const char *outdir;
    FILE *results;
    bool progress;
    double start;
    pthread_mutex_t lock;
};

static volatile sig_atomic_t batch_stop;

static void on_stop(int sig)
{
    (void)sig;
    __atomic_store_n(&batch_stop, 1, __ATOMIC_RELAXED);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A batch key as written in the job file: '-' and '_' are the same letter
 * (max-instructions as on the command line, or max_instructions). */
static bool batch_key_is(const char *key, size_t klen, const char *want)
{
    if (klen != strlen(want))
        return false;
    for (size_t i = 0; i < klen; i++) {
        char c = key[i] == '-' ? '_' : key[i];
        if (c != want[i])
            return false;
    }
    return true;
}

static const char batch_usage[] =
    "usage: trapeze batch JOBFILE [--threads N] [--slice I/N] [--results FILE]\n"
    "                     [--output-dir DIR] [--deterministic]\n"
    "\n"
    "Runs every job of JOBFILE (one VM spec per line, as --vm, plus the keys\n"
    "timeout, max_instructions, expect (repeatable), expect_status; '-' may stand\n"
    "for '_') over N host threads (default: one per CPU), writes a JSON line per\n"
    "finished job (stdout or --results FILE) and a summary on stderr, with a\n"
    "progress line on a terminal.\n"
    "--slice I/N runs only the jobs whose index (from 0) is I modulo N (job arrays).\n"
    "Consoles go to DIR/NAME.serial and DIR/NAME.debugcon (default DIR:\n"
    "trapeze-batch) unless a job names its own. Exit status: 0 every job met its\n"
    "expectations, 1 one did not, 2 usage or job-file error, 130 interrupted.\n"
    "Job file format: docs/batch.md.\n";


/* Splits a spec into items at single commas (",," is a literal comma);
 * items[k] are the unescaped texts. Returns the count. */
static int split_items(const char *text, char ***items)
{
    int n = 0, cap = 8;
    char **v = malloc(sizeof(char *) * (size_t)cap);
    size_t len = strlen(text);
    char *cur = malloc(len + 1);
    size_t o = 0;
    for (size_t k = 0;; k++) {
        if (text[k] == ',' && text[k + 1] == ',') {
            cur[o++] = ',';
            k++;
            continue;
        }
        if (text[k] == ',' || text[k] == 0) {
            cur[o] = 0;
            if (n == cap)
                v = realloc(v, sizeof(char *) * (size_t)(cap *= 2));
            v[n++] = strdup(cur);
            o = 0;
            if (!text[k])
                break;
            continue;
        }
        cur[o++] = text[k];
    }
    free(cur);
    *items = v;
    return n;
}

static void append_escaped(char **buf, size_t *len, const char *item)
{
    size_t need = *len + 2 * strlen(item) + 2;
    *buf = realloc(*buf, need);
    if (*len)
        (*buf)[(*len)++] = ',';
    for (; *item; item++) {
        (*buf)[(*len)++] = *item;
        if (*item == ',')
            (*buf)[(*len)++] = ',';
    }
    (*buf)[*len] = 0;
}

static int parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* One job line -> job. Returns 0 or -1 with a message naming file:line. */
static int parse_job(const char *path, int lineno, const char *line, int index,
                     const char *outdir, bool deterministic, struct job *j, char *err,
                     size_t errlen)
{
    char origin[600];
    snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
    memset(j, 0, sizeof(*j));
    j->lineno = lineno;
    j->index = index;
    j->expect_status = -1;
    j->line = strdup(line);
    char **items;
    int n = split_items(line, &items), r = -1;
    char *rest = NULL;
    size_t rlen = 0;
    double timeout = 0;
    unsigned long long maxi = 0;
    bool has_serial = false, has_debug = false, det = deterministic;
    for (int k = 0; k < n; k++) {
        char *eq = strchr(items[k], '=');
        const char *key = items[k], *val = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t)(eq - items[k]) : strlen(key);
#define KEY(s) batch_key_is(key, klen, s)
        if (KEY("expect")) {
            if (!*val || j->nexpect == MAX_EXPECT) {
                snprintf(err, errlen, "%s: expect: %s", origin,
                         *val ? "at most 16 per job" : "expected a text to look for");
                goto out;
            }
            j->expect[j->nexpect++] = strdup(val);
        } else if (KEY("expect_status")) {
            unsigned long long v;
            if (parse_u64(val, &v) < 0 || v > 255) {
                snprintf(err, errlen, "%s: expect_status '%s': expected 0 to 255", origin, val);
                goto out;
            }
            j->expect_status = (int)v;
        } else if (KEY("timeout")) {
            char *end;
            timeout = strtod(val, &end);
            if (!*val || *end || !(timeout > 0)) {
                snprintf(err, errlen, "%s: timeout '%s': expected seconds > 0", origin, val);
                goto out;
            }
        } else if (KEY("max_instructions")) {
            if (parse_u64(val, &maxi) < 0 || !maxi) {
                snprintf(err, errlen, "%s: max_instructions '%s': expected a count > 0", origin,
                         val);
                goto out;
            }
        } else if (KEY("deterministic")) {
            if (strcmp(val, "on") && strcmp(val, "off")) {
                snprintf(err, errlen, "%s: deterministic '%s': expected on or off", origin, val);
                goto out;
            }
            det = !strcmp(val, "on");
        } else {
            has_serial |= KEY("serial");
            has_debug |= KEY("debugcon");
            append_escaped(&rest, &rlen, items[k]);
        }
#undef KEY
    }
    if (vmspec_parse(rest ? rest : "", origin, index, &j->spec, err, errlen) < 0)
        goto out;
    struct vm_config *c = &j->spec.cfg;
    if (j->spec.gdb) { /* a batch job runs unattended */
        snprintf(err, errlen, "%s: gdb does not apply to a batch job", origin);
        goto out;
    }
    if (!c->kernel && !c->hda && !c->cdrom) {
        snprintf(err, errlen, "%s: a job needs kernel, hda or cdrom", origin);
        goto out;
    }
    c->timeout_s = timeout;
    c->max_insns = maxi;
    c->deterministic = det;
    if (!timeout && !maxi) {
        snprintf(err, errlen, "%s: a job needs a limit: timeout or max_instructions", origin);
        goto out;
    }
    /* Consoles to files the markers are searched in. */
    char buf[600];
    if (!has_serial) {
        snprintf(buf, sizeof(buf), "file:%s/%s.serial", outdir, c->name);
        c->serial = j->serial_path = strdup(buf);
    } else if (!strncmp(c->serial, "file:", 5)) {
        j->serial_path = strdup(c->serial);
    }
    if (!has_debug) {
        snprintf(buf, sizeof(buf), "file:%s/%s.debugcon", outdir, c->name);
        c->debugcon = j->debug_path = strdup(buf);
    } else if (!strncmp(c->debugcon, "file:", 5)) {
        j->debug_path = strdup(c->debugcon);
    }
    if (!strcmp(c->serial, "stdio") || !strcmp(c->debugcon, "stdio")) {
        snprintf(err, errlen, "%s: serial/debugcon stdio: a batch job's console goes to a file or none",
                 origin);
        goto out;
    }
    r = 0;
out:
    for (int k = 0; k < n; k++)
        free(items[k]);
    free(items);
    free(rest);
    return r;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (;;) {
        n += fread(b + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        b = realloc(b, cap *= 2);
    }
    fclose(f);
    b[n] = 0;
    return b;
}

static void progress(struct batch *b)
{
    if (!b->progress)
        return;
    double t = now_s() - b->start;
    int left = b->n - b->done;
    char eta[32] = "?";
    if (b->done)
        snprintf(eta, sizeof(eta), "%.0f s", t / b->done * left);
    fprintf(stderr, "\r\033[Kbatch: %d/%d done, %d running, %d failed, ETA %s", b->done, b->n,
            b->running, b->failed, eta);
    fflush(stderr);
}

static void run_job(struct batch *b, int idx)
{
    struct job *j = &b->jobs[idx];
    char err[512] = "";
    double t0 = now_s();
    struct vm *vm = vm_create(&j->spec.cfg, err, sizeof(err));
    int status = 2;
    const char *end = "error";
    unsigned long long insns = 0, vtime = 0;
    if (vm) {
        vm_run(vm, &batch_stop);
        status = vm->exit_status;
        end = vm_end_name(vm->end);
        insns = vm->cpu.icount;
        vtime = vm->cpu.icount + vm->cpu.idle_cycles;
        if (vm_destroy(vm, err, sizeof(err)) < 0 && !err[0])
            snprintf(err, sizeof(err), "error closing the VM's outputs");
    }
    double host = now_s() - t0;
    /* The markers, in the job's console files. */
    char *serial = j->serial_path ? slurp(j->serial_path + 5) : NULL;
    char *debug = j->debug_path ? slurp(j->debug_path + 5) : NULL;
    bool found[MAX_EXPECT];
    int missing = 0;
    for (int k = 0; k < j->nexpect; k++) {
        found[k] = (serial && strstr(serial, j->expect[k])) || (debug && strstr(debug, j->expect[k]));
        missing += !found[k];
    }
    free(serial);
    free(debug);
    bool status_ok = j->expect_status >= 0 ? status == j->expect_status : (status == 0 || status == 33);
    bool pass = vm && status_ok && !missing;

    pthread_mutex_lock(&b->lock);
    FILE *f = b->results;
    fprintf(f, "{\"job\": %d, \"line\": %d, \"name\": ", j->index, j->lineno);
    json_string(f, j->spec.cfg.name);
    fputs(", \"spec\": ", f);
    json_string(f, j->line);
    fprintf(f, ", \"mode\": \"%s\", \"status\": %d, \"end_reason\": \"%s\", ",
            vm_mode_name(j->spec.cfg.mode), status, end);
    fprintf(f, "\"instructions\": %llu, \"virtual_time_s\": %.9f, \"host_time_s\": %.3f, ", insns,
            (double)vtime * 1e-9, host);
    fputs("\"found\": [", f);
    for (int k = 0, c = 0; k < j->nexpect; k++)
        if (found[k]) {
            fputs(c++ ? ", " : "", f);
            json_string(f, j->expect[k]);
        }
    fputs("], \"missing\": [", f);
    for (int k = 0, c = 0; k < j->nexpect; k++)
        if (!found[k]) {
            fputs(c++ ? ", " : "", f);
            json_string(f, j->expect[k]);
        }
    fprintf(f, "], \"status_ok\": %s, \"pass\": %s", status_ok ? "true" : "false",
            pass ? "true" : "false");
    if (err[0]) {
        fputs(", \"error\": ", f);
        json_string(f, err);
    }
    fputs("}\n", f);
    fflush(f);
    b->done++;
    b->running--;
    b->failed += !pass;
    progress(b);
    pthread_mutex_unlock(&b->lock);
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        int idx = -1;
        if (b->next < b->n && !__atomic_load_n(&batch_stop, __ATOMIC_RELAXED)) {
            idx = b->next++;
            b->running++;
            progress(b);
        }
        pthread_mutex_unlock(&b->lock);
        if (idx < 0)
            return NULL;
        run_job(b, idx);
    }
}

int cmd_batch(int argc, char **argv)
{
    enum { O_THREADS = 256, O_SLICE, O_RESULTS, O_OUTDIR, O_DET };
    static const struct option opts[] = {
        {"threads", required_argument, NULL, O_THREADS},
        {"slice", required_argument, NULL, O_SLICE},
        {"results", required_argument, NULL, O_RESULTS},
        {"output-dir", required_argument, NULL, O_OUTDIR},
        {"deterministic", no_argument, NULL, O_DET},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    int threads = 0, slice_i = 0, slice_n = 1, opt;
    const char *results = NULL, *outdir = "trapeze-batch";
    bool det = false;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case O_THREADS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 256) {
                fprintf(stderr, "trapeze batch: --threads '%s': expected 1 to 256\n", optarg);
                return 2;
            }
            threads = (int)v;
            break;
        }
        case O_SLICE:
            if (sscanf(optarg, "%d/%d", &slice_i, &slice_n) != 2 || slice_n < 1 || slice_i < 0 ||
                slice_i >= slice_n || !strchr(optarg, '/')) {
                fprintf(stderr, "trapeze batch: --slice '%s': expected I/N with 0 <= I < N\n",
                        optarg);
                return 2;
            }
            break;
        case O_RESULTS: results = optarg; break;
        case O_OUTDIR: outdir = optarg; break;
        case O_DET: det = true; break;
        case 'h': fputs(batch_usage, stdout); return 0;
        case ':': fprintf(stderr, "trapeze batch: %s needs a value\n", argv[optind - 1]); return 2;
        default:
            fprintf(stderr, "trapeze batch: unknown option '%s' (trapeze batch --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(batch_usage, stderr);
        return 2;
    }
    const char *path = argv[optind];
    FILE *jf = fopen(path, "r");
    if (!jf) {
        fprintf(stderr, "trapeze batch: %s: cannot open: %s\n", path, strerror(errno));
        return 2;
    }
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "trapeze batch: --output-dir %s: %s\n", outdir, strerror(errno));
        fclose(jf);
        return 2;
    }

    struct batch b = {.outdir = outdir};
    char line[8192], err[1024];
    int lineno = 0, index = 0, cap = 0, status = 0;
    while (fgets(line, sizeof(line), jf)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "trapeze batch: %s:%d: line too long\n", path, lineno);
            status = 2;
            break;
        }
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (!*s || *s == '#')
            continue;
        int my = index++;
        if (my % slice_n != slice_i)
            continue;
        if (b.n == cap)
            b.jobs = realloc(b.jobs, sizeof(struct job) * (size_t)(cap = cap ? 2 * cap : 16));
        if (parse_job(path, lineno, s, my, outdir, det, &b.jobs[b.n], err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze batch: %s\n", err);
            status = 2;
            break;
        }
        b.n++;
    }
    fclose(jf);
    if (!status && index == 0) {
        fprintf(stderr, "trapeze batch: %s: no jobs\n", path);
        status = 2;
    }
    /* Names must be unique, outputs must not collide (as for --vm). */
    if (!status) {
        struct vm_spec *specs = malloc(sizeof(*specs) * (size_t)(b.n ? b.n : 1));
        for (int k = 0; k < b.n; k++)
            specs[k] = b.jobs[k].spec;
        if (vmspec_check(specs, b.n, err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze batch: %s: %s\n", path, err);
            status = 2;
        }
        free(specs);
    }
    if (!status) {
        b.results = results ? fopen(results, "w") : stdout;
        if (!b.results) {
            fprintf(stderr, "trapeze batch: --results %s: %s\n", results, strerror(errno));
            status = 2;
        }
    }
    if (!status) {
        struct sigaction sa = {0};
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        pthread_mutex_init(&b.lock, NULL);
        b.progress = isatty(2);
        b.start = now_s();
        if (!threads)
            threads = sched_default_threads();
        if (threads > b.n)
            threads = b.n ? b.n : 1;
        pthread_t *tid = calloc((size_t)threads, sizeof(pthread_t));
        int started = 0;
        for (int k = 0; k < threads; k++)
            if (pthread_create(&tid[started], NULL, worker, &b) == 0)
                started++;
        if (!started)
            worker(&b);
        for (int k = 0; k < started; k++)
            pthread_join(tid[k], NULL);
        free(tid);
        if (b.progress)
            fputs("\r\033[K", stderr);
        int not_run = b.n - b.done;
        fprintf(stderr, "trapeze batch: %d job%s (slice %d/%d of %d), %d passed, %d failed%s%s\n",
                b.n, b.n == 1 ? "" : "s", slice_i, slice_n, index, b.done - b.failed, b.failed,
                not_run ? ", not run: " : "", not_run ? "interrupted" : "");
        if (results && b.results && fclose(b.results) != 0) {
            fprintf(stderr, "trapeze batch: --results %s: write error\n", results);
            status = 2;
        }
        if (!status)
            status = batch_stop ? 130 : (b.failed || not_run) ? 1 : 0;
        pthread_mutex_destroy(&b.lock);
    }
    for (int k = 0; k < b.n; k++) {
        vmspec_free(&b.jobs[k].spec);
        free(b.jobs[k].line);
        free(b.jobs[k].serial_path);
        free(b.jobs[k].debug_path);
        for (int e = 0; e < b.jobs[k].nexpect; e++)
            free(b.jobs[k].expect[e]);
    }
    free(b.jobs);
    return status;
}
