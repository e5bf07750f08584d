/*
 * Slow paths of guest memory access (see mem.h): misaligned and
 * page-crossing accesses, TLB misses, MMIO/ROM/unbacked pages, #AC and #PF.
 */
#include "mem.h"
#include "threaded.h"

__attribute__((noreturn)) void seg_fault(struct cpu *c, int s)
{
    cpu_fault(c, s == S_SS ? EX_SS : EX_GP, 0);
}

/* Alignment check: CR0.AM, EFLAGS.AC and a CPL 3 access (SDM 6.15, #AC). */
static void check_alignment(struct cpu *c, uint32_t lin, int size, int acc)
{
    if ((acc & ACC_USER) && (lin & (uint32_t)(size - 1)) && (c->cr0 & CR0_AM) &&
        (c->eflags & F_AC))
        cpu_fault(c, EX_AC, 0);
}

/*
 * Data breakpoints (DR0-3 with R/W = 01 write or 11 read/write, enabled in
 * DR7). While any is enabled the MMU caches no translation (mmu.bypass, set
 * by cpu_debug_regs_changed), so every access comes here: debugging costs
 * speed, never correctness. A match sets DR6.Bn and asks the
 * run loop for a #DB trap after the instruction. A debugger's watchpoints
 * (c->host_watch) are matched here too, without any guest-visible effect.
 */
static void check_data_bp(struct cpu *c, uint32_t lin, int size, int acc)
{
    uint32_t dr7 = c->dr[7];
    for (int n = 0; n < 4; n++) {
        if (!((dr7 >> (2 * n)) & 3))
            continue;
        unsigned rw = (dr7 >> (16 + 4 * n)) & 3, len = (dr7 >> (18 + 4 * n)) & 3;
        if (rw == 0 || rw == 2 || (rw == 1 && !(acc & ACC_WRITE)))
            continue;
        uint32_t blen = len == 3 ? 4 : len + 1u;
        uint32_t base = c->dr[n] & ~(blen - 1);
        if (lin < base + blen && base < lin + (uint32_t)size) {
            c->dr[6] |= 1u << n;
            c->data_bp_hit = true;
        }
    }
    for (int n = 0; n < c->n_host_watch; n++)
        if ((!(acc & ACC_WRITE) || c->host_watch[n].writes) &&
            lin < c->host_watch[n].lin + c->host_watch[n].len &&
            c->host_watch[n].lin < lin + (uint32_t)size)
            c->host_watch_hits |= (uint8_t)(1u << n);
}

/* Translates one page for acc or raises #PF. */
static struct tlb_entry *translate(struct cpu *c, uint32_t lin, int acc)
{
    struct tlb_entry *e = mmu_lookup(&c->mmu, lin, acc);
    if (e)
        return e;
    uint32_t err;
    e = mmu_fill(&c->mmu, lin, acc, &err);
    if (!e)
        cpu_page_fault(c, lin, err);
    return e;
}

static uint32_t read_within_page(struct cpu *c, uint32_t lin, int size, int acc)
{
    struct tlb_entry *e = translate(c, lin, acc);
    uint32_t off = lin & ~PAGE_MASK;
    if (e->host) {
        uint32_t v = 0;
        memcpy(&v, e->host + off, (size_t)size);
        return v;
    }
    return bus_read(c->bus, e->ppage | off, size);
}

static void write_within_page(struct cpu *c, struct tlb_entry *e, uint32_t lin, int size,
                              uint32_t v)
{
    uint32_t off = lin & ~PAGE_MASK;
    if (e->host_writable) {
        memcpy(e->host + off, &v, (size_t)size);
        return;
    }
    /* ROM, MMIO, or a page holding cached decoded code: bus_write applies
     * the write tracking (it may drop the page's decoded code). */
    struct bus *b = c->bus;
    bus_write(b, e->ppage | off, size, v);
    /* The write may have dropped decoded code (perhaps the running block's),
     * raised an interrupt or asked for an exit: the block ends after this
     * instruction. A quiet store (insn.quiet) relies on it: this is the
     * only check the block loop makes after one. */
    c->end_run = true;
    /* A page whose code was dropped (or never had any) gets its direct
     * writes back, if the entry still describes the current bus map. */
    if (e->host && !bus_page_has_code(b, e->ppage) && c->mmu.bus_generation == b->map_generation &&
        bus_page_ptr(b, e->ppage, true) == e->host) {
        e->host_writable = 1;
        tlb_set_direct(&c->mmu, e);
    }
}

uint32_t lin_read_slow(struct cpu *c, uint32_t lin, int size, int acc)
{
    check_alignment(c, lin, size, acc);
    uint32_t off = lin & ~PAGE_MASK;
    if (c->data_bp_active && !(acc & ACC_EXEC))
        check_data_bp(c, lin, size, acc);
    if (off + (uint32_t)size <= PAGE_SIZE)
        return read_within_page(c, lin, size, acc);
    /* Crosses a page: translate both pages before reading either. */
    int first = (int)(PAGE_SIZE - off);
    translate(c, lin, acc);
    translate(c, lin + (uint32_t)first, acc);
    uint32_t lo = read_within_page(c, lin, first, acc);
    uint32_t hi = read_within_page(c, lin + (uint32_t)first, size - first, acc);
    return lo | (hi << (8 * first));
}

/* cpu_read, cpu_load, cpu_write and cpu_rmw_begin (mem.h) when the
 * segment is not flat or the TLB has no direct translation. */
uint32_t cpu_read_slow(struct cpu *c, int s, uint32_t off, int size)
{
    return lin_read(c, seg_lin(c, s, off, size, false), size, cpu_acc_user(c));
}
void cpu_load_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t *dst)
{
    *dst = cpu_read_slow(c, s, off, size);
}
void cpu_write_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t v)
{
    lin_write(c, seg_lin(c, s, off, size, true), size, v, cpu_acc_user(c));
}
void cpu_load_slow_next(struct cpu *c, const struct insn *i, uint32_t off, int size)
{
    c->blk_cur = i; /* it may fault (cpu/threaded.h) */
    c->r[i->reg] = cpu_read_slow(c, i->seg, off, size);
    quiet_next(c, i, false);
}
void cpu_write_slow_next(struct cpu *c, const struct insn *i, uint32_t off, int size, uint32_t v)
{
    c->blk_cur = i;
    cpu_write_slow(c, i->seg, off, size, v);
    quiet_next(c, i, true);
}
uint32_t cpu_rmw_begin_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t *lin)
{
    *lin = seg_lin(c, s, off, size, true);
    int acc = cpu_acc_user(c);
    uint8_t *p;
    if (!mmu_direct(&c->mmu, *lin, acc | ACC_WRITE, size, &p))
        lin_prepare_write(c, *lin, size, acc);
    return lin_read(c, *lin, size, acc);
}

void lin_write_slow(struct cpu *c, uint32_t lin, int size, uint32_t v, int acc)
{
    acc |= ACC_WRITE;
    check_alignment(c, lin, size, acc);
    uint32_t off = lin & ~PAGE_MASK;
    if (c->data_bp_active)
        check_data_bp(c, lin, size, acc);
    if (off + (uint32_t)size <= PAGE_SIZE) {
        write_within_page(c, translate(c, lin, acc), lin, size, v);
        return;
    }
    int first = (int)(PAGE_SIZE - off);
    translate(c, lin, acc);
    struct tlb_entry *e2 = translate(c, lin + (uint32_t)first, acc);
    /* The second translation may have evicted the first (same TLB slot):
     * re-translate the first; it cannot fault now. */
    struct tlb_entry *e1 = translate(c, lin, acc);
    struct tlb_entry t1 = *e1, t2 = *e2;
    write_within_page(c, &t1, lin, first, v);
    write_within_page(c, &t2, lin + (uint32_t)first, size - first, v >> (8 * first));
}

void lin_prepare_write(struct cpu *c, uint32_t lin, int size, int acc)
{
    acc |= ACC_WRITE;
    check_alignment(c, lin, size, acc);
    translate(c, lin, acc);
    if ((lin & ~PAGE_MASK) + (uint32_t)size > PAGE_SIZE)
        translate(c, (lin | ~PAGE_MASK) + 1, acc);
}
