/*
 * General-register stack instructions: PUSH/POP (register, r/m, immediate),
 * PUSHA/POPA, ENTER, LEAVE. PUSH/POP Sreg and PUSHF/POPF belong to the
 * protection layer.
 *
 * Push and pop sizes follow the operand size; SS.B chooses SP or ESP
 * (cpu_push/cpu_pop). A fault leaves ESP as it was at the instruction's
 * start (the run loop restores it), so multi-push instructions may update
 * ESP as they go; they must not write other registers before their last
 * access that can fault.
 */
#include "handlers.h"
#include "forms.h"
#include "operand.h"
#include "threaded.h"

/* PUSH r: PUSH ESP/SP pushes the value it had before the push (P6; the 8086
 * pushed the decremented value). cpu_push reads nothing back, so passing the
 * register's current value is exactly that. */
void push_Zv(struct cpu *c, const struct insn *i)
{
    cpu_push(c, cpu_reg(c, reg_Z(i), i->opsize), i->opsize);
}

/* POP r: POP ESP loads the popped value (the increment is overwritten). */
void pop_Zv(struct cpu *c, const struct insn *i)
{
    uint32_t v = cpu_pop(c, i->opsize);
    cpu_set_reg(c, reg_Z(i), i->opsize, v);
}

/* cpu/forms.c: 32-bit operand size. */
void push_Zv_r32(struct cpu *c, const struct insn *i) { cpu_push(c, c->r[reg_Z(i)], 4); }
void pop_Zv_r32(struct cpu *c, const struct insn *i)
{
    uint32_t v = cpu_pop(c, 4);
    c->r[reg_Z(i)] = v;
}
THREADED_STORE(push_Zv_r32) THREADED(pop_Zv_r32)

/* PUSH r/m: the operand's address is computed with ESP before the push. */
void push_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t v = read_E(c, i, i->opsize);
    cpu_push(c, v, i->opsize);
}

/* POP r/m: the SDM specifies that an ESP-based destination address is
 * computed after ESP has been incremented; cpu_pop updates ESP before
 * write_E computes the address. If the store faults, the run loop puts ESP
 * back, so the instruction restarts cleanly. */
void pop_Ev(struct cpu *c, const struct insn *i)
{
    uint32_t v = cpu_pop(c, i->opsize);
    write_E(c, i, i->opsize, v);
}

/* PUSH imm: Iz is operand-sized, Ib arrives sign-extended from the decoder. */
void push_Iz(struct cpu *c, const struct insn *i) { cpu_push(c, i->imm, i->opsize); }
void push_Ib(struct cpu *c, const struct insn *i) { cpu_push(c, i->imm, i->opsize); }

/* PUSHA: EAX ECX EDX EBX (original ESP) EBP ESI EDI. */
void pusha(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t sp0 = c->r[R_ESP];
    for (int r = R_EAX; r <= R_EDI; r++)
        cpu_push(c, r == R_ESP ? sp0 : c->r[r], s);
}

/* POPA: EDI ESI EBP (skipped) EBX EDX ECX EAX. All eight slots are read
 * before any register is written, so a fault on the last one leaves the
 * registers untouched. */
void popa(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t v[8];
    for (int k = 0; k < 8; k++)
        v[k] = cpu_peek(c, (uint32_t)(k * s), s);
    for (int k = 0; k < 8; k++)
        if (R_EDI - k != R_ESP)
            cpu_set_reg(c, R_EDI - k, s, v[k]);
    cpu_set_sp(c, cpu_sp(c) + (uint32_t)(8 * s));
}

/*
 * ENTER alloc, level (SDM vol. 2, ENTER):
 *   push eBP; frame = eSP
 *   for n in 1 .. level-1: eBP -= opsize; push [SS:eBP]
 *   if level > 0: push frame
 *   eBP = frame; eSP -= alloc
 * Pushes are operand-sized; the stack size (SS.B) decides whether BP or
 * EBP addresses the copied frame pointers and whether SP or ESP shrinks.
 * The operand size decides whether BP or EBP receives the frame pointer.
 * The level is taken modulo 32.
 *
 * EBP is written last, after every access; the intermediate eBP of the
 * copy loop lives in a local (its final value is overwritten by the frame
 * pointer anyway). Like a P6, the final stack top is probed for a write
 * (segment limit and page) even when alloc adds no push there, so a frame
 * that does not fit faults here (#SS(0) or #PF) rather than later.
 */
void enter_Iw_Ib(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t alloc = i->imm & 0xffff;
    unsigned level = i->imm2 & 31;
    bool st32 = cpu_stack32(c);

    cpu_push(c, c->r[R_EBP], s);
    uint32_t frame = s == 4 ? c->r[R_ESP] : (c->r[R_ESP] & 0xffff);
    if (level > 0) {
        uint32_t bp = st32 ? c->r[R_EBP] : (c->r[R_EBP] & 0xffff);
        for (unsigned n = 1; n < level; n++) {
            bp -= (uint32_t)s;
            if (!st32)
                bp &= 0xffff;
            cpu_push(c, cpu_read(c, S_SS, bp, s), s);
        }
        cpu_push(c, frame, s);
    }
    uint32_t sp = cpu_sp(c) - alloc;
    if (!st32)
        sp &= 0xffff;
    uint32_t lin = seg_lin(c, S_SS, sp, s, true);
    lin_prepare_write(c, lin, s, cpu_acc_user(c));
    cpu_set_sp(c, sp);
    cpu_set_reg(c, R_EBP, s, frame);
}

/* LEAVE: eSP = eBP (stack size), then pop eBP (operand size). */
void leave(struct cpu *c, const struct insn *i)
{
    int s = i->opsize;
    uint32_t sp = cpu_stack32(c) ? c->r[R_EBP] : (c->r[R_EBP] & 0xffff);
    uint32_t v = cpu_read(c, S_SS, sp, s);
    cpu_set_sp(c, sp + (uint32_t)s);
    cpu_set_reg(c, R_EBP, s, v);
}
