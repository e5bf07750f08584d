/*
 * The block loop (cpu/exec.c) and what rides on it: lazy flags of shifts,
 * rotates and MUL across instructions of one block (LF_CF_OF, LF_SHIFTN), the
 * interrupt shadow inside a block, POPF ending its block when it sets TF
 * (end_run), the per-row statistics counted once per block run, the
 * restart point of a fault in a quiet load or store, and a quiet store
 * into the block's own code.
 *
 * Code below was assembled with nasm; the source is in the comments.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/dcache.h"
#include "cpu/forms.h"
#include "harness.h"

static struct tmachine *flat(const uint8_t *code, size_t n)
{
    struct tmachine *tm = tm_new(1024);
    tm_flat32(tm, 0x10000, code, n, 0x9000);
    return tm;
}

/* Runs code (which ends in pushfd; pop edx; hlt) and returns EDX's
 * arithmetic flags. */
static uint32_t flags_after(const uint8_t *code, size_t n)
{
    struct tmachine *tm = flat(code, n);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    uint32_t f = tm->cpu.r[R_EDX] & F_ARITH;
    tm_free(tm);
    return f;
}

START_TEST(rotate_keeps_the_lazy_flags_of_the_add_before_it)
{
    /* mov eax, 0x7fffffff ; mov ebx, 1 ; mov ecx, 1
     * add eax, ebx   ; SF=1 ZF=0 PF=1 AF=1 OF=1 CF=0, lazy
     * ror ecx, 1     ; CF=1 OF=1 (count 1), SF ZF AF PF unchanged
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0xb8, 0xff, 0xff, 0xff, 0x7f, 0xbb, 0x01, 0x00, 0x00, 0x00,
                                   0xb9, 0x01, 0x00, 0x00, 0x00, 0x01, 0xd8, 0xd1, 0xc9, 0x9c,
                                   0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_CF | F_PF | F_AF | F_SF | F_OF);
}
END_TEST

START_TEST(shift_keeps_of_and_af_of_the_sub_before_it)
{
    /* mov eax, 0x80000000 ; mov ebx, 1 ; mov edx, 0x10000001
     * sub eax, ebx   ; 0x7fffffff: OF=1 AF=1 CF=0
     * shl edx, 4     ; 0x10: CF=1 (bit 28), OF and AF unchanged (count > 1),
     *                ; SF=0 ZF=0 PF=0 from the result
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0xb8, 0x00, 0x00, 0x00, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00,
                                   0xba, 0x01, 0x00, 0x00, 0x10, 0x29, 0xd8, 0xc1, 0xe2, 0x04,
                                   0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_CF | F_AF | F_OF);
}
END_TEST

/* The opening of the LF_SHIFTN tests below: OF=1 AF=1 CF=0 from a SUB,
 * then a shift by 4 (LF_SHIFTN over the SUB's record): EDX = 0x10, CF=1.
 *   mov eax, 0x80000000 ; mov ebx, 1 ; mov edx, 0x10000001
 *   sub eax, ebx ; shl edx, 4 */
#define SUB_THEN_SHL4                                                                          \
    0xb8, 0x00, 0x00, 0x00, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x10,  \
        0x29, 0xd8, 0xc1, 0xe2, 0x04

START_TEST(shifts_by_more_than_one_keep_of_and_af_through_a_run_of_them)
{
    /* SUB_THEN_SHL4 ; shr edx, 3 (0x2, CF=0; OF AF still the SUB's)
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {SUB_THEN_SHL4, 0xc1, 0xea, 0x03, 0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_AF | F_OF);
}
END_TEST

START_TEST(shift_by_one_after_a_longer_shift_keeps_af)
{
    /* SUB_THEN_SHL4 ; shl edx, 1 (0x20: CF=0, OF=0 computed, AF the SUB's)
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {SUB_THEN_SHL4, 0xd1, 0xe2, 0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_AF);
}
END_TEST

START_TEST(rotate_after_a_longer_shift_keeps_its_szp_and_the_sub_of_af)
{
    /* mov ecx, 1 ; SUB_THEN_SHL4
     * ror ecx, 2     ; 0x40000000: CF=0, OF (count > 1) and AF the SUB's,
     *                ; SF ZF PF the SHL's (0x10: all clear)
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0xb9, 0x01, 0x00, 0x00, 0x00, SUB_THEN_SHL4, 0xc1,
                                   0xc9, 0x02, 0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_AF | F_OF);
}
END_TEST

START_TEST(conditions_and_adc_read_a_longer_shift_record)
{
    /* mov ecx, 0 ; SUB_THEN_SHL4
     * seto cl        ; OF=1 (the SUB's) -> 1
     * setl ch        ; SF=0 (the SHL's 0x10) != OF -> 1
     * mov eax, 0 ; adc eax, 0  ; CF=1 (the SHL's) -> 1
     * hlt */
    static const uint8_t code[] = {0xb9, 0x00, 0x00, 0x00, 0x00, SUB_THEN_SHL4, 0x0f, 0x90,
                                   0xc1, 0x0f, 0x9c, 0xc5, 0xb8, 0x00, 0x00, 0x00, 0x00,
                                   0x83, 0xd0, 0x00, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_ECX], 0x0101);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 1);
    tm_free(tm);
}
END_TEST

START_TEST(longer_shift_after_popfd_keeps_its_of_and_af)
{
    /* push 0x812 ; popfd  ; OF=1 AF=1, the rest clear (eflags, no record)
     * mov edx, 0x10000001 ; shl edx, 4  ; CF=1, OF AF kept
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0x68, 0x12, 0x08, 0x00, 0x00, 0x9d, 0xba, 0x01, 0x00, 0x00,
                                   0x10, 0xc1, 0xe2, 0x04, 0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_CF | F_AF | F_OF);
}
END_TEST

START_TEST(longer_shift_after_mul_keeps_the_mul_of_of_and_the_add_of_af)
{
    /* mov eax, 0xf ; mov ebx, 1
     * add eax, ebx   ; 0x10: AF=1 OF=0
     * mov eax, 2 ; mov ecx, 0x80000000
     * mul ecx        ; EDX:EAX = 1:0, CF=OF=1, AF the ADD's (LF_CF_OF)
     * shl edx, 4     ; 0x10: CF=0, OF the MUL's, AF the ADD's
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0xbb, 0x01, 0x00, 0x00,
                                   0x00, 0x01, 0xd8, 0xb8, 0x02, 0x00, 0x00, 0x00, 0xb9,
                                   0x00, 0x00, 0x00, 0x80, 0xf7, 0xe1, 0xc1, 0xe2, 0x04,
                                   0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_AF | F_OF);
}
END_TEST

START_TEST(mul_keeps_szap_of_the_add_before_it)
{
    /* mov eax, 0x7fffffff ; mov ebx, 1
     * add eax, ebx   ; 0x80000000: SF=1 PF=1 AF=1 ZF=0
     * mov eax, 2 ; mov ecx, 0x80000000
     * mul ecx        ; EDX:EAX = 1:0, CF=OF=1; SF ZF AF PF unchanged (P6)
     * pushfd ; pop edx ; hlt */
    static const uint8_t code[] = {0xb8, 0xff, 0xff, 0xff, 0x7f, 0xbb, 0x01, 0x00,
                                   0x00, 0x00, 0x01, 0xd8, 0xb8, 0x02, 0x00, 0x00,
                                   0x00, 0xb9, 0x00, 0x00, 0x00, 0x80, 0xf7, 0xe1,
                                   0x9c, 0x5a, 0xf4};
    ck_assert_uint_eq(flags_after(code, sizeof(code)), F_CF | F_PF | F_AF | F_SF | F_OF);
}
END_TEST

static int ack_0x20(void *ctx)
{
    (void)ctx;
    return 0x20;
}

START_TEST(sti_shadow_covers_exactly_one_instruction)
{
    /* sti ; inc eax ; inc eax ; hlt, with INTR raised and IF = 0: the
     * interrupt is taken after the first INC, not before it (the shadow)
     * and not later. */
    static const uint8_t code[] = {0xfb, 0x40, 0x40, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    tm->env.intr_ack = ack_0x20;
    c->intercept_events = true;
    c->intr_line = true;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, 0x20);
    ck_assert_int_eq(c->exit_event.kind, EV_EXTERNAL);
    ck_assert_uint_eq(c->r[R_EAX], 1);
    tm_free(tm);
}
END_TEST

START_TEST(sti_shadow_inside_a_block_without_intr)
{
    /* The same code with no INTR: the block runs through and the shadow is
     * over when it ends. */
    static const uint8_t code[] = {0xfb, 0x40, 0x40, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    tm->cpu.r[R_EAX] = 0;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 2);
    ck_assert(!tm->cpu.inhibit_intr);
    tm_free(tm);
}
END_TEST

START_TEST(popf_setting_tf_ends_its_block)
{
    /* pushfd ; or dword [esp], 0x100 ; popfd ; inc eax ; inc eax ; hlt:
     * POPF is in the middle of a block; the single-step #DB comes after
     * the first INC (the instruction after the POPF that set TF). */
    static const uint8_t code[] = {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00,
                                   0x9d, 0x40, 0x40, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    c->intercept_events = true;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, EX_DB);
    ck_assert_uint_eq(c->r[R_EAX], 1);
    tm_free(tm);
}
END_TEST

START_TEST(row_counts_exact_after_a_run)
{
    /* mov ecx, 5 ; l: inc eax ; dec ecx ; jnz l ; hlt: the loop's block
     * runs five times; the rows count each instruction once per run. */
    static const uint8_t code[] = {0xb9, 0x05, 0x00, 0x00, 0x00, 0x40, 0x49, 0x75, 0xfc, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    uint64_t *rows = calloc((size_t)op_table_size + 1, sizeof(uint64_t));
    c->row_counts = rows;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    int inc = (int)(decode_lookup(0x40, -1) - op_table);
    int dec = (int)(decode_lookup(0x49, -1) - op_table);
    int jnz = (int)(decode_lookup(0x75, -1) - op_table);
    ck_assert_uint_eq(rows[inc], 5);
    ck_assert_uint_eq(rows[dec], 5);
    ck_assert_uint_eq(rows[jnz], 5);
    c->row_counts = NULL;
    free(rows);
    tm_free(tm);
}
END_TEST

/* Whether code decodes (32-bit) to a quiet instruction (insn.quiet). */
static bool decodes_quiet(const uint8_t *code, size_t n)
{
    struct insn i;
    ck_assert_int_eq(decode(code, n, 1, &i), DEC_OK);
    return i.quiet;
}

/* Runs code = mov ebx, imm32 ; push eax ; inc eax ; <quiet access> ; hlt
 * (the access at offset 7) with DS's limit at 0xff, EAX = 0 and ECX =
 * ecx: the access raises #GP(0), and with no restart point of its own the
 * fault still has EIP at the access, ESP after the PUSH and EAX after the
 * INC. Returns the machine for the caller's own checks. */
static struct tmachine *fault_in_quiet_access(const uint8_t *code, size_t n, uint32_t ecx)
{
    struct tmachine *tm = flat(code, n);
    struct cpu *c = &tm->cpu;
    ck_assert(decodes_quiet(code + 7, n - 8));
    c->seg[S_DS].limit = 0xff;
    seg_update_cache(c, &c->seg[S_DS]);
    c->intercept_events = true;
    c->r[R_EAX] = 0;
    c->r[R_ECX] = ecx;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, EX_GP);
    ck_assert_uint_eq(c->eip, 0x10007);
    ck_assert_uint_eq(c->r[R_ESP], 0x9000 - 4);
    ck_assert_uint_eq(c->r[R_EAX], 1);
    return tm;
}

START_TEST(fault_in_a_quiet_load_restarts_at_the_load)
{
    /* mov ebx, 0x100 ; ... ; mov ecx, [ebx]: ECX unchanged */
    static const uint8_t code[] = {0xbb, 0x00, 0x01, 0x00, 0x00, 0x50, 0x40, 0x8b, 0x0b, 0xf4};
    struct tmachine *tm = fault_in_quiet_access(code, sizeof(code), 0x1234);
    ck_assert_uint_eq(tm->cpu.r[R_ECX], 0x1234);
    tm_free(tm);
}
END_TEST

START_TEST(fault_in_a_quiet_store_restarts_at_the_store)
{
    /* mov ebx, 0xfe ; ... ; mov [ebx], ecx: the bytes at 0xfe untouched */
    static const uint8_t code[] = {0xbb, 0xfe, 0x00, 0x00, 0x00, 0x50, 0x40, 0x89, 0x0b, 0xf4};
    struct tmachine *tm = fault_in_quiet_access(code, sizeof(code), 0xaabbccdd);
    ck_assert_uint_eq(tm->bus.ram[0xfe], 0);
    ck_assert_uint_eq(tm->bus.ram[0xff], 0);
    tm_free(tm);
}
END_TEST

START_TEST(fault_in_a_quiet_cmov_or_setcc_restarts_at_it)
{
    /* CMOVcc reads its source whether or not the condition holds (here
     * CMOVB with CF clear after the INC), and SETcc m32 is a store: both
     * are quiet (their forms fault before writing), and a fault in either
     * has EIP at the instruction and nothing written. */
    static const uint8_t cmov[] = {0xbb, 0x00, 0x01, 0x00, 0x00, 0x50, 0x40, 0x0f, 0x42, 0x0b, 0xf4};
    static const uint8_t setcc[] = {0xbb, 0x00, 0x01, 0x00, 0x00, 0x50, 0x40, 0x0f, 0x94, 0x03, 0xf4};
    struct tmachine *tm = fault_in_quiet_access(cmov, sizeof(cmov), 0x1234);
    ck_assert_uint_eq(tm->cpu.r[R_ECX], 0x1234);
    tm_free(tm);
    tm = fault_in_quiet_access(setcc, sizeof(setcc), 0);
    ck_assert_uint_eq(tm->bus.ram[0x100], 0);
    tm_free(tm);
}
END_TEST

START_TEST(register_imul_cmov_setcc_are_quiet)
{
    /* imul ecx, edx ; cmovnb esi, eax ; setb dl ; setb ah (byte register
     * 4 is AH, but the check is conservative): the register forms cannot
     * fault and write no ESP, so they run without a restart point. */
    static const uint8_t imul[] = {0x0f, 0xaf, 0xca, 0xf4}, cmov[] = {0x0f, 0x43, 0xf0, 0xf4};
    static const uint8_t setb_dl[] = {0x0f, 0x92, 0xc2, 0xf4}, cmov_esp[] = {0x0f, 0x43, 0xe0, 0xf4};
    decode_init();
    ck_assert(decodes_quiet(imul, sizeof(imul)));
    ck_assert(decodes_quiet(cmov, sizeof(cmov)));
    ck_assert(decodes_quiet(setb_dl, sizeof(setb_dl)));
    ck_assert(!decodes_quiet(cmov_esp, sizeof(cmov_esp))); /* cmovnb esp, eax */
}
END_TEST

START_TEST(only_a_write_to_esp_makes_a_form_not_quiet)
{
    /* The ModRM reg field of an E row is an opcode extension (SHL is /4,
     * AND /4), and opcode bits 0-2 of a 0F row are part of the opcode
     * (CMOVE is 0F 44): none of them names ESP as a destination. */
    static const struct {
        uint8_t code[4];
        bool quiet;
    } cases[] = {
        {{0xc1, 0xe0, 0x03, 0xf4}, true},  /* shl eax, 3 */
        {{0x83, 0xe0, 0x0f, 0xf4}, true},  /* and eax, 0xf */
        {{0x83, 0x20, 0x01, 0xf4}, true},  /* and dword [eax], 1 */
        {{0x0f, 0x44, 0xc1, 0xf4}, true},  /* cmove eax, ecx */
        {{0x0f, 0x94, 0xc0, 0xf4}, true},  /* sete al */
        {{0x89, 0xe0, 0xf4, 0xf4}, true},  /* mov eax, esp: reads ESP */
        {{0x89, 0x20, 0xf4, 0xf4}, true},  /* mov [eax], esp */
        {{0x83, 0xe4, 0xf0, 0xf4}, false}, /* and esp, -16 */
        {{0x89, 0xc4, 0xf4, 0xf4}, false}, /* mov esp, eax */
        {{0x8b, 0x20, 0xf4, 0xf4}, false}, /* mov esp, [eax] */
        {{0x44, 0xf4, 0xf4, 0xf4}, false}, /* inc esp */
        {{0x66, 0x89, 0x02, 0xf4}, true},  /* mov [edx], ax */
        {{0x66, 0x8b, 0x0a, 0xf4}, true},  /* mov cx, [edx] */
        {{0x66, 0x8b, 0x20, 0xf4}, false}, /* mov sp, [eax] */
        {{0xff, 0x0c, 0x24, 0xf4}, true},  /* dec dword [esp] */
        {{0xf7, 0xd1, 0xf4, 0xf4}, true},  /* not ecx */
        {{0x56, 0xf4, 0xf4, 0xf4}, true},  /* push esi */
        {{0x5e, 0xf4, 0xf4, 0xf4}, true},  /* pop esi */
        {{0x5c, 0xf4, 0xf4, 0xf4}, false}, /* pop esp */
    };
    decode_init();
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct insn i;
        ck_assert_int_eq(decode(cases[k].code, sizeof(cases[k].code), 1, &i), DEC_OK);
        ck_assert_msg(i.quiet == cases[k].quiet, "case %zu", k);
    }
}
END_TEST

START_TEST(word_moves_inc_dec_not_forms)
{
    /* The m16 MOV forms, INC/DEC m32 (CF kept) and NOT r32 give what the
     * generic handlers give. */
    static const uint8_t code[] = {
        0xbb, 0x00, 0x01, 0x00, 0x00,       /* mov ebx, 0x100 */
        0xc7, 0x03, 0xff, 0xff, 0xff, 0xff, /* mov dword [ebx], -1 */
        0xf9,                               /* stc */
        0xff, 0x03,                         /* inc dword [ebx]: 0, ZF, CF kept */
        0xb9, 0x78, 0x56, 0x34, 0x12,       /* mov ecx, 0x12345678 */
        0x66, 0x8b, 0x0b,                   /* mov cx, [ebx]: 0x12340000 */
        0xf7, 0xd1,                         /* not ecx: 0xedcbffff */
        0x66, 0x89, 0x4b, 0x04,             /* mov [ebx+4], cx */
        0xff, 0x4b, 0x04,                   /* dec dword [ebx+4]: 0xfffe */
        0xf4,
    };
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    ck_assert(decodes_quiet(code + 19, 3));
    ck_assert(decodes_quiet(code + 28, 3));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    uint32_t m0, m1;
    memcpy(&m0, tm->bus.ram + 0x100, 4);
    memcpy(&m1, tm->bus.ram + 0x104, 4);
    ck_assert_uint_eq(m0, 0);
    ck_assert_uint_eq(m1, 0xfffe);
    ck_assert_uint_eq(c->r[R_ECX], 0xedcbffff);
    uint32_t f = cpu_get_eflags(c);
    ck_assert(f & F_CF);
    ck_assert(!(f & F_ZF));
    tm_free(tm);
}
END_TEST

START_TEST(fault_in_a_quiet_push_leaves_esp)
{
    /* inc eax ; push ebx ; hlt with SS's limit below ESP: #SS(0) at the
     * PUSH (quiet: no restart point of its own), ESP and memory as they
     * were, EAX after the INC. */
    static const uint8_t code[] = {0x40, 0x53, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    ck_assert(decodes_quiet(code + 1, 1));
    c->seg[S_SS].limit = 0xff;
    seg_update_cache(c, &c->seg[S_SS]);
    c->intercept_events = true;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, EX_SS);
    ck_assert_uint_eq(c->eip, 0x10001);
    ck_assert_uint_eq(c->r[R_ESP], 0x9000);
    ck_assert_uint_eq(c->r[R_EAX], 1);
    tm_free(tm);
}
END_TEST

START_TEST(block_goes_on_past_a_jcc_not_taken)
{
    /* xor eax, eax ; jnz +5 ; mov ebx, 1 ; jz +1 ; inc ebx ; inc ecx ; hlt:
     * one block of all seven (a Jcc does not end its block); the JZ is
     * taken and leaves it in the middle, so INC EBX never runs. The
     * statistics count what ran, not the block. */
    static const uint8_t code[] = {0x31, 0xc0, 0x75, 0x05, 0xbb, 0x01, 0x00, 0x00,
                                   0x00, 0x74, 0x01, 0x43, 0x41, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    uint64_t *rows = calloc((size_t)op_table_size + 1, sizeof(*rows));
    c->row_counts = rows;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EBX], 1);
    ck_assert_uint_eq(c->r[R_ECX], 1);
    const struct dc_block *d = &c->dc->b[dc_index(0x10000)];
    ck_assert_uint_eq(d->key >> 32, 0x10000);
    ck_assert_uint_eq(d->n, 7);
    dc_fold_counts(c);
    ck_assert_uint_eq(rows[decode_lookup(0xbb, -1) - op_table], 1);
    ck_assert_uint_eq(rows[decode_lookup(0x74, -1) - op_table], 1);
    ck_assert_uint_eq(rows[decode_lookup(0x43, -1) - op_table], 0);
    ck_assert_uint_eq(rows[decode_lookup(0x41, -1) - op_table], 1);
    c->row_counts = NULL;
    free(rows);
    tm_free(tm);
}
END_TEST

START_TEST(threaded_jcc_past_cs_limit_faults_at_the_jcc)
{
    /* inc ebx ; xor eax, eax ; jz +0x40 ; hlt with CS's limit at 0x1000f:
     * the JZ (quiet, threaded) is taken to 0x10045, past the limit:
     * #GP(0) with EIP at the JZ and the INC done. */
    static const uint8_t code[] = {0x43, 0x31, 0xc0, 0x74, 0x40, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    ck_assert(decodes_quiet(code + 3, 2));
    c->seg[S_CS].limit = 0x1000f;
    seg_update_cache(c, &c->seg[S_CS]);
    c->intercept_events = true;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
    ck_assert_int_eq(c->exit_event.vector, EX_GP);
    ck_assert_uint_eq(c->eip, 0x10003);
    ck_assert_uint_eq(c->r[R_EBX], 1);
    tm_free(tm);
}
END_TEST

START_TEST(quiet_instructions_run_threaded)
{
    /* Every form that can be quiet has a threaded entry (cpu/threaded.h),
     * and a cached block holds it: mov eax, ebx ; add eax, 1 ; hlt. */
    static const uint8_t code[] = {0x89, 0xd8, 0x83, 0xc0, 0x01, 0xf4};
    decode_init();
    ck_assert(forms_all_threaded());
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    c->r[R_EBX] = 41;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EAX], 42);
    const struct dc_block *d = &c->dc->b[dc_index(0x10000)];
    ck_assert_uint_eq(d->n, 3);
    ck_assert(d->i[0].quiet && d->i[1].quiet);
    ck_assert(d->i[0].fn == form_threaded(mov_Ev_Gv_r32, false));
    ck_assert(d->i[1].fn == form_threaded(add_Ev_Ib_r32, false));
    ck_assert(d->i[0].fn != NULL && d->i[0].fn != mov_Ev_Gv_r32);
    tm_free(tm);
}
END_TEST

/* The block at 0x10000 holds, for its instruction k, the threaded entry of
 * form[k] for an operand without an index register (bd[k]) or with one. */
static void assert_entries(const struct cpu *c, const insn_fn *form, const bool *bd, int n)
{
    const struct dc_block *d = &c->dc->b[dc_index(0x10000)];
    for (int k = 0; k < n; k++)
        ck_assert_msg(d->i[k].fn == form_threaded(form[k], bd[k]), "instruction %d", k);
    ck_assert(form_threaded(form[0], true) != form_threaded(form[0], false));
}

/* The machine flat() builds for code, with EAX = 0x11223344, EBX = 0x100
 * and ESI = 2, run to its HLT. */
static struct tmachine *run_with_base_regs(const uint8_t *code, size_t n)
{
    struct tmachine *tm = flat(code, n);
    struct cpu *c = &tm->cpu;
    c->r[R_EAX] = 0x11223344;
    c->r[R_EBX] = 0x100;
    c->r[R_ESI] = 2;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    return tm;
}

START_TEST(loads_without_an_index_take_their_own_entry)
{
    /* mov [ebx+4], eax ; mov ecx, [ebx+4] ; mov edx, [ebx+esi*2] ; hlt:
     * the first two have no index register and run the base+displacement
     * entries (threaded.h, name_bd_t), the third the general one. */
    static const uint8_t code[] = {0x89, 0x43, 0x04, 0x8b, 0x4b, 0x04, 0x8b, 0x14, 0x73, 0xf4};
    struct tmachine *tm = run_with_base_regs(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    ck_assert_uint_eq(c->r[R_ECX], 0x11223344);
    ck_assert_uint_eq(c->r[R_EDX], 0x11223344);
    static const insn_fn form[] = {mov_Ev_Gv_m32, mov_Gv_Ev_m32, mov_Gv_Ev_m32};
    static const bool bd[] = {true, true, false};
    assert_entries(c, form, bd, 3);
    tm_free(tm);
}
END_TEST

START_TEST(alu_memory_forms_run_written_out_entries)
{
    /* add [ebx+4], eax ; cmp [ebx+4], ecx ; sub ecx, [ebx+4] ; inc dword [ebx+8] ;
     * not dword [ebx+12] ; test [ebx+4], eax ; add [ebx+esi*2+4], eax ; hlt:
     * all but the last take the base+displacement entries (THREADED_MEM),
     * which read, write or only compare as each should. */
    static const uint8_t code[] = {0x01, 0x43, 0x04, 0x39, 0x4b, 0x04, 0x2b, 0x4b, 0x04,
                                   0xff, 0x43, 0x08, 0xf7, 0x53, 0x0c, 0x85, 0x43, 0x04,
                                   0x01, 0x44, 0x73, 0x04, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    c->r[R_EAX] = 0x10;
    c->r[R_EBX] = 0x100;
    c->r[R_ECX] = 0x1000;
    c->r[R_ESI] = 0;
    tm->bus.ram[0x104] = 0x05;
    tm->bus.ram[0x108] = 0xff;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->bus.ram[0x104], 0x25); /* 5 + 0x10, then + 0x10 again */
    ck_assert_uint_eq(c->r[R_ECX], 0x1000 - 0x15);
    ck_assert_uint_eq(tm->bus.ram[0x108], 0x00); /* 0xff + 1 carries */
    ck_assert_uint_eq(tm->bus.ram[0x109], 0x01);
    ck_assert_uint_eq(tm->bus.ram[0x10c], 0xff);
    ck_assert_uint_eq(tm->bus.ram[0x10f], 0xff);
    static const insn_fn form[] = {add_Ev_Gv_m32, cmp_Ev_Gv_m32, sub_Gv_Ev_m32, inc_Ev_m32,
                                   not_Ev_m32,    test_Ev_Gv_m32, add_Ev_Gv_m32};
    static const bool bd[] = {true, true, true, true, true, true, false};
    assert_entries(c, form, bd, 7);
    tm_free(tm);
}
END_TEST

START_TEST(fault_in_a_quiet_read_modify_write_restarts_at_it)
{
    /* mov ebx, 0xfe ; ... ; add [ebx], ecx, and the same with inc dword
     * [ebx]: #GP past DS's limit, the bytes at 0xfe untouched */
    static const uint8_t add[] = {0xbb, 0xfe, 0x00, 0x00, 0x00, 0x50, 0x40, 0x01, 0x0b, 0xf4};
    static const uint8_t inc[] = {0xbb, 0xfe, 0x00, 0x00, 0x00, 0x50, 0x40, 0xff, 0x03, 0xf4};
    struct tmachine *tm = fault_in_quiet_access(add, sizeof(add), 0x01010101);
    ck_assert_uint_eq(tm->bus.ram[0xfe], 0);
    ck_assert_uint_eq(tm->bus.ram[0xff], 0);
    tm_free(tm);
    tm = fault_in_quiet_access(inc, sizeof(inc), 0);
    ck_assert_uint_eq(tm->bus.ram[0xfe], 0);
    tm_free(tm);
}
END_TEST

/* ECX after op eax, ebx ; [nop] ; jcc +5 ; mov ecx, 1 ; hlt for each pair
 * of vals, one bit per pair (1: not taken); and whether the block holds
 * the Jcc entry expected. */
static uint64_t jcc_outcomes(uint8_t op, unsigned cc, bool nop, const uint32_t *vals, int nv,
                             insn_fn want)
{
    uint8_t code[16] = {op, 0xd8};
    size_t n = 2;
    if (nop)
        code[n++] = 0x90;
    code[n++] = (uint8_t)(0x70 + cc);
    code[n++] = 5;
    static const uint8_t tail[] = {0xb9, 0x01, 0x00, 0x00, 0x00, 0xf4};
    memcpy(code + n, tail, sizeof(tail));
    n += sizeof(tail);
    struct tmachine *tm = flat(code, n);
    struct cpu *c = &tm->cpu;
    uint64_t bits = 0;
    for (int a = 0; a < nv; a++)
        for (int b = 0; b < nv; b++) {
            c->eip = 0x10000;
            c->halted = false;
            c->r[R_EAX] = vals[a];
            c->r[R_EBX] = vals[b];
            c->r[R_ECX] = 0;
            ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
            bits |= (uint64_t)c->r[R_ECX] << (a * nv + b);
        }
    const struct dc_block *d = &c->dc->b[dc_index(0x10000)];
    ck_assert(d->i[nop ? 2 : 1].fn == want);
    tm_free(tm);
    return bits;
}

START_TEST(jcc_after_cmp_or_test_reads_the_record_directly)
{
    /* cmp eax, ebx (39 D8) and test eax, ebx (85 D8), then each Jcc: right
     * after them the Jcc takes the entry that reads the lazy record
     * directly (jcc_after_*_t); with a NOP between, the general one. Both
     * must branch alike for every pair of values. */
    static const uint32_t vals[] = {0, 1, 3, 0x80, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678};
    for (unsigned cc = 0; cc < 16; cc++) {
        uint64_t f = jcc_outcomes(0x39, cc, false, vals, 8, jcc_after_sub_t[cc]);
        uint64_t g = jcc_outcomes(0x39, cc, true, vals, 8, jcc_by_cc_r32_t[cc]);
        ck_assert_msg(f == g, "cmp; j%u: %016llx against %016llx", cc, (unsigned long long)f,
                      (unsigned long long)g);
        f = jcc_outcomes(0x85, cc, false, vals, 8, jcc_after_logic_t[cc]);
        g = jcc_outcomes(0x85, cc, true, vals, 8, jcc_by_cc_r32_t[cc]);
        ck_assert_msg(f == g, "test; j%u: %016llx against %016llx", cc, (unsigned long long)f,
                      (unsigned long long)g);
    }
}
END_TEST

START_TEST(word_and_byte_stores_and_lea_take_base_displacement_entries)
{
    /* mov [ebx+8], ax ; mov [ebx+12], ah ; lea edx, [ebx+16] ; mov [ebx+esi*2+20], al ;
     * hlt: the first three have their base+displacement entries, the
     * fourth (an index) the general one; each stores or computes what it
     * should. */
    static const uint8_t code[] = {0x66, 0x89, 0x43, 0x08, 0x88, 0x63, 0x0c, 0x8d, 0x53,
                                   0x10, 0x88, 0x44, 0x73, 0x14, 0xf4};
    struct tmachine *tm = run_with_base_regs(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    ck_assert_uint_eq(tm->bus.ram[0x108], 0x44);
    ck_assert_uint_eq(tm->bus.ram[0x109], 0x33);
    ck_assert_uint_eq(tm->bus.ram[0x10a], 0);
    ck_assert_uint_eq(tm->bus.ram[0x10c], 0x33);
    ck_assert_uint_eq(tm->bus.ram[0x10d], 0);
    ck_assert_uint_eq(c->r[R_EDX], 0x110);
    ck_assert_uint_eq(tm->bus.ram[0x118], 0x44);
    static const insn_fn form[] = {mov_Ev_Gv_m16, mov_Eb_Gb_m32, lea_Gv_M_m32, mov_Eb_Gb_m32};
    static const bool bd[] = {true, true, true, false};
    assert_entries(c, form, bd, 4);
    tm_free(tm);
}
END_TEST

START_TEST(base0_segment_with_a_smaller_limit_checks_it)
{
    /* DS with base 0 and limit 0xffe (as a VMM's ring compression leaves
     * the guest kernel's segments): not flat but SEG_BASE0_R, so the load
     * stays inline, with the limit compared. mov eax, [ebx-4] fills the
     * TLB; then an aligned dword at 0xff8 passes, and at 0xffc it ends
     * past the limit: #GP(0), though the TLB grants the page directly. */
    static const uint8_t load[] = {0x8b, 0x43, 0xfc, 0x8b, 0x0b, 0xf4}; /* ...; mov ecx, [ebx] */
    const uint32_t ebx[] = {0xff8, 0xffc};
    for (int k = 0; k < 2; k++) {
        struct tmachine *tm = flat(load, sizeof(load));
        struct cpu *c = &tm->cpu;
        c->seg[S_DS].limit = 0xffe;
        seg_update_cache(c, &c->seg[S_DS]);
        ck_assert(c->seg[S_DS].rw & SEG_BASE0_R);
        ck_assert(!(c->seg[S_DS].rw & SEG_FLAT_R));
        c->intercept_events = true;
        c->r[R_EBX] = ebx[k];
        c->r[R_ECX] = 0x1234;
        if (k == 0) {
            ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
        } else {
            ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
            ck_assert_int_eq(c->exit_event.vector, EX_GP);
            ck_assert_uint_eq(c->eip, 0x10003);
            ck_assert_uint_eq(c->r[R_ECX], 0x1234);
        }
        tm_free(tm);
    }
}
END_TEST

START_TEST(quiet_store_into_the_next_instruction_is_seen)
{
    /* mov ebx, 0x1000c ; mov dword [ebx], 0x22 ; mov eax, 0x11 ; hlt: the
     * store (quiet) rewrites the immediate of the MOV after it, in the same
     * decoded block. The P6 runs the new bytes: EAX = 0x22. The store goes
     * through the slow path (the page holds cached code), which sets
     * end_run; without that test the block would run its stale decoding. */
    static const uint8_t code[] = {0xbb, 0x0c, 0x00, 0x01, 0x00, 0xc7, 0x03, 0x22, 0x00,
                                   0x00, 0x00, 0xb8, 0x11, 0x00, 0x00, 0x00, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert(decodes_quiet(code + 5, 6));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 0x22);
    tm_free(tm);
}
END_TEST

START_TEST(flat_segment_still_refuses_an_access_past_4g)
{
    /* A flat DS (SEG_FLAT_R/W: one compare, cpu/mem.h seg_lin) still ends
     * at 0xffffffff: a dword at 0xfffffffe and a store at 0xfffffffd raise
     * #GP(0); a word at 0xfffffffe ends exactly at the limit and passes. */
    static const uint8_t load[] = {0x8b, 0x0b, 0xf4};       /* mov ecx, [ebx] */
    static const uint8_t store[] = {0x89, 0x0b, 0xf4};      /* mov [ebx], ecx */
    static const uint8_t word[] = {0x66, 0x8b, 0x0b, 0xf4}; /* mov cx, [ebx] */
    const struct {
        const uint8_t *code;
        size_t n;
        uint32_t ebx;
        bool faults;
    } cases[] = {
        {load, sizeof(load), 0xfffffffe, true},
        {store, sizeof(store), 0xfffffffd, true},
        {word, sizeof(word), 0xfffffffe, false},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tmachine *tm = flat(cases[k].code, cases[k].n);
        struct cpu *c = &tm->cpu;
        ck_assert(c->seg[S_DS].rw & SEG_FLAT_R);
        c->intercept_events = true;
        c->r[R_EBX] = cases[k].ebx;
        if (cases[k].faults) {
            ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_EVENT);
            ck_assert_int_eq(c->exit_event.vector, EX_GP);
            ck_assert_uint_eq(c->eip, 0x10000);
        } else {
            ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
        }
        tm_free(tm);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("block_loop");
    TCase *t = tcase_create("block_loop");
    tcase_add_test(t, rotate_keeps_the_lazy_flags_of_the_add_before_it);
    tcase_add_test(t, shift_keeps_of_and_af_of_the_sub_before_it);
    tcase_add_test(t, shifts_by_more_than_one_keep_of_and_af_through_a_run_of_them);
    tcase_add_test(t, shift_by_one_after_a_longer_shift_keeps_af);
    tcase_add_test(t, rotate_after_a_longer_shift_keeps_its_szp_and_the_sub_of_af);
    tcase_add_test(t, conditions_and_adc_read_a_longer_shift_record);
    tcase_add_test(t, longer_shift_after_popfd_keeps_its_of_and_af);
    tcase_add_test(t, longer_shift_after_mul_keeps_the_mul_of_of_and_the_add_of_af);
    tcase_add_test(t, mul_keeps_szap_of_the_add_before_it);
    tcase_add_test(t, sti_shadow_covers_exactly_one_instruction);
    tcase_add_test(t, sti_shadow_inside_a_block_without_intr);
    tcase_add_test(t, popf_setting_tf_ends_its_block);
    tcase_add_test(t, row_counts_exact_after_a_run);
    tcase_add_test(t, fault_in_a_quiet_load_restarts_at_the_load);
    tcase_add_test(t, fault_in_a_quiet_store_restarts_at_the_store);
    tcase_add_test(t, fault_in_a_quiet_cmov_or_setcc_restarts_at_it);
    tcase_add_test(t, register_imul_cmov_setcc_are_quiet);
    tcase_add_test(t, only_a_write_to_esp_makes_a_form_not_quiet);
    tcase_add_test(t, word_moves_inc_dec_not_forms);
    tcase_add_test(t, block_goes_on_past_a_jcc_not_taken);
    tcase_add_test(t, quiet_instructions_run_threaded);
    tcase_add_test(t, loads_without_an_index_take_their_own_entry);
    tcase_add_test(t, word_and_byte_stores_and_lea_take_base_displacement_entries);
    tcase_add_test(t, jcc_after_cmp_or_test_reads_the_record_directly);
    tcase_add_test(t, alu_memory_forms_run_written_out_entries);
    tcase_add_test(t, fault_in_a_quiet_read_modify_write_restarts_at_it);
    tcase_add_test(t, threaded_jcc_past_cs_limit_faults_at_the_jcc);
    tcase_add_test(t, fault_in_a_quiet_push_leaves_esp);
    tcase_add_test(t, quiet_store_into_the_next_instruction_is_seen);
    tcase_add_test(t, flat_segment_still_refuses_an_access_past_4g);
    tcase_add_test(t, base0_segment_with_a_smaller_limit_checks_it);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
