/*
 * Guest memory as the CPU sees it: segment checks, then linear accesses
 * through the software TLB (mmu/mmu.h), then the bus.
 *
 * Cost of the common case (a flat segment, aligned, TLB hit, RAM): a bit
 * test for the segment (SEG_FLAT_R/W; its 4 GiB bound needs no compare,
 * data_direct), one index, one compare and one add for the TLB (its
 * direct-access tag, whose compare also checks alignment: mmu_direct),
 * one host load or store; a segment with base 0 and a smaller limit
 * (SEG_BASE0_R/W) adds one compare. Everything else, any other segment
 * among it, goes to the out-of-line slow path in cpu/mem.c, which also
 * handles page-crossing accesses (both pages are translated before any
 * byte is written, so a fault leaves memory untouched), alignment checks
 * (#AC), MMIO and ROM writes and pages holding cached code.
 *
 * 'acc' is ACC_READ/ACC_WRITE/ACC_EXEC, plus ACC_USER when the access is
 * made at CPL 3. Implicit supervisor accesses (descriptor tables, TSS,
 * interrupt stacks built during delivery through ring 0) pass no ACC_USER.
 */
#ifndef TRAPEZE_CPU_MEM_H
#define TRAPEZE_CPU_MEM_H

#include <string.h>

#include "cpu.h"

uint32_t lin_read_slow(struct cpu *c, uint32_t lin, int size, int acc);
void lin_write_slow(struct cpu *c, uint32_t lin, int size, uint32_t v, int acc);
/* Translates lin..lin+size-1 for writing (both pages if it crosses), without
 * writing: lets a read-modify-write fault with W set before anything changes. */
void lin_prepare_write(struct cpu *c, uint32_t lin, int size, int acc);

/* ACC_USER at CPL 3, else 0 (cpu.user_kind, kept by cpu_set_cpl). */
static inline int cpu_acc_user(const struct cpu *c) { return c->user_kind << 1; }
_Static_assert(ACC_USER == 2 << 1 && ACC_WRITE == 1, "tlb_kind(ACC_USER) = 2; user_kind + 1 writes");

/* The host load of the common case, zero-extended. */
static inline uint32_t host_load(const uint8_t *p, int size)
{
    if (size == 1)
        return *p;
    if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The host store of the common case: the low size bytes of v. */
static inline void host_store(uint8_t *p, int size, uint32_t v)
{
    if (size == 1)
        *p = (uint8_t)v;
    else if (size == 2) {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
    } else
        memcpy(p, &v, 4);
}

static inline uint32_t lin_read(struct cpu *c, uint32_t lin, int size, int acc)
{
    uint8_t *p;
    if (mmu_direct(&c->mmu, lin, acc, size, &p))
        return host_load(p, size);
    return lin_read_slow(c, lin, size, acc);
}

static inline void lin_write(struct cpu *c, uint32_t lin, int size, uint32_t v, int acc)
{
    uint8_t *p;
    if (mmu_direct(&c->mmu, lin, acc | ACC_WRITE, size, &p)) {
        host_store(p, size, v);
        return;
    }
    lin_write_slow(c, lin, size, v, acc | ACC_WRITE);
}

/* Segment faults: #SS(0) for the stack segment, #GP(0) otherwise. */
__attribute__((noreturn)) void seg_fault(struct cpu *c, int s);

/* Checks a data access of size bytes at off in segment s and returns the
 * linear address. write selects the write-permission check. */
static inline uint32_t seg_lin(struct cpu *c, int s, uint32_t off, int size, bool write)
{
    const struct seg *sg = &c->seg[s];
    /* flat: only the end of the address space can refuse the access */
    if (__builtin_expect((sg->rw & (write ? SEG_FLAT_W : SEG_FLAT_R)) && off <= ~(uint32_t)(size - 1), 1))
        return off;
    if (__builtin_expect(!(sg->rw & (write ? SEG_W : SEG_R)) || off < sg->lo ||
                             (uint64_t)off + (uint32_t)(size - 1) > sg->hi,
                         0))
        seg_fault(c, s);
    return sg->base + off;
}

/*
 * The common case of a data access of size bytes at off in segment s: a
 * flat segment (flat_bit: SEG_FLAT_R or SEG_FLAT_W) and a direct TLB hit,
 * which is the whole check. A direct hit is aligned to its size
 * (mmu_direct), and an aligned access of 1, 2 or 4 bytes cannot run past
 * 0xffffffff, so the flat segment's one bound needs no compare here; the
 * slow paths below (cpu/mem.c) check the segment in full.
 */
static inline bool data_direct(struct cpu *c, int s, uint32_t off, int size, unsigned flat_bit,
                               uint8_t **p)
{
    /* the TLB kind: user_kind is 0 or 2, and a write adds 1 (tlb_kind) */
    unsigned kind = c->user_kind + (flat_bit == SEG_FLAT_W);
    const struct seg *sg = &c->seg[s];
    if (__builtin_expect(sg->rw & flat_bit, 1))
        return mmu_direct_kind(&c->mmu, off, kind, size, p);
    /* base 0 but a limit below 4 GiB (SEG_BASE0_R/W = flat_bit << 2): the
     * limit is the one more compare */
    return (sg->rw & (flat_bit << 2)) && (uint64_t)off + (uint32_t)(size - 1) <= sg->hi &&
           mmu_direct_kind(&c->mmu, off, kind, size, p);
}
uint32_t cpu_read_slow(struct cpu *c, int s, uint32_t off, int size);
void cpu_load_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t *dst);
void cpu_write_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t v);
uint32_t cpu_rmw_begin_slow(struct cpu *c, int s, uint32_t off, int size, uint32_t *lin);

static inline uint32_t cpu_read(struct cpu *c, int s, uint32_t off, int size)
{
    uint8_t *p;
    if (__builtin_expect(data_direct(c, s, off, size, SEG_FLAT_R, &p), 1))
        return host_load(p, size);
    return cpu_read_slow(c, s, off, size);
}
/* cpu_read into *dst (a register; the value zero-extended), for handlers
 * that do nothing after the load: the slow path is then a tail call, so
 * the common case needs no stack frame (no saved registers). */
static inline void cpu_load(struct cpu *c, int s, uint32_t off, int size, uint32_t *dst)
{
    uint8_t *p;
    if (__builtin_expect(data_direct(c, s, off, size, SEG_FLAT_R, &p), 1)) {
        *dst = host_load(p, size);
        return;
    }
    cpu_load_slow(c, s, off, size, dst);
}
static inline void cpu_write(struct cpu *c, int s, uint32_t off, int size, uint32_t v)
{
    uint8_t *p;
    if (__builtin_expect(data_direct(c, s, off, size, SEG_FLAT_W, &p), 1)) {
        host_store(p, size, v);
        return;
    }
    cpu_write_slow(c, s, off, size, v);
}
static inline uint8_t cpu_read8(struct cpu *c, int s, uint32_t off)
{
    return (uint8_t)cpu_read(c, s, off, 1);
}
static inline uint16_t cpu_read16(struct cpu *c, int s, uint32_t off)
{
    return (uint16_t)cpu_read(c, s, off, 2);
}
static inline uint32_t cpu_read32(struct cpu *c, int s, uint32_t off)
{
    return cpu_read(c, s, off, 4);
}
static inline void cpu_write8(struct cpu *c, int s, uint32_t off, uint8_t v) { cpu_write(c, s, off, 1, v); }
static inline void cpu_write16(struct cpu *c, int s, uint32_t off, uint16_t v) { cpu_write(c, s, off, 2, v); }
static inline void cpu_write32(struct cpu *c, int s, uint32_t off, uint32_t v) { cpu_write(c, s, off, 4, v); }

/* Read-modify-write: checks the segment for writing and translates the page(s)
 * for writing before reading, as the P6's locked/RMW cycles do; returns the
 * value and the linear address to hand to cpu_rmw_end. */
static inline uint32_t cpu_rmw_begin(struct cpu *c, int s, uint32_t off, int size, uint32_t *lin)
{
    uint8_t *p;
    /* A direct write hit reads through the same host address: a page
     * that grants the write grants the read. */
    if (__builtin_expect(data_direct(c, s, off, size, SEG_FLAT_W, &p), 1)) {
        *lin = off;
        return host_load(p, size);
    }
    return cpu_rmw_begin_slow(c, s, off, size, lin);
}
static inline void cpu_rmw_end(struct cpu *c, uint32_t lin, int size, uint32_t v)
{
    lin_write(c, lin, size, v, cpu_acc_user(c));
}

/* Supervisor (implicit) linear accesses: descriptor tables, TSS, IDT. */
static inline uint32_t sys_read(struct cpu *c, uint32_t lin, int size)
{
    return lin_read(c, lin, size, ACC_READ);
}
static inline void sys_write(struct cpu *c, uint32_t lin, int size, uint32_t v)
{
    lin_write(c, lin, size, v, ACC_READ);
}

/* Stack: push/pop of 2 or 4 bytes with SS's B bit choosing SP or ESP. ESP is
 * written only after the memory access succeeds. */
static inline uint32_t cpu_sp(const struct cpu *c)
{
    return cpu_stack32(c) ? c->r[R_ESP] : (c->r[R_ESP] & 0xffff);
}
static inline void cpu_set_sp(struct cpu *c, uint32_t v)
{
    if (cpu_stack32(c))
        c->r[R_ESP] = v;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xffff0000u) | (v & 0xffff);
}
static inline void cpu_push(struct cpu *c, uint32_t v, int size)
{
    uint32_t sp = cpu_sp(c) - (uint32_t)size;
    if (!cpu_stack32(c))
        sp &= 0xffff;
    cpu_write(c, S_SS, sp, size, v);
    cpu_set_sp(c, sp);
}
static inline uint32_t cpu_pop(struct cpu *c, int size)
{
    uint32_t sp = cpu_sp(c);
    uint32_t v = cpu_read(c, S_SS, sp, size);
    cpu_set_sp(c, sp + (uint32_t)size);
    return v;
}
/* Reads the stack at ESP+offset (offset in bytes) without popping. */
static inline uint32_t cpu_peek(struct cpu *c, uint32_t offset, int size)
{
    uint32_t sp = cpu_sp(c) + offset;
    if (!cpu_stack32(c))
        sp &= 0xffff;
    return cpu_read(c, S_SS, sp, size);
}

#endif
