/*
 * The vCPU: what the guest believes about its CPU, for the modes that run
 * the guest kernel deprivileged (DESIGN.md, "Execution modes"), and the
 * VM's execution statistics (every mode).
 *
 * Ring compression (trap and vmm modes). The guest kernel's ring 0 runs at
 * real ring 1. While the guest runs, the real CPU holds:
 *   - GDTR, IDTR, LDTR and TR pointing at the VMM's shadow tables in VMM
 *     memory (vmm/compress.c): the guest's descriptors with DPL 0 turned
 *     into DPL 1 and limits truncated below the VMM's region;
 *   - CPL 1 where the guest believes 0, CS and SS with RPL 1, every cached
 *     DPL-0 segment turned into DPL 1 and truncated likewise;
 *   - EFLAGS.IF = 1 and IOPL = 0 (so CLI, STI, IN, OUT fault at ring 1, and
 *     POPF silently keeps IF and IOPL);
 *   - CR0 with NE set (see compress.c).
 * The vCPU holds the guest's own values of all of these.
 *
 * "The guest's view" (vcpu_view_enter/leave) swaps the guest's values into
 * the real CPU so that the CPU's own handlers execute an instruction or
 * deliver an event exactly as they would for the guest at its own CPL 0,
 * against its own tables; leaving the view takes back what changed and
 * compresses the state again. That one mechanism is how the VMM emulates
 * privileged and critical instructions and reflects exceptions and
 * interrupts through the guest's IDT: nothing about an instruction is
 * restated in vmm/.
 */
#ifndef TRAPEZE_VMM_VCPU_H
#define TRAPEZE_VMM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "../cpu/cpu.h"
#include "paravirt.h"

enum vm_mode { VM_MODE_EMULATE, VM_MODE_TRAP, VM_MODE_VMM, VM_MODE_PARAVIRT };

/* Why the VMM gained control (docs/architecture.md has the table). */
enum vmexit_reason {
    VMEXIT_CRITICAL,      /* vmm mode: a critical instruction, before it executed */
    VMEXIT_PRIVILEGED,    /* #GP from a PRIV instruction at ring 1: emulated */
    VMEXIT_IOPL,          /* #GP from CLI/STI at ring 1 (IOPL 0): emulated on the virtual IF */
    VMEXIT_IO,            /* #GP from IN/OUT/INS/OUTS: emulated against the VM's devices */
    VMEXIT_COMPRESSION,   /* #GP/#NP/#SS/#TS caused by ring compression itself (MOV SS with
                           * RPL 0, IRET/RETF to an RPL-0 CS): emulated */
    VMEXIT_EXCEPTION,     /* a genuine guest exception: reflected through the guest's IDT */
    VMEXIT_SOFT_INT,      /* INT n, INT3, INTO, INT1: reflected through the guest's IDT */
    VMEXIT_EXTERNAL_INT,  /* a virtual interrupt injected (virtual IF = 1) */
    VMEXIT_NMI,           /* an NMI reflected */
    VMEXIT_SHADOW_PF,     /* #PF that the guest's tables allow: a shadow miss filled */
    VMEXIT_SHADOW_EMUL,   /* #PF on an access the shadow cannot grant though the guest's
                           * tables do (a write to a write-protected page-table page):
                           * the instruction is executed in the guest's view */
    VMEXIT_GUEST_PF,      /* #PF that the guest's tables refuse: reflected with the
                           * guest's CR2 and error code */
    VMEXIT_HYPERCALL,     /* paravirt: INT 0x82 from the guest kernel (paravirt.c) */
    VMEXIT_REASONS
};

/* Statistics of one VM (all modes). */
struct vm_stats {
    uint64_t *row_counts; /* per opcode-table row (cpu.row_counts points here) */
    uint64_t exits[VMEXIT_REASONS];
    double guest_s, vmm_s; /* host time running guest code / handling exits */
};

struct vcpu {
    enum vm_mode mode;
    struct cpu *cpu;
    struct bus *bus;
    uint8_t *mem;      /* the VMM's own memory (shadow tables), mapped at VMM_BASE */

    /* The guest's beliefs (deprivileged modes). */
    uint8_t cpl;
    uint32_t flags;    /* EFLAGS.IF and IOPL as the guest set them */
    uint32_t cr0, cr2, cr3, cr4;
    struct dtr gdtr, idtr;
    struct seg ldtr, tr;
    bool in_view;      /* the real CPU holds the guest's values right now */
    uint32_t shadow_gdt_used, shadow_ldt_used; /* bytes of shadow table in use */

    /* Shadow paging (vmm/shadow.c). gmmu walks the guest's own tables (its
     * control registers are the guest's); the shadow page tables live in
     * the VMM's memory. */
    struct mmu gmmu;
    uint64_t view_flush_mark;  /* c->mmu.tlb_flushes when the view was entered */
    bool shadow_ready;
    uint8_t *pt_bits;          /* one bit per 4 KiB frame: a write-protected
                                * guest page-table page (the PD or a PT) */
    uint32_t *pt_list, pt_count; /* those frames, to clear pt_bits cheaply */
    uint16_t spt_of[1024];     /* shadow PT (pool index + 1) of each PD slot, 0 = none */
    uint32_t spt_src[1024];    /* the guest PT frame each slot's shadow PT derives
                                * from (1: a 4 MiB guest page, no PT) */
    uint32_t spt_used;         /* pool entries in use */

    /* Virtual interrupts: the level of the interrupt controller's output.
     * The real INTR line is this AND the virtual IF (vcpu_update_intr). */
    bool intr_pin;

    /* paravirt mode: the trap table, the timer, hypercall counts. */
    struct pv_state pv;

    /* --trace-exits (exit_trace.h), or NULL; shadow_flush counts its calls. */
    struct exit_trace *xtrace;
    uint64_t shadow_flushes;

    /* Fatal: the guest did something the VMM does not virtualize (yet); the
     * run ends with this message (lguest's kill_guest). */
    char fatal[160];

    struct vm_stats stats;
};

/* Sets up the vCPU for mode on an initialised CPU; allocates the VMM's
 * memory and maps it on the bus for the deprivileged modes. Returns 0 or -1
 * (out of memory / no bus slot). */
int vcpu_init(struct vcpu *v, enum vm_mode mode, struct cpu *c, struct bus *b);
void vcpu_free(struct vcpu *v);
/* After the CPU was put in its boot state (reset, direct boot): takes that
 * state as the guest's and deprivileges it. */
void vcpu_boot(struct vcpu *v);

static inline bool vcpu_deprivileged(const struct vcpu *v) { return v->mode != VM_MODE_EMULATE; }

/* The guest's EFLAGS.IF, whatever the mode. */
bool vcpu_guest_if(const struct vcpu *v);

/* Interrupt controller output changed (or the virtual IF did). */
void vcpu_set_intr_pin(struct vcpu *v, bool level);
void vcpu_update_intr(struct vcpu *v);

/* The guest's view (see above). leave returns false when the guest entered
 * a state the VMM does not virtualize (v->fatal says which). */
void vcpu_view_enter(struct vcpu *v);
bool vcpu_view_leave(struct vcpu *v);

/*
 * Runs guest code for at most max instructions: cpu_run plus the handling
 * of every exit (vmm/vmexit.c). Returns the CPU exit that ends the slice
 * (BUDGET, HLT, SHUTDOWN, REQUEST); *steps gets the instructions executed
 * or faulted, emulated ones included. A fatal condition returns
 * CPU_EXIT_SHUTDOWN with v->fatal set.
 */
enum cpu_exit vcpu_run(struct vcpu *v, uint64_t max, uint64_t *steps);

/* A #PF while the guest ran on the shadow (vmexit.c): a shadow miss filled,
 * a write to a write-protected page table emulated in the view, or the
 * guest's own fault reflected (paravirt: through its trap table). Returns
 * false on a fatal condition. */
bool vcpu_page_fault(struct vcpu *v, struct cpu_event e);

/* Names for the report. */
const char *vm_mode_name(enum vm_mode m);
int vm_mode_parse(const char *s, enum vm_mode *m);
const char *vmexit_name(enum vmexit_reason r);

#endif
