/*
 * The row -> form map (see forms.h). Each entry names a row's handler and
 * its forms; forms_init finds the rows by handler, so every row that shares
 * a handler (INC r for the eight registers, the sixteen Jcc) shares its
 * forms. What a form assumes:
 *   r32  the operand size is 32 bits (v-sized rows) and the r/m operand,
 *        if the row has one, is a register;
 *   m32  the r/m operand is in memory with a 32-bit address size, and the
 *        operand size is 32 bits where the row is v-sized (not for the
 *        byte rows, marked byte);
 *   m16  as m32 with a 16-bit operand size (the MOV rows only).
 */
#include "forms.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cpu.h"
#include "handlers.h"

struct form {
    insn_fn row;
    insn_fn r32, m32;
    const insn_fn *by_cc;     /* r32 forms per condition (low nibble of the opcode) */
    const insn_fn *by_cc_m32; /* m32 forms per condition */
    bool byte;            /* the row's operand size is fixed at 8 bits */
    bool quiet;           /* r32 is quiet (insn.quiet): register-only, no fault */
    bool m32_quiet;       /* m32 is quiet too: LEA (no memory access), a load
                           * that writes only a register (not ESP) and flags
                           * after the access, or a store or read-modify-write
                           * whose only fault comes before it writes
                           * (insn.quiet) */
    uint8_t dst;          /* the register a quiet form writes (DST_*) */
    insn_fn m16;          /* as m32, with a 16-bit operand (66 prefix); quiet
                           * when m32 is */
};

/* Where a form's register destination is: ModRM.reg (the G,E rows),
 * ModRM.rm (the E rows, for their register forms), the opcode's low bits
 * (the Z rows), EAX, or none. */
enum { DST_NONE, DST_REG, DST_RM, DST_Z, DST_EAX };

/* Every m32 form is quiet: CMP's are loads, the others read-modify-writes
 * that translate for writing before they read (cpu_rmw_begin). */
#define ALU(n)                                                                                 \
    {n##_Ev_Gv, n##_Ev_Gv_r32, n##_Ev_Gv_m32, NULL, NULL, false, true, true, DST_RM, NULL}, \
    {n##_Gv_Ev, n##_Gv_Ev_r32, n##_Gv_Ev_m32, NULL, NULL, false, true, true, DST_REG, NULL}, \
    {n##_Ev_Iz, n##_Ev_Iz_r32, n##_Ev_Iz_m32, NULL, NULL, false, true, true, DST_RM, NULL}, \
    {n##_Ev_Ib, n##_Ev_Ib_r32, n##_Ev_Ib_m32, NULL, NULL, false, true, true, DST_RM, NULL}, \
    {n##_eAX_Iz, n##_eAX_Iz_r32, NULL, NULL, NULL, false, true, false, DST_EAX, NULL}
#define SHIFT(n)                                                                               \
    {n##_Ev_1, n##_Ev_1_r32, NULL, NULL, NULL, false, true, false, DST_RM, NULL}, \
    {n##_Ev_CL, n##_Ev_CL_r32, NULL, NULL, NULL, false, true, false, DST_RM, NULL}, \
    {n##_Ev_Ib, n##_Ev_Ib_r32, NULL, NULL, NULL, false, true, false, DST_RM, NULL}

static const struct form forms[] = {
    ALU(add), ALU(or), ALU(adc), ALU(sbb), ALU(and), ALU(sub), ALU(xor), ALU(cmp),
    SHIFT(rol), SHIFT(ror), SHIFT(rcl), SHIFT(rcr), SHIFT(shl), SHIFT(shr), SHIFT(sar),
    {test_Ev_Gv, test_Ev_Gv_r32, test_Ev_Gv_m32, NULL, NULL, false, true, true, DST_NONE, NULL},
    {test_Ev_Iz, test_Ev_Iz_r32, test_Ev_Iz_m32, NULL, NULL, false, true, true, DST_NONE, NULL},
    {inc_Zv, inc_Zv_r32, NULL, NULL, NULL, false, true, false, DST_Z, NULL},
    {dec_Zv, dec_Zv_r32, NULL, NULL, NULL, false, true, false, DST_Z, NULL},
    {mov_Ev_Gv, mov_Ev_Gv_r32, mov_Ev_Gv_m32, NULL, NULL, false, true, true, DST_RM, mov_Ev_Gv_m16},
    {mov_Gv_Ev, mov_Gv_Ev_r32, mov_Gv_Ev_m32, NULL, NULL, false, true, true, DST_REG, mov_Gv_Ev_m16},
    {inc_Ev, NULL, inc_Ev_m32, NULL, NULL, false, false, true, DST_RM, NULL},
    {dec_Ev, NULL, dec_Ev_m32, NULL, NULL, false, false, true, DST_RM, NULL},
    {not_Ev, not_Ev_r32, not_Ev_m32, NULL, NULL, false, true, true, DST_RM, NULL},
    {mov_Eb_Gb, NULL, mov_Eb_Gb_m32, NULL, NULL, true, false, true, DST_RM, NULL},
    {mov_Gb_Eb, NULL, mov_Gb_Eb_m32, NULL, NULL, true, false, true, DST_REG, NULL},
    {mov_Zv_Iv, mov_Zv_Iv_r32, NULL, NULL, NULL, false, true, false, DST_Z, NULL},
    {mov_Ev_Iz, mov_Ev_Iz_r32, mov_Ev_Iz_m32, NULL, NULL, false, true, true, DST_RM, NULL},
    {movzx_Gv_Eb, movzx_Gv_Eb_r32, movzx_Gv_Eb_m32, NULL, NULL, false, true, true, DST_REG, NULL},
    {movzx_Gv_Ew, movzx_Gv_Ew_r32, movzx_Gv_Ew_m32, NULL, NULL, false, true, true, DST_REG, NULL},
    {movsx_Gv_Eb, NULL, movsx_Gv_Eb_m32, NULL, NULL, false, false, true, DST_REG, NULL},
    {movsx_Gv_Ew, NULL, movsx_Gv_Ew_m32, NULL, NULL, false, false, true, DST_REG, NULL},
    {lea_Gv_M, NULL, lea_Gv_M_m32, NULL, NULL, false, false, true, DST_REG, NULL},
    /* PUSH and POP write ESP only after their one memory access, which is
     * their only fault (cpu_push, cpu_pop), so a fault leaves ESP as the
     * instruction found it; POP ESP (its destination) is not quiet. */
    {push_Zv, push_Zv_r32, NULL, NULL, NULL, false, true, false, DST_NONE, NULL},
    {pop_Zv, pop_Zv_r32, NULL, NULL, NULL, false, true, false, DST_Z, NULL},
    {call_Jz, call_Jz_r32, NULL, NULL, NULL, false, false, false, DST_NONE, NULL},
    {ret, ret_r32, NULL, NULL, NULL, false, false, false, DST_NONE, NULL},
    /* Jcc is quiet too: inside a cached block its threaded entry ends the
     * chain when taken (cpu/threaded.h, quiet_branch). */
    {jcc_Jb, NULL, NULL, jcc_by_cc_r32, NULL, false, true, false, DST_NONE, NULL},
    {jcc_Jz, NULL, NULL, jcc_by_cc_r32, NULL, false, true, false, DST_NONE, NULL},
    /* CMOVcc reads its source whether or not it writes, SETcc m32 is a
     * store: both fault before they write anything. */
    {cmovcc_Gv_Ev, NULL, NULL, cmovcc_by_cc_r32, cmovcc_by_cc_m32, false, true, true, DST_REG, NULL},
    {setcc_Eb, NULL, NULL, setcc_by_cc_r, setcc_by_cc_m32, true, true, true, DST_RM, NULL},
    {imul_Gv_Ev, imul_Gv_Ev_r32, imul_Gv_Ev_m32, NULL, NULL, false, true, true, DST_REG, NULL},
    {mul_Ev, mul_Ev_r32, mul_Ev_m32, NULL, NULL, false, false, false, DST_NONE, NULL},
};

/* Quiet forms and their threaded entries (cpu/threaded.h); the CMOVcc and
 * SETcc ones come from their tables. Sorted by forms_init. */
struct tpair {
    insn_fn plain, threaded;
    insn_fn threaded_bd; /* for a memory operand without an index, or NULL */
};
#define T(fn) {fn, fn##_t, NULL},
#define TB(fn) {fn, fn##_t, fn##_bd_t},
#define ALU_T(n)                                                                               \
    T(n##_Ev_Gv_r32) T(n##_Gv_Ev_r32) T(n##_Ev_Iz_r32) T(n##_Ev_Ib_r32) T(n##_eAX_Iz_r32)      \
    TB(n##_Ev_Gv_m32) TB(n##_Gv_Ev_m32) TB(n##_Ev_Iz_m32) TB(n##_Ev_Ib_m32)
#define SHIFT_T(n) T(n##_Ev_1_r32) T(n##_Ev_CL_r32) T(n##_Ev_Ib_r32)
static const struct tpair tlist[] = {
    ALU_T(add) ALU_T(or) ALU_T(adc) ALU_T(sbb) ALU_T(and) ALU_T(sub) ALU_T(xor) ALU_T(cmp)
    SHIFT_T(rol) SHIFT_T(ror) SHIFT_T(rcl) SHIFT_T(rcr) SHIFT_T(shl) SHIFT_T(shr) SHIFT_T(sar)
    T(test_Ev_Gv_r32) TB(test_Ev_Gv_m32) T(test_Ev_Iz_r32) TB(test_Ev_Iz_m32)
    T(inc_Zv_r32) T(dec_Zv_r32) TB(inc_Ev_m32) TB(dec_Ev_m32) T(not_Ev_r32) TB(not_Ev_m32)
    T(mov_Ev_Gv_r32) TB(mov_Ev_Gv_m32) T(mov_Gv_Ev_r32) TB(mov_Gv_Ev_m32) TB(mov_Ev_Gv_m16)
    T(mov_Gv_Ev_m16) TB(mov_Eb_Gb_m32) T(mov_Gb_Eb_m32) T(mov_Zv_Iv_r32) T(mov_Ev_Iz_r32)
    TB(mov_Ev_Iz_m32) T(movzx_Gv_Eb_r32) TB(movzx_Gv_Eb_m32) T(movzx_Gv_Ew_r32)
    TB(movzx_Gv_Ew_m32) T(movsx_Gv_Eb_m32) T(movsx_Gv_Ew_m32) TB(lea_Gv_M_m32)
    T(push_Zv_r32) T(pop_Zv_r32) T(imul_Gv_Ev_r32) T(imul_Gv_Ev_m32)
};
#undef T
#undef TB
#define N_TPAIRS (sizeof(tlist) / sizeof(tlist[0]) + 5 * 16)
static struct tpair tsorted[N_TPAIRS];

static int tpair_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct tpair *)a)->plain;
    uintptr_t y = (uintptr_t)((const struct tpair *)b)->plain;
    return x < y ? -1 : x > y;
}

static void threaded_init(void)
{
    size_t n = 0;
    for (size_t k = 0; k < sizeof(tlist) / sizeof(tlist[0]); k++)
        tsorted[n++] = tlist[k];
    for (int cc = 0; cc < 16; cc++) {
        tsorted[n++] = (struct tpair){cmovcc_by_cc_r32[cc], cmovcc_by_cc_r32_t[cc], NULL};
        tsorted[n++] = (struct tpair){cmovcc_by_cc_m32[cc], cmovcc_by_cc_m32_t[cc], NULL};
        tsorted[n++] = (struct tpair){setcc_by_cc_r[cc], setcc_by_cc_r_t[cc], NULL};
        tsorted[n++] = (struct tpair){setcc_by_cc_m32[cc], setcc_by_cc_m32_t[cc], NULL};
        tsorted[n++] = (struct tpair){jcc_by_cc_r32[cc], jcc_by_cc_r32_t[cc], NULL};
    }
    qsort(tsorted, n, sizeof(tsorted[0]), tpair_cmp);
}

insn_fn form_threaded(insn_fn fn, bool no_index)
{
    struct tpair key = {fn, NULL, NULL};
    const struct tpair *p = bsearch(&key, tsorted, N_TPAIRS, sizeof(tsorted[0]), tpair_cmp);
    if (!p)
        return NULL;
    return no_index && p->threaded_bd ? p->threaded_bd : p->threaded;
}

/* The forms after which the lazy record is LF_SUB or LF_LOGIC of size 4
 * (form_threaded_after). */
#define ALU_NINE(n)                                                                            \
    n##_Ev_Gv_r32, n##_Gv_Ev_r32, n##_Ev_Iz_r32, n##_Ev_Ib_r32, n##_eAX_Iz_r32, n##_Ev_Gv_m32,  \
        n##_Gv_Ev_m32, n##_Ev_Iz_m32, n##_Ev_Ib_m32
static const insn_fn sets_sub32[] = {ALU_NINE(sub), ALU_NINE(cmp)};
static const insn_fn sets_logic32[] = {ALU_NINE(and), ALU_NINE(or), ALU_NINE(xor),
                                       test_Ev_Gv_r32, test_Ev_Gv_m32, test_Ev_Iz_r32,
                                       test_Ev_Iz_m32};
#undef ALU_NINE

static bool fn_in(insn_fn fn, const insn_fn *set, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (set[k] == fn)
            return true;
    return false;
}

insn_fn form_threaded_after(insn_fn jcc, insn_fn prev)
{
    for (unsigned cc = 0; cc < 16; cc++) {
        if (jcc != jcc_by_cc_r32[cc])
            continue;
        if (fn_in(prev, sets_sub32, sizeof(sets_sub32) / sizeof(sets_sub32[0])))
            return jcc_after_sub_t[cc];
        if (fn_in(prev, sets_logic32, sizeof(sets_logic32) / sizeof(sets_logic32[0])))
            return jcc_after_logic_t[cc];
        return NULL;
    }
    return NULL;
}

/* Indexed by row (op - op_table); NULL: the row has no forms. The opcode
 * table has fewer rows than this (checked in forms_init). */
#define MAX_ROWS 2048
static const struct form *by_row[MAX_ROWS];

void forms_init(void)
{
    threaded_init();
    if (op_table_size > MAX_ROWS)
        return; /* no forms: every row runs its own handler */
    for (int k = 0; k < op_table_size; k++)
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
            if (op_table[k].fn == forms[f].row)
                by_row[k] = &forms[f];
}

/* Whether form f, as decoded in i, writes ESP: that changes the stack
 * pointer, which the restart point would need, so such a form is not
 * quiet. A memory form writes a register only when it is a G,E row. Byte
 * rows count register 4 (AH) as ESP: conservative, and rare. */
static bool writes_esp(const struct form *f, const struct insn *i, bool mem)
{
    switch (f->dst) {
    case DST_REG:
        return i->reg == R_ESP;
    case DST_RM:
        return !mem && i->rm == R_ESP;
    case DST_Z:
        return (i->b & 7) == R_ESP;
    default:
        return false;
    }
}

insn_fn form_select(const struct insn *i, bool modrm, bool *quiet)
{
    const struct form *f = by_row[i->op - op_table];
    *quiet = false;
    if (!f)
        return i->fn;
    bool op16 = !f->byte && i->opsize != 4;
    if (op16 && !f->m16)
        return i->fn;
    if (modrm && i->mod != 3) {
        if (i->addrsize != 4)
            return i->fn;
        insn_fn m32 = op16 ? f->m16 : f->by_cc_m32 ? f->by_cc_m32[i->b & 15] : f->m32;
        if (!m32)
            return i->fn;
        *quiet = f->m32_quiet && i->cls == 0 && !writes_esp(f, i, true);
        return m32;
    }
    if (op16)
        return i->fn;
    insn_fn r32 = f->by_cc ? f->by_cc[i->b & 15] : f->r32;
    if (!r32)
        return i->fn;
    /* ESP as the destination would change ESP: not quiet (it is still
     * the same form). */
    *quiet = f->quiet && i->cls == 0 && !writes_esp(f, i, false);
    return r32;
}

bool forms_all_threaded(void)
{
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        const struct form *p = &forms[f];
        insn_fn r[18] = {p->r32}, m[18] = {p->m32, p->m16};
        for (int cc = 0; cc < 16; cc++) {
            r[2 + cc] = p->by_cc ? p->by_cc[cc] : NULL;
            m[2 + cc] = p->by_cc_m32 ? p->by_cc_m32[cc] : NULL;
        }
        for (int k = 0; k < 18; k++)
            if ((p->quiet && r[k] && !form_threaded(r[k], false)) || (p->m32_quiet && m[k] && !form_threaded(m[k], false)))
                return false;
    }
    return true;
}
