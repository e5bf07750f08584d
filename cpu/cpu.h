/*
 * The IA-32 CPU state and its interface to the world.
 *
 * cpu/ never names a device or the VMM: it reaches memory and ports through
 * the bus (mmu/bus.h) and everything else through struct cpu_env's function
 * pointers. It returns from cpu_run() with an exit reason.
 *
 * Execution model: an instruction is decoded into a struct insn (cpu/insn.h),
 * EIP is advanced past it, then its handler runs. A fault anywhere inside a
 * handler calls cpu_fault(), which longjmps back to the run loop; the loop
 * restores EIP and ESP from the values saved at the instruction's start
 * (prev_eip, prev_esp) and delivers the exception. Handlers therefore must
 * write architectural state only after the accesses that can fault, or write
 * it in a form that restarting the instruction repairs (string instructions
 * update ECX/ESI/EDI per element, which is exactly the architected restart
 * state).
 */
#ifndef TRAPEZE_CPU_CPU_H
#define TRAPEZE_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "../mmu/bus.h"
#include "../mmu/mmu.h"
#include "insn.h"
#include "x87.h"

struct cpu;
struct insn;

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* EFLAGS bits */
enum {
    F_CF = 1u << 0,
    F_RES1 = 1u << 1, /* always 1 */
    F_PF = 1u << 2,
    F_AF = 1u << 4,
    F_ZF = 1u << 6,
    F_SF = 1u << 7,
    F_TF = 1u << 8,
    F_IF = 1u << 9,
    F_DF = 1u << 10,
    F_OF = 1u << 11,
    F_IOPL = 3u << 12,
    F_NT = 1u << 14,
    F_RF = 1u << 16,
    F_VM = 1u << 17,
    F_AC = 1u << 18,
    F_ID = 1u << 21,
};
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
/* Bits a P6 lets software change at CPL 0 (VIF/VIP exist only with VME). */
#define F_WRITABLE (F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_RF | F_VM | F_AC | F_ID)

/* CR0 bits */
enum {
    CR0_PE = 1u << 0,
    CR0_MP = 1u << 1,
    CR0_EM = 1u << 2,
    CR0_TS = 1u << 3,
    CR0_ET = 1u << 4,
    CR0_NE = 1u << 5,
    CR0_WP = 1u << 16,
    CR0_AM = 1u << 18,
    CR0_NW = 1u << 29,
    CR0_CD = 1u << 30,
    CR0_PG = 1u << 31,
};
/* CR4 bits the CPU implements (advertised in CPUID accordingly). */
enum {
    CR4_VME = 1u << 0, /* not implemented: writing 1 is #GP */
    CR4_PVI = 1u << 1, /* not implemented */
    CR4_TSD = 1u << 2,
    CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4,
    CR4_PAE = 1u << 5, /* not implemented */
    CR4_MCE = 1u << 6,
    CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8,
};

/* Exception vectors */
enum {
    EX_DE = 0, EX_DB = 1, EX_NMI = 2, EX_BP = 3, EX_OF = 4, EX_BR = 5, EX_UD = 6, EX_NM = 7,
    EX_DF = 8, EX_TS = 10, EX_NP = 11, EX_SS = 12, EX_GP = 13, EX_PF = 14, EX_MF = 16,
    EX_AC = 17, EX_MC = 18,
};

/*
 * A segment register with its hidden descriptor cache. 'ar' holds the
 * descriptor's access-rights bits in the positions of the high dword, bits
 * 8..23 (type, S, DPL, P, AVL, D/B, G), exactly what LAR returns; 'limit' is
 * the byte-granular limit after G scaling. lo/hi is the precomputed range of
 * valid offsets (expand-down handled), so a check is two compares.
 */
/* 32 bytes (aligned): c->seg[s] is one shift from s, which every memory
 * access's segment test computes. */
struct seg {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;
    uint32_t ar;
    uint32_t lo, hi; /* valid offsets: lo <= off && off + size - 1 <= hi */
    bool valid;      /* false for a null selector loaded in protected mode */
    /* SEG_R | SEG_W: what data accesses may do (derived from ar); and
     * SEG_FLAT_R / SEG_FLAT_W where that access is allowed and base = 0,
     * lo = 0, hi = 0xffffffff, so the check is one compare (seg_lin). */
    uint8_t rw;
} __attribute__((aligned(32)));

/* ar bit positions (shifted down by 8 from the descriptor's high dword) */
enum {
    AR_TYPE = 0x0f00, AR_A = 0x0100, AR_S = 0x1000, AR_DPL = 0x6000, AR_P = 0x8000,
    AR_AVL = 0x100000, AR_DB = 0x400000, AR_G = 0x800000,
};
#define AR_DPL_OF(ar) (((ar) >> 13) & 3)
/* SEG_BASE0_R/W: base 0 and expand-up, with any limit (a VMM's ring
 * compression truncates the guest kernel's flat segments): one compare. */
enum { SEG_R = 1, SEG_W = 2, SEG_FLAT_R = 4, SEG_FLAT_W = 8, SEG_BASE0_R = 16, SEG_BASE0_W = 32 };

/* Recomputes lo, hi and rw from base/limit/ar (cpu/segcache.c). Real mode and
 * V86 segments are always readable and writable. Call it after any change
 * to base, limit, ar or valid. */
void seg_update_cache(struct cpu *c, struct seg *s);

struct dtr {
    uint32_t base;
    uint16_t limit;
};

/* Why cpu_run() returned. */
enum cpu_exit {
    CPU_EXIT_NONE = 0,
    CPU_EXIT_BUDGET,   /* instruction budget used up */
    CPU_EXIT_HLT,      /* HLT executed; the caller decides whether interrupts can wake it */
    CPU_EXIT_SHUTDOWN, /* triple fault: the processor entered shutdown */
    CPU_EXIT_REQUEST,  /* env->request_exit asked (exit device, user, VMM) */
    CPU_EXIT_INSN,     /* the decoded instruction's class matched exit_on_class: it has
                        * not executed; c->exit_insn holds it, EIP points at it */
    CPU_EXIT_EVENT,    /* intercept_events: an exception or interrupt was not delivered;
                        * c->exit_event describes it */
};

/* An event the CPU did not deliver because intercept_events was set. For a
 * fault, EIP/ESP are those of the faulting instruction's start; for a trap,
 * a software interrupt or an external event, EIP is where execution would
 * resume (after the instruction). */
enum cpu_event_kind { EV_FAULT, EV_TRAP, EV_SOFT, EV_EXTERNAL, EV_NMI };
struct cpu_event {
    int vector;
    bool has_err;
    uint32_t err;
    enum cpu_event_kind kind;
};

/*
 * The CPU's view of its environment. All pointers may be NULL except where
 * noted; ctx is passed back.
 */
struct cpu_env {
    void *ctx;
    /* External interrupt acknowledge: returns the vector of the highest
     * pending interrupt (the PIC's INTA cycle). Called only when
     * cpu->intr_line is set and EFLAGS.IF allows it. */
    int (*intr_ack)(void *ctx);
    /* FERR# changed (x87 error with CR0.NE = 0): the PC routes it to IRQ 13. */
    void (*ferr)(void *ctx, bool level);
    /* Called before each instruction executes when set (--trace). */
    void (*trace)(void *ctx, struct cpu *c, const struct insn *i);
};

/* MSRs the P6 model implements. */
struct msrs {
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t mtrr_cap, mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16];
    uint64_t pat;
    uint64_t bios_sign_id;
    uint64_t misc_enable;
    /* P6 performance monitoring: PERFCTR0/1 (40 bits) and EVNTSEL0/1. A
     * counter's value is perfctr[n] plus what its event has counted since
     * pmc_mark[n] (see cpu/msr.c). */
    uint64_t perfctr[2], pmc_mark[2];
    uint32_t evntsel[2];
};

/* Lazy flags: the last flag-setting operation, from which CF..OF are derived
 * on demand (cpu/flags.c). op == LF_NONE means eflags holds them already. */
struct lazy_flags {
    uint32_t res, a, b; /* result and operands, zero-extended */
    uint8_t op;         /* enum lf_op in cpu/flags.h */
    uint8_t size;       /* 1, 2 or 4 */
    uint8_t cf_in;      /* carry-in for ADC/SBB, old CF for INC/DEC */
};

struct cpu {
    /* The general registers; r_ea[8] is a ninth that is always 0 (nothing
     * writes it), so an effective address adds "no base" or "no index"
     * (insn.base/index 8) without a test. */
    union {
        uint32_t r[8];
        uint32_t r_ea[9];
    };
    uint32_t eip;
    uint32_t eflags; /* non-arithmetic bits always valid; arithmetic bits valid when lf.op == 0 */
    struct lazy_flags lf;
    /* The record that lf's AF (and for LF_SHIFTN its OF) come from while
     * lf.op is LF_CF_OF or LF_SHIFTN (cpu/flags.h); never one of those
     * two itself, meaningless otherwise. */
    struct lazy_flags lf_prev;
    struct seg seg[6];
    struct seg ldtr, tr; /* tr.ar type distinguishes 16/32-bit TSS */
    struct dtr gdtr, idtr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint8_t cpl;
    /* tlb_kind(ACC_USER) (2) when cpl is 3, else 0: what every data access
     * adds to its TLB kind (cpu/mem.h, data_direct). The CPU writes cpl
     * only through cpu_set_cpl; the entry points (cpu_run, cpu_step_insn,
     * ...) resync it, so a test or a loader may still set cpl directly
     * between runs. */
    uint8_t user_kind;
    uint64_t tsc;
    struct msrs msr;

    /* Execution state */
    uint32_t prev_eip, prev_esp; /* at the start of the current instruction */
    uint64_t icount;             /* instructions retired */
    uint64_t idle_cycles;        /* cycles spent not retiring instructions: halted, PAUSE stalls */
    uint64_t budget;             /* instructions left in this cpu_run() */
    /* halted .. exit_request: the "attention" word, eight adjacent bytes
     * that the run loop tests as one 64-bit load after every instruction
     * of a block and after every block of a chain (exec.c asserts the
     * layout): the four event flags, the exit reason, end_run, which a
     * handler sets to end the block it runs in (POPF when it sets TF: the
     * next instruction needs the slow path), and exit_request. */
    _Alignas(8) bool halted;
    bool intr_line;          /* INTR pin (set by the interrupt controller) */
    bool nmi_pending;
    bool inhibit_intr;       /* interrupt shadow after MOV SS / POP SS / STI */
    uint8_t exit_reason;     /* enum cpu_exit */
    bool end_run;
    uint8_t exit_request;    /* set by env/devices: stop at the next boundary */
    uint8_t attention_pad;
    bool in_event_delivery;  /* delivering an exception: for #DF/triple fault */
    int  delivering_vector;  /* vector being delivered, -1 if none */
    uint8_t shutdown_on_triple; /* 1: shut down; 0: reset (per the VM's flag) */
    bool a20_cached;

    /* Faults: cpu_fault() stores these and longjmps to fault_jmp. */
    jmp_buf fault_jmp;
    int fault_vector;
    int fault_has_err;
    uint32_t fault_err;

    struct bus *bus;
    struct mmu mmu;
    const struct cpu_env *env;

    /* --- protection layer (segment.c, interrupt.c, task.c, farxfer.c) --- */

    /* --- system instructions (system.c, io.c, cpuid.c, msr.c) --- */

    /* --- debug registers: data breakpoints (exec.c, mem.c) --- */
    bool data_bp_active; /* some DR0-3 is enabled as a data breakpoint: TLB bypassed */
    bool data_bp_hit;    /* a data breakpoint matched during this instruction: #DB trap */
    /* A debugger's read/access watchpoints (frontend/gdbstub.c): checked with
     * the data breakpoints (they count in data_bp_active, so the TLB is
     * bypassed while any is set) but invisible to the guest: no DR6/DR7
     * bit, no #DB. A match sets its bit in host_watch_hits for the debugger
     * to collect. Kept across cpu_reset. */
    struct {
        uint32_t lin, len;
        bool writes; /* writes match too (access watchpoint); reads always do */
    } host_watch[4];
    int n_host_watch;
    uint8_t host_watch_hits;

    /* --- decoded-instruction cache (cpu/dcache.c; survives cpu_reset, flushed by it) --- */
    struct dcache *dc;
    uint32_t dc_map_generation; /* bus->map_generation the cache and TLB were last checked at */
    uint64_t dc_fills;          /* instructions decoded into the cache (statistics) */
    /* The block the run loop is in (NULL between blocks), icount and EIP
     * at its start, and the instruction it is running (stored before each
     * one: the block loop keeps icount and EIP in registers and updates
     * them before instructions that are not quiet and at the block's end).
     * A fault inside the block accounts for the part that ran, and a fault
     * in a quiet instruction finds its restart point from them (cpu_run). */
    struct dc_block *blk;
    const struct insn *blk_cur;
    uint64_t blk_icount0;
    uint32_t blk_eip0;
    /* A threaded Jcc (cpu/threaded.h) was taken: EIP is its target, and
     * end_run is set to stop the chain; the block loop clears both. */
    bool blk_branched;

    /* --- statistics and the VMM's hooks (exec.c; see vmm/) --- */
    /* Per opcode-table row: instructions decoded for execution (retired or
     * faulted), indexed by insn.op - op_table. NULL: not counted. */
    uint64_t *row_counts; /* op_table_size + 1 counters (insn.stat_row) */
    /* Class routing: an instruction whose insn.cls has any of these bits
     * returns CPU_EXIT_INSN before it executes. One AND per instruction. */
    uint16_t exit_on_class;
    /* Event interception: faults, traps, INT n/INT3/INTO/INT1, NMI and
     * external interrupts return CPU_EXIT_EVENT instead of being delivered. */
    bool intercept_events;
    struct insn exit_insn; /* CPU_EXIT_INSN: the instruction that did not execute */
    struct cpu_event exit_event;

    /* The x87 FPU (cpu/x87.c: arithmetic; cpu/x87_insns.c: the D8-DF opcodes). */
    struct x87 fpu;
    bool ferr;   /* FERR# output (CR0.NE = 0 legacy error reporting) */
    bool ignne;  /* IGNNE# input: the PC asserts it on a write to port 0xF0 */
};

/* Lifecycle */
void cpu_init(struct cpu *c, struct bus *b, const struct cpu_env *env);
void cpu_reset(struct cpu *c); /* power-on/RESET state: real mode, CS:IP = F000:FFF0 */
void cpu_free(struct cpu *c);  /* releases what cpu_init allocated (the decoded-instruction cache) */
enum cpu_exit cpu_run(struct cpu *c, uint64_t max_insns);

/* Puts the CPU in the Multiboot entry state: 32-bit flat protected mode. */
void cpu_set_flat32(struct cpu *c, uint32_t eip);

/* Faults: never return. */
__attribute__((noreturn)) void cpu_fault(struct cpu *c, int vector, uint32_t err);
__attribute__((noreturn)) void cpu_fault_noerr(struct cpu *c, int vector);
__attribute__((noreturn)) void cpu_page_fault(struct cpu *c, uint32_t lin, uint32_t err);
/* Abandons the current instruction without an exception: EIP and ESP return
 * to its start (used to freeze before an x87 instruction; see x87_insns.c). */
__attribute__((noreturn)) void cpu_abort_insn(struct cpu *c);

/* Exception/interrupt delivery (cpu/interrupt.c). is_sw: INT n/INT3/INTO
 * (checks gate DPL against CPL; pushes next EIP). has_err: push err. */
void cpu_deliver(struct cpu *c, int vector, bool is_sw, bool has_err, uint32_t err);

/*
 * For the VMM (cpu/exec.c). Both run with the CPU's own fault rules (a fault
 * is delivered through the IDT, double and triple faults included) unless
 * intercept_events is set, and both return c->exit_reason (CPU_EXIT_NONE, or
 * CPU_EXIT_SHUTDOWN / CPU_EXIT_EVENT).
 *
 * cpu_step_insn: executes the decoded instruction i, which starts at CS:EIP,
 * as the run loop would (single-step #DB included). *faulted is set to the
 * vector of a fault it raised, -1 if none.
 * cpu_fetch_insn: decodes the instruction at CS:EIP into i; returns 0, or
 * the vector of the fault the fetch raised (and handled as above).
 * cpu_raise_event: delivers an event as the run loop would.
 * cpu_soft_event: what INT n/INT3/INTO/INT1 call instead of cpu_deliver: an
 * intercepted software event leaves the instruction with EIP after it.
 */
enum cpu_exit cpu_step_insn(struct cpu *c, const struct insn *i, int *faulted);
int cpu_fetch_insn(struct cpu *c, struct insn *i);
enum cpu_exit cpu_raise_event(struct cpu *c, const struct cpu_event *e);
void cpu_soft_event(struct cpu *c, int vector, bool is_sw);

/* Is vector one whose exceptions push an error code? */
bool cpu_vector_has_error_code(int vector);

/* Mode tests */
static inline bool cpu_pmode(const struct cpu *c) { return (c->cr0 & CR0_PE) != 0; }
static inline bool cpu_v86(const struct cpu *c) { return (c->eflags & F_VM) != 0; }
/* The only way the CPU changes its privilege level (cpu.user_kind follows). */
static inline void cpu_set_cpl(struct cpu *c, unsigned cpl)
{
    c->cpl = (uint8_t)cpl;
    c->user_kind = cpl == 3 ? (uint8_t)tlb_kind(ACC_USER) : 0;
}
static inline void cpu_sync_cpl(struct cpu *c) { cpu_set_cpl(c, c->cpl); }
static inline bool cpu_code32(const struct cpu *c) { return (c->seg[S_CS].ar & AR_DB) != 0; }
static inline bool cpu_stack32(const struct cpu *c) { return (c->seg[S_SS].ar & AR_DB) != 0; }
static inline unsigned cpu_iopl(const struct cpu *c) { return (c->eflags >> 12) & 3; }

/* Recomputes data_bp_active after a write to DR7 (or DR0-3). */
void cpu_debug_regs_changed(struct cpu *c);

/* Full EFLAGS with the lazy arithmetic flags folded in (cpu/flags.c). */
uint32_t cpu_get_eflags(struct cpu *c);
/* Writes EFLAGS bits selected by mask (arith bits cancel any lazy state). */
void cpu_set_eflags(struct cpu *c, uint32_t val, uint32_t mask);

/* Control registers: each write keeps the MMU informed (cpu/system.c). */
void cpu_write_cr0(struct cpu *c, uint32_t v);
void cpu_write_cr3(struct cpu *c, uint32_t v);
void cpu_write_cr4(struct cpu *c, uint32_t v);

/* Register access */
static inline uint8_t cpu_reg8(const struct cpu *c, int r)
{
    return r < 4 ? (uint8_t)c->r[r] : (uint8_t)(c->r[r - 4] >> 8);
}
static inline void cpu_set_reg8(struct cpu *c, int r, uint8_t v)
{
    if (r < 4)
        c->r[r] = (c->r[r] & ~0xffu) | v;
    else
        c->r[r - 4] = (c->r[r - 4] & ~0xff00u) | ((uint32_t)v << 8);
}
static inline uint16_t cpu_reg16(const struct cpu *c, int r) { return (uint16_t)c->r[r]; }
static inline void cpu_set_reg16(struct cpu *c, int r, uint16_t v)
{
    c->r[r] = (c->r[r] & ~0xffffu) | v;
}
/* Register of operand size 'size' bytes (1, 2, 4) */
static inline uint32_t cpu_reg(const struct cpu *c, int r, int size)
{
    return size == 4 ? c->r[r] : size == 2 ? cpu_reg16(c, r) : cpu_reg8(c, r);
}
static inline void cpu_set_reg(struct cpu *c, int r, int size, uint32_t v)
{
    if (size == 4)
        c->r[r] = v;
    else if (size == 2)
        cpu_set_reg16(c, r, (uint16_t)v);
    else
        cpu_set_reg8(c, r, (uint8_t)v);
}

#endif
