/*
 * Threaded forms: for every quiet form (insn.quiet, cpu/forms.c) a second
 * entry point, name_t, that runs the form and then jumps straight to the
 * next instruction's handler while that one is quiet too, instead of
 * returning to the block loop. A cached block holds the threaded entry of
 * each quiet instruction (dc_fill_block, form_threaded), so a run of quiet
 * instructions costs per instruction one test and one indirect jump, with
 * no call, return or loop test, and each handler has its own jump, which
 * the host's branch predictor tells apart.
 *
 * Invariants: a threaded entry is only ever called on an instruction of a
 * cached block (insn i + 1 exists: at worst the block's sentinel, which is
 * not quiet). It returns with cpu.blk_cur at the first instruction it did
 * not run. cpu.blk_cur is the instruction that faults whenever one does
 * (cpu_run finds the restart point from it): an entry that can fault
 * (THREADED, THREADED_STORE) stores it first, the written-out loads and
 * stores store it on their slow path only, and register forms, which
 * cannot fault, never (THREADED_REG). end_run is clear whenever a threaded
 * entry starts (the chain stops after the store that sets it); forms that
 * store to memory through the general path use THREADED_STORE, which stops
 * when the store set end_run (cpu/mem.c); loads, register forms and the
 * fast path of a store cannot set it. The jump is a sibling call: GCC emits it as a jump at -O2; where
 * it does not (sanitizer builds), the depth is still bounded by the
 * block's length (DC_BLOCK_MAX).
 */
#ifndef TRAPEZE_CPU_THREADED_H
#define TRAPEZE_CPU_THREADED_H

#include "cpu.h"
#include "mem.h"
#include "operand.h"

static inline __attribute__((always_inline)) void quiet_next(struct cpu *c, const struct insn *i,
                                                             bool store)
{
    const struct insn *n = i + 1;
    if (__builtin_expect(n->quiet, 1) && !(store && c->end_run))
        n->fn(c, n);
    else
        c->blk_cur = n;
}

/* A taken near branch by rel in a threaded run (a Jcc): the target is
 * computed from the block (EIP is not kept inside one), checked against
 * CS's limit (#GP(0) restarts at the branch: blk_cur is set to i), and the
 * chain stops with blk_branched and end_run set (cpu/exec.c). */
static inline void quiet_branch(struct cpu *c, const struct insn *i, uint32_t rel)
{
    uint32_t t = c->blk_eip0 + i->start_off + i->len + rel;
    if (__builtin_expect(t > c->seg[S_CS].limit, 0)) {
        c->blk_cur = i;
        cpu_fault(c, EX_GP, 0);
    }
    c->eip = t;
    c->blk_cur = i + 1;
    c->blk_branched = true;
    c->end_run = true;
}

/* Defines name_t for a form name defined earlier in the same file (so
 * flatten can inline it). */
#define THREADED_AS_(tname, name, may_fault, store)                                            \
    void tname(struct cpu *c, const struct insn *i);                                           \
    __attribute__((flatten)) void tname(struct cpu *c, const struct insn *i)                   \
    {                                                                                          \
        if (may_fault)                                                                         \
            c->blk_cur = i;                                                                    \
        name(c, i);                                                                            \
        quiet_next(c, i, store);                                                               \
    }
#define THREADED_(name, may_fault, store) THREADED_AS_(name##_t, name, may_fault, store)
#define THREADED(name) THREADED_(name, true, false)
#define THREADED_STORE(name) THREADED_(name, true, true)
/* A register form (it cannot fault). */
#define THREADED_REG(name) THREADED_(name, false, false)

/* The slow paths of cpu_load and cpu_write (cpu/mem.c) that then go on
 * with the chain: the threaded loads and stores below tail-call them, so
 * their fast path needs no stack frame (a call in the middle would). */
void cpu_load_slow_next(struct cpu *c, const struct insn *i, uint32_t off, int size);
void cpu_write_slow_next(struct cpu *c, const struct insn *i, uint32_t off, int size, uint32_t v);

/* Threaded entries written out for the commonest loads and stores, for
 * that frame, each in two forms: name_t for any 32-bit address and
 * name_bd_t for one without an index register (base + displacement, the
 * commonest: dc_fill_block picks it, form_threaded). THREADED_LOAD_ZX:
 * name is the load of size bytes from its m32 operand into ModRM.reg,
 * zero-extended (MOV, MOVZX). THREADED_STORE_OF: name is the store of the
 * size-byte value v to its m32 operand. */
#define EA_BD(c, i) ((i)->disp + (c)->r_ea[(i)->base])
#define THREADED_LOAD_ZX_(fn, ea, size)                                                        \
    void fn(struct cpu *c, const struct insn *i);                                              \
    void fn(struct cpu *c, const struct insn *i)                                               \
    {                                                                                          \
        uint32_t off = (ea);                                                                   \
        uint8_t *p;                                                                            \
        if (__builtin_expect(data_direct(c, i->seg, off, size, SEG_FLAT_R, &p), 1)) {        \
            c->r[i->reg] = host_load(p, size);                                                 \
            quiet_next(c, i, false);                                                           \
            return;                                                                            \
        }                                                                                      \
        cpu_load_slow_next(c, i, off, size);                                                   \
    }
#define THREADED_STORE_OF_(fn, ea, size, v)                                                    \
    void fn(struct cpu *c, const struct insn *i);                                              \
    void fn(struct cpu *c, const struct insn *i)                                               \
    {                                                                                          \
        uint32_t off = (ea);                                                                   \
        uint8_t *p;                                                                            \
        if (__builtin_expect(data_direct(c, i->seg, off, size, SEG_FLAT_W, &p), 1)) {        \
            host_store(p, size, (v));                                                          \
            quiet_next(c, i, false); /* a direct store cannot set end_run */                   \
            return;                                                                            \
        }                                                                                      \
        cpu_write_slow_next(c, i, off, size, (v));                                             \
    }
#define THREADED_LOAD_ZX(name, size)                                                           \
    THREADED_LOAD_ZX_(name##_t, ea_f(c, i, FORM_MEM32), size)                                  \
    THREADED_LOAD_ZX_(name##_bd_t, EA_BD(c, i), size)
#define THREADED_STORE_OF(name, size, v)                                                       \
    THREADED_STORE_OF_(name##_t, ea_f(c, i, FORM_MEM32), size, v)                              \
    THREADED_STORE_OF_(name##_bd_t, EA_BD(c, i), size, v)

/* Written-out entries for a form with a 32-bit operand in memory (m32):
 * on a direct TLB hit for reading (write = false) or writing (write: a
 * read-modify-write, which a write hit also permits to read) the
 * statement runs with p, the operand's host address, and the chain goes
 * on; anything else jumps to the form's general threaded entry name_gt,
 * which redoes the access through the slow path. Two entries, name_t and
 * name_bd_t (base+displacement), as for the loads above. */
#define THREADED_MEM_(fn, slow, ea, write, ...)                                                 \
    void fn(struct cpu *c, const struct insn *i);                                              \
    void fn(struct cpu *c, const struct insn *i)                                               \
    {                                                                                          \
        uint32_t off = (ea);                                                                   \
        uint8_t *p;                                                                            \
        if (__builtin_expect(data_direct(c, i->seg, off, 4, (write) ? SEG_FLAT_W : SEG_FLAT_R, \
                                         &p), 1)) {                                            \
            __VA_ARGS__;                                                                       \
            quiet_next(c, i, false); /* a direct store cannot set end_run */                   \
            return;                                                                            \
        }                                                                                      \
        slow(c, i);                                                                            \
    }
#define THREADED_MEM(name, write, ...)                                                         \
    THREADED_AS_(name##_gt, name, true, write)                                                 \
    THREADED_MEM_(name##_t, name##_gt, ea_f(c, i, FORM_MEM32), write, __VA_ARGS__)             \
    THREADED_MEM_(name##_bd_t, name##_gt, EA_BD(c, i), write, __VA_ARGS__)

#endif
