/* The vCPU: the guest's beliefs and the guest's view (see vcpu.h). */
#include "vcpu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "shadow.h"

int vcpu_init(struct vcpu *v, enum vm_mode mode, struct cpu *c, struct bus *b)
{
    memset(v, 0, sizeof(*v));
    v->mode = mode;
    v->cpu = c;
    v->bus = b;
    /* One counter per row, plus one for the innocuous register forms of
     * A_MEM_SENS rows (insn.stat_row). */
    v->stats.row_counts = calloc((size_t)op_table_size + 1, sizeof(uint64_t));
    if (!v->stats.row_counts)
        return -1;
    if (vcpu_deprivileged(v)) {
        v->mem = calloc(1, VMM_MEM_SIZE);
        if (!v->mem || bus_add_host_mem(b, VMM_BASE, VMM_MEM_SIZE, v->mem) < 0 ||
            shadow_init(v) < 0)
            return -1;
    }
    pv_init(v);
    return 0;
}

void vcpu_free(struct vcpu *v)
{
    free(v->stats.row_counts);
    free(v->mem);
    shadow_free(v);
    v->stats.row_counts = NULL;
    v->mem = NULL;
}

void vcpu_boot(struct vcpu *v)
{
    struct cpu *c = v->cpu;
    c->row_counts = v->stats.row_counts; /* cpu_reset cleared it */
    v->fatal[0] = 0;
    if (!vcpu_deprivileged(v)) {
        c->intr_line = v->intr_pin;
        return;
    }
    compress_init(v);
    v->shadow_ready = false; /* compress_init cleared the VMM's memory */
    /* The CPU's boot state is the guest's: take it as if from a view. */
    v->in_view = true;
    vcpu_view_leave(v);
    if (v->mode == VM_MODE_PARAVIRT)
        pv_boot(v);
}

bool vcpu_guest_if(const struct vcpu *v)
{
    return ((vcpu_deprivileged(v) && !v->in_view ? v->flags : v->cpu->eflags) & F_IF) != 0;
}

/* emulate: the controller drives the real INTR pin and the CPU checks IF.
 * Deprivileged: the real IF is always 1, so the pin the CPU sees is the
 * virtual one, gated by the virtual IF (re-evaluated after every exit). */
void vcpu_update_intr(struct vcpu *v)
{
    bool pin = v->intr_pin || v->pv.timer_pending;
    v->cpu->intr_line = pin && (!vcpu_deprivileged(v) || vcpu_guest_if(v));
}

void vcpu_set_intr_pin(struct vcpu *v, bool level)
{
    v->intr_pin = level;
    vcpu_update_intr(v);
}

void vcpu_view_enter(struct vcpu *v)
{
    struct cpu *c = v->cpu;
    /* trap mode: a native IRET/RETF/far transfer at ring 1 may have changed
     * the real CPL (to ring 3, or back to 1) since the last exit. */
    if (c->cpl != (v->cpl == 0 ? 1 : v->cpl))
        v->cpl = c->cpl == 1 ? 0 : c->cpl;
    c->gdtr = v->gdtr;
    c->idtr = v->idtr;
    c->ldtr = v->ldtr;
    c->tr = v->tr;
    for (int s = 0; s < 6; s++)
        decompress_seg(v, s);
    cpu_set_cpl(c, v->cpl);
    c->eflags = (c->eflags & ~(uint32_t)(F_IF | F_IOPL)) | v->flags;
    /* The x87's FCS was recorded by an instruction running at real ring 1:
     * FNSAVE/FNSTENV in the view store the guest's RPL 0 (ring compression
     * cannot tell the guest's ring 1 from its ring 0 here either). */
    if (v->mode != VM_MODE_PARAVIRT && (c->fpu.fcs & 3) == 1)
        c->fpu.fcs &= ~3u;
    /* The guest's paging: the view walks the guest's own tables, so what
     * runs here sees (and faults with) the guest's CR2, CR3, A/D bits. */
    c->cr0 = v->cr0;
    c->cr2 = v->cr2;
    c->cr3 = v->cr3;
    c->cr4 = v->cr4;
    mmu_set_cr0(&c->mmu, c->cr0);
    mmu_set_cr4(&c->mmu, c->cr4);
    mmu_set_cr3(&c->mmu, c->cr3);
    /* A MOV CR3/CR0/CR4 in the view flushes the MMU: leave sees the count move. */
    v->view_flush_mark = c->mmu.tlb_flushes;
    c->intercept_events = false;
    c->exit_on_class = 0;
    v->in_view = true;
}

__attribute__((format(printf, 2, 3))) static void fatal(struct vcpu *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->fatal, sizeof(v->fatal), fmt, ap);
    va_end(ap);
}

bool vcpu_view_leave(struct vcpu *v)
{
    struct cpu *c = v->cpu;
    v->gdtr = c->gdtr;
    v->idtr = c->idtr;
    v->ldtr = c->ldtr;
    v->tr = c->tr;
    v->cpl = c->cpl;
    v->flags = c->eflags & (F_IF | F_IOPL);
    /* The guest's paging state: anything that could change a translation
     * (a CR3 load, even of the same value; CR0.PG/WP; CR4.PSE/PGE) drops
     * the shadow. */
    bool repage = !v->shadow_ready || c->mmu.tlb_flushes != v->view_flush_mark ||
                  c->cr3 != v->cr3 || ((c->cr0 ^ v->cr0) & (CR0_PG | CR0_WP)) ||
                  ((c->cr4 ^ v->cr4) & (CR4_PSE | CR4_PGE));
    v->cr0 = c->cr0;
    v->cr2 = c->cr2;
    v->cr3 = c->cr3;
    v->cr4 = c->cr4;
    mmu_set_cr0(&v->gmmu, v->cr0);
    mmu_set_cr4(&v->gmmu, v->cr4);
    mmu_set_cr3(&v->gmmu, v->cr3);
    v->in_view = false;

    /* What the VMM does not virtualize yet stops the guest, by name. */
    if (!(c->cr0 & CR0_PE))
        fatal(v, "the guest cleared CR0.PE: real mode is not virtualized");
    else if (c->eflags & F_VM)
        fatal(v, "the guest entered virtual-8086 mode: not virtualized");

    if (repage)
        shadow_flush(v);
    compress_install(v);
    cpu_set_cpl(c, v->cpl == 0 ? 1 : v->cpl);
    for (int s = 0; s < 6; s++)
        compress_seg(v, s);
    /* Real IF stays 1 and IOPL 0: CLI/STI/IN/OUT fault at ring 1, POPF
     * cannot change either, and the virtual IF gates the virtual INTR. */
    c->eflags = (c->eflags & ~(uint32_t)(F_IF | F_IOPL)) | F_IF;
    /* NE = 1: x87 errors raise #MF, which the VMM intercepts, instead of
     * FERR# on a wire the VMM does not own. Visible to SMSW in trap mode. */
    c->cr0 = v->cr0 | CR0_NE;
    /* Real paging is always on, through the shadow (vmm/shadow.c): WP so
     * that read-only shadow entries bind ring 1, PSE for the identity
     * shadow, no global entries. The real TLB is flushed: the view used the
     * guest's tables. */
    c->cr0 |= CR0_PG | CR0_WP;
    c->cr3 = shadow_root();
    c->cr4 = (v->cr4 | CR4_PSE) & ~(uint32_t)CR4_PGE;
    mmu_set_cr0(&c->mmu, c->cr0);
    mmu_set_cr4(&c->mmu, c->cr4);
    mmu_set_cr3(&c->mmu, c->cr3);
    c->intercept_events = true;
    /* vmm: critical instructions are emulated; trap with --trace-exits: they
     * are observed (run natively, compared with the view). */
    c->exit_on_class =
        v->mode == VM_MODE_VMM || (v->mode == VM_MODE_TRAP && v->xtrace) ? C_CRITICAL : 0;
    vcpu_update_intr(v);
    return v->fatal[0] == 0;
}

static const char *const mode_names[] = {"emulate", "trap", "vmm", "paravirt"};

const char *vm_mode_name(enum vm_mode m) { return mode_names[m]; }

int vm_mode_parse(const char *s, enum vm_mode *m)
{
    for (int k = 0; k < 4; k++)
        if (!strcmp(s, mode_names[k])) {
            *m = (enum vm_mode)k;
            return 0;
        }
    return -1;
}

static const char *const exit_names[VMEXIT_REASONS] = {
    [VMEXIT_CRITICAL] = "critical_insn",
    [VMEXIT_PRIVILEGED] = "privileged_insn",
    [VMEXIT_IOPL] = "iopl_insn",
    [VMEXIT_IO] = "io",
    [VMEXIT_COMPRESSION] = "ring_compression_fault",
    [VMEXIT_EXCEPTION] = "exception",
    [VMEXIT_SOFT_INT] = "software_interrupt",
    [VMEXIT_EXTERNAL_INT] = "external_interrupt",
    [VMEXIT_NMI] = "nmi",
    [VMEXIT_SHADOW_PF] = "shadow_page_fault",
    [VMEXIT_SHADOW_EMUL] = "shadow_emulation",
    [VMEXIT_GUEST_PF] = "guest_page_fault",
    [VMEXIT_HYPERCALL] = "hypercall",
};

const char *vmexit_name(enum vmexit_reason r) { return exit_names[r]; }
