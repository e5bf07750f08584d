/*
 * A virtual machine: its bus (RAM, ports), its CPU, its devices and the state
 * of its run. Everything a VM owns is reached from struct vm; there are no
 * globals, so several VMs can coexist in one process (one per --vm, run on
 * a pool of host threads by vmm/scheduler.c).
 *
 * Today's machine: RAM from 0, COM1 (16550A at 0x3F8), the Bochs debug console
 * (0xE9) and the exit device (0xF4), booted directly from a Multiboot kernel.
 *
 * The run goes in slices: cpu_run() with an instruction budget, then the
 * machine checks the wall-clock deadline, the instruction limit and a stop
 * request from outside (SIGINT) before the next slice. A slice is
 * VM_SLICE instructions, so a limit or deadline is noticed within that many.
 */
#ifndef TRAPEZE_VMM_MACHINE_H
#define TRAPEZE_VMM_MACHINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bios/acpi_tables.h"
#include "../bios/direct_boot.h"
#include "../bios/firmware.h"
#include "../cpu/cpu.h"
#include "../devices/acpi_pm.h"
#include "../devices/debugcon.h"
#include "../devices/i8042.h"
#include "../devices/ide.h"
#include "../devices/pci.h"
#include "../devices/pic8259.h"
#include "../devices/pit8254.h"
#include "../devices/post_code.h"
#include "../devices/rtc_cmos.h"
#include "../devices/exit_device.h"
#include "../devices/sink.h"
#include "../devices/uart16550.h"
#include "../devices/vga.h"
#include "console_input.h"
#include "vcpu.h"
#include "../mmu/bus.h"

#define VM_SLICE (1u << 18)
#define VM_MIN_MEMORY_MIB 2u
#define VM_MAX_MEMORY_MIB 3584u
#define VM_DEFAULT_MEMORY_MIB 128u /* as QEMU: enough for a current Linux */

/* How a run ended. Each has a fixed process exit status (vm_end_status). */
enum vm_end {
    VM_END_NONE = 0,          /* still running */
    VM_END_EXIT_DEVICE,       /* guest wrote to the exit device: (value << 1) | 1 */
    VM_END_HALTED,            /* HLT with interrupts disabled and no NMI */
    VM_END_HALTED_IDLE,       /* HLT with interrupts enabled, but nothing can interrupt */
    VM_END_SHUTDOWN,          /* triple fault: the processor shut down */
    VM_END_TIMEOUT,           /* --timeout reached */
    VM_END_INSN_LIMIT,        /* --max-instructions reached */
    VM_END_INTERRUPTED,       /* stopped from outside (SIGINT, SIGTERM) */
    VM_END_RESET,             /* the guest reset the machine and there is no firmware to rerun */
    VM_END_USER_QUIT,         /* Ctrl-A x on the serial console */
    VM_END_POWER_OFF,         /* the guest switched the machine off (ACPI S5) */
    VM_END_VMM_STOP,          /* the VMM stopped the guest: it did what the VMM does not
                               * virtualize (vcpu.fatal says what) */
};

/* Process exit statuses (README.md, "Exit statuses"). Even numbers, so they
 * never collide with an exit-device status, which is always odd. */
enum {
    VM_STATUS_ERROR = 2,      /* usage error or bad input: nothing ran */
    VM_STATUS_HALTED = 4,     /* both HLT endings */
    VM_STATUS_SHUTDOWN = 6,
    VM_STATUS_TIMEOUT = 8,
    VM_STATUS_INSN_LIMIT = 10,
    VM_STATUS_RESET = 12,
    VM_STATUS_VMM_STOP = 14,
    VM_STATUS_INTERRUPTED = 130, /* the shell's 128 + SIGINT */
};

struct vm_config {
    const char *name;       /* for messages and the report ("vm0") */
    const char *kernel;     /* Multiboot or Linux (bzImage) kernel file; NULL: boot the firmware */
    const char *initrd;     /* Linux initrd file, or NULL */
    const char *bios;       /* system BIOS image (NULL: FIRMWARE_DEFAULT_BIOS) */
    const char *hda;        /* raw hard-disk image on the primary master, or NULL */
    const char *cdrom;      /* ISO image in the ATAPI CD-ROM on the secondary master, or NULL */
    const char *boot;       /* firmware boot order: "c" disk, "d" CD-ROM (NULL: "cd") */
    const char *vga_bios;   /* VGA BIOS image (NULL: FIRMWARE_DEFAULT_VGA_BIOS when
                             * booting firmware, none for a kernel; "none": none) */
    const char *append;     /* command line after the kernel path, or NULL */
    uint32_t memory_mib;
    const char *serial;     /* sink spec for COM1: stdio | file:PATH | none */
    const char *debugcon;   /* sink spec for port 0xE9 */
    const char *trace;      /* trace file path, or NULL */
    const char *trace_exits; /* --trace-exits file path, or NULL (vmm/exit_trace.h) */
    const char *save_state;  /* --save-state file (vmm/snapshot.h), or NULL */
    uint64_t max_insns;     /* 0: no limit */
    double timeout_s;       /* 0: no limit */
    /* Virtual time from instructions only: idle time is skipped, never slept,
     * and no host clock is read by the guest-visible devices (the RTC starts
     * at a fixed instant), so two runs are identical. */
    bool deterministic;
    bool no_reboot;          /* a guest reset ends the run (exit status 12) instead of rebooting */
    bool triple_fault_reset; /* a triple fault resets the machine instead of ending the run */
    enum vm_mode mode;       /* --mode: emulate (default), trap, vmm */
};

/* The virtual clock runs at one cycle per nanosecond: the CPU retires one
 * instruction per cycle, and cycles skipped while halted count too (see
 * cpu_tsc). VM_CPU_HZ is the TSC rate Linux calibrates against the PIT. */
#define VM_CPU_HZ 1000000000ull
/* RTC start for --deterministic runs: 2024-01-01 00:00:00 UTC. */
#define VM_DETERMINISTIC_EPOCH 1704067200

struct trace;

struct vm {
    struct vm_config cfg;
    struct bus bus;
    struct cpu cpu;
    struct cpu_env env;
    struct vcpu vcpu;        /* the guest's beliefs, the mode, the statistics */
    struct sink serial_out, debug_out;
    struct uart16550 com1;
    struct uart16550 com2;  /* 0x2F8, IRQ 3: present for probes, output discarded */
    struct sink com2_out;
    struct debugcon dbg;
    struct pic pic;
    struct pit pit;
    struct rtc rtc;
    struct i8042 kbc;
    struct pci_bus pci;
    struct pc_chipset chipset;
    struct ide ide;
    struct acpi_pm pm;       /* PIIX4 power management (00:01.3): ACPI registers, PM timer */
    struct vga vga;
    struct post_code post;
    struct debugcon dbg402;  /* SeaBIOS's (QEMU build) debug port, same sink as 0xE9 */
    uint32_t bios_size;      /* 0: booted a kernel, not firmware */
    bool reset_requested;
    bool power_off_requested;
    unsigned resets;
    struct console_input input; /* stdin to COM1 when --serial stdio */
    double host_start;      /* host monotonic time when the run started */
    struct exit_device exitdev;
    struct trace *trace;
    struct direct_boot boot;

    /* The run in steps (vm_start, vm_step; see vmm/scheduler.h) */
    double run_start;      /* host time at vm_start */
    double run_deadline;   /* host time of --timeout, or 0 */
    bool yield_when_idle;  /* HLT waiting for a timer returns VM_STEP_IDLE instead of sleeping */
    double idle_until;     /* after VM_STEP_IDLE: host time to run again */
    /* Live statistics: a counter the frontend's SIGUSR1 handler bumps (NULL:
     * none); the VM prints its statistics when it moved (vm_print_stats). */
    volatile sig_atomic_t *stats_request;
    sig_atomic_t stats_seen;
    /* A debugger (frontend/gdbstub.c): its state, and its request that
     * vm_step return (VM_STEP_RUN) at the next boundary without ending. */
    void *gdb;
    bool pause_request;
    struct ui_port *ui;      /* the window's port (vmm/ui_port.h), or NULL */

    /* Result of the run */
    enum vm_end end;
    int exit_status;
    uint64_t steps;        /* instructions executed or faulted (what the limit counts) */
    double wall_time_s;
    uint32_t end_cs, end_eip; /* where the CPU stood when the run ended */
};

/*
 * Creates a VM from cfg: RAM, devices, output sinks, the trace file, and
 * loads the kernel. cfg's strings must outlive the VM. Returns NULL with a
 * message in err (naming the file or option at fault) on any error.
 */
struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen);

/* Runs until the guest or a limit ends the run. stop (may be NULL) is polled
 * between slices. Fills end, exit_status, steps, wall_time_s. */
enum vm_end vm_run(struct vm *vm, volatile sig_atomic_t *stop);

/*
 * The run in steps, for the scheduler (vm_run is vm_start then vm_step until
 * the end). vm_step runs until host time 'until' (0: no limit), the end of
 * the run (VM_STEP_END: end, exit_status... filled as by vm_run) or, with
 * yield_when_idle set, a HLT waiting for a timer (VM_STEP_IDLE: idle_until
 * is the host time from which the VM should run again). It touches nothing
 * outside the VM but its sinks, so different VMs may step on different
 * threads at once.
 */
enum vm_step { VM_STEP_RUN, VM_STEP_IDLE, VM_STEP_END };
void vm_start(struct vm *vm);
enum vm_step vm_step(struct vm *vm, volatile sig_atomic_t *stop, double until);
double vm_host_now(void); /* CLOCK_MONOTONIC, seconds */

/* Ends the run now with end (a debugger's kill), as vm_step would. */
void vm_end_now(struct vm *vm, enum vm_end end);

/* Prints the VM's statistics so far (instructions by class, top mnemonics,
 * exits by reason, host time) as a block on f (vmm/live_stats.c). */
void vm_print_stats(struct vm *vm, FILE *f);

/* Flushes and closes outputs. Returns -1 (message in err) if writing an
 * output failed, e.g. a full disk. */
int vm_destroy(struct vm *vm, char *err, size_t errlen);

/* Short identifier ("exit_device", "halted", ...) and a sentence. */
const char *vm_end_name(enum vm_end e);
const char *vm_end_text(enum vm_end e);
int vm_end_status(enum vm_end e);

#endif
