/*
 * The VMM's run loop: guest code on the CPU until an exit, then the exit's
 * handling (docs/architecture.md, "The VMM", has the table of reasons).
 *
 * Emulation and reflection are one mechanism: enter the guest's view (the
 * guest's CPL, tables, IF and IOPL in the real CPU), let the CPU execute the
 * instruction or deliver the event exactly as it would for the guest, leave
 * the view (vcpu.h). So:
 *  - a critical instruction (vmm mode, CPU_EXIT_INSN) executes in the view;
 *  - a #GP/#NP/#SS/#TS at ring 1 is retried in the view: if the instruction
 *    completes there, the fault was an artefact of deprivileging (privileged
 *    or IOPL-sensitive instruction, or ring compression itself) and the
 *    instruction is now emulated; if it faults again the fault is the
 *    guest's own, and the CPU has just delivered it through the guest's IDT;
 *  - any other exception, INT n and interrupts are delivered in the view.
 * Cost: an exit is a view switch (a few hundred bytes copied: the guest's
 * GDT is re-shadowed each time) plus the instruction; innocuous instructions
 * never exit.
 */
#include <string.h>
#include <time.h>

#include "exit_trace.h"
#include "shadow.h"
#include "vcpu.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool is_port_io(const struct insn *i)
{
    const char *m = i->op->mnemonic;
    return !strncmp(m, "IN", 2) || !strncmp(m, "OUT", 3);
}

/* Why a fault that did not recur in the guest's view happened. */
static enum vmexit_reason artefact_reason(const struct insn *i)
{
    if (i->cls & C_PRIV)
        return VMEXIT_PRIVILEGED;
    if (i->cls & C_IOPL)
        return is_port_io(i) ? VMEXIT_IO : VMEXIT_IOPL;
    return VMEXIT_COMPRESSION;
}

static bool is_segment_fault(int v)
{
    return v == EX_GP || v == EX_NP || v == EX_SS || v == EX_TS;
}

/*
 * A #PF while the guest ran on the shadow (vmm/shadow.c). A shadow miss is
 * filled without entering the view and the instruction restarts natively;
 * a fault of the guest's own tables is reflected with the guest's CR2 and
 * error code; an access the guest allows but the shadow cannot grant (a
 * write to a write-protected page table, CR0.WP = 0 rights) executes in
 * the view, against the guest's tables, and a page-table write then drops
 * the shadow.
 */
static bool emulate_pt_write(struct vcpu *v, uint32_t lin, bool pt_write);

bool vcpu_page_fault(struct vcpu *v, struct cpu_event e)
{
    struct cpu *c = v->cpu;
    uint64_t *exits = v->stats.exits;
    uint32_t lin = c->cr2, gerr;
    bool pt_write;
    switch (shadow_page_fault(v, lin, e.err, &gerr, &pt_write)) {
    case SPF_FIXED: exits[VMEXIT_SHADOW_PF]++; return true;
    case SPF_FATAL: return false;
    case SPF_GUEST:
        exits[VMEXIT_GUEST_PF]++;
        if (v->mode == VM_MODE_PARAVIRT) /* through the trap table, on the real CPU */
            return pv_reflect_page_fault(v, e, lin, gerr);
        vcpu_view_enter(v);
        c->cr2 = lin;
        e.err = gerr;
        cpu_raise_event(c, &e);
        return vcpu_view_leave(v);
    case SPF_EMULATE: break;
    }
    return emulate_pt_write(v, lin, pt_write);
}

static bool emulate_pt_write(struct vcpu *v, uint32_t lin, bool pt_write)
{
    struct cpu *c = v->cpu;
    int faulted;
    v->stats.exits[VMEXIT_SHADOW_EMUL]++;
    /* The frames the instruction may write: no non-string instruction
     * writes more than 512 bytes (FXSAVE) around its first faulting
     * address (PUSHA, ENTER: below it). Taken before the write can remap. */
    uint32_t frames[3], nframes = 0;
    for (int k = -1; k <= 1; k++) {
        uint32_t pa;
        if (pt_write && mmu_probe(&v->gmmu, lin + (uint32_t)(k * 512), &pa) == 0)
            frames[nframes++] = pa & PAGE_MASK;
    }
    vcpu_view_enter(v);
    struct insn i;
    if (!cpu_fetch_insn(c, &i)) {
        cpu_step_insn(c, &i, &faulted);
        if (pt_write && i.rep)
            v->shadow_ready = false; /* a string's extent: drop it all at the leave */
    }
    for (uint32_t k = 0; k < nframes; k++)
        shadow_frame_written(v, frames[k]);
    return vcpu_view_leave(v);
}

/* Handles one exit in the guest's view. Returns false on a fatal condition. */
static bool handle_exit(struct vcpu *v, enum cpu_exit why)
{
    struct cpu *c = v->cpu;
    uint64_t *exits = v->stats.exits;
    int faulted;

    if (v->mode == VM_MODE_PARAVIRT)
        return pv_handle_exit(v, why);
    if (why == CPU_EXIT_EVENT && c->exit_event.kind == EV_FAULT &&
        c->exit_event.vector == EX_PF)
        return vcpu_page_fault(v, c->exit_event);
    vcpu_view_enter(v);
    if (why == CPU_EXIT_INSN) {
        exits[VMEXIT_CRITICAL]++;
        cpu_step_insn(c, &c->exit_insn, &faulted);
        return vcpu_view_leave(v);
    }
    struct cpu_event e = c->exit_event;
    switch (e.kind) {
    case EV_FAULT:
        /* #MF while the guest's CR0.NE = 0: the real NE is 1 (so x87 errors
         * exit), but the guest wired its errors to FERR#: retried in the
         * view, where NE = 0, the CPU asserts FERR# (IRQ 13) and freezes
         * the waiting instruction as a P6 does. */
        if (is_segment_fault(e.vector) || (e.vector == EX_MF && !(v->cr0 & CR0_NE))) {
            struct insn i;
            if (cpu_fetch_insn(c, &i)) {
                exits[VMEXIT_EXCEPTION]++;
                break;
            }
            cpu_step_insn(c, &i, &faulted);
            exits[faulted >= 0 ? VMEXIT_EXCEPTION : artefact_reason(&i)]++;
            break;
        }
        exits[VMEXIT_EXCEPTION]++;
        cpu_raise_event(c, &e);
        break;
    case EV_TRAP:
        exits[VMEXIT_EXCEPTION]++;
        cpu_raise_event(c, &e);
        break;
    case EV_SOFT:
        /* INT n/INT3/INTO left before they retired; their delivery is
         * their execution. */
        exits[VMEXIT_SOFT_INT]++;
        c->icount++;
        cpu_raise_event(c, &e);
        break;
    case EV_EXTERNAL:
    case EV_NMI:
        exits[e.kind == EV_NMI ? VMEXIT_NMI : VMEXIT_EXTERNAL_INT]++;
        c->halted = false;
        cpu_raise_event(c, &e);
        break;
    }
    return vcpu_view_leave(v);
}

/* handle_exit with a --trace-exits line: the reason is the counter that
 * moved. In trap mode a critical instruction exits only to be observed. */
static bool handle_traced_exit(struct vcpu *v, enum cpu_exit why)
{
    struct exit_site site;
    if (why == CPU_EXIT_INSN && v->mode == VM_MODE_TRAP) {
        if (exit_trace_observe(v, &v->cpu->exit_insn) == CPU_EXIT_NONE)
            return true;
        why = CPU_EXIT_EVENT; /* its native execution raised an event: an exit */
    }
    exit_trace_site(v, why == CPU_EXIT_EVENT, &site);
    uint64_t before[VMEXIT_REASONS];
    memcpy(before, v->stats.exits, sizeof(before));
    bool ok = handle_exit(v, why);
    for (int r = 0; r < VMEXIT_REASONS; r++)
        if (v->stats.exits[r] != before[r]) {
            exit_trace_log(v, vmexit_name((enum vmexit_reason)r), &site);
            break;
        }
    return ok;
}

enum cpu_exit vcpu_run(struct vcpu *v, uint64_t max, uint64_t *steps)
{
    struct cpu *c = v->cpu;
    uint64_t left = max;
    *steps = 0;
    for (;;) {
        double t0 = now_s();
        enum cpu_exit why = cpu_run(c, left);
        double t1 = now_s();
        v->stats.guest_s += t1 - t0;
        *steps += left - c->budget;
        left = c->budget;
        if (why != CPU_EXIT_INSN && why != CPU_EXIT_EVENT)
            return why;
        bool ok = v->xtrace ? handle_traced_exit(v, why) : handle_exit(v, why);
        v->stats.vmm_s += now_s() - t1;
        if (!ok || c->exit_reason == CPU_EXIT_SHUTDOWN)
            return CPU_EXIT_SHUTDOWN; /* fatal (v->fatal) or a triple fault in the view */
        *steps += 1;
        if (left)
            left--;
        if (!left)
            return CPU_EXIT_BUDGET;
    }
}
