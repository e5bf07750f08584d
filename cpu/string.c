/*
 * String instructions: MOVS CMPS STOS LODS SCAS INS OUTS, byte and
 * operand-size forms, with REP / REPE / REPNE.
 *
 * Operands: the source is seg:eSI with seg = DS or the override prefix; the
 * destination is always ES:eDI (no override). The address size picks SI/DI/CX
 * (offsets wrap at 64 KiB) or ESI/EDI/ECX. EFLAGS.DF picks the direction.
 * F2 on MOVS/STOS/LODS/INS/OUTS repeats exactly as F3 does (as on Intel
 * hardware); only CMPS and SCAS tell REPE from REPNE.
 *
 * Precise restart: each element performs all of its accesses, then updates
 * eSI/eDI and (under REP) eCX. A fault therefore leaves the registers
 * describing the element that faulted, and the run loop puts EIP back on
 * the instruction, which is the architected restart state.
 *
 * Interrupt windows: one execution processes at most STR_CHUNK elements
 * (one when EFLAGS.TF is set, so single-step traps after each iteration as
 * on hardware; the run stops too after an iteration that hit a data
 * breakpoint, so the #DB trap comes between iterations); if more remain it
 * sets EIP back to the instruction, which makes the run loop look at
 * interrupts and the budget and then re-execute it: architecturally what a
 * P6 does between iterations. (Each such execution counts as one retired
 * instruction in icount.)
 *
 * Fast path (MOVS, STOS with DF = 0): when the whole run of elements up to
 * the next page boundary of source and destination passes the segment
 * checks and both pages hit the TLB with host pointers, the run is done
 * with one memmove/memset-like loop on host memory: no per-element segment
 * check, TLB lookup or register update. Nothing in such a run can fault, so
 * updating the registers once at its end is indistinguishable from doing it
 * per element. Cost otherwise: one failed attempt (a few compares) per
 * element, so the slow path stays within a small factor of plain MOV.
 */
#include <string.h>

#include "handlers.h"
#include "operand.h"
#include "protect.h"

#define STR_CHUNK 4096u

enum str_op { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

/* Index registers at the address size. */
static inline uint32_t idx_get(const struct cpu *c, int r, int as)
{
    return as == 2 ? (c->r[r] & 0xffff) : c->r[r];
}
static inline void idx_add(struct cpu *c, int r, int as, uint32_t delta)
{
    if (as == 2)
        cpu_set_reg16(c, r, (uint16_t)(c->r[r] + delta));
    else
        c->r[r] += delta;
}

static inline uint32_t str_delta(const struct cpu *c, int size)
{
    return (c->eflags & F_DF) ? (uint32_t)-size : (uint32_t)size;
}

/* Keeps the TLB honest after a port access that may have changed the
 * physical map (port 0x92 A20, PCI BARs): the run loop checks only between
 * instructions, a REP run may span thousands of port accesses. */
static inline void str_port_resync(struct cpu *c)
{
    if (c->mmu.bus_generation != c->bus->map_generation)
        mmu_flush_all(&c->mmu);
}

/*
 * One element. Returns true when a REPE/REPNE loop may continue (always
 * true for the non-comparing forms).
 */
static inline __attribute__((always_inline)) bool str_elem(struct cpu *c, const struct insn *i,
                                                           int size, enum str_op op)
{
    int as = i->addrsize;
    uint32_t d = str_delta(c, size);
    switch (op) {
    case S_MOVS: {
        uint32_t v = cpu_read(c, i->seg, idx_get(c, R_ESI, as), size);
        cpu_write(c, S_ES, idx_get(c, R_EDI, as), size, v);
        idx_add(c, R_ESI, as, d);
        idx_add(c, R_EDI, as, d);
        return true;
    }
    case S_CMPS: {
        uint32_t a = cpu_read(c, i->seg, idx_get(c, R_ESI, as), size);
        uint32_t b = cpu_read(c, S_ES, idx_get(c, R_EDI, as), size);
        alu_op(c, 7, a, b, size);
        idx_add(c, R_ESI, as, d);
        idx_add(c, R_EDI, as, d);
        return flags_zf(c) == (i->rep == 0xf3);
    }
    case S_STOS:
        cpu_write(c, S_ES, idx_get(c, R_EDI, as), size, c->r[R_EAX]);
        idx_add(c, R_EDI, as, d);
        return true;
    case S_LODS: {
        uint32_t v = cpu_read(c, i->seg, idx_get(c, R_ESI, as), size);
        cpu_set_reg(c, R_EAX, size, v);
        idx_add(c, R_ESI, as, d);
        return true;
    }
    case S_SCAS: {
        uint32_t b = cpu_read(c, S_ES, idx_get(c, R_EDI, as), size);
        alu_op(c, 7, c->r[R_EAX], b, size);
        idx_add(c, R_EDI, as, d);
        return flags_zf(c) == (i->rep == 0xf3);
    }
    case S_INS: {
        uint16_t port = (uint16_t)c->r[R_EDX];
        cpu_io_check(c, port, size);
        /* The destination is checked (segment and page, for writing) before
         * the port is read, so a fault does not lose a port read's side
         * effects: the restarted instruction reads the port again. */
        uint32_t lin = seg_lin(c, S_ES, idx_get(c, R_EDI, as), size, true);
        int acc = cpu_acc_user(c);
        lin_prepare_write(c, lin, size, acc);
        uint32_t v = cpu_port_in(c, port, size);
        str_port_resync(c);
        lin_write(c, lin, size, v, acc);
        idx_add(c, R_EDI, as, d);
        return true;
    }
    case S_OUTS: {
        uint16_t port = (uint16_t)c->r[R_EDX];
        cpu_io_check(c, port, size);
        uint32_t v = cpu_read(c, i->seg, idx_get(c, R_ESI, as), size);
        cpu_port_out(c, port, size, v);
        str_port_resync(c);
        idx_add(c, R_ESI, as, d);
        return true;
    }
    }
    return true;
}

/*
 * How many whole elements starting at offset off of segment s the fast path
 * may touch, at most n: within the segment's limits, without wrapping the
 * address size, and within the page of the first element. 0 if none.
 */
static uint32_t fast_span(struct cpu *c, int s, uint32_t off, int as, int size, bool write,
                          uint32_t n)
{
    const struct seg *sg = &c->seg[s];
    if (!(sg->rw & (write ? SEG_W : SEG_R)) || off < sg->lo || off > sg->hi)
        return 0;
    uint64_t room = (uint64_t)sg->hi - off + 1;
    uint64_t wrap = (as == 2 ? 0x10000ull : 0x100000000ull) - off;
    if (wrap < room)
        room = wrap;
    uint32_t lin = sg->base + off;
    uint32_t page = PAGE_SIZE - (lin & ~PAGE_MASK);
    if (page < room)
        room = page;
    room /= (uint32_t)size;
    return room < n ? (uint32_t)room : n;
}

/* Host pointer to lin for a read (or write) when the TLB holds it, else NULL. */
static uint8_t *fast_ptr(struct cpu *c, uint32_t lin, int acc, bool write)
{
    struct tlb_entry *e = mmu_lookup(&c->mmu, lin, acc | (write ? ACC_WRITE : 0));
    if (!e || !(write ? e->host_writable : e->host != NULL))
        return NULL;
    return e->host + (lin & ~PAGE_MASK);
}

/*
 * Fast runs of REP MOVS / REP STOS (DF = 0). Returns the number of elements
 * done (0: take the slow path for the next element; it will fill the TLB
 * or raise the fault). n is the most the caller allows. Stores go straight
 * to host memory, as lin_write's inline path does, and only through TLB
 * entries with host_writable, which pages holding cached decoded code never
 * have (mmu.h): stores to code take the slow path and its write tracking.
 */
static uint32_t fast_run(struct cpu *c, const struct insn *i, int size, enum str_op op,
                         uint32_t n)
{
    /* Data breakpoints must see every access (mem.c checks them on the
     * slow path only). */
    if ((c->eflags & F_DF) || c->data_bp_active)
        return 0;
    int acc = cpu_acc_user(c);
    /* Misaligned user accesses may need #AC: leave them to the slow path. */
    if ((acc & ACC_USER) && (c->cr0 & CR0_AM) && (c->eflags & F_AC))
        return 0;
    int as = i->addrsize;
    uint32_t di = idx_get(c, R_EDI, as);
    n = fast_span(c, S_ES, di, as, size, true, n);
    if (!n)
        return 0;
    uint8_t *pd = fast_ptr(c, c->seg[S_ES].base + di, acc, true);
    if (!pd)
        return 0;
    size_t bytes;
    if (op == S_MOVS) {
        uint32_t si = idx_get(c, R_ESI, as);
        n = fast_span(c, i->seg, si, as, size, false, n);
        if (!n)
            return 0;
        const uint8_t *ps = fast_ptr(c, c->seg[i->seg].base + si, acc, false);
        if (!ps)
            return 0;
        bytes = (size_t)n * (size_t)size;
        if (pd > ps && pd < ps + bytes) {
            /* Forward overlap: element-by-element semantics replicate the
             * head of the source (the classic "movsb with di = si + 1"
             * fill); memmove would not. */
            for (uint32_t k = 0; k < n; k++) {
                uint32_t v;
                memcpy(&v, ps + (size_t)k * (size_t)size, (size_t)size);
                memcpy(pd + (size_t)k * (size_t)size, &v, (size_t)size);
            }
        } else {
            memmove(pd, ps, bytes);
        }
        idx_add(c, R_ESI, as, (uint32_t)bytes);
    } else {
        bytes = (size_t)n * (size_t)size;
        uint32_t v = c->r[R_EAX];
        if (size == 1) {
            memset(pd, (int)(v & 0xff), bytes);
        } else {
            for (uint32_t k = 0; k < n; k++)
                memcpy(pd + (size_t)k * (size_t)size, &v, (size_t)size);
        }
    }
    idx_add(c, R_EDI, as, (uint32_t)bytes);
    return n;
}

/*
 * The REP driver. Without a prefix: one element. With one: while eCX != 0,
 * an element, eCX -= 1, stop on a REPE/REPNE mismatch; after STR_CHUNK
 * elements (1 under TF) with work left, rewind EIP so the instruction runs
 * again after the run loop has looked at interrupts.
 */
static inline __attribute__((always_inline)) void str_run(struct cpu *c, const struct insn *i,
                                                          int size, enum str_op op)
{
    if (!i->rep) {
        str_elem(c, i, size, op);
        return;
    }
    int as = i->addrsize;
    uint32_t left = (c->eflags & F_TF) ? 1 : STR_CHUNK;
    for (;;) {
        uint32_t cx = idx_get(c, R_ECX, as);
        if (cx == 0)
            return;
        if (op == S_MOVS || op == S_STOS) {
            uint32_t n = fast_run(c, i, size, op, cx < left ? cx : left);
            if (n) {
                idx_add(c, R_ECX, as, (uint32_t)-n);
                left -= n;
                if (!left) {
                    if (n != cx)
                        c->eip = c->prev_eip;
                    return;
                }
                continue;
            }
        }
        bool go_on = str_elem(c, i, size, op);
        idx_add(c, R_ECX, as, (uint32_t)-1);
        if (!go_on || cx == 1)
            return;
        /* A data breakpoint traps after the iteration that hit it, with
         * the registers describing the next one (SDM vol. 3, 17.3.1.2). */
        if (--left == 0 || c->data_bp_hit) {
            c->eip = c->prev_eip;
            return;
        }
    }
}

#define STRING_FORMS(name, op)                                                                 \
    void name##b(struct cpu *c, const struct insn *i) { str_run(c, i, 1, op); }               \
    void name(struct cpu *c, const struct insn *i)                                             \
    {                                                                                          \
        if (i->opsize == 2)                                                                    \
            str_run(c, i, 2, op);                                                              \
        else                                                                                   \
            str_run(c, i, 4, op);                                                              \
    }

STRING_FORMS(movs, S_MOVS)
STRING_FORMS(cmps, S_CMPS)
STRING_FORMS(stos, S_STOS)
STRING_FORMS(lods, S_LODS)
STRING_FORMS(scas, S_SCAS)
STRING_FORMS(ins, S_INS)
STRING_FORMS(outs, S_OUTS)
