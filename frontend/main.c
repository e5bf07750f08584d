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
#include "classify.h"
#include "report.h"

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
    "                             run unvirtualized) or vmm (as trap, and critical\n"
    "                             instructions exit to the VMM too); trap and vmm need\n"
    "                             --kernel and a guest without paging\n"
    "      --serial SPEC          COM1 output: stdio, file:PATH or none (default stdio)\n"
    "      --debugcon SPEC        port 0xE9 output: stdio, file:PATH or none (default stdio)\n"
    "      --max-instructions N   stop after N instructions (exit status 10)\n"
    "      --timeout SECONDS      stop after SECONDS of wall time (exit status 8)\n"
    "      --report FILE          write a JSON report of the run (- for stdout)\n"
    "      --screen-text FILE     at the end, write the VGA text screen to FILE (- for\n"
    "                             stdout; nothing when the screen is in a graphics mode)\n"
    "      --trace FILE           write one line per instruction (- for stdout)\n"
    "      --deterministic        virtual time from instructions only: idle time is\n"
    "                             skipped, the RTC starts at 2024-01-01; runs repeat exactly\n"
    "      --no-reboot            a guest reset ends the run (exit status 12) instead of\n"
    "                             rebooting the machine\n"
    "      --triple-fault ACTION  shutdown (default: end the run, exit status 6) or reset\n"
    "                             (reboot, as a PC chipset does)\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: (V << 1) | 1 when the guest writes V to port 0xF4; 0 the guest\n"
    "powered the machine off (ACPI S5) or Ctrl-A x; 2 bad usage or input; 4 halted;\n"
    "6 triple fault; 8 timeout; 10 instruction limit; 12 the guest reset the\n"
    "machine; 14 the VMM stopped the guest (--mode trap|vmm: something it does not\n"
    "virtualize); 130 interrupted.\n";

static const char top_usage[] =
    "usage: trapeze run [--kernel FILE] [options]   boot a kernel or the firmware\n"
    "                                               (trapeze run --help)\n"
    "       trapeze classify [--format text|markdown|json] [--bytes HEX --mode MODE --cpl N]\n"
    "                                               instruction classes and why (trapeze\n"
    "                                               classify --help)\n"
    "       trapeze --help | --version\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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

enum { OPT_SERIAL = 256, OPT_DEBUGCON, OPT_MAXINSN, OPT_TIMEOUT, OPT_REPORT, OPT_TRACE,
       OPT_DETERMINISTIC, OPT_NO_REBOOT, OPT_TRIPLE_FAULT, OPT_INITRD, OPT_BIOS, OPT_VGA_BIOS,
       OPT_SCREEN_TEXT, OPT_HDA, OPT_CDROM, OPT_BOOT, OPT_MODE };

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
        {"deterministic", no_argument, NULL, OPT_DETERMINISTIC},
        {"no-reboot", no_argument, NULL, OPT_NO_REBOOT},
        {"triple-fault", required_argument, NULL, OPT_TRIPLE_FAULT},
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

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":k:a:m:h", opts, NULL)) != -1) {
        switch (opt) {
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
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (cfg.kernel && cfg.bios)
        return usage_error("--kernel boots without firmware: --bios does not apply");
    if (!cfg.kernel && cfg.initrd)
        return usage_error("--initrd given without --kernel FILE");
    if (!strncmp(cfg.serial, "file:", 5) && !strcmp(cfg.serial, cfg.debugcon))
        return usage_error("--serial and --debugcon name the same file '%s'", cfg.serial + 5);

    /* Open the report first: a bad path is an error before anything runs. */
    FILE *report = NULL;
    if (report_path) {
        report = strcmp(report_path, "-") ? fopen(report_path, "w") : stdout;
        if (!report) {
            fprintf(stderr, "trapeze: --report: cannot open '%s' for writing: %s\n", report_path,
                    strerror(errno));
            return VM_STATUS_ERROR;
        }
    }

    char err[512];
    struct vm *vm = vm_create(&cfg, err, sizeof(err));
    if (!vm) {
        fprintf(stderr, "trapeze: %s\n", err);
        if (report && report != stdout)
            fclose(report);
        return VM_STATUS_ERROR;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    vm_run(vm, &stop_requested);
    int status = vm->exit_status;
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
