/* The virtual machine: assembly, boot and the run loop (see machine.h). */
#include "machine.h"
#include "ui_port.h"

#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exit_trace.h"
#include "snapshot.h"
#include "trace.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The virtual clock (see VM_CPU_HZ). */
static uint64_t vm_clock_ns(void *ctx)
{
    struct vm *vm = ctx;
    return vm->cpu.icount + vm->cpu.idle_cycles;
}

static void pic_intr(void *ctx, bool level)
{
    struct vm *vm = ctx;
    vcpu_set_intr_pin(&vm->vcpu, level); /* the real INTR, or the virtual one */
}

static int intr_ack(void *ctx)
{
    struct vm *vm = ctx;
    int pv = pv_intr_ack(&vm->vcpu); /* paravirt: the timer hypercall's vector */
    return pv >= 0 ? pv : pic_ack(&vm->pic);
}

/* paravirt: HC_CONSOLE_WRITE goes to the debug console's sink, HC_SHUTDOWN
 * ends the run as the exit device does (status (value << 1) | 1). */
static void pv_console(void *ctx, const uint8_t *buf, size_t n)
{
    struct vm *vm = ctx;
    for (size_t k = 0; k < n; k++)
        sink_put(&vm->debug_out, buf[k]);
}

static void pv_shutdown(void *ctx, uint32_t status)
{
    struct vm *vm = ctx;
    vm->exitdev.written = true;
    vm->exitdev.value = status;
    vm->cpu.exit_request = 1;
}

/* FERR# (x87 error with CR0.NE = 0) is wired to IRQ 13; a write to port
 * 0xF0 clears it, as on the PC/AT. */
static void ferr(void *ctx, bool level)
{
    struct vm *vm = ctx;
    bus_set_irq(&vm->bus, 13, level);
}

static void port_f0_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct vm *vm = ctx;
    (void)port, (void)size, (void)v;
    /* The PC/AT latch: clears the IRQ 13 request and asserts IGNNE#. */
    vm->cpu.ignne = true;
    bus_set_irq(&vm->bus, 13, 0);
}

static void reset_request(void *ctx)
{
    struct vm *vm = ctx;
    vm->reset_requested = true;
    vm->cpu.exit_request = 1;
}

/* ACPI soft-off (S5) through the PM1 control register. */
static void power_off(void *ctx)
{
    struct vm *vm = ctx;
    vm->power_off_requested = true;
    vm->cpu.exit_request = 1;
}

static void trace_hook(void *ctx, struct cpu *c, const struct insn *i)
{
    struct vm *vm = ctx;
    trace_insn(vm->trace, c, i);
}

/* Loads what the VM boots and puts the CPU in the state its loader hands
 * over in. Called at creation and after every machine reset, so a reset
 * reboots the same kernel as a PC's firmware would. */
static int vm_boot(struct vm *vm, char *err, size_t errlen)
{
    const struct vm_config *cfg = &vm->cfg;
    if (!cfg->kernel) {
        /* Firmware: the CPU starts at the reset vector F000:FFF0 (cpu_reset
         * state), and the BIOS's low copy is fresh, as a reset switches the
         * chipset's PAMs back to ROM. */
        firmware_restore_low(&vm->bus, vm->bios_size);
        /* The A20 gate starts open for firmware too (QEMU's and Bochs' 8042
         * power on with output port bit 1 set): with it closed the reset
         * vector 0xFFFFFFF0 would be fetched from 0xFFEFFFF0, below the ROM. */
        vm->kbc.outport |= 2;
        bus_set_a20(&vm->bus, true);
        vcpu_boot(&vm->vcpu);
        return 0;
    }
    /* Multiboot or Linux, by the file's content; sets the entry state. */
    if (direct_boot(&vm->bus, &vm->cpu, cfg->kernel, cfg->initrd, cfg->append, &vm->boot, err,
                    errlen) < 0)
        return -1;
    /* A loader hands over with A20 enabled (through the 8042's output port). */
    vm->kbc.outport |= 2;
    bus_set_a20(&vm->bus, true);
    /* What the BIOS would have done: the PM block placed and in ACPI mode,
     * and the ACPI tables describing the machine in the BIOS area. */
    acpi_pm_firmware_setup(&vm->pm, ACPI_PM_DEFAULT_BASE);
    struct acpi_platform ap = {ACPI_PM_DEFAULT_BASE, ACPI_PM_SCI_IRQ, vm->bus.ram_size};
    if (acpi_tables_install(&vm->bus, &ap) < 0) {
        snprintf(err, errlen, "internal error: the ACPI tables do not fit");
        return -1;
    }
    vcpu_boot(&vm->vcpu);
    return 0;
}

/* The PC's RESET: the CPU and the devices return to their power-on state
 * (the RTC keeps its time and CMOS, RAM keeps its contents), then the VM
 * boots again. */
static int vm_reset(struct vm *vm, char *err, size_t errlen)
{
    cpu_reset(&vm->cpu);
    pic_reset(&vm->pic);
    pit_reset(&vm->pit);
    i8042_reset(&vm->kbc);
    uart_reset(&vm->com1);
    uart_reset(&vm->com2);
    vga_reset(&vm->vga);
    acpi_pm_reset(&vm->pm);
    vm->reset_requested = false;
    vm->resets++;
    return vm_boot(vm, err, errlen);
}

static int vm_load_vga_bios(struct vm *vm, const char *path, char *err, size_t errlen)
{
    uint8_t *rom;
    uint32_t size;
    if (firmware_read_option_rom(path, &rom, &size, err, errlen) < 0)
        return -1;
    int r = vga_set_rom(&vm->vga, rom, size);
    free(rom);
    if (r < 0)
        snprintf(err, errlen, "--vga-bios '%s': cannot map the ROM", path);
    return r;
}

/* The system BIOS at the top of memory and below 1 MiB, the VGA BIOS
 * behind the VGA's ROM BAR (see bios/firmware.h). */
static int vm_load_firmware(struct vm *vm, char *err, size_t errlen)
{
    const struct vm_config *cfg = &vm->cfg;
    const char *bios = cfg->bios ? cfg->bios : FIRMWARE_DEFAULT_BIOS;
    if (firmware_load_bios(&vm->bus, bios, err, errlen) < 0)
        return -1;
    vm->bios_size = vm->bus.roms[vm->bus.nroms - 1].size;
    const char *vga = cfg->vga_bios ? cfg->vga_bios : FIRMWARE_DEFAULT_VGA_BIOS;
    if (strcmp(vga, "none") && vm_load_vga_bios(vm, vga, err, errlen) < 0)
        return -1;
    return 0;
}

struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
    if (cfg->memory_mib < VM_MIN_MEMORY_MIB || cfg->memory_mib > VM_MAX_MEMORY_MIB) {
        snprintf(err, errlen, "--memory %u: must be between %u and %u MiB", cfg->memory_mib,
                 VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
        return NULL;
    }
    if (cfg->mode != VM_MODE_EMULATE && !cfg->kernel) {
        snprintf(err, errlen,
                 "--mode %s needs --kernel: the firmware starts in real mode, which the VMM "
                 "does not virtualize",
                 vm_mode_name(cfg->mode));
        return NULL;
    }
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    vm->cfg = *cfg;
    if (bus_init(&vm->bus, cfg->memory_mib << 20) != 0) {
        snprintf(err, errlen, "--memory %u: cannot allocate guest RAM: %s", cfg->memory_mib,
                 strerror(errno));
        free(vm);
        return NULL;
    }
    /* From here on vm_destroy() can undo whatever has been set up. */
    if (sink_open(&vm->serial_out, cfg->serial ? cfg->serial : "stdio", "--serial", err,
                  errlen) < 0 ||
        sink_open(&vm->debug_out, cfg->debugcon ? cfg->debugcon : "stdio", "--debugcon", err,
                  errlen) < 0)
        goto fail;
    if (cfg->trace && !(vm->trace = trace_open(cfg->trace, err, errlen)))
        goto fail;

    vm->env.ctx = vm;
    vm->env.trace = vm->trace ? trace_hook : NULL;
    vm->env.intr_ack = intr_ack;
    vm->env.ferr = ferr;
    cpu_init(&vm->cpu, &vm->bus, &vm->env);
    vm->cpu.shutdown_on_triple = 1;
    if (vcpu_init(&vm->vcpu, cfg->mode, &vm->cpu, &vm->bus) < 0) {
        snprintf(err, errlen, "out of memory (vCPU)");
        goto fail;
    }
    if (cfg->trace_exits) {
        if (cfg->mode == VM_MODE_EMULATE) {
            snprintf(err, errlen, "--trace-exits: there are no exits in emulate mode (use --mode "
                                  "trap, vmm or paravirt)");
            goto fail;
        }
        if (!(vm->vcpu.xtrace = exit_trace_open(cfg->trace_exits, err, errlen)))
            goto fail;
    }
    vm->vcpu.pv.console = pv_console;
    vm->vcpu.pv.shutdown = pv_shutdown;
    vm->vcpu.pv.ctx = vm;

    /* The PC: interrupt controllers, timer, RTC/CMOS, keyboard controller,
     * PCI host and ISA bridges, all on the VM's virtual clock. */
    vm->bus.clock = vm_clock_ns;
    vm->bus.clock_ctx = vm;
    vm->bus.reset_request = reset_request;
    vm->bus.timer_stop = &vm->cpu.exit_request;
    vm->bus.reset_ctx = vm;
    pic_init(&vm->pic, &vm->bus, pic_intr, vm);
    pit_init(&vm->pit, &vm->bus);
    rtc_init(&vm->rtc, &vm->bus,
             cfg->deterministic ? VM_DETERMINISTIC_EPOCH : (int64_t)time(NULL));
    rtc_set_config(&vm->rtc, cfg->memory_mib << 20, cfg->boot ? cfg->boot : "cd");
    i8042_init(&vm->kbc, &vm->bus);
    pci_bus_init(&vm->pci, &vm->bus);
    pc_chipset_init(&vm->chipset, &vm->pci);
    acpi_pm_init(&vm->pm, &vm->bus, &vm->pci);
    vm->pm.power_off = power_off;
    vm->pm.power_off_ctx = vm;
    bus_add_ports(&vm->bus, 0xf0, 1, NULL, port_f0_write, vm);
    if (vga_init(&vm->vga, &vm->bus, &vm->pci) < 0) {
        snprintf(err, errlen, "out of memory (VGA)");
        goto fail;
    }
    post_code_init(&vm->post, &vm->bus, POST_CODE_PORT);
    /* PIIX3 IDE (00:01.1): hard disk on the primary master, CD-ROM on the
     * secondary master, where a PC BIOS and Linux look first. */
    ide_init(&vm->ide, &vm->bus, &vm->pci);
    if (cfg->hda && ide_attach_disk(&vm->ide, 0, 0, cfg->hda, err, errlen) < 0)
        goto fail;
    if (cfg->cdrom && ide_attach_cdrom(&vm->ide, 1, 0, cfg->cdrom, err, errlen) < 0)
        goto fail;

    uart_init(&vm->com1, &vm->bus, UART_COM1_BASE, UART_COM1_IRQ, &vm->serial_out);
    /* COM2, as on any PC: a second 16550A the guest finds and may use. */
    if (sink_open(&vm->com2_out, "none", "COM2", err, errlen) < 0)
        goto fail;
    uart_init(&vm->com2, &vm->bus, 0x2f8, 3, &vm->com2_out);
    /* The serial console on the terminal is two-way: what is typed goes to COM1. */
    console_input_open(&vm->input,
                       cfg->serial && !strcmp(cfg->serial, "stdio") ? STDIN_FILENO : -1);
    debugcon_init(&vm->dbg, &vm->bus, DEBUGCON_PORT, &vm->debug_out);
    debugcon_init(&vm->dbg402, &vm->bus, 0x402, &vm->debug_out);
    exit_device_init(&vm->exitdev, &vm->bus, EXIT_DEVICE_PORT, &vm->cpu.exit_request);

    if (!cfg->kernel && vm_load_firmware(vm, err, errlen) < 0)
        goto fail;
    if (cfg->kernel && cfg->vga_bios && strcmp(cfg->vga_bios, "none") &&
        vm_load_vga_bios(vm, cfg->vga_bios, err, errlen) < 0)
        goto fail;
    if (vm_boot(vm, err, errlen) < 0)
        goto fail;
    return vm;

fail:;
    char ignore[8];
    vm_destroy(vm, ignore, sizeof(ignore));
    return NULL;
}

/*
 * After cpu_run() returned CPU_EXIT_HLT: the CPU sleeps until an interrupt.
 * With IF clear (and no NMI source) nothing can wake it. Otherwise virtual
 * time jumps to the next timer deadline: the halted interval costs no host
 * time in --deterministic runs; otherwise the host sleeps until its own
 * clock catches up with the virtual one, so an idle guest's time follows
 * wall time (a busy guest's runs at emulation speed and catches up here).
 */
static enum vm_end halted(struct vm *vm)
{
    struct cpu *c = &vm->cpu;
    if (c->nmi_pending)
        return VM_END_NONE;
    if (!vcpu_guest_if(&vm->vcpu))
        return VM_END_HALTED;
    uint64_t now = vm_clock_ns(vm), next = bus_next_deadline(&vm->bus);
    if (next == UINT64_MAX) {
        /* No timer armed: only console input can wake the guest. */
        if (console_input_pump(&vm->input, &vm->com1, 50))
            return VM_END_NONE;
        return VM_END_HALTED_IDLE;
    }
    if (next > now) {
        if (!vm->cfg.deterministic) {
            double host_ns = (now_s() - vm->host_start) * 1e9;
            double ahead = (double)next - host_ns;
            if (ahead > 1e6 && vm->yield_when_idle) {
                /* Under the scheduler: give the host thread up until the
                 * deadline (at most 20 ms, so limits and signals are seen). */
                vm->idle_until = now_s() + (ahead < 20e6 ? ahead : 20e6) * 1e-9;
                return VM_END_NONE;
            }
            if (ahead > 1e6) {
                /* Wait in bounded steps, for input too, so limits, signals
                 * and typing stay responsive. */
                double ns = ahead < 20e6 ? ahead : 20e6;
                if (vm->input.fd >= 0) {
                    console_input_pump(&vm->input, &vm->com1, (int)(ns / 1e6));
                } else {
                    struct timespec ts = {0, (long)ns};
                    nanosleep(&ts, NULL);
                }
                host_ns = (now_s() - vm->host_start) * 1e9;
                if ((double)next > host_ns + 1e6)
                    return VM_END_NONE; /* not there yet: the run loop comes back */
            }
        }
        c->idle_cycles += next - now;
    }
    return VM_END_NONE;
}

/* A reset requested by the guest (or a triple fault with --triple-fault
 * reset): reboot, or end the run with --no-reboot. */
static enum vm_end restart(struct vm *vm)
{
    if (vm->cfg.no_reboot)
        return VM_END_RESET;
    char err[256];
    if (vm_reset(vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "trapeze: %s: reset failed: %s\n", vm->cfg.name, err);
        return VM_END_RESET;
    }
    fprintf(stderr, "trapeze: %s: the machine was reset (reboot %u)\n", vm->cfg.name,
            vm->resets);
    return VM_END_NONE;
}

double vm_host_now(void) { return now_s(); }

void vm_start(struct vm *vm)
{
    double start = now_s();
    vm->run_start = start;
    vm->run_deadline = vm->cfg.timeout_s > 0 ? start + vm->cfg.timeout_s : 0;
    vm->host_start = start - (double)vm_clock_ns(vm) * 1e-9;
    vm->end = VM_END_NONE;
}

/* Records the result of the run once it has ended. */
static void vm_finish(struct vm *vm, enum vm_end end)
{
    struct cpu *c = &vm->cpu;
    console_input_close(&vm->input);
    vm->end = end;
    vm->exit_status =
        end == VM_END_EXIT_DEVICE ? exit_device_status(vm->exitdev.value) : vm_end_status(end);
    vm->wall_time_s = now_s() - vm->run_start;
    vm->end_cs = c->seg[S_CS].sel;
    vm->end_eip = c->eip;
}

/* Ctrl-A w or the window's command: a snapshot now, the run goes on. */
static void save_on_request(struct vm *vm)
{
    const struct vm_config *cfg = &vm->cfg;
    char err[512];
    if (!cfg->save_state)
        fprintf(stderr, "\r\ntrapeze: %s: no --save-state file to write a snapshot to\r\n",
                cfg->name);
    else if (vm_save_state(vm, cfg->save_state, err, sizeof(err)) < 0)
        fprintf(stderr, "\r\ntrapeze: %s: %s\r\n", cfg->name, err);
    else
        fprintf(stderr, "\r\ntrapeze: %s: state saved to %s\r\n", cfg->name, cfg->save_state);
}

enum vm_step vm_step(struct vm *vm, volatile sig_atomic_t *stop, double until)
{
    const struct vm_config *cfg = &vm->cfg;
    enum vm_end end = VM_END_NONE;
    vm->idle_until = 0;

    while (end == VM_END_NONE) {
        if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) { /* set by another thread */
            end = VM_END_INTERRUPTED;
            break;
        }
        if (cfg->max_insns && vm->steps >= cfg->max_insns) {
            end = VM_END_INSN_LIMIT;
            break;
        }
        if (vm->pause_request) {
            vm->pause_request = false;
            return VM_STEP_RUN;
        }
        if (vm->ui) {
            int ui = ui_port_service(vm);
            if (ui & UI_SERVICE_SAVE)
                save_on_request(vm);
            if (ui & UI_SERVICE_RESET) {
                end = restart(vm);
                continue;
            }
            if (ui & UI_SERVICE_PAUSED) {
                if (!vm->yield_when_idle)
                    return VM_STEP_RUN;
                vm->idle_until = now_s() + 0.05;
                return VM_STEP_IDLE;
            }
        }
        if (vm->stats_request) {
            sig_atomic_t gen = __atomic_load_n(vm->stats_request, __ATOMIC_RELAXED);
            if (gen != vm->stats_seen) {
                vm->stats_seen = gen;
                vm_print_stats(vm, stderr);
            }
        }
        double t = now_s();
        if (vm->run_deadline && t >= vm->run_deadline) {
            end = VM_END_TIMEOUT;
            break;
        }
        if (until > 0 && t >= until)
            return VM_STEP_RUN; /* the time slice is used up */
        /* Timers due now fire first; the slice then ends at the next
         * deadline, so device events land on the exact virtual cycle. */
        uint64_t now = vm_clock_ns(vm);
        bus_run_timers(&vm->bus, now);
        uint64_t slice = VM_SLICE, next = bus_next_deadline(&vm->bus);
        if (next != UINT64_MAX && next - now < slice)
            slice = next > now ? next - now : 1;
        if (cfg->max_insns && cfg->max_insns - vm->steps < slice)
            slice = cfg->max_insns - vm->steps;
        uint64_t steps;
        enum cpu_exit why = vcpu_run(&vm->vcpu, slice, &steps);
        vm->steps += steps;
        switch (why) {
        case CPU_EXIT_REQUEST:
            if (vm->exitdev.written)
                end = VM_END_EXIT_DEVICE;
            else if (vm->power_off_requested)
                end = VM_END_POWER_OFF;
            else if (vm->reset_requested)
                end = restart(vm);
            break;
        case CPU_EXIT_HLT: end = halted(vm); break;
        case CPU_EXIT_SHUTDOWN:
            if (vm->vcpu.fatal[0]) {
                fprintf(stderr, "trapeze: %s: the VMM stopped the guest: %s\n", cfg->name,
                        vm->vcpu.fatal);
                end = VM_END_VMM_STOP;
                break;
            }
            /* A PC's chipset turns the shutdown cycle into RESET; trapeze
             * ends the run instead unless --triple-fault reset. */
            end = cfg->triple_fault_reset ? restart(vm) : VM_END_SHUTDOWN;
            break;
        case CPU_EXIT_BUDGET:
        case CPU_EXIT_NONE:
        case CPU_EXIT_INSN:  /* handled in vcpu_run */
        case CPU_EXIT_EVENT: break;
        }
        sink_flush(&vm->serial_out);
        sink_flush(&vm->debug_out);
        if (end == VM_END_NONE && vm->input.fd >= 0) {
            console_input_pump(&vm->input, &vm->com1, 0);
            if (vm->input.quit)
                end = VM_END_USER_QUIT;
            if (vm->input.stats) {
                vm->input.stats = false;
                vm_print_stats(vm, stderr);
            }
            if (vm->input.save) {
                vm->input.save = false;
                save_on_request(vm);
            }
        }
        if (end == VM_END_NONE && vm->idle_until > 0)
            return VM_STEP_IDLE;
    }
    vm_finish(vm, end);
    return VM_STEP_END;
}

void vm_end_now(struct vm *vm, enum vm_end end)
{
    if (vm->end == VM_END_NONE)
        vm_finish(vm, end);
}

enum vm_end vm_run(struct vm *vm, volatile sig_atomic_t *stop)
{
    vm_start(vm);
    while (vm_step(vm, stop, 0) != VM_STEP_END)
        continue; /* only under yield_when_idle does a step return early */
    return vm->end;
}

int vm_destroy(struct vm *vm, char *err, size_t errlen)
{
    if (!vm)
        return 0;
    int r = 0;
    console_input_close(&vm->input);
    if (trace_close(vm->trace, err, errlen) < 0)
        r = -1;
    if (exit_trace_close(vm->vcpu.xtrace, err, errlen) < 0)
        r = -1;
    vm->vcpu.xtrace = NULL;
    if (sink_close(&vm->serial_out) < 0 && r == 0) {
        snprintf(err, errlen, "--serial: error writing '%s'", vm->serial_out.path);
        r = -1;
    }
    if (sink_close(&vm->debug_out) < 0 && r == 0) {
        snprintf(err, errlen, "--debugcon: error writing '%s'", vm->debug_out.path);
        r = -1;
    }
    sink_close(&vm->com2_out);
    vga_free(&vm->vga);
    if (vm->ide.bus) /* initialised: its image descriptors are valid */
        ide_free(&vm->ide);
    vcpu_free(&vm->vcpu);
    cpu_free(&vm->cpu);
    bus_free(&vm->bus);
    free(vm);
    return r;
}

static const struct {
    const char *name, *text;
    int status;
} ends[] = {
    [VM_END_NONE] = {"running", "still running", 0},
    [VM_END_EXIT_DEVICE] = {"exit_device", "the guest wrote to the exit device", -1},
    [VM_END_HALTED] = {"halted", "halted with interrupts disabled", VM_STATUS_HALTED},
    [VM_END_HALTED_IDLE] = {"halted_idle",
                            "halted with interrupts enabled, and no device can interrupt",
                            VM_STATUS_HALTED},
    [VM_END_SHUTDOWN] = {"triple_fault", "triple fault: the processor shut down",
                         VM_STATUS_SHUTDOWN},
    [VM_END_TIMEOUT] = {"timeout", "the time limit (--timeout) was reached", VM_STATUS_TIMEOUT},
    [VM_END_INSN_LIMIT] = {"instruction_limit",
                           "the instruction limit (--max-instructions) was reached",
                           VM_STATUS_INSN_LIMIT},
    [VM_END_INTERRUPTED] = {"interrupted", "interrupted by a signal", VM_STATUS_INTERRUPTED},
    [VM_END_RESET] = {"reset", "the guest reset the machine", VM_STATUS_RESET},
    [VM_END_USER_QUIT] = {"user_quit", "ended from the console (Ctrl-A x)", 0},
    [VM_END_VMM_STOP] = {"vmm_stop", "the VMM stopped the guest (see the message above)",
                         VM_STATUS_VMM_STOP},
    [VM_END_POWER_OFF] = {"powered_off", "the guest powered the machine off (ACPI S5)", 0},
};

const char *vm_end_name(enum vm_end e) { return ends[e].name; }
const char *vm_end_text(enum vm_end e) { return ends[e].text; }
int vm_end_status(enum vm_end e) { return ends[e].status; }
