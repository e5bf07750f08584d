/*
 * Shadow paging for the deprivileged modes (trap, vmm).
 *
 * While the guest runs natively the real CPU always pages: the real CR3 is
 * the shadow page directory in the VMM's memory (VMM_BASE + VMM_SPD_OFF,
 * on the bus beyond guest RAM), real CR0.PG = WP = 1, CR4.PSE = 1, PGE = 0.
 * The shadow maps guest-linear to guest-physical:
 *  - guest paging off: 4 MiB identity pages (PSE), no exits at all;
 *  - guest paging on: filled lazily, one 4 KiB shadow PTE per fault, from a
 *    walk of the guest's own tables (v->gmmu, an MMU whose control
 *    registers are the guest's) that sets the guest's accessed and dirty
 *    bits exactly as the hardware walk would;
 *  - slot 1023 (the VMM's region, 0xFFC00000) maps the VMM's memory in
 *    every shadow, supervisor only (the guest cannot reach it anyway:
 *    segment truncation fences it, see compress.c).
 *
 * The guest's view (vcpu.c) swaps the guest's CR0/CR2/CR3/CR4 into the real
 * CPU: emulated instructions and reflected events use the guest's tables
 * directly, so their page faults carry the guest's CR2 and error code.
 *
 * A shadow PTE grants at most what the guest's combined PDE/PTE grants:
 * U = guest U; W only when the guest's entry is writable AND dirty (so the
 * first write faults and the fill sets D), and never for a page-table page
 * of the guest (write protection). Invariant: every frame that holds the
 * guest's page directory or a guest page table from which a shadow entry
 * was derived is in pt_bits, and no shadow PTE maps such a frame writable.
 * So the shadow can only go stale through a guest write to its tables,
 * which faults; that write is executed in the guest's view, then the
 * shadow entries derived from the written frame are dropped (every slot
 * whose shadow PT derives from a written page table is emptied; a write to
 * the page directory, or a REP string instruction whose extent is not
 * tracked, drops the whole shadow).
 *
 * Flushes: guest CR3 loads, CR0.PG/WP and CR4.PSE/PGE changes (seen when
 * the view is left), emulated page-directory writes. INVLPG needs nothing:
 * the shadow is never staler than the guest's tables.
 *
 * Known gaps: writes to a page-table page made by the VMM on the guest's
 * behalf (an exception frame pushed on a stack that is a page table, SGDT
 * into one) and DMA into page tables do not flush the shadow.
 *
 * Costs: a fill is one guest walk (two reads, A/D writes) plus one shadow
 * store; a page becoming write-protected scans the shadow PTs in use
 * (at most VMM_SPT_POOL * 1024 entries) once; a flush clears the PD slots
 * in use. The pool running out flushes everything.
 */
#include "shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

enum {
    PTE_P = 1u << 0, PTE_W = 1u << 1, PTE_U = 1u << 2, PTE_A = 1u << 5, PTE_D = 1u << 6,
    PTE_PS = 1u << 7,
};
#define VMM_SLOT (VMM_BASE >> 22)

uint32_t shadow_root(void) { return VMM_BASE + VMM_SPD_OFF; }

static uint32_t *spd(struct vcpu *v) { return (uint32_t *)(v->mem + VMM_SPD_OFF); }
static uint32_t *spt(struct vcpu *v, uint32_t k)
{
    return (uint32_t *)(v->mem + VMM_SPT_OFF + k * PAGE_SIZE);
}

static bool pt_tracked(const struct vcpu *v, uint32_t frame)
{
    uint32_t p = frame >> PAGE_SHIFT;
    return (v->pt_bits[p >> 3] >> (p & 7)) & 1;
}

int shadow_init(struct vcpu *v)
{
    v->pt_bits = calloc(1, (1u << 20) / 8);
    v->pt_list = calloc(VMM_SPT_POOL + 1, sizeof(uint32_t));
    if (!v->pt_bits || !v->pt_list)
        return -1;
    mmu_init(&v->gmmu, v->bus);
    return 0;
}

void shadow_free(struct vcpu *v)
{
    free(v->pt_bits);
    free(v->pt_list);
    v->pt_bits = NULL;
    v->pt_list = NULL;
}

void shadow_flush(struct vcpu *v)
{
    v->shadow_flushes++;
    uint32_t *pd = spd(v);
    /* The VMM's region: its own page table, supervisor, writable. */
    uint32_t *vpt = (uint32_t *)(v->mem + VMM_VPT_OFF);
    for (uint32_t k = 0; k < 1024; k++)
        vpt[k] = k < VMM_MEM_SIZE / PAGE_SIZE ? (VMM_BASE + k * PAGE_SIZE) | PTE_P | PTE_W | PTE_A | PTE_D
                                               : 0;
    bool identity = !(v->cr0 & CR0_PG);
    for (uint32_t s = 0; s < VMM_SLOT; s++)
        pd[s] = identity ? (s << 22) | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_A | PTE_D : 0;
    pd[VMM_SLOT] = (VMM_BASE + VMM_VPT_OFF) | PTE_P | PTE_W | PTE_A;
    memset(v->spt_of, 0, sizeof(v->spt_of));
    v->spt_used = 0;
    for (uint32_t k = 0; k < v->pt_count; k++) {
        uint32_t p = v->pt_list[k] >> PAGE_SHIFT;
        v->pt_bits[p >> 3] &= (uint8_t)~(1u << (p & 7));
    }
    v->pt_count = 0;
    v->shadow_ready = true;
}

/* Write-protects guest frame (a page table the shadow now derives from):
 * removes W from every shadow PTE that maps it. Returns true when the real
 * TLB must be flushed. */
static bool track(struct vcpu *v, uint32_t frame)
{
    if (pt_tracked(v, frame) || v->pt_count > VMM_SPT_POOL)
        return false;
    uint32_t p = frame >> PAGE_SHIFT;
    v->pt_bits[p >> 3] |= (uint8_t)(1u << (p & 7));
    v->pt_list[v->pt_count++] = frame;
    bool changed = false;
    for (uint32_t k = 0; k < v->spt_used; k++) {
        uint32_t *t = spt(v, k);
        for (uint32_t e = 0; e < 1024; e++)
            if ((t[e] & (PAGE_MASK | PTE_P | PTE_W)) == (frame | PTE_P | PTE_W)) {
                t[e] &= ~(uint32_t)(PTE_W | PTE_D);
                changed = true;
            }
    }
    return changed;
}

enum shadow_pf shadow_page_fault(struct vcpu *v, uint32_t lin, uint32_t err, uint32_t *guest_err,
                                 bool *pt_write)
{
    struct cpu *c = v->cpu;
    *pt_write = false;
    if (c->cr3 != shadow_root()) {
        /* trap mode: a native hardware task switch loaded CR3 from the
         * VMM's TSS (task switches are not virtualized in trap mode). */
        snprintf(v->fatal, sizeof(v->fatal),
                 "a native task switch replaced the shadow page directory (CR3 %08x): "
                 "task switches are not virtualized in trap mode", c->cr3);
        return SPF_FATAL;
    }
    if (lin >= VMM_BASE && (v->cr0 & CR0_PG)) {
        /* Ring 3 with a full-limit segment (compress.c) touched the VMM's
         * region: the guest's fault if its tables refuse the access. */
        int a = (err & PF_W ? ACC_WRITE : 0) | (err & PF_U ? ACC_USER : 0);
        if (!mmu_fill(&v->gmmu, lin, a, guest_err))
            return SPF_GUEST;
        snprintf(v->fatal, sizeof(v->fatal),
                 "the guest uses linear %08x, in the VMM's region (0xFFC00000 and up)", lin);
        return SPF_FATAL;
    }
    if (lin >= VMM_BASE || !(v->cr0 & CR0_PG)) {
        /* The identity shadow and the VMM's slot never fault for an access
         * the segments allowed. */
        snprintf(v->fatal, sizeof(v->fatal),
                 "unexpected page fault at %08x (error %x) outside the guest's paging", lin, err);
        return SPF_FATAL;
    }
    int acc = (err & PF_W ? ACC_WRITE : 0) | (err & PF_U ? ACC_USER : 0);
    uint32_t gerr;
    struct tlb_entry *e = mmu_fill(&v->gmmu, lin, acc, &gerr);
    if (!e) {
        *guest_err = gerr;
        return SPF_GUEST;
    }
    uint32_t frame = e->ppage;
    if (frame >= VMM_BASE && frame - VMM_BASE < VMM_MEM_SIZE) {
        snprintf(v->fatal, sizeof(v->fatal),
                 "the guest mapped the VMM's memory (linear %08x -> physical %08x)", lin, frame);
        return SPF_FATAL;
    }

    /* The frames this translation derives from: the PD and, for a 4 KiB
     * page, the PT (the walk just read both, so they are present). */
    uint32_t slot = lin >> 22;
    uint32_t pde = bus_read(v->bus, (v->cr3 & PAGE_MASK) | (slot << 2), 4);
    bool big = (pde & PTE_PS) && (v->cr4 & CR4_PSE);
    if (!v->spt_of[slot]) {
        if (v->spt_used == VMM_SPT_POOL)
            shadow_flush(v); /* pool exhausted: start over */
        uint32_t k = v->spt_used++;
        memset(spt(v, k), 0, PAGE_SIZE);
        v->spt_of[slot] = (uint16_t)(k + 1);
        v->spt_src[slot] = big ? 1 : pde & PAGE_MASK;
        spd(v)[slot] = (VMM_BASE + VMM_SPT_OFF + k * PAGE_SIZE) | PTE_P | PTE_W | PTE_U | PTE_A;
    }
    bool flush = track(v, v->cr3 & PAGE_MASK);
    if (!big)
        flush |= track(v, pde & PAGE_MASK);

    /* The shadow PTE: no more than the guest's entry grants (see above). */
    bool user = e->perm & TLBP_USR_R;
    bool w = (e->perm & TLBP_SUP_W) && (!user || (e->perm & TLBP_USR_W));
    if (pt_tracked(v, frame)) {
        w = false;
        *pt_write = (acc & ACC_WRITE) != 0;
    }
    uint32_t pte = frame | PTE_P | PTE_A | (user ? PTE_U : 0) | (w ? PTE_W | PTE_D : 0);
    spt(v, v->spt_of[slot] - 1)[(lin >> 12) & 1023] = pte;
    if (flush)
        mmu_flush_all(&c->mmu);
    else
        mmu_invlpg(&c->mmu, lin);
    bool granted = (!(acc & ACC_WRITE) || w) && (!(acc & ACC_USER) || user);
    return granted ? SPF_FIXED : SPF_EMULATE;
}

void shadow_frame_written(struct vcpu *v, uint32_t frame)
{
    frame &= PAGE_MASK;
    if (!pt_tracked(v, frame))
        return;
    if (frame == (v->cr3 & PAGE_MASK)) {
        v->shadow_ready = false;
        return;
    }
    /* A page table: its shadow PTs start empty again (the frame stays
     * write-protected: the slots still derive from it). */
    for (uint32_t s = 0; s < VMM_SLOT; s++)
        if (v->spt_of[s] && v->spt_src[s] == frame)
            memset(spt(v, v->spt_of[s] - 1u), 0, PAGE_SIZE);
}

void shadow_read_guest(struct vcpu *v, uint32_t lin, void *dst, uint32_t n)
{
    uint8_t *d = dst;
    while (n) {
        uint32_t chunk = PAGE_SIZE - (lin & ~PAGE_MASK);
        if (chunk > n)
            chunk = n;
        uint32_t pa;
        if (mmu_probe(&v->gmmu, lin, &pa) == 0)
            bus_read_bytes(v->bus, pa, d, chunk);
        else
            memset(d, 0, chunk);
        d += chunk;
        lin += chunk;
        n -= chunk;
    }
}
