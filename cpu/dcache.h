/*
 * The decoded-instruction cache: blocks of up to DC_BLOCK_MAX decoded
 * instructions that follow one another in memory, keyed by the physical
 * address of the first one's first byte and the code size (CS.D, the only
 * CPU state decode() reads). The run loop looks a block up once (one TLB
 * lookup, one index, two compares and the CS limit over the block's bytes)
 * and then runs its instructions one after another with no decode, no
 * lookup and no mode test (cpu/exec.c).
 *
 * Invariants (docs/architecture.md, "Decoded-instruction cache"):
 *  - a block ends after an instruction with ends_run (A_BRANCH or A_SERIAL:
 *    everything that can change CS, CPL, paging, control or debug registers,
 *    EFLAGS.TF, the bus map or the ports' devices carries one; POPF ends
 *    its block at run time when it sets TF, cpu.end_run) other than a
 *    near Jcc, whose fall-through path goes on in the same block (a taken
 *    Jcc leaves the block there, and the chain goes on at its target), at the end
 *    of its page, before an instruction that crosses the page boundary or
 *    does not decode, at DC_BLOCK_MAX instructions, or before the one that
 *    would take it past DC_BLOCK_BYTES (insn.start_off is one byte);
 *  - a block is valid while its key matches: the physical address, CS.D,
 *    and the page's code generation on the bus (bus->code_gen), which the
 *    bus bumps whenever a write touches a 64-byte chunk holding cached
 *    instruction bytes (bus->code_mask, set by dc_fill_block). A write
 *    therefore makes the page's blocks miss from the next lookup on,
 *    wherever it comes from: this CPU, through any linear alias, a string
 *    fast path, a device or a loader; the run loop also compares the
 *    generation after every instruction of a block, so a write to the code
 *    ahead stops the block before it;
 *  - the CPU's own stores reach that tracking because the TLB never grants
 *    direct host writes to a page with code (mmu.h);
 *  - a flush (reset, bus map change: ROM/MMIO placement, A20) clears the
 *    key of every block filled since the last one (dcache.used), so the
 *    lookup is one compare;
 *  - only instructions lying entirely within one page of host-backed memory
 *    (RAM, ROM, device memory) are cached; one that crosses a page boundary
 *    is fetched and decoded every time (rare, and both pages' rights must
 *    be checked anyway);
 *  - keys are physical, so paging changes (CR3, INVLPG) need nothing here:
 *    translation and its rights checks (execute, user) stay with the TLB.
 *
 * Direct-mapped, DC_BLOCKS blocks; each holds its instructions' copies, so
 * a block is self-contained (about 1.6 KiB; 6.5 MiB per CPU, committed by
 * the host only as blocks are filled).
 */
#ifndef TRAPEZE_CPU_DCACHE_H
#define TRAPEZE_CPU_DCACHE_H

#include "cpu.h"
#include "insn.h"

#define DC_BITS 12
#define DC_BLOCKS (1u << DC_BITS)
#define DC_BLOCK_MAX 31 /* insn.idx is 5 bits and counts the sentinel too */
#define DC_BLOCK_BYTES 255

struct dc_block {
    uint64_t key;   /* dc_key(); 0 never matches (bit 0 of a key is always 1) */
    uint32_t gen;   /* the page's bus->code_gen when the block was filled */
    uint16_t bytes; /* the instructions' total length */
    uint8_t n;      /* instructions, 1..DC_BLOCK_MAX, then the sentinel */
    uint8_t listed; /* in dcache.pending */
    uint16_t cls_any; /* the OR of the instructions' class bits */
    /* The block ends with a near branch (A_BRANCH without A_SERIAL, class
     * 0) or no branch: the run loop may go on to the next block without
     * its outer checks (exec.c, run_chain). */
    uint8_t chain;
    /* Runs not yet added to cpu.row_counts (per instruction's stat_row),
     * by how far they went: ran_to[k] runs ran the first k instructions
     * (k = n: complete runs; k < n: left by a Jcc inside the block). The
     * run loop counts a block once per run instead of each instruction;
     * dc_fold_counts adds them up. */
    uint32_t ran_to[DC_BLOCK_MAX + 1];
    /* i[n] is a sentinel: not quiet, start_off = bytes. The block loop
     * runs quiet instructions until one is not quiet and only then asks
     * whether it is the end (cpu/exec.c, run_block_impl). */
    struct insn i[DC_BLOCK_MAX + 1];
} __attribute__((aligned(64)));

struct dcache {
    struct dc_block b[DC_BLOCKS];
    /* Blocks with runs > 0, each once (listed): dc_fold_counts walks only
     * these, so folding costs what ran since the last fold. */
    struct dc_block *pending[DC_BLOCKS];
    uint32_t n_pending;
    /* Blocks filled since the last flush, one bit each: dc_flush clears
     * only their keys (the cache is committed as it is filled; a flush
     * touches only what was). */
    uint64_t used[DC_BLOCKS / 64];
};

/* For pa = page | off: dc_index(pa) == off ^ dc_index(page) (run_chain
 * computes the page's part once). */
_Static_assert(DC_BITS == PAGE_SHIFT, "the low DC_BITS of an index are the page offset's");
static inline uint32_t dc_index(uint32_t pa)
{
    return (pa ^ (pa >> DC_BITS) ^ (pa >> (2 * DC_BITS))) & (DC_BLOCKS - 1);
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

/* One run of block d that ran its first k instructions (the run loop's
 * hot path). */
static inline void dc_count_ran(struct dcache *dc, struct dc_block *d, unsigned k)
{
    d->ran_to[k]++;
    if (!d->listed) {
        d->listed = 1;
        dc->pending[dc->n_pending++] = d;
    }
}
/* Adds the pending runs to cpu.row_counts: cpu_run does it before it
 * returns and cpu_reset before it clears the CPU, so the statistics are
 * exact whenever the CPU is not running; dc_fill_block folds a block it
 * replaces. */
void dc_fold_counts(struct cpu *c);
void dc_fold_block(struct cpu *c, struct dc_block *d);

/* Allocation (cpu_init), release (cpu_free), flush (every block misses). */
void dc_alloc(struct cpu *c);
void dc_release(struct cpu *c);
void dc_flush(struct cpu *c);

/* Decodes the block starting at physical address pa, whose page's bytes are
 * at host (host-backed memory), with code size code32; marks its bytes on
 * the bus and returns it. NULL when not even the first instruction can be
 * cached (it does not decode, or it crosses the page's end): the caller
 * fetches and decodes it the slow way, which raises what it must. */
struct dc_block *dc_fill_block(struct cpu *c, uint32_t pa, const uint8_t *host,
                                     bool code32);

#endif
