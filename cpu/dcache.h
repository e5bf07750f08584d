/*
 * The decoded-instruction cache: struct insn records keyed by the physical
 * address of their first byte and the code size (CS.D, the only CPU state
 * decode() reads), so the run loop decodes an instruction once and then
 * finds it with one TLB lookup, one index and two compares.
 *
 * Invariants (docs/architecture.md, "Decoded-instruction cache"):
 *  - an entry is valid while its key matches: the physical address, CS.D,
 *    and the page's code generation on the bus (bus->code_gen), which the
 *    bus bumps whenever a write touches a 64-byte chunk holding cached
 *    instruction bytes (bus->code_mask, set by dc_fill). A write therefore
 *    makes the page's entries miss from the next lookup on, wherever it
 *    comes from: this CPU, through any linear alias, a string fast path, a
 *    device or a loader;
 *  - the CPU's own stores reach that tracking because the TLB never grants
 *    direct host writes to a page with code (mmu.h);
 *  - a flush (reset, bus map change: ROM/MMIO placement, A20) bumps the
 *    cache's epoch; entries of an older epoch miss;
 *  - only instructions lying entirely within one page of host-backed memory
 *    (RAM, ROM, device memory) are cached; one that crosses a page boundary
 *    is fetched and decoded every time (rare, and both pages' rights must
 *    be checked anyway);
 *  - keys are physical, so paging changes (CR3, INVLPG) need nothing here:
 *    translation and its rights checks (execute, user) stay with the TLB.
 *
 * Direct-mapped, DC_ENTRIES entries of one 64-byte host cache line each.
 */
#ifndef TRAPEZE_CPU_DCACHE_H
#define TRAPEZE_CPU_DCACHE_H

#include "cpu.h"
#include "insn.h"

#define DC_BITS 15
#define DC_ENTRIES (1u << DC_BITS)

struct dc_entry {
    uint64_t key; /* dc_key(); 0 never matches (bit 0 of a key is always 1) */
    uint32_t epoch;
    struct insn i;
} __attribute__((aligned(64)));

struct dcache {
    struct dc_entry e[DC_ENTRIES];
};

static inline uint32_t dc_index(uint32_t pa)
{
    return (pa ^ (pa >> DC_BITS)) & (DC_ENTRIES - 1);
}

/* Physical address, 31 bits of the page's code generation, CS.D, and a 1.
 * gen is the bus's code_gen array. */
static inline uint64_t dc_key_gen(const uint32_t *gen, uint32_t pa, bool code32)
{
    return ((uint64_t)pa << 32) | ((uint64_t)(gen[pa >> PAGE_SHIFT] & 0x7fffffffu) << 2) |
           ((uint64_t)code32 << 1) | 1u;
}
static inline uint64_t dc_key(const struct bus *b, uint32_t pa, bool code32)
{
    return dc_key_gen(b->code_gen, pa, code32);
}

/* Allocation (cpu_init), release (cpu_free), flush (every entry misses). */
void dc_alloc(struct cpu *c);
void dc_release(struct cpu *c);
void dc_flush(struct cpu *c);

/* Stores the just-decoded *i, found at physical address pa (host-backed,
 * not crossing a page) with code size code32, marks its bytes on the bus
 * and returns the cached copy. */
const struct insn *dc_fill(struct cpu *c, uint32_t pa, bool code32, const struct insn *i);

#endif
