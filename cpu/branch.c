/*
 * Near control flow: Jcc, JMP, CALL, RET (near forms), LOOP/LOOPcc, JCXZ.
 * Far transfers, INT and IRET belong to the protection layer.
 *
 * Targets: branch_rel/branch_abs (operand.h) truncate to 16 bits when the
 * operand size is 16 and raise #GP(0) when the target lies beyond CS's
 * limit, before EIP changes. A branch is checked before anything else is
 * written (the counter of LOOP, the return address of CALL is pushed after
 * the check but the run loop restores ESP if the push faults).
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

/* The condition is the low nibble of the opcode (70-7F, 0F 80-8F). */
void jcc_Jb(struct cpu *c, const struct insn *i)
{
    if (cpu_cond(c, i->b & 0xf))
        branch_rel(c, i, i->imm);
}
void jcc_Jz(struct cpu *c, const struct insn *i)
{
    if (cpu_cond(c, i->b & 0xf))
        branch_rel(c, i, i->imm);
}

/* cpu/forms.c: one handler per condition with a 32-bit operand size (the
 * condition is a constant, so only its flags are computed). */
#define JCC_CC(cc)                                                                             \
    static void jcc_Jb_cc##cc(struct cpu *c, const struct insn *i)                             \
    {                                                                                          \
        if (cpu_cond_inline(c, cc))                                                            \
            branch_rel(c, i, i->imm);                                                          \
    }
JCC_CC(0) JCC_CC(1) JCC_CC(2) JCC_CC(3) JCC_CC(4) JCC_CC(5) JCC_CC(6) JCC_CC(7)
JCC_CC(8) JCC_CC(9) JCC_CC(10) JCC_CC(11) JCC_CC(12) JCC_CC(13) JCC_CC(14) JCC_CC(15)
/* Threaded (cpu/threaded.h): a Jcc with a 32-bit operand inside a cached
 * block, where it is quiet (dcache.c): not taken, the chain goes on. */
#define JCC_CC_T(cc)                                                                           \
    static void jcc_Jb_cc##cc##_t(struct cpu *c, const struct insn *i)                         \
    {                                                                                          \
        if (cpu_cond_inline(c, cc)) {                                                          \
            quiet_branch(c, i, i->imm);                                                        \
            return;                                                                            \
        }                                                                                      \
        quiet_next(c, i, false);                                                               \
    }
JCC_CC_T(0) JCC_CC_T(1) JCC_CC_T(2) JCC_CC_T(3) JCC_CC_T(4) JCC_CC_T(5) JCC_CC_T(6) JCC_CC_T(7)
JCC_CC_T(8) JCC_CC_T(9) JCC_CC_T(10) JCC_CC_T(11) JCC_CC_T(12) JCC_CC_T(13) JCC_CC_T(14) JCC_CC_T(15)
const insn_fn jcc_by_cc_r32_t[16] = {
    jcc_Jb_cc0_t, jcc_Jb_cc1_t, jcc_Jb_cc2_t,  jcc_Jb_cc3_t,  jcc_Jb_cc4_t,  jcc_Jb_cc5_t,
    jcc_Jb_cc6_t, jcc_Jb_cc7_t, jcc_Jb_cc8_t,  jcc_Jb_cc9_t,  jcc_Jb_cc10_t, jcc_Jb_cc11_t,
    jcc_Jb_cc12_t, jcc_Jb_cc13_t, jcc_Jb_cc14_t, jcc_Jb_cc15_t,
};

/* A Jcc right after a 32-bit CMP or SUB (LF_SUB), or AND, OR, XOR, TEST
 * (LF_LOGIC), in the same cached block: the instruction before it always
 * ran just before it (a block is entered only at its start), so the lazy
 * record is known to be of that kind and size 4 (dc_fill_block,
 * form_threaded_after). Telling the compiler so folds cpu_cond_inline's
 * dispatch on lf.op away: the conditions stay those of flags.h. */
static inline __attribute__((always_inline)) bool cond_after(const struct cpu *c, unsigned cc,
                                                             enum lf_op op)
{
    if (c->lf.op != op || c->lf.size != 4)
        __builtin_unreachable(); /* what the block guarantees: cpu_cond_inline folds to it */
    return cpu_cond_inline(c, cc);
}
#define JCC_AFTER_T(kind, op, cc)                                                              \
    static void jcc_after_##kind##_cc##cc##_t(struct cpu *c, const struct insn *i)             \
    {                                                                                          \
        if (cond_after(c, cc, op)) {                                                           \
            quiet_branch(c, i, i->imm);                                                        \
            return;                                                                            \
        }                                                                                      \
        quiet_next(c, i, false);                                                               \
    }
#define JCC_AFTER_ALL(kind, op)                                                                \
    JCC_AFTER_T(kind, op, 0) JCC_AFTER_T(kind, op, 1) JCC_AFTER_T(kind, op, 2)                 \
    JCC_AFTER_T(kind, op, 3) JCC_AFTER_T(kind, op, 4) JCC_AFTER_T(kind, op, 5)                 \
    JCC_AFTER_T(kind, op, 6) JCC_AFTER_T(kind, op, 7) JCC_AFTER_T(kind, op, 8)                 \
    JCC_AFTER_T(kind, op, 9) JCC_AFTER_T(kind, op, 10) JCC_AFTER_T(kind, op, 11)               \
    JCC_AFTER_T(kind, op, 12) JCC_AFTER_T(kind, op, 13) JCC_AFTER_T(kind, op, 14)              \
    JCC_AFTER_T(kind, op, 15)                                                                  \
    const insn_fn jcc_after_##kind##_t[16] = {                                                 \
        jcc_after_##kind##_cc0_t,  jcc_after_##kind##_cc1_t,  jcc_after_##kind##_cc2_t,        \
        jcc_after_##kind##_cc3_t,  jcc_after_##kind##_cc4_t,  jcc_after_##kind##_cc5_t,        \
        jcc_after_##kind##_cc6_t,  jcc_after_##kind##_cc7_t,  jcc_after_##kind##_cc8_t,        \
        jcc_after_##kind##_cc9_t,  jcc_after_##kind##_cc10_t, jcc_after_##kind##_cc11_t,       \
        jcc_after_##kind##_cc12_t, jcc_after_##kind##_cc13_t, jcc_after_##kind##_cc14_t,       \
        jcc_after_##kind##_cc15_t,                                                             \
    };
JCC_AFTER_ALL(sub, LF_SUB)
JCC_AFTER_ALL(logic, LF_LOGIC)

/* Jb and Jz differ only in the immediate's width, which the decoder has
 * already sign-extended: one set serves both. */
const insn_fn jcc_by_cc_r32[16] = {
    jcc_Jb_cc0, jcc_Jb_cc1, jcc_Jb_cc2,  jcc_Jb_cc3,  jcc_Jb_cc4,  jcc_Jb_cc5,
    jcc_Jb_cc6, jcc_Jb_cc7, jcc_Jb_cc8,  jcc_Jb_cc9,  jcc_Jb_cc10, jcc_Jb_cc11,
    jcc_Jb_cc12, jcc_Jb_cc13, jcc_Jb_cc14, jcc_Jb_cc15,
};

void jmp_Jb(struct cpu *c, const struct insn *i) { branch_rel(c, i, i->imm); }
void jmp_Jz(struct cpu *c, const struct insn *i) { branch_rel(c, i, i->imm); }
void jmp_Ev(struct cpu *c, const struct insn *i) { branch_abs(c, i, read_E(c, i, i->opsize)); }

/* CALL: the target is checked against CS's limit first (#GP(0)), then the
 * return address is pushed (#SS/#PF restore EIP and ESP via the run loop). */
void call_Jz(struct cpu *c, const struct insn *i)
{
    uint32_t ret = c->eip;
    branch_rel(c, i, i->imm);
    cpu_push(c, ret, i->opsize);
}

/* CALL r/m: the operand is read (an ESP-based address uses ESP before the
 * push) before anything is pushed. */
void call_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t ret = c->eip;
    uint32_t t = read_E(c, i, i->opsize);
    branch_abs(c, i, t);
    cpu_push(c, ret, i->opsize);
}

/* cpu/forms.c: 32-bit operand size. */
void call_Jz_r32(struct cpu *c, const struct insn *i)
{
    uint32_t ret = c->eip;
    uint32_t t = ret + i->imm;
    if (t > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    c->eip = t;
    cpu_push(c, ret, 4);
}
void ret_r32(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t t = cpu_pop(c, 4);
    if (t > c->seg[S_CS].limit)
        cpu_fault(c, EX_GP, 0);
    c->eip = t;
}

/* RET: pop, check the target, then (RET imm16) release imm16 more bytes. */
void ret(struct cpu *c, const struct insn *i)
{
    uint32_t t = cpu_pop(c, i->opsize);
    branch_abs(c, i, t);
}
void ret_Iw(struct cpu *c, const struct insn *i)
{
    uint32_t t = cpu_pop(c, i->opsize);
    branch_abs(c, i, t);
    cpu_set_sp(c, cpu_sp(c) + (i->imm & 0xffff));
}

/* The counter of LOOP/JCXZ is CX or ECX by address size. */
static inline uint32_t count_reg(const struct cpu *c, const struct insn *i)
{
    return i->addrsize == 2 ? (c->r[R_ECX] & 0xffff) : c->r[R_ECX];
}

/* LOOP/LOOPE/LOOPNE: decrement the counter (no flags change); jump when it
 * is not zero and the ZF condition holds. The counter is written after the
 * branch check, so a #GP on the target leaves it unchanged. */
static void loop_common(struct cpu *c, const struct insn *i, int zf_need)
{
    uint32_t n = count_reg(c, i) - 1;
    if (i->addrsize == 2)
        n &= 0xffff;
    bool take = n != 0;
    if (take && zf_need >= 0)
        take = flags_zf(c) == (zf_need != 0);
    if (take)
        branch_rel(c, i, i->imm);
    if (i->addrsize == 2)
        cpu_set_reg16(c, R_ECX, (uint16_t)n);
    else
        c->r[R_ECX] = n;
}
void loop_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, -1); }
void loope_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, 1); }
void loopne_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, 0); }

void jcxz_Jb(struct cpu *c, const struct insn *i)
{
    if (count_reg(c, i) == 0)
        branch_rel(c, i, i->imm);
}
