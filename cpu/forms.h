/*
 * Specialised handlers ("forms"): for the hottest rows of the opcode table,
 * handlers fixed to a 32-bit operand and to a register r/m operand (_r32)
 * or a memory r/m operand with a 32-bit address (_m32), and the near Jcc
 * rows split by condition. The decoder picks one when the decoded
 * instruction has that form (form_select, called by decode()); otherwise
 * the row's own handler runs. A form is the row's handler compiled with
 * those properties as constants (the FORM_* arguments of operand.h), so it
 * has the row's semantics by construction; the opcode table stays the one
 * source of truth for decoding, names and classes.
 *
 * Cost: none at run time (the choice is made once per decode); it removes
 * the operand-size, ModRM-mod and address-size tests and the generic
 * size masking from every execution of these rows.
 */
#ifndef TRAPEZE_CPU_FORMS_H
#define TRAPEZE_CPU_FORMS_H

#include <stdbool.h>

#include "insn.h"

/* Builds the row -> form map (decode_init calls it once). */
void forms_init(void);
/* The handler for the decoded instruction i of row i->op: a form or the
 * row's own. modrm: the row has a ModRM byte. *quiet: the form is quiet
 * (insn.quiet). */
insn_fn form_select(const struct insn *i, bool modrm, bool *quiet);

/* Each form and its threaded entry (cpu/threaded.h; quiet forms only). */
#define FORM_DECL(fn) void fn(struct cpu *c, const struct insn *i); void fn##_t(struct cpu *c, const struct insn *i); \
    void fn##_bd_t(struct cpu *c, const struct insn *i);
#define ALU_FORM_DECLS(n)                                                                      \
    FORM_DECL(n##_Ev_Gv_r32) FORM_DECL(n##_Gv_Ev_r32) FORM_DECL(n##_Ev_Iz_r32)                 \
    FORM_DECL(n##_Ev_Ib_r32) FORM_DECL(n##_Ev_Gv_m32) FORM_DECL(n##_Gv_Ev_m32)                 \
    FORM_DECL(n##_Ev_Iz_m32) FORM_DECL(n##_Ev_Ib_m32) FORM_DECL(n##_eAX_Iz_r32)
ALU_FORM_DECLS(add) ALU_FORM_DECLS(or) ALU_FORM_DECLS(adc) ALU_FORM_DECLS(sbb)
ALU_FORM_DECLS(and) ALU_FORM_DECLS(sub) ALU_FORM_DECLS(xor) ALU_FORM_DECLS(cmp)
#define SHIFT_FORM_DECLS(n) FORM_DECL(n##_Ev_1_r32) FORM_DECL(n##_Ev_CL_r32) FORM_DECL(n##_Ev_Ib_r32)
SHIFT_FORM_DECLS(rol) SHIFT_FORM_DECLS(ror) SHIFT_FORM_DECLS(rcl) SHIFT_FORM_DECLS(rcr)
SHIFT_FORM_DECLS(shl) SHIFT_FORM_DECLS(shr) SHIFT_FORM_DECLS(sar)
FORM_DECL(test_Ev_Gv_r32) FORM_DECL(test_Ev_Gv_m32) FORM_DECL(test_Ev_Iz_r32)
FORM_DECL(test_Ev_Iz_m32) FORM_DECL(inc_Zv_r32) FORM_DECL(dec_Zv_r32)
FORM_DECL(mov_Ev_Gv_r32) FORM_DECL(mov_Ev_Gv_m32) FORM_DECL(mov_Gv_Ev_r32)
FORM_DECL(mov_Gv_Ev_m32) FORM_DECL(mov_Eb_Gb_m32) FORM_DECL(mov_Gb_Eb_m32)
FORM_DECL(mov_Zv_Iv_r32) FORM_DECL(mov_Ev_Iz_r32) FORM_DECL(mov_Ev_Iz_m32)
FORM_DECL(movzx_Gv_Eb_r32) FORM_DECL(movzx_Gv_Eb_m32) FORM_DECL(movzx_Gv_Ew_r32)
FORM_DECL(movzx_Gv_Ew_m32) FORM_DECL(movsx_Gv_Eb_m32) FORM_DECL(movsx_Gv_Ew_m32)
FORM_DECL(lea_Gv_M_m32) FORM_DECL(push_Zv_r32) FORM_DECL(pop_Zv_r32)
FORM_DECL(call_Jz_r32) FORM_DECL(ret_r32)
FORM_DECL(mov_Ev_Gv_m16) FORM_DECL(mov_Gv_Ev_m16) FORM_DECL(inc_Ev_m32) FORM_DECL(dec_Ev_m32)
FORM_DECL(not_Ev_r32) FORM_DECL(not_Ev_m32)
FORM_DECL(imul_Gv_Ev_r32) FORM_DECL(imul_Gv_Ev_m32) FORM_DECL(mul_Ev_r32) FORM_DECL(mul_Ev_m32)
#undef FORM_DECL

/* Jcc (Jb and Jz rows) with a 32-bit operand size, by condition, and
 * their threaded entries. */
extern const insn_fn jcc_by_cc_r32[16], jcc_by_cc_r32_t[16];
/* The threaded Jcc entries for a Jcc right after a 32-bit CMP/SUB or
 * AND/OR/XOR/TEST in the same block (cpu/branch.c). */
extern const insn_fn jcc_after_sub_t[16], jcc_after_logic_t[16];
/* The threaded entry for the quiet Jcc whose form is jcc (one of
 * jcc_by_cc_r32) when the instruction before it in its block has the form
 * prev (not threaded), if one reads the lazy record without dispatch;
 * else NULL. */
insn_fn form_threaded_after(insn_fn jcc, insn_fn prev);
/* CMOVcc and SETcc by condition: register (r32; SETcc: any operand size)
 * and 32-bit-address memory forms. */
extern const insn_fn cmovcc_by_cc_r32[16], cmovcc_by_cc_m32[16];
extern const insn_fn setcc_by_cc_r[16], setcc_by_cc_m32[16];
/* Their threaded entries (cpu/threaded.h), index for index. */
extern const insn_fn cmovcc_by_cc_r32_t[16], cmovcc_by_cc_m32_t[16];
extern const insn_fn setcc_by_cc_r_t[16], setcc_by_cc_m32_t[16];

/* The threaded entry of quiet form fn (cpu/threaded.h), or NULL if it has
 * none; no_index: the instruction's memory operand has no index register
 * (insn.index 8), for which some forms have a cheaper entry. A binary
 * search; dc_fill_block calls it once per quiet instruction it caches. */
insn_fn form_threaded(insn_fn fn, bool no_index);
/* Whether every form that can be quiet has a threaded entry (a test). */
bool forms_all_threaded(void);

#endif
