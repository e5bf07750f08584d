/*
 * The run loop: events between instructions, fetch and decode, dispatch,
 * faults and their delivery (double fault, triple fault), single-step and
 * instruction-breakpoint debug exceptions.
 */
#include <stddef.h>
#include <string.h>

#include "cpu.h"
#include "dcache.h"
#include "decode.h"
#include "mem.h"

/* fault_vector value with which cpu_soft_event leaves an intercepted INT n. */
#define FAULT_SOFT_EVENT_EXIT (-2)

/* Exception classes for the double-fault rules (SDM vol. 3, table 6-5). */
enum { XC_BENIGN, XC_CONTRIB, XC_PF };

static int exc_class(int v)
{
    switch (v) {
    case EX_DE: case EX_TS: case EX_NP: case EX_SS: case EX_GP: return XC_CONTRIB;
    case EX_PF: return XC_PF;
    default: return XC_BENIGN;
    }
}

bool cpu_vector_has_error_code(int v)
{
    return v == EX_DF || v == EX_TS || v == EX_NP || v == EX_SS || v == EX_GP || v == EX_PF ||
           v == EX_AC;
}

__attribute__((noreturn)) void cpu_fault(struct cpu *c, int vector, uint32_t err)
{
    c->fault_vector = vector;
    c->fault_has_err = cpu_vector_has_error_code(vector);
    c->fault_err = err;
    longjmp(c->fault_jmp, 1);
}

__attribute__((noreturn)) void cpu_fault_noerr(struct cpu *c, int vector)
{
    cpu_fault(c, vector, 0);
}

__attribute__((noreturn)) void cpu_abort_insn(struct cpu *c)
{
    c->fault_vector = -1;
    longjmp(c->fault_jmp, 1);
}

__attribute__((noreturn)) void cpu_page_fault(struct cpu *c, uint32_t lin, uint32_t err)
{
    c->cr2 = lin;
    cpu_fault(c, EX_PF, err);
}

/*
 * Delivers an event with the double-fault rules. delivering_vector tells,
 * when a fault interrupts a delivery, what was being delivered; -2 marks a
 * benign event (external or software interrupt).
 */
static bool intercept_event(struct cpu *c, int vector, bool has_err, uint32_t err,
                            enum cpu_event_kind kind);

static void deliver_event(struct cpu *c, int vector, bool is_sw, bool has_err, uint32_t err,
                          bool external)
{
    if (c->intercept_events &&
        /* Faults are intercepted in handle_fault; what comes here is an
         * NMI, an external interrupt or a #DB trap after an instruction. */
        intercept_event(c, vector, has_err, err,
                        external ? (vector == EX_NMI ? EV_NMI : EV_EXTERNAL)
                                 : is_sw ? EV_SOFT : EV_TRAP))
        return;
    c->delivering_vector = (is_sw || external) ? -2 : vector;
    c->in_event_delivery = true;
    cpu_deliver(c, vector, is_sw, has_err, err);
    c->in_event_delivery = false;
    c->delivering_vector = -1;
    c->halted = false;
}

/* Called in the run loop after a longjmp from cpu_fault(). */
static void handle_fault(struct cpu *c)
{
    int v = c->fault_vector;
    bool has_err = c->fault_has_err;
    uint32_t err = c->fault_err;

    if (v == FAULT_SOFT_EVENT_EXIT)
        return; /* cpu_soft_event intercepted: EIP stays after the instruction */
    c->eip = c->prev_eip;
    c->r[R_ESP] = c->prev_esp;
    if (v < 0)
        return; /* cpu_abort_insn: nothing to deliver */
    if (c->intercept_events) {
        intercept_event(c, v, has_err, err, EV_FAULT);
        return;
    }
    if (c->in_event_delivery) {
        int first = c->delivering_vector;
        c->in_event_delivery = false;
        if (first == EX_DF) {
            c->exit_reason = CPU_EXIT_SHUTDOWN;
            c->delivering_vector = -1;
            return;
        }
        if (first >= 0) {
            int a = exc_class(first), b = exc_class(v);
            if ((a == XC_CONTRIB && b == XC_CONTRIB) || (a == XC_PF && b != XC_BENIGN)) {
                v = EX_DF;
                has_err = true;
                err = 0;
            }
        }
    }
    deliver_event(c, v, false, has_err, err, false);
}

/*
 * Fetches and decodes the instruction at CS:EIP. Bytes are taken only as far
 * as the decoder needs them: a fault on a byte beyond the instruction's end
 * (next page not present, CS limit) does not happen.
 */
static void fetch_decode(struct cpu *c, struct insn *i)
{
    const struct seg *cs = &c->seg[S_CS];
    uint32_t eip = c->eip;
    int acc = ACC_EXEC | cpu_acc_user(c);
    uint8_t buf[16] = {0};
    size_t room = eip > cs->hi ? 0 : (size_t)(cs->hi - eip) + 1;
    if (room > 15)
        room = 15;
    uint32_t lin = cs->base + eip;
    size_t avail = 0;
    int pending_pf = 0;
    uint32_t pf_lin = 0, pf_err = 0;

    while (avail < room) {
        uint32_t l = lin + (uint32_t)avail;
        size_t chunk = PAGE_SIZE - (l & ~PAGE_MASK);
        if (chunk > room - avail)
            chunk = room - avail;
        struct tlb_entry *e = mmu_lookup(&c->mmu, l, acc);
        if (!e) {
            e = mmu_fill(&c->mmu, l, acc, &pf_err);
            if (!e) {
                pending_pf = 1;
                pf_lin = l;
                break;
            }
        }
        if (e->host)
            memcpy(buf + avail, e->host + (l & ~PAGE_MASK), chunk);
        else
            for (size_t k = 0; k < chunk; k++)
                buf[avail + k] = (uint8_t)bus_read(c->bus, e->ppage | ((l + k) & ~PAGE_MASK), 1);
        avail += chunk;
    }

    switch (decode(buf, avail, cpu_code32(c), i)) {
    case DEC_OK: return;
    case DEC_INVALID: cpu_fault(c, EX_UD, 0);
    case DEC_TOO_LONG: cpu_fault(c, EX_GP, 0);
    case DEC_NEED_MORE:
        if (pending_pf)
            cpu_page_fault(c, pf_lin, pf_err);
        cpu_fault(c, EX_GP, 0); /* CS limit */
    }
}

/*
 * fetch_uncached: the instruction at CS:EIP fetched and decoded into *tmp,
 * with every check a fetch makes (page rights, #PF, CS limit, #UD). The
 * run loop's slow path: debugging (trace hook, TF, RF, DR7 breakpoints,
 * data breakpoints), an instruction that crosses a page or lies in memory
 * without host backing, one the block cache cannot take, or a block that
 * would run past CS's limit.
 */
static __attribute__((noinline)) const struct insn *fetch_uncached(struct cpu *c,
                                                                   struct insn *tmp)
{
    fetch_decode(c, tmp);
    return tmp;
}

void cpu_debug_regs_changed(struct cpu *c)
{
    bool active = false;
    for (int n = 0; n < 4; n++)
        if (((c->dr[7] >> (2 * n)) & 3) && ((c->dr[7] >> (16 + 4 * n)) & 3) != 0)
            active = true;
    active |= c->n_host_watch > 0;
    c->data_bp_active = active;
    c->mmu.bypass = active;
    mmu_flush_all(&c->mmu);
}

/* Instruction breakpoints: DR0-3 with R/W = 00 and enabled in DR7 (L or G). */
static bool insn_breakpoint(struct cpu *c)
{
    uint32_t dr7 = c->dr[7];
    if (!(dr7 & 0xff) || (c->eflags & F_RF))
        return false;
    uint32_t lin = c->seg[S_CS].base + c->eip;
    uint32_t hit = 0;
    for (int n = 0; n < 4; n++)
        if ((dr7 >> (2 * n)) & 3 && ((dr7 >> (16 + 4 * n)) & 3) == 0 && c->dr[n] == lin)
            hit |= 1u << n;
    if (!hit)
        return false;
    c->dr[6] = (c->dr[6] & ~0xfu) | hit;
    return true;
}

/*
 * prev_eip/prev_esp = EIP/ESP, as two 32-bit loads: left to itself the
 * compiler merges them into 64-bit loads that straddle the 32-bit stores
 * the previous handler just made (EIP, ESP), which defeats store-to-load
 * forwarding and costs a stall on every instruction.
 */
static inline void save_restart_point(struct cpu *c, uint32_t eip)
{
    uint32_t esp = c->r[R_ESP];
    __asm__("" : "+r"(eip), "+r"(esp));
    c->prev_eip = eip;
    c->prev_esp = esp;
}

/* halted, intr_line, nmi_pending and inhibit_intr are adjacent bytes of
 * struct cpu, followed by exit_reason (asserted here): read as one 32-bit
 * word they say whether any event is pending; as one 64-bit word, whether
 * anything at all needs the run loop's attention. */
_Static_assert(offsetof(struct cpu, intr_line) == offsetof(struct cpu, halted) + 1 &&
                   offsetof(struct cpu, nmi_pending) == offsetof(struct cpu, halted) + 2 &&
                   offsetof(struct cpu, inhibit_intr) == offsetof(struct cpu, halted) + 3 &&
                   offsetof(struct cpu, exit_reason) == offsetof(struct cpu, halted) + 4 &&
                   offsetof(struct cpu, end_run) == offsetof(struct cpu, halted) + 5 &&
                   offsetof(struct cpu, exit_request) == offsetof(struct cpu, halted) + 6 &&
                   CPU_EXIT_EVENT < 256 && sizeof(bool) == 1 &&
                   offsetof(struct cpu, halted) % 8 == 0 && CPU_EXIT_NONE == 0,
               "the attention word: four event flags, the exit reason, end_run, exit_request");
static inline uint32_t event_flags(const struct cpu *c)
{
    uint32_t w;
    memcpy(&w, &c->halted, sizeof(w));
    return w;
}
static inline bool event_flags_set(const struct cpu *c) { return event_flags(c) != 0; }
static inline uint64_t attention(const struct cpu *c)
{
    uint64_t w;
    memcpy(&w, &c->halted, sizeof(w));
    return w;
}

/* The attention word when only INTR is raised, or only the interrupt
 * shadow is set (little-endian byte order). */
#define EVENT_INTR_ONLY (1u << 8)
#define EVENT_SHADOW_ONLY (1u << 24)

/* INTR can be taken at this boundary (outside an interrupt shadow). */
static inline bool intr_deliverable(const struct cpu *c)
{
    return c->intr_line && (c->eflags & F_IF) && c->env && c->env->intr_ack;
}

/* Events between instructions, in priority order. Returns true when one
 * was delivered (the loop starts over) or the CPU halts (exit_reason set). */
static bool take_events(struct cpu *c)
{
    if (!c->inhibit_intr) {
        if (c->nmi_pending) {
            c->nmi_pending = false;
            deliver_event(c, EX_NMI, false, false, 0, true);
            return true;
        }
        if (intr_deliverable(c)) {
            int vec = c->env->intr_ack(c->env->ctx);
            if (vec >= 0) {
                c->prev_eip = c->eip;
                c->prev_esp = c->r[R_ESP];
                deliver_event(c, vec, false, false, 0, true);
                return true;
            }
        }
    }
    if (c->inhibit_intr)
        c->inhibit_intr = false;
    if (c->halted) {
        c->exit_reason = CPU_EXIT_HLT;
        return true;
    }
    return false;
}

static void debug_trap_after(struct cpu *c, bool tf);

/* One instruction with every per-instruction check: the slow path. */
static void step_slow(struct cpu *c, void (*trace)(void *, struct cpu *, const struct insn *))
{
    save_restart_point(c, c->eip);
    if (insn_breakpoint(c))
        cpu_fault(c, EX_DB, 0);
    /* RF suppresses instruction breakpoints for one instruction: it is
     * cleared as that instruction starts, so an IRET that loads RF=1
     * keeps it for the instruction it returns to. */
    uint32_t eflags = c->eflags;
    if (eflags & F_RF)
        c->eflags = eflags & ~F_RF;
    struct insn tmp;
    bool tf = (eflags & F_TF) != 0;
    c->data_bp_hit = false;
    const struct insn *i = fetch_uncached(c, &tmp);
    if (trace)
        trace(c->env->ctx, c, i);
    if (c->row_counts)
        c->row_counts[i->stat_row]++;
    if (i->cls & c->exit_on_class) {
        c->exit_insn = *i;
        c->exit_reason = CPU_EXIT_INSN;
        return;
    }
    uint32_t next = c->eip + i->len;
    if (!cpu_code32(c))
        next &= 0xffff;
    c->eip = next;
    i->fn(c, i);
    c->icount++;
    c->budget--;
    debug_trap_after(c, tf);
}

/* Per-row statistics for the first n instructions of a block that did not
 * run to its end. */
static void count_rows(struct cpu *c, const struct insn *first, uint64_t n)
{
    if (c->row_counts)
        for (uint64_t k = 0; k < n; k++)
            c->row_counts[first[k].stat_row]++;
}

/*
 * Runs block d (its n instructions fit in the budget: run_chain). Quiet
 * instructions run threaded (cpu/threaded.h): a store of blk_cur and a
 * jump from one handler to the next; icount and EIP are not kept per instruction but derived
 * from the position in the block (insn.idx, insn.start_off) before each
 * instruction that is not quiet, at the block's end, and in cpu_run after
 * a fault. The sentinel after the last instruction is not quiet, so only
 * the instructions that are not quiet test for the end. Only c, d, i (and next around a handler) live in host registers
 * across the loop: the block's start EIP and icount are read back from
 * cpu.blk_eip0 and cpu.blk_icount0, where a fault needs them anyway, so
 * nothing is spilled to the stack per block.
 */
static inline __attribute__((always_inline)) bool
run_block_impl(struct cpu *c, struct dc_block *d, const uint32_t *gen, bool checked)
{
    c->blk_icount0 = c->icount;
    c->blk_eip0 = c->eip;
    c->blk = d;
    const struct insn *i = d->i;
    bool taken = false;
    for (;;) {
        c->blk_cur = i;
        if (i->quiet) {
            /* insn.quiet: nothing to save or store. Its threaded entry
             * (cpu/threaded.h) runs it and the quiet ones after it, and
             * leaves blk_cur at the first it did not run: one that is not
             * quiet, or the one after a store that set end_run (a store
             * that was not a plain RAM write, cpu/mem.c). */
            i->fn(c, i);
            i = c->blk_cur;
            if (__builtin_expect(c->end_run, 0)) {
                if (!c->blk_branched)
                    break;
                /* a Jcc taken (quiet_branch): EIP is its target */
                c->blk_branched = false;
                c->end_run = false;
                taken = true;
                goto out_eip_set;
            }
        }
        if (i->idx == d->n) /* the sentinel */
            break;
        uint32_t eip = c->blk_eip0 + i->start_off;
        c->icount = c->blk_icount0 + i->idx;
        save_restart_point(c, eip);
        if (checked && __builtin_expect(i->cls & c->exit_on_class, 0)) {
            c->eip = eip;
            c->exit_insn = *i;
            c->exit_reason = CPU_EXIT_INSN;
            if (c->row_counts) /* counted, as the slow path counts it */
                c->row_counts[i->stat_row]++;
            goto out_eip_set;
        }
        uint32_t next = eip + i->len;
        c->eip = next;
        i->fn(c, i);
        i++;
        uint64_t w = attention(c);
        /* EIP moved (a branch taken, a REP that goes on), or the block's
         * page was written (its code generation moved on) */
        if (__builtin_expect(gen[d->key >> (32 + PAGE_SHIFT)] != d->gen, 0))
            goto out_eip_set;
        if (__builtin_expect(c->eip != next, 0)) {
            /* A Jcc inside the block (dcache.c, falls_through) that was
             * taken: the chain goes on at its target, as after a block
             * that ends with a near branch. */
            taken = i[-1].ends_run;
            goto out_eip_set;
        }
        if (__builtin_expect(w != 0, 0)) {
            if (w == EVENT_SHADOW_ONLY && i->idx != d->n) {
                /* The shadow covers the next instruction only. */
                c->inhibit_intr = false;
            } else if (w != EVENT_INTR_ONLY || (c->eflags & F_IF))
                goto out_eip_set;
        }
    }
    /* after a quiet instruction or at the end: EIP is that of i */
    c->eip = c->blk_eip0 + i->start_off;
out_eip_set:;
    c->blk = NULL;
    uint64_t ran = i->idx;
    c->icount = c->blk_icount0 + ran;
    c->budget -= ran;
    if (__builtin_expect(ran == d->n, 1)) {
        dc_count_ran(c->dc, d, d->n);
        return d->chain;
    }
    if (taken) {
        dc_count_ran(c->dc, d, (unsigned)ran);
        return true;
    }
    count_rows(c, d->i, ran);
    return false;
}

/* Runs block d; true when it ran to its end and the next block may follow
 * without the outer loop's checks (dc_block.chain), or left it by a Jcc
 * inside it. classes: the VMM routes some classes out (exit_on_class is
 * not 0), so a block holding one tests each instruction. */
static inline __attribute__((always_inline)) bool run_block(struct cpu *c, struct dc_block *d,
                                                            const uint32_t *gen, bool classes)
{
    if (classes && __builtin_expect(d->cls_any & c->exit_on_class, 0))
        return run_block_impl(c, d, gen, true);
    return run_block_impl(c, d, gen, false);
}

/*
 * Cached blocks one after another, for as long as each runs to its end
 * and ends with a near branch or falls through (dc_block.chain), or leaves
 * by a Jcc inside it: such a
 * block changes neither CS, CPL, paging, the debug state nor the bus map,
 * so the next block needs none of the outer loop's checks but the
 * attention word (the exit request among it) and the budget (the bus map
 * changes only through a port write, which ends its block with A_SERIAL,
 * or through a store's slow path, which sets end_run), and while it lies in the same linear page, not even the TLB lookup (the
 * page's translation and rights were checked when the chain entered it; an
 * instruction that changes translations ends its block with A_SERIAL).
 * Anything the cache cannot run goes to the slow path, one instruction.
 */
static inline __attribute__((always_inline)) void run_chain_impl(struct cpu *c, const uint32_t *gen,
                                                                 bool classes)
{
    uint32_t cs_base = c->seg[S_CS].base;
    bool code32 = cpu_code32(c);
    /* The last offset a block may reach: CS's limit, and in 16-bit code
     * 0xFFFF (the block loop never wraps EIP). */
    uint64_t cs_end = c->seg[S_CS].hi;
    if (!code32 && cs_end > 0xffff)
        cs_end = 0xffff;
    int acc = ACC_EXEC | cpu_acc_user(c);
    uint32_t lpage = 1, ppage = 0; /* lpage: no page (a page address has bit 0 clear) */
    /* The cache key of the page's first byte (dc_key_gen): the key of a
     * block at offset off is key_page | off << 32. The page's code
     * generation cannot change while the chain stays in it, for only a
     * write through the slow path changes it and that write sets end_run,
     * which ends the chain (attention). The index of that block is
     * off ^ page_hash (dc_index). */
    uint64_t key_page = 0;
    uint32_t page_hash = 0;
    struct dc_block *blocks = c->dc->b;
    uint8_t *host = NULL;
    for (;;) {
        uint32_t eip = c->eip;
        uint32_t lin = cs_base + eip;
        if ((lin & PAGE_MASK) != lpage) {
            struct tlb_entry *e = mmu_lookup(&c->mmu, lin, acc);
            if (__builtin_expect(e == NULL, 0)) {
                /* A TLB miss (after a flush: CR3, a VMM exit) walks here; a
                 * page fault is left to the slow path, which raises it. */
                uint32_t pf_err;
                e = mmu_fill(&c->mmu, lin, acc, &pf_err);
                if (!e)
                    break;
            }
            lpage = lin & PAGE_MASK;
            ppage = e->ppage;
            host = e->host;
            key_page = dc_key_gen(gen, ppage, code32);
            page_hash = dc_index(ppage);
        }
        uint32_t off = lin & ~PAGE_MASK;
        struct dc_block *d = &blocks[off ^ page_hash];
        if (__builtin_expect(d->key != (key_page | (uint64_t)off << 32), 0)) {
            if (!host)
                break;
            d = dc_fill_block(c, ppage | off, host, code32);
            if (!d)
                break;
        }
        if ((uint64_t)eip + d->bytes - 1 > cs_end)
            break;
        /* The block loop has no budget test: the last few instructions of
         * a slice go one at a time. */
        if (__builtin_expect(d->n > c->budget, 0))
            break;
        if (!run_block(c, d, gen, classes) || attention(c) || !c->budget)
            return;
    }
    step_slow(c, NULL);
}
/* exit_on_class is set between runs (vmm/vcpu.c), never during one: the
 * chain is compiled twice, and emulate mode's has no class test at all. */
static void run_chain(struct cpu *c, const uint32_t *gen)
{
    if (c->exit_on_class)
        run_chain_impl(c, gen, true);
    else
        run_chain_impl(c, gen, false);
}

/*
 * The loop proper, in its own function: cpu_run calls setjmp, and a
 * function that calls setjmp keeps its variables in memory (each use of c
 * would reload it); a fault longjmps out of this frame to cpu_run's.
 */
static __attribute__((noinline)) void run_loop(struct cpu *c)
{
    const uint32_t *gen = c->bus->code_gen;
    /* The trace hook is set when the machine is built, never during a run. */
    void (*trace)(void *, struct cpu *, const struct insn *) = c->env ? c->env->trace : NULL;
    while (c->exit_reason == CPU_EXIT_NONE) {
        if (c->exit_request) {
            c->exit_request = 0;
            c->exit_reason = CPU_EXIT_REQUEST;
            break;
        }
        if (!c->budget) {
            c->exit_reason = CPU_EXIT_BUDGET;
            break;
        }
        /* A bus map change (ROM/MMIO placement, A20) invalidates host
         * pointers in the TLB and what the decoded-instruction cache holds.
         * Only instructions that end a block (port writes: A_SERIAL) and
         * the machine between two slices change the map. */
        if (__builtin_expect(c->dc_map_generation != c->bus->map_generation, 0)) {
            mmu_flush_all(&c->mmu);
            dc_flush(c);
        }
        /* The four event flags are all clear on almost every block, so one
         * test skips the lot. */
        bool alone = false;
        if (__builtin_expect(event_flags_set(c), 0)) {
            bool shadow = c->inhibit_intr;
            if (take_events(c))
                continue;
            /* The shadow just ended with an event waiting: the one
             * instruction it covered runs alone, for a block (its quiet
             * instructions above all) would not stop after it. */
            alone = shadow && (c->nmi_pending || intr_deliverable(c));
        }

        c->end_run = false; /* whatever ended the last block, it is seen */
        /* Debugging (and an instruction that must run alone) needs the slow
         * path: one test for the five reasons. */
        uint32_t debugging = (uint32_t)(trace != NULL) | c->data_bp_active | (c->dr[7] & 0xff) |
                             (c->eflags & (F_TF | F_RF)) | alone;
        if (__builtin_expect(debugging, 0))
            step_slow(c, trace);
        else
            run_chain(c, gen);
    }
}

enum cpu_exit cpu_run(struct cpu *c, uint64_t max_insns)
{
    cpu_sync_cpl(c); /* cpl may have been set from outside (cpu.user_kind) */
    c->budget = max_insns;
    c->exit_reason = CPU_EXIT_NONE;
    if (setjmp(c->fault_jmp)) {
        /* The instructions of a block that ran before the fault, then the
         * fault itself: it costs one step of the budget, so a guest stuck
         * in a fault loop still returns. */
        if (c->blk) {
            /* the faulting instruction is counted too, as the slow path does */
            const struct insn *f = c->blk_cur;
            uint64_t ran = f->idx;
            c->icount = c->blk_icount0 + ran;
            if (f->quiet) {
                /* A quiet instruction faulted: no restart point was saved
                 * for it, and it changed nothing, nor did the quiet
                 * instructions before it change ESP. */
                c->prev_eip = c->blk_eip0 + f->start_off;
                c->prev_esp = c->r[R_ESP];
            }
            c->budget -= ran;
            count_rows(c, c->blk->i, ran + 1);
            c->blk = NULL;
        }
        if (c->budget)
            c->budget--;
        handle_fault(c);
    }
    run_loop(c);
    dc_fold_counts(c);
    return c->exit_reason;
}

/* Loads a segment register with a flat descriptor image (no checks). */
static void set_flat(struct cpu *c, int s, uint16_t sel, uint32_t ar)
{
    struct seg *g = &c->seg[s];
    g->sel = sel;
    g->base = 0;
    g->limit = 0xffffffffu;
    g->ar = ar;
    g->valid = true;
    seg_update_cache(c, g);
}

void cpu_set_flat32(struct cpu *c, uint32_t eip)
{
    c->cr0 |= CR0_PE;
    mmu_set_cr0(&c->mmu, c->cr0);
    cpu_set_cpl(c, 0);
    c->eflags = F_RES1;
    c->lf.op = 0;
    /* code: present, DPL 0, S, type 1011 (exec/read, accessed), D, G */
    set_flat(c, S_CS, 0x08, AR_P | AR_S | 0x0b00 | AR_DB | AR_G);
    for (int s = 0; s < 6; s++)
        if (s != S_CS)
            set_flat(c, s, 0x10, AR_P | AR_S | 0x0300 | AR_DB | AR_G);
    c->eip = eip;
}

static void set_real_seg(struct cpu *c, int s, uint16_t sel, uint32_t base)
{
    struct seg *g = &c->seg[s];
    g->sel = sel;
    g->base = base;
    g->limit = 0xffff;
    /* present, S, data read/write accessed (code: exec/read accessed) */
    g->ar = AR_P | AR_S | (s == S_CS ? 0x0b00 : 0x0300);
    g->valid = true;
    seg_update_cache(c, g);
}

void cpu_reset(struct cpu *c)
{
    dc_fold_counts(c); /* the runs so far, before row_counts is cleared */
    struct x87 fpu = c->fpu; /* RESET leaves it to be initialised below; INIT keeps it */
    struct bus *b = c->bus;
    const struct cpu_env *env = c->env;
    uint8_t shutdown_on_triple = c->shutdown_on_triple;
    uint64_t tsc = c->tsc;
    struct dcache *dc = c->dc;
    __typeof__(c->host_watch) host_watch;
    memcpy(host_watch, c->host_watch, sizeof(host_watch));
    int n_host_watch = c->n_host_watch;
    memset(c, 0, sizeof(*c));
    /* The decoded-instruction cache stays allocated; RESET flushes it (the
     * machine may reload memory behind the bus's back: loaders, tests). */
    c->dc = dc;
    c->fpu = fpu;
    /* x87 at RESET (SDM vol. 3, table 9-1): CW 0x0040, SW 0, TW 0x5555. */
    x87_reset(&c->fpu);
    c->fpu.cw = 0x0040;
    c->fpu.sw = 0;
    c->fpu.tw = 0x5555;
    for (int k = 0; k < 8; k++)
        c->fpu.st[k] = (floatx80){0, 0};
    c->bus = b;
    c->env = env;
    c->shutdown_on_triple = shutdown_on_triple;
    c->tsc = tsc;
    mmu_init(&c->mmu, b);
    memcpy(c->host_watch, host_watch, sizeof(host_watch)); /* the debugger's, not the CPU's */
    c->n_host_watch = n_host_watch;
    if (n_host_watch)
        cpu_debug_regs_changed(c);

    c->eflags = F_RES1;
    c->eip = 0xfff0;
    c->cr0 = CR0_ET | CR0_CD | CR0_NW;
    mmu_set_cr0(&c->mmu, c->cr0);
    c->r[R_EDX] = 0x0633; /* family 6, model 3, stepping 3 (see cpu/cpuid.c) */
    c->dr[6] = 0xffff0ff0u;
    c->dr[7] = 0x400;
    for (int s = 0; s < 6; s++)
        set_real_seg(c, s, 0, 0);
    set_real_seg(c, S_CS, 0xf000, 0xffff0000u);
    c->gdtr.limit = c->idtr.limit = 0xffff;
    c->ldtr.limit = c->tr.limit = 0xffff;
    c->ldtr.ar = AR_P | 0x0200;
    c->tr.ar = AR_P | 0x0b00;
    c->ldtr.valid = c->tr.valid = true;
    c->delivering_vector = -1;
    c->msr.apic_base = 0;
    if (c->dc)
        dc_flush(c);
}

void cpu_init(struct cpu *c, struct bus *b, const struct cpu_env *env)
{
    decode_init();
    memset(c, 0, sizeof(*c));
    c->bus = b;
    c->env = env;
    c->shutdown_on_triple = 1;
    dc_alloc(c);
    cpu_reset(c);
}

void cpu_free(struct cpu *c)
{
    dc_release(c);
}

/* ------------------------------------------------------------------ */
/* The VMM's entry points (cpu.h). Kept apart from the run loop: they   */
/* reuse its fault and delivery rules but never run on its hot path.    */

/* Records an event instead of delivering it (intercept_events). */
static bool intercept_event(struct cpu *c, int vector, bool has_err, uint32_t err,
                            enum cpu_event_kind kind)
{
    c->exit_event = (struct cpu_event){vector, has_err, err, kind};
    c->exit_reason = CPU_EXIT_EVENT;
    c->in_event_delivery = false;
    c->delivering_vector = -1;
    return true;
}

void cpu_soft_event(struct cpu *c, int vector, bool is_sw)
{
    cpu_sync_cpl(c); /* cpl may have been set from outside (cpu.user_kind) */
    if (!c->intercept_events) {
        cpu_deliver(c, vector, is_sw, false, 0);
        return;
    }
    intercept_event(c, vector, false, 0, is_sw ? EV_SOFT : EV_TRAP);
    c->fault_vector = FAULT_SOFT_EVENT_EXIT;
    longjmp(c->fault_jmp, 1);
}

/* Single-step (BS) and data-breakpoint (Bn, set by mem.c) traps after an
 * instruction, as one #DB: the run loop's slow path and cpu_step_insn. */
static void debug_trap_after(struct cpu *c, bool tf)
{
    if ((tf || c->data_bp_hit) && !c->inhibit_intr) {
        if (tf)
            c->dr[6] |= 1u << 14;
        c->data_bp_hit = false;
        c->prev_eip = c->eip;
        c->prev_esp = c->r[R_ESP];
        deliver_event(c, EX_DB, false, false, 0, false);
    }
}

enum cpu_exit cpu_step_insn(struct cpu *c, const struct insn *i, int *faulted)
{
    cpu_sync_cpl(c); /* cpl may have been set from outside (cpu.user_kind) */
    c->exit_reason = CPU_EXIT_NONE;
    *faulted = -1;
    if (setjmp(c->fault_jmp)) {
        if (*faulted < 0)
            *faulted = c->fault_vector;
        handle_fault(c); /* a fault during its delivery comes back here: #DF rules */
        return c->exit_reason;
    }
    c->prev_eip = c->eip;
    c->prev_esp = c->r[R_ESP];
    c->eflags &= ~F_RF;
    bool tf = (c->eflags & F_TF) != 0;
    c->data_bp_hit = false;
    c->eip = c->eip + i->len;
    if (!cpu_code32(c))
        c->eip &= 0xffff;
    i->fn(c, i);
    c->icount++;
    debug_trap_after(c, tf);
    return c->exit_reason;
}

/* Not inlined into cpu_fetch_insn: its buffer must not live across setjmp. */
static __attribute__((noinline)) void fetch_decode_outlined(struct cpu *c, struct insn *i)
{
    fetch_decode(c, i);
}

int cpu_fetch_insn(struct cpu *c, struct insn *i)
{
    cpu_sync_cpl(c); /* cpl may have been set from outside (cpu.user_kind) */
    c->exit_reason = CPU_EXIT_NONE;
    volatile int vector = 0;
    if (setjmp(c->fault_jmp)) {
        if (!vector)
            vector = c->fault_vector;
        handle_fault(c);
        return vector;
    }
    c->prev_eip = c->eip;
    c->prev_esp = c->r[R_ESP];
    fetch_decode_outlined(c, i);
    return 0;
}

enum cpu_exit cpu_raise_event(struct cpu *c, const struct cpu_event *e)
{
    cpu_sync_cpl(c); /* cpl may have been set from outside (cpu.user_kind) */
    c->exit_reason = CPU_EXIT_NONE;
    if (setjmp(c->fault_jmp)) {
        handle_fault(c);
        return c->exit_reason;
    }
    if (e->kind == EV_FAULT) {
        c->prev_eip = c->eip;
        c->prev_esp = c->r[R_ESP];
    }
    deliver_event(c, e->vector, e->kind == EV_SOFT, e->has_err, e->err,
                  e->kind == EV_EXTERNAL || e->kind == EV_NMI);
    return c->exit_reason;
}
