/* The virtual machine: assembly, boot and the run loop (see machine.h). */
#include "machine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void trace_hook(void *ctx, struct cpu *c, const struct insn *i)
{
    struct vm *vm = ctx;
    trace_insn(vm->trace, c, i);
}

struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
    if (cfg->memory_mib < VM_MIN_MEMORY_MIB || cfg->memory_mib > VM_MAX_MEMORY_MIB) {
        snprintf(err, errlen, "--memory %u: must be between %u and %u MiB", cfg->memory_mib,
                 VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
        return NULL;
    }
    if (!cfg->kernel) {
        snprintf(err, errlen, "no kernel given (--kernel FILE)");
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
    cpu_init(&vm->cpu, &vm->bus, &vm->env);
    vm->cpu.shutdown_on_triple = 1;

    uart_init(&vm->com1, &vm->bus, UART_COM1_BASE, UART_COM1_IRQ, &vm->serial_out);
    debugcon_init(&vm->dbg, &vm->bus, DEBUGCON_PORT, &vm->debug_out);
    exit_device_init(&vm->exitdev, &vm->bus, EXIT_DEVICE_PORT, &vm->cpu.exit_request);

    /* Multiboot or Linux, by the file's content; sets the entry state. */
    if (direct_boot(&vm->bus, &vm->cpu, cfg->kernel, cfg->initrd, cfg->append, &vm->boot, err,
                    errlen) < 0)
        goto fail;
    return vm;

fail:;
    char ignore[8];
    vm_destroy(vm, ignore, sizeof(ignore));
    return NULL;
}

/* After cpu_run() returned CPU_EXIT_HLT: can anything wake the CPU? Not yet:
 * there is no interrupt controller, so a halted CPU stays halted. NMI has no
 * source either. When the PIC and PIT land this becomes "advance the clock
 * to the next timer event". */
static enum vm_end halted(struct vm *vm)
{
    if (vm->cpu.nmi_pending)
        return VM_END_NONE;
    return (vm->cpu.eflags & F_IF) ? VM_END_HALTED_IDLE : VM_END_HALTED;
}

enum vm_end vm_run(struct vm *vm, volatile sig_atomic_t *stop)
{
    struct cpu *c = &vm->cpu;
    const struct vm_config *cfg = &vm->cfg;
    double start = now_s();
    double deadline = cfg->timeout_s > 0 ? start + cfg->timeout_s : 0;
    enum vm_end end = VM_END_NONE;

    while (end == VM_END_NONE) {
        if (stop && *stop) {
            end = VM_END_INTERRUPTED;
            break;
        }
        if (cfg->max_insns && vm->steps >= cfg->max_insns) {
            end = VM_END_INSN_LIMIT;
            break;
        }
        if (deadline && now_s() >= deadline) {
            end = VM_END_TIMEOUT;
            break;
        }
        uint64_t slice = VM_SLICE;
        if (cfg->max_insns && cfg->max_insns - vm->steps < slice)
            slice = cfg->max_insns - vm->steps;
        enum cpu_exit why = cpu_run(c, slice);
        vm->steps += slice - c->budget;
        switch (why) {
        case CPU_EXIT_REQUEST:
            if (vm->exitdev.written)
                end = VM_END_EXIT_DEVICE;
            break;
        case CPU_EXIT_HLT: end = halted(vm); break;
        case CPU_EXIT_SHUTDOWN: end = VM_END_SHUTDOWN; break;
        case CPU_EXIT_BUDGET:
        case CPU_EXIT_NONE: break;
        }
        sink_flush(&vm->serial_out);
        sink_flush(&vm->debug_out);
    }
    vm->end = end;
    vm->exit_status =
        end == VM_END_EXIT_DEVICE ? exit_device_status(vm->exitdev.value) : vm_end_status(end);
    vm->wall_time_s = now_s() - start;
    vm->end_cs = c->seg[S_CS].sel;
    vm->end_eip = c->eip;
    return end;
}

int vm_destroy(struct vm *vm, char *err, size_t errlen)
{
    if (!vm)
        return 0;
    int r = 0;
    if (trace_close(vm->trace, err, errlen) < 0)
        r = -1;
    if (sink_close(&vm->serial_out) < 0 && r == 0) {
        snprintf(err, errlen, "--serial: error writing '%s'", vm->serial_out.path);
        r = -1;
    }
    if (sink_close(&vm->debug_out) < 0 && r == 0) {
        snprintf(err, errlen, "--debugcon: error writing '%s'", vm->debug_out.path);
        r = -1;
    }
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
};

const char *vm_end_name(enum vm_end e) { return ends[e].name; }
const char *vm_end_text(enum vm_end e) { return ends[e].text; }
int vm_end_status(enum vm_end e) { return ends[e].status; }
