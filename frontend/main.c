/*
 * trapeze's command line: `trapeze run [options]`, `trapeze --help`,
 * `trapeze --version`. Every flag is described in usage() and README.md;
 * exit statuses are those of vmm/machine.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/machine.h"
#include "../vmm/scheduler.h"
#include "batch.h"
#include "classify.h"
#include "display_sdl.h"
#include "gdbstub.h"
#include "../vmm/snapshot.h"
#include "report.h"
#include "vmspec.h"

#define TRAPEZE_VERSION "0.1.0"

static const char run_usage[] =
    "usage: trapeze run [--kernel FILE] [options]\n"
    "\n"
    "Boots a Multiboot v1 kernel (ELF32 or a.out-kludge binary) or a Linux bzImage\n"
    "(boot protocol 2.04 or later, 32-bit entry) headless, or without --kernel the\n"
    "PC's firmware (SeaBIOS by default).\n"
    "\n"
    "  -k, --kernel FILE          the kernel to boot directly (no firmware)\n"
    "  -a, --append STRING        kernel command line (after the kernel path)\n"
    "      --initrd FILE          initial ramdisk for a Linux kernel\n"
    "      --hda FILE             raw hard-disk image (IDE primary master)\n"
    "      --cdrom FILE           ISO image in the ATAPI CD-ROM (IDE secondary master)\n"
    "      --boot ORDER           firmware boot order: c (disk), d (CD-ROM), cd, dc\n"
    "                             (default cd)\n"
    "      --bios FILE            system BIOS image, a multiple of 64 KiB (default\n"
    "                             " FIRMWARE_DEFAULT_BIOS ")\n"
    "      --vga-bios FILE        VGA BIOS option ROM, or none (default\n"
    "                             " FIRMWARE_DEFAULT_VGA_BIOS ")\n"
    "  -m, --memory MIB           guest RAM in MiB (default 128, 2-3584)\n"
    "      --mode MODE            execution mode: emulate (default: the guest runs at its\n"
    "                             own privilege levels), trap (guest ring 0 at ring 1,\n"
    "                             privileged instructions trap to the VMM, critical ones\n"
    "                             run unvirtualized), vmm (as trap, and critical\n"
    "                             instructions exit to the VMM too) or paravirt (a\n"
    "                             kernel making hypercalls, docs/hypercalls.md); the\n"
    "                             deprivileged modes need --kernel and protected mode\n"
    "      --serial SPEC          COM1 output: stdio, file:PATH or none (default stdio)\n"
    "      --debugcon SPEC        port 0xE9 output: stdio, file:PATH or none (default stdio)\n"
    "      --max-instructions N   stop after N instructions (exit status 10)\n"
    "      --timeout SECONDS      stop after SECONDS of wall time (exit status 8)\n"
    "      --report FILE          write a JSON report of the run (- for stdout)\n"
    "      --screen-text FILE     at the end, write the VGA text screen to FILE (- for\n"
    "                             stdout; nothing when the screen is in a graphics mode)\n"
    "      --trace FILE           write one line per instruction (- for stdout)\n"
    "      --gdb tcp::PORT        wait for gdb on 127.0.0.1:PORT (0: a free one, printed)\n"
    "                             before the first instruction; see docs/gdb.md\n"
    "      --save-state FILE      when the run stops (--max-instructions, --timeout, a\n"
    "                             signal, Ctrl-A x) or on Ctrl-A w, write a snapshot\n"
    "      --load-state FILE      resume from a snapshot (same kernel, initrd, -m, --mode)\n"
    "      --trace-exits FILE     trap, vmm, paravirt: one line per VM exit; in trap mode\n"
    "                             also per critical instruction, with what it revealed\n"
    "      --deterministic        virtual time from instructions only: idle time is\n"
    "                             skipped, the RTC starts at 2024-01-01; runs repeat exactly\n"
    "      --no-reboot            a guest reset ends the run (exit status 12) instead of\n"
    "                             rebooting the machine\n"
    "      --triple-fault ACTION  shutdown (default: end the run, exit status 6) or reset\n"
    "                             (reboot, as a PC chipset does)\n"
    "      --display WHERE        none (default: headless), sdl (a window with every VM's\n"
    "                             screen; README.md, \"The window\") or auto (sdl when a\n"
    "                             display is available, otherwise none, saying so)\n"
    "\n"
    "Several VMs in one process (README.md, \"Several VMs\"):\n"
    "      --vm SPEC              one VM: key=value pairs separated by commas (a comma in\n"
    "                             a value is written ,,); keys name, mode, memory, kernel,\n"
    "                             initrd, append, hda, cdrom, boot, bios, serial, debugcon\n"
    "                             as the flags of the same name; repeat for more VMs\n"
    "      --config FILE          VM specs from FILE, one per line ('#' comment lines)\n"
    "      --threads N            host threads running the VMs (default: online CPUs)\n"
    "                             With --vm/--config, --max-instructions, --timeout,\n"
    "                             --deterministic, --no-reboot, --triple-fault apply to\n"
    "                             every VM; stdout lines are prefixed \"[name] \" when\n"
    "                             several VMs write there; stdin goes to no VM when\n"
    "                             there are several. Exit status: 0 when every VM\n"
    "                             ended with 0 or 33 (the test guests' PASS), else that\n"
    "                             of the first VM (in the order given) that did not.\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: (V << 1) | 1 when the guest writes V to port 0xF4; 0 the guest\n"
    "powered the machine off (ACPI S5) or Ctrl-A x; 2 bad usage or input; 4 halted;\n"
    "6 triple fault; 8 timeout; 10 instruction limit; 12 the guest reset the\n"
    "machine; 14 the VMM stopped the guest (--mode trap|vmm|paravirt: something it\n"
    "does not virtualize); 130 interrupted.\n";

static const char top_usage[] =
    "usage: trapeze run [--kernel FILE] [options]   boot a kernel or the firmware\n"
    "                                               (trapeze run --help)\n"
    "       trapeze classify [--format text|markdown|json] [--bytes HEX --mode MODE --cpl N]\n"
    "                                               instruction classes and why (trapeze\n"
    "                                               classify --help)\n"
    "       trapeze batch JOBFILE [options]          many VM jobs over a thread pool\n"
    "                                               (trapeze batch --help)\n"
    "       trapeze --help | --version\n";

static volatile sig_atomic_t stop_requested;
/* --display sdl (or auto with a display): the VMs run under the window. */
static bool use_window;
/* SIGUSR1 bumps it; every VM prints its statistics when it sees it move. */
static volatile sig_atomic_t stats_generation;

static void on_stats_signal(int sig)
{
    (void)sig;
    int saved = errno;
    __atomic_add_fetch(&stats_generation, 1, __ATOMIC_RELAXED);
    errno = saved;
}


static void on_signal(int sig)
{
    (void)sig;
    /* An atomic store: with several VMs, other threads read the flag
     * (lock-free, so async-signal-safe). */
    int saved = errno;
    __atomic_store_n(&stop_requested, 1, __ATOMIC_RELAXED);
    errno = saved;
}

static void catch_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_stats_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("trapeze run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(see trapeze run --help)\n", stderr);
    return VM_STATUS_ERROR;
}

/* Parses an unsigned decimal integer filling the whole string. */
static int parse_u64(const char *s, unsigned long long *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v <= 0)
        return -1;
    *out = v;
    return 0;
}

/* The characters of the VGA text screen at the end of the run (headless
 * tests read what the firmware printed). */
static int write_screen_text(struct vm *vm, const char *path)
{
    static char buf[(132 + 1) * 60 + 1];
    int n = vga_text_dump(&vm->vga, buf, sizeof(buf));
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "trapeze: --screen-text: cannot open '%s' for writing: %s\n", path,
                strerror(errno));
        return -1;
    }
    if (n > 0)
        fwrite(buf, 1, (size_t)n, f);
    if ((f == stdout ? fflush(f) : fclose(f)) == EOF) {
        fprintf(stderr, "trapeze: --screen-text: error writing '%s'\n", path);
        return -1;
    }
    return 0;
}

enum { OPT_SERIAL = 256, OPT_DEBUGCON, OPT_MAXINSN, OPT_TIMEOUT, OPT_REPORT, OPT_TRACE, OPT_TRACE_EXITS, OPT_GDB, OPT_SAVE_STATE, OPT_LOAD_STATE,
       OPT_DETERMINISTIC, OPT_NO_REBOOT, OPT_TRIPLE_FAULT, OPT_INITRD, OPT_BIOS, OPT_VGA_BIOS,
       OPT_SCREEN_TEXT, OPT_HDA, OPT_CDROM, OPT_BOOT, OPT_MODE, OPT_VM, OPT_CONFIG,
       OPT_THREADS, OPT_DISPLAY };

/* --report: opened before anything runs, so a bad path is an error first.
 * NULL path: no report. Returns -1 with a message. */
static int open_report(const char *path, FILE **report)
{
    *report = NULL;
    if (!path)
        return 0;
    *report = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!*report) {
        fprintf(stderr, "trapeze: --report: cannot open '%s' for writing: %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int run_multi(struct vm_spec *specs, int n, const struct vm_config *common, int threads,
                     const char *report_path);

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kernel", required_argument, NULL, 'k'},
        {"append", required_argument, NULL, 'a'},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"hda", required_argument, NULL, OPT_HDA},
        {"cdrom", required_argument, NULL, OPT_CDROM},
        {"boot", required_argument, NULL, OPT_BOOT},
        {"memory", required_argument, NULL, 'm'},
        {"mode", required_argument, NULL, OPT_MODE},
        {"bios", required_argument, NULL, OPT_BIOS},
        {"vga-bios", required_argument, NULL, OPT_VGA_BIOS},
        {"screen-text", required_argument, NULL, OPT_SCREEN_TEXT},
        {"serial", required_argument, NULL, OPT_SERIAL},
        {"debugcon", required_argument, NULL, OPT_DEBUGCON},
        {"max-instructions", required_argument, NULL, OPT_MAXINSN},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"report", required_argument, NULL, OPT_REPORT},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"trace-exits", required_argument, NULL, OPT_TRACE_EXITS},
        {"gdb", required_argument, NULL, OPT_GDB},
        {"save-state", required_argument, NULL, OPT_SAVE_STATE},
        {"load-state", required_argument, NULL, OPT_LOAD_STATE},
        {"deterministic", no_argument, NULL, OPT_DETERMINISTIC},
        {"no-reboot", no_argument, NULL, OPT_NO_REBOOT},
        {"triple-fault", required_argument, NULL, OPT_TRIPLE_FAULT},
        {"vm", required_argument, NULL, OPT_VM},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"display", required_argument, NULL, OPT_DISPLAY},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct vm_config cfg = {
        .name = "vm0",
        .memory_mib = VM_DEFAULT_MEMORY_MIB,
        .serial = "stdio",
        .debugcon = "stdio",
    };
    const char *report_path = NULL;
    const char *screen_text = NULL;
    unsigned long long n;
    int opt;
    /* --vm / --config: the VMs, in the order given; single_flag names a
     * single-VM flag seen, which does not mix with them. */
    struct vm_spec *specs = NULL;
    int nspecs = 0, threads = 0, status;
    const char *single_flag = NULL, *gdb_spec = NULL, *load_state = NULL;
    char err[512];

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":k:a:m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'k': case 'a': case 'm': case OPT_INITRD: case OPT_HDA: case OPT_CDROM:
        case OPT_BOOT: case OPT_MODE: case OPT_BIOS: case OPT_VGA_BIOS: case OPT_SCREEN_TEXT:
        case OPT_SERIAL: case OPT_DEBUGCON: case OPT_TRACE: case OPT_TRACE_EXITS: case OPT_GDB:
        case OPT_SAVE_STATE: case OPT_LOAD_STATE:
            for (const struct option *o = opts; o->name; o++)
                if (o->val == opt)
                    single_flag = o->name;
            break;
        default: break;
        }
        switch (opt) {
        case OPT_VM: {
            char origin[32];
            snprintf(origin, sizeof(origin), "--vm #%d", nspecs + 1);
            struct vm_spec *more = realloc(specs, (size_t)(nspecs + 1) * sizeof(*specs));
            if (!more) {
                status = usage_error("out of memory");
                goto out;
            }
            specs = more;
            if (vmspec_parse(optarg, origin, nspecs, &specs[nspecs], err, sizeof(err)) < 0) {
                status = usage_error("%s", err);
                goto out;
            }
            nspecs++;
            break;
        }
        case OPT_CONFIG:
            if (vmspec_read_file(optarg, &specs, &nspecs, err, sizeof(err)) < 0) {
                status = usage_error("%s", err);
                goto out;
            }
            break;
        case OPT_DISPLAY:
            if (!strcmp(optarg, "sdl") || !strcmp(optarg, "auto")) {
                char why[200];
                use_window = display_sdl_available(why, sizeof(why));
                if (!use_window && !strcmp(optarg, "sdl")) {
                    status = usage_error("--display sdl: no display: %s", why);
                    goto out;
                }
                if (!use_window)
                    fprintf(stderr, "trapeze: --display auto: no display (%s): running "
                                    "headless\n", why);
            } else if (strcmp(optarg, "none")) {
                status = usage_error("--display '%s': expected sdl, none or auto", optarg);
                goto out;
            }
            break;
        case OPT_THREADS:
            if (parse_u64(optarg, &n) < 0 || n == 0 || n > 1024) {
                status = usage_error("--threads '%s': expected a whole number from 1 to 1024",
                                     optarg);
                goto out;
            }
            threads = (int)n;
            break;
        case 'k': cfg.kernel = optarg; break;
        case 'a': cfg.append = optarg; break;
        case OPT_INITRD: cfg.initrd = optarg; break;
        case OPT_HDA: cfg.hda = optarg; break;
        case OPT_CDROM: cfg.cdrom = optarg; break;
        case OPT_BOOT:
            if (strcmp(optarg, "c") && strcmp(optarg, "d") && strcmp(optarg, "cd") &&
                strcmp(optarg, "dc"))
                return usage_error("--boot '%s': expected c (hard disk), d (CD-ROM), cd or dc",
                                   optarg);
            cfg.boot = optarg;
            break;
        case 'm':
            if (parse_u64(optarg, &n) < 0 || n < VM_MIN_MEMORY_MIB || n > VM_MAX_MEMORY_MIB)
                return usage_error("--memory '%s': expected a whole number of MiB from %u to %u",
                                   optarg, VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
            cfg.memory_mib = (uint32_t)n;
            break;
        case OPT_MODE:
            if (vm_mode_parse(optarg, &cfg.mode) < 0)
                return usage_error("--mode '%s': expected emulate, trap, vmm or paravirt",
                                   optarg);
            break;
        case OPT_BIOS: cfg.bios = optarg; break;
        case OPT_VGA_BIOS: cfg.vga_bios = optarg; break;
        case OPT_SCREEN_TEXT: screen_text = optarg; break;
        case OPT_SERIAL: cfg.serial = optarg; break;
        case OPT_DEBUGCON: cfg.debugcon = optarg; break;
        case OPT_MAXINSN:
            if (parse_u64(optarg, &n) < 0 || n == 0)
                return usage_error("--max-instructions '%s': expected a positive whole number",
                                   optarg);
            cfg.max_insns = n;
            break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, &cfg.timeout_s) < 0)
                return usage_error("--timeout '%s': expected a positive number of seconds",
                                   optarg);
            break;
        case OPT_REPORT: report_path = optarg; break;
        case OPT_TRACE: cfg.trace = optarg; break;
        case OPT_TRACE_EXITS: cfg.trace_exits = optarg; break;
        case OPT_GDB: gdb_spec = optarg; break;
        case OPT_SAVE_STATE: cfg.save_state = optarg; break;
        case OPT_LOAD_STATE: load_state = optarg; break;
        case OPT_DETERMINISTIC: cfg.deterministic = true; break;
        case OPT_NO_REBOOT: cfg.no_reboot = true; break;
        case OPT_TRIPLE_FAULT:
            if (!strcmp(optarg, "shutdown"))
                cfg.triple_fault_reset = false;
            else if (!strcmp(optarg, "reset"))
                cfg.triple_fault_reset = true;
            else
                return usage_error("--triple-fault '%s': expected shutdown or reset", optarg);
            break;
        case 'h': fputs(run_usage, stdout); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        status = usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (nspecs > 0 || threads) {
        if (nspecs == 0) {
            status = usage_error("--threads needs VMs (--vm SPEC or --config FILE)");
        } else if (single_flag) {
            status = usage_error("--%s describes the single VM: with --vm or --config, give it "
                                 "in each VM's spec", single_flag);
        } else if (vmspec_check(specs, nspecs, err, sizeof(err)) < 0) {
            status = usage_error("%s", err);
        } else {
            status = run_multi(specs, nspecs, &cfg, threads, report_path);
        }
        goto out;
    }
    free(specs);
    specs = NULL;
    if (cfg.kernel && cfg.bios)
        return usage_error("--kernel boots without firmware: --bios does not apply");
    if (!cfg.kernel && cfg.initrd)
        return usage_error("--initrd given without --kernel FILE");
    if (!strncmp(cfg.serial, "file:", 5) && !strcmp(cfg.serial, cfg.debugcon))
        return usage_error("--serial and --debugcon name the same file '%s'", cfg.serial + 5);
    if (use_window && load_state) /* the window's path (run_multi) loads no state */
        return usage_error("--load-state does not work with the window yet (--display none)");
    if (use_window && !gdb_spec) { /* the window runs its VMs on the scheduler */
        struct vm_spec one = {.cfg = cfg};
        return run_multi(&one, 1, &cfg, threads, report_path);
    }

    /* Open the report first: a bad path is an error before anything runs. */
    FILE *report = NULL;
    if (open_report(report_path, &report) < 0)
        return VM_STATUS_ERROR;

    struct vm *vm = vm_create(&cfg, err, sizeof(err));
    if (!vm) {
        fprintf(stderr, "trapeze: %s\n", err);
        if (report && report != stdout)
            fclose(report);
        return VM_STATUS_ERROR;
    }

    if (load_state && vm_load_state(vm, load_state, err, sizeof(err)) < 0) {
        fprintf(stderr, "trapeze: %s\n", err);
        vm_destroy(vm, err, sizeof(err));
        if (report && report != stdout)
            fclose(report);
        return VM_STATUS_ERROR;
    }
    vm->stats_request = &stats_generation;
    catch_signals();
    if (gdb_spec) {
        int lfd, port;
        if (gdb_listen(gdb_spec, &lfd, &port, err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze: %s\n", err);
            vm_destroy(vm, err, sizeof(err));
            return VM_STATUS_ERROR;
        }
        fprintf(stderr, "trapeze: %s: waiting for gdb on 127.0.0.1:%d (target remote :%d)\n",
                cfg.name, port, port);
        gdb_serve(vm, lfd, &stop_requested);
    } else {
        vm_run(vm, &stop_requested);
    }
    status = vm->exit_status;
    if (cfg.save_state && (vm->end == VM_END_INSN_LIMIT || vm->end == VM_END_TIMEOUT ||
                           vm->end == VM_END_INTERRUPTED || vm->end == VM_END_USER_QUIT)) {
        if (vm_save_state(vm, cfg.save_state, err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze: %s\n", err);
            status = VM_STATUS_ERROR;
        } else {
            fprintf(stderr, "trapeze: %s: state saved to %s\n", cfg.name, cfg.save_state);
        }
    }
    fflush(stdout);
    if (vm->end != VM_END_EXIT_DEVICE)
        fprintf(stderr, "trapeze: %s: %s at %04x:%08x after %llu instructions (exit status %d)\n",
                cfg.name, vm_end_text(vm->end), vm->end_cs, vm->end_eip,
                (unsigned long long)vm->cpu.icount, status);

    if (screen_text && write_screen_text(vm, screen_text) < 0)
        status = VM_STATUS_ERROR;
    if (report) {
        int bad = report_write(report, TRAPEZE_VERSION, vm) < 0;
        bad |= (report == stdout ? fflush(report) : fclose(report)) == EOF;
        if (bad) {
            fprintf(stderr, "trapeze: --report: error writing '%s'\n", report_path);
            status = VM_STATUS_ERROR;
        }
    }
    if (vm_destroy(vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "trapeze: %s\n", err);
        status = VM_STATUS_ERROR;
    }
    return status;
out:
    for (int k = 0; k < nspecs; k++)
        vmspec_free(&specs[k]);
    free(specs);
    return status;
}

/* The process's status for a multi-VM run (README.md, "Several VMs"): a
 * single VM's own; for several, 0 when each ended with 0 (powered off,
 * Ctrl-A x) or 33 (the exit device's PASS, value 0x10, of tests/guests),
 * otherwise the status of the first VM in the order given that did not. */
static int multi_status(struct vm *const *vms, int n)
{
    if (n == 1)
        return vms[0]->exit_status;
    for (int k = 0; k < n; k++)
        if (vms[k]->exit_status != 0 && vms[k]->exit_status != 33)
            return vms[k]->exit_status;
    return 0;
}

static bool is_stdio(const char *spec) { return spec && !strcmp(spec, "stdio"); }

static int run_multi(struct vm_spec *specs, int n, const struct vm_config *common, int threads,
                     const char *report_path)
{
    FILE *report = NULL;
    if (open_report(report_path, &report) < 0)
        return VM_STATUS_ERROR;
    char err[512];
    int status = 0;
    struct vm **vms = calloc((size_t)n, sizeof(*vms));
    if (!vms) {
        fprintf(stderr, "trapeze: out of memory\n");
        status = VM_STATUS_ERROR;
        goto done;
    }
    /* Several VMs writing to stdout: each line says whose it is. */
    int on_stdout = 0;
    for (int k = 0; k < n; k++)
        on_stdout += is_stdio(specs[k].cfg.serial) || is_stdio(specs[k].cfg.debugcon);
    for (int k = 0; k < n; k++) {
        struct vm_config *c = &specs[k].cfg;
        /* The run-wide flags apply to every VM. */
        c->max_insns = common->max_insns;
        c->timeout_s = common->timeout_s;
        c->deterministic = common->deterministic;
        c->no_reboot = common->no_reboot;
        c->triple_fault_reset = common->triple_fault_reset;
        vms[k] = vm_create(c, err, sizeof(err));
        if (!vms[k]) {
            fprintf(stderr, "trapeze: %s: %s\n", c->name, err);
            status = VM_STATUS_ERROR;
            goto done;
        }
        if (n > 1) /* one keyboard cannot serve several consoles */
            console_input_close(&vms[k]->input);
        if (on_stdout > 1) {
            if (is_stdio(c->serial))
                sink_set_prefix(&vms[k]->serial_out, c->name);
            if (is_stdio(c->debugcon))
                sink_set_prefix(&vms[k]->debug_out, c->name);
        }
    }

    for (int k = 0; k < n; k++)
        vms[k]->stats_request = &stats_generation;
    catch_signals();
    if (threads <= 0)
        threads = sched_default_threads();
    double t0 = vm_host_now();
    /* VMs with gdb= run on their own threads under the stub (frontend/gdbstub.c),
     * the others on the scheduler's. */
    struct gdb_thread **debugged = calloc((size_t)n, sizeof(*debugged));
    struct vm **scheduled = calloc((size_t)n, sizeof(*scheduled));
    int nsched = 0, sched_failed = 0;
    for (int k = 0; k < n && debugged && scheduled; k++) {
        if (!specs[k].gdb) {
            scheduled[nsched++] = vms[k];
        } else if (!(debugged[k] = gdb_serve_thread(vms[k], specs[k].gdb, &stop_requested, err,
                                                    sizeof(err)))) {
            fprintf(stderr, "trapeze: %s: gdb: %s\n", specs[k].cfg.name, err);
            stop_requested = 1; /* the stubs started so far stop waiting */
            sched_failed = 1;
        }
    }
    if (!debugged || !scheduled)
        sched_failed = 1;
    else if (!sched_failed && nsched &&
             (use_window ? display_sdl_run(scheduled, nsched, threads, &stop_requested)
                         : sched_run(scheduled, nsched, threads, &stop_requested)) < 0)
        sched_failed = 2;
    for (int k = 0; debugged && k < n; k++)
        if (debugged[k])
            gdb_thread_join(debugged[k]);
    free(debugged);
    free(scheduled);
    if (sched_failed) {
        if (sched_failed == 2)
            fprintf(stderr, "trapeze: cannot start the scheduler's threads\n");
        status = VM_STATUS_ERROR;
        goto done;
    }
    double wall = vm_host_now() - t0;
    fflush(stdout);
    for (int k = 0; k < n; k++) {
        struct vm *vm = vms[k];
        if (vm->end != VM_END_EXIT_DEVICE)
            fprintf(stderr,
                    "trapeze: %s: %s at %04x:%08x after %llu instructions (exit status %d)\n",
                    vm->cfg.name, vm_end_text(vm->end), vm->end_cs, vm->end_eip,
                    (unsigned long long)vm->cpu.icount, vm->exit_status);
    }
    status = multi_status(vms, n);
    if (report) {
        int bad = report_write_multi(report, TRAPEZE_VERSION, vms, n, status,
                                     threads < n ? threads : n, wall) < 0;
        bad |= (report == stdout ? fflush(report) : fclose(report)) == EOF;
        report = NULL;
        if (bad) {
            fprintf(stderr, "trapeze: --report: error writing '%s'\n", report_path);
            status = VM_STATUS_ERROR;
        }
    }
done:
    if (report && report != stdout)
        fclose(report);
    for (int k = 0; vms && k < n; k++)
        if (vms[k] && vm_destroy(vms[k], err, sizeof(err)) < 0) {
            fprintf(stderr, "trapeze: %s: %s\n", specs[k].cfg.name, err);
            status = VM_STATUS_ERROR;
        }
    free(vms);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(top_usage, stderr);
        return VM_STATUS_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "classify"))
        return cmd_classify(argc - 1, argv + 1);
    if (!strcmp(cmd, "batch"))
        return cmd_batch(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(top_usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("trapeze %s\n", TRAPEZE_VERSION);
        return 0;
    }
    fprintf(stderr, "trapeze: unknown command '%s'\n%s", cmd, top_usage);
    return VM_STATUS_ERROR;
}
