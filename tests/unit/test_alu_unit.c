/*
 * Hand-written ALU cases: BCD adjustments with the SDM's examples, #DE
 * (faulting IP pushed, nothing changed), page faults in the middle of a
 * read-modify-write (memory, registers and flags unchanged), BT's bit-string
 * addressing, 16-bit addressing forms, and the documented choices for flags
 * the SDM leaves undefined (docs/cpu-flags.md).
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "harness.h"

#define CODE 0x1000u
#define STACK 0x7000u
#define ALL F_ARITH

static struct tmachine *tm;
static struct cpu *c;

static void setup(void)
{
    tm = tm_new(1024);
    c = &tm->cpu;
}
static void teardown(void) { tm_free(tm); }

/* Loads code (HLT appended) in 32-bit flat mode; registers and flags are
 * then set by the test before run32(). */
static void load32(const char *code, size_t n)
{
    uint8_t buf[64];
    memcpy(buf, code, n);
    buf[n] = 0xf4;
    tm_flat32(tm, CODE, buf, n + 1, STACK);
}
static void set_flags(uint32_t f)
{
    c->lf.op = LF_NONE;
    c->eflags = F_RES1 | f;
}
static uint32_t flags(void) { return cpu_get_eflags(c) & F_ARITH; }
static void run32(void)
{
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
}
#define AX (c->r[R_EAX] & 0xffff)

/* ---- BCD (SDM examples) ---- */

START_TEST(daa_sdm_example)
{
    /* ADD AL,BL (AL=79h, BL=35h) -> AEh; DAA -> 14h, CF=1, AF=1 */
    load32("\x02\xc3\x27", 3);
    c->r[R_EAX] = 0x79;
    c->r[R_EBX] = 0x35;
    set_flags(0);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x14);
    ck_assert_uint_eq(flags() & (F_CF | F_AF), F_CF | F_AF);
}
END_TEST

START_TEST(das_sdm_example)
{
    /* SUB AL,BL (AL=35h, BL=47h) -> EEh, CF=1, AF=1; DAS -> 88h, CF=1, AF=1 */
    load32("\x2a\xc3\x2f", 3);
    c->r[R_EAX] = 0x35;
    c->r[R_EBX] = 0x47;
    set_flags(0);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x88);
    ck_assert_uint_eq(flags() & (F_CF | F_AF | F_SF), F_CF | F_AF | F_SF);
}
END_TEST

START_TEST(daa_plain_and_high_adjust)
{
    /* 38h + 45h = 7Dh -> DAA 83h (low adjust only, no carry) */
    load32("\x04\x45\x27", 3);
    c->r[R_EAX] = 0x38;
    set_flags(F_CF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x83);
    ck_assert_uint_eq(flags() & (F_CF | F_AF), F_AF);
    /* 99h + 01h = 9Ah -> DAA 00h, CF=1, ZF=1 */
    load32("\x04\x01\x27", 3);
    c->r[R_EAX] = 0x99;
    set_flags(0);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x00);
    ck_assert_uint_eq(flags() & (F_CF | F_AF | F_ZF | F_PF), F_CF | F_AF | F_ZF | F_PF);
}
END_TEST

START_TEST(aaa_aas)
{
    /* 8 + 9 = 11h (AF) -> AAA: AX = 0107h, CF = AF = 1 */
    load32("\x04\x09\x37", 3);
    c->r[R_EAX] = 0x0008;
    set_flags(0);
    run32();
    ck_assert_uint_eq(AX, 0x0107);
    ck_assert_uint_eq(flags() & (F_CF | F_AF | F_SF), F_CF | F_AF);
    /* no adjustment: AL's high nibble is cleared, CF = AF = 0 */
    load32("\x37", 1);
    c->r[R_EAX] = 0x0234;
    set_flags(F_CF);
    run32();
    ck_assert_uint_eq(AX, 0x0204);
    ck_assert_uint_eq(flags() & (F_CF | F_AF), 0);
    /* AL = FAh: AX + 106h carries into AH twice over (the SDM's AX form) */
    load32("\x37", 1);
    c->r[R_EAX] = 0x00fa;
    set_flags(0);
    run32();
    ck_assert_uint_eq(AX, 0x0200);
    /* 8 - 9 = FFh (AF, CF) -> AAS: AX = FF09h, CF = AF = 1 */
    load32("\x2c\x09\x3f", 3);
    c->r[R_EAX] = 0x0008;
    set_flags(0);
    run32();
    ck_assert_uint_eq(AX, 0xff09);
    ck_assert_uint_eq(flags() & (F_CF | F_AF), F_CF | F_AF);
}
END_TEST

START_TEST(aam_aad)
{
    load32("\xd4\x0a", 2); /* AAM: 63 -> AH 6, AL 3 */
    c->r[R_EAX] = 0x003f;
    set_flags(ALL);
    run32();
    ck_assert_uint_eq(AX, 0x0603);
    /* P6: OF AF CF cleared, SF ZF PF from AL (3: two ones, PF = 1) */
    ck_assert_uint_eq(flags(), F_PF);
    load32("\xd5\x0a", 2); /* AAD: 06 07 -> 67 = 43h */
    c->r[R_EAX] = 0x0607;
    set_flags(0);
    run32();
    ck_assert_uint_eq(AX, 0x0043);
    load32("\xd4\x10", 2); /* AAM 16 splits nibbles */
    c->r[R_EAX] = 0x00a7;
    run32();
    ck_assert_uint_eq(AX, 0x0a07);
    load32("\xd5\x10", 2); /* AAD 16 joins them */
    c->r[R_EAX] = 0x0102;
    run32();
    ck_assert_uint_eq(AX, 0x0012);
    /* AAD's flags are those of the 8-bit ADD AL + AH*imm: 07h + 0Ah = 11h, AF */
    load32("\xd5\x0a", 2);
    c->r[R_EAX] = 0x0107;
    set_flags(F_CF | F_OF | F_ZF);
    run32();
    ck_assert_uint_eq(AX, 0x0011);
    ck_assert_uint_eq(flags(), F_AF | F_PF);
    /* 7Fh + 0Ah overflows as signed bytes: OF; FFh + 0Ah carries: CF */
    load32("\xd5\x0a", 2);
    c->r[R_EAX] = 0x017f;
    run32();
    ck_assert(flags() & F_OF);
    load32("\xd5\x0a", 2);
    c->r[R_EAX] = 0x01ff;
    run32();
    ck_assert(flags() & F_CF);
}
END_TEST

START_TEST(salc)
{
    load32("\xd6", 1);
    c->r[R_EAX] = 0x12345600;
    set_flags(F_CF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x123456ff);
    ck_assert_uint_eq(flags(), F_CF);
    load32("\xd6", 1);
    c->r[R_EAX] = 0x123456aa;
    set_flags(F_ZF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x12345600);
    ck_assert_uint_eq(flags(), F_ZF);
}
END_TEST

/* ---- the documented choices for undefined flags ---- */

START_TEST(undefined_flags_mul_div)
{
    /* MUL: CF = OF = high half non-zero; SF ZF AF PF unchanged (P6). */
    for (int k = 0; k < 2; k++) {
        uint32_t keep = k ? (F_SF | F_ZF | F_AF | F_PF) : 0;
        load32("\xf7\xe3", 2); /* mul ebx */
        c->r[R_EAX] = 0x10000;
        c->r[R_EBX] = 0x10000;
        set_flags(keep);
        run32();
        ck_assert_uint_eq(c->r[R_EDX], 1);
        ck_assert_uint_eq(flags(), keep | F_CF | F_OF);
        load32("\x0f\xaf\xc3", 3); /* imul eax, ebx: fits */
        c->r[R_EAX] = (uint32_t)-3;
        c->r[R_EBX] = 5;
        set_flags(keep | F_CF | F_OF);
        run32();
        ck_assert_uint_eq(c->r[R_EAX], (uint32_t)-15);
        ck_assert_uint_eq(flags(), keep);
        load32("\xf7\xf3", 2); /* div ebx: every flag unchanged */
        c->r[R_EAX] = 100;
        c->r[R_EDX] = 0;
        c->r[R_EBX] = 7;
        set_flags(keep | (k ? F_CF : F_OF));
        run32();
        ck_assert_uint_eq(c->r[R_EAX], 14);
        ck_assert_uint_eq(c->r[R_EDX], 2);
        ck_assert_uint_eq(flags(), keep | (k ? F_CF : F_OF));
    }
}
END_TEST

START_TEST(undefined_flags_shifts)
{
    /* SHL by 1: OF defined, AF unchanged */
    load32("\xd1\xe0", 2);
    c->r[R_EAX] = 0x40000000;
    set_flags(F_AF);
    run32();
    ck_assert_uint_eq(flags(), F_AF | F_OF | F_SF | F_PF);
    /* SHL by 2: OF and AF unchanged */
    load32("\xc1\xe0\x02", 3);
    c->r[R_EAX] = 0x40000000;
    set_flags(F_OF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0);
    ck_assert_uint_eq(flags(), F_OF | F_CF | F_ZF | F_PF);
    /* SHR r8 by 9 (count > width): result 0, CF = 0 (choice) */
    load32("\xc0\xe8\x09", 3);
    c->r[R_EAX] = 0xff;
    set_flags(F_CF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0);
    ck_assert_uint_eq(flags(), F_ZF | F_PF);
    /* SHL r8 by 8: CF = old bit 0 */
    load32("\xc0\xe0\x08", 3);
    c->r[R_EAX] = 0x01;
    set_flags(0);
    run32();
    ck_assert_uint_eq(flags(), F_CF | F_ZF | F_PF);
    /* ROL by 2: only CF changes; OF unchanged (P6) */
    load32("\xc1\xc0\x02", 3);
    c->r[R_EAX] = 0xc0000000;
    set_flags(F_OF | F_ZF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 3);
    ck_assert_uint_eq(flags(), F_OF | F_ZF | F_CF);
    /* RCR by 2 (count > 1): OF = MSB ^ MSB-1 of the result (choice) */
    load32("\xc1\xd8\x02", 3);
    c->r[R_EAX] = 0x00000001;
    set_flags(F_CF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0xc0000000);
    ck_assert_uint_eq(flags(), 0);
    /* count 0: nothing changes */
    load32("\xc1\xe0\x20", 3); /* shl eax, 32 -> masked to 0 */
    c->r[R_EAX] = 0x1234;
    set_flags(ALL);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x1234);
    ck_assert_uint_eq(flags(), ALL);
}
END_TEST

START_TEST(shld_shrd_16bit_large_count)
{
    /* SHLD ax, bx, 20: the 48-bit pattern dest:src:dest = 1234 5678 1234 */
    load32("\x66\x0f\xa4\xd8\x14", 5);
    c->r[R_EAX] = 0xaaaa1234;
    c->r[R_EBX] = 0x5678;
    set_flags(F_AF | F_OF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0xaaaa6781);
    ck_assert_uint_eq(flags(), F_AF | F_OF | F_CF | F_PF); /* CF: bit 28 of the pattern */
    /* SHRD ax, bx, 20: the pattern is 1234 5678 1234 read from the right */
    load32("\x66\x0f\xac\xd8\x14", 5);
    c->r[R_EAX] = 0x1234;
    c->r[R_EBX] = 0x5678;
    set_flags(0);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x4567);
    ck_assert_uint_eq(flags() & F_CF, F_CF); /* bit 19 of 123456781234h */
}
END_TEST

START_TEST(undefined_flags_bitops)
{
    /* BT: only CF */
    load32("\x0f\xa3\xd8", 3); /* bt eax, ebx */
    c->r[R_EAX] = 0x80;
    c->r[R_EBX] = 7 + 32; /* register form: offset modulo 32 */
    set_flags(F_ZF | F_SF | F_OF | F_AF | F_PF);
    run32();
    ck_assert_uint_eq(flags(), ALL);
    /* BSF of zero: ZF = 1, destination and the other flags unchanged */
    load32("\x0f\xbc\xc3", 3); /* bsf eax, ebx */
    c->r[R_EAX] = 0xdeadbeef;
    c->r[R_EBX] = 0;
    set_flags(F_CF | F_SF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0xdeadbeef);
    ck_assert_uint_eq(flags(), F_CF | F_SF | F_ZF);
    /* BSR of non-zero: ZF = 0, others unchanged */
    load32("\x0f\xbd\xc3", 3);
    c->r[R_EBX] = 0x00012345;
    set_flags(F_ZF | F_PF | F_OF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 16);
    ck_assert_uint_eq(flags(), F_PF | F_OF);
    /* BSWAP with a 16-bit operand clears the low word */
    load32("\x66\x0f\xc8", 3);
    c->r[R_EAX] = 0x12345678;
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x12340000);
    /* TEST/AND/OR/XOR: AF = 0 */
    load32("\x85\xc0", 2);
    c->r[R_EAX] = 0x10;
    set_flags(F_AF | F_CF | F_OF);
    run32();
    ck_assert_uint_eq(flags(), 0);
    /* TEST's undocumented F6 /1 alias */
    load32("\xf6\xc8\x80", 3);
    c->r[R_EAX] = 0x80;
    set_flags(0);
    run32();
    ck_assert_uint_eq(flags(), F_SF);
    /* AAA: SF = 0, OF unchanged, ZF from the 16-bit sum */
    load32("\x37", 1);
    c->r[R_EAX] = 0xfefa; /* + 106h = 0000h */
    set_flags(F_SF | F_OF);
    run32();
    ck_assert_uint_eq(AX, 0x0000);
    ck_assert_uint_eq(flags(), F_OF | F_ZF | F_PF | F_AF | F_CF);
    /* DAA: OF unchanged */
    load32("\x27", 1);
    c->r[R_EAX] = 0x0a;
    set_flags(F_OF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x10);
    ck_assert_uint_eq(flags() & F_OF, F_OF);
}
END_TEST


/* ---- faults ---- */

/*
 * Executes one instruction at CS:EIP directly (fetch from physical memory
 * at the linear address: paging maps the code 1:1 in these tests) and
 * returns the vector of the fault it raised, or -1. Independent of the
 * delivery code: EIP and ESP are restored like the run loop does.
 */
static int step(void)
{
    uint8_t buf[16];
    for (int k = 0; k < 16; k++)
        buf[k] = (uint8_t)tm_peek(tm, c->seg[S_CS].base + c->eip + (uint32_t)k, 1);
    struct insn i;
    ck_assert_int_eq(decode(buf, sizeof(buf), cpu_code32(c), &i), DEC_OK);
    c->prev_eip = c->eip;
    c->prev_esp = c->r[R_ESP];
    if (setjmp(c->fault_jmp)) {
        c->eip = c->prev_eip;
        c->r[R_ESP] = c->prev_esp;
        return c->fault_vector;
    }
    c->eip += i.len;
    i.fn(c, &i);
    return -1;
}

/* Real mode with the trap stubs: runs to the stub's HLT and checks #DE
 * was delivered with the faulting IP on the stack. */
static void expect_de_real(const char *code, size_t n, uint32_t ax, uint32_t dx, uint32_t bx)
{
    uint8_t buf[32];
    memcpy(buf, code, n);
    buf[n] = 0xf4;
    tm_real(tm, 0x7c00, buf, n + 1);
    tm_trap_all_vectors(tm);
    c->r[R_EAX] = ax;
    c->r[R_EDX] = dx;
    c->r[R_EBX] = bx;
    set_flags(F_ZF | F_CF);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_int_eq(tm_last_vector(tm), EX_DE);
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0x7c00); /* faulting IP */
    ck_assert_uint_eq(c->r[R_EAX], ax);
    ck_assert_uint_eq(c->r[R_EDX], dx);
    ck_assert_uint_eq(c->r[R_EBX], bx);
    /* FLAGS pushed as they were before the instruction */
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 2, 2) & F_ARITH, F_ZF | F_CF);
}

START_TEST(divide_errors)
{
    expect_de_real("\xf6\xf3", 2, 0x1234, 0x5678, 0x00);        /* div bl, 0 */
    expect_de_real("\xf6\xf3", 2, 0x1000, 0, 0x10);             /* div bl: 100h > FFh */
    expect_de_real("\xf7\xf3", 2, 0x0000, 0x0010, 0x0010);      /* div bx: 10000h */
    expect_de_real("\x66\xf7\xf3", 3, 0, 1, 1);                 /* div ebx: 1_0000_0000h */
    expect_de_real("\xf6\xfb", 2, 0x8000, 0, 0xff);             /* idiv bl: -32768 / -1 */
    expect_de_real("\xf6\xfb", 2, 0x0100, 0, 0x02);             /* idiv bl: 128 */
    expect_de_real("\xf7\xfb", 2, 0x0000, 0x8000, 0xffff);      /* idiv bx: INT32_MIN / -1 */
    expect_de_real("\x66\xf7\xfb", 3, 0, 0x80000000u, 0xffffffffu); /* idiv ebx: INT64_MIN / -1 */
    expect_de_real("\x66\xf7\xfb", 3, 0, 0, 0);                 /* idiv ebx, 0 */
    expect_de_real("\xd4\x00", 2, 0x1234, 0, 0);                /* aam 0 */
}
END_TEST

START_TEST(idiv_edge_quotients)
{
    /* -256 / 2 = -128 fits a byte: no fault on the P6 */
    load32("\xf6\xfb", 2);
    c->r[R_EAX] = 0xff00;
    c->r[R_EBX] = 2;
    run32();
    ck_assert_uint_eq(AX, 0x0080);
    /* -7 / 2 = -3 remainder -1 (truncation toward zero) */
    load32("\xf7\xfb", 2);
    c->r[R_EAX] = (uint32_t)-7;
    c->r[R_EDX] = 0xffffffffu;
    c->r[R_EBX] = 2;
    run32();
    ck_assert_uint_eq(c->r[R_EAX], (uint32_t)-3);
    ck_assert_uint_eq(c->r[R_EDX], (uint32_t)-1);
}
END_TEST

START_TEST(divide_error_memory_operand_32)
{
    /* div dword [0x8000] = 0 in flat 32-bit mode: #DE, nothing changes */
    load32("\xf7\x35\x00\x80\x00\x00", 6);
    tm_poke(tm, 0x8000, "\0\0\0\0", 4);
    c->r[R_EAX] = 5;
    c->r[R_EDX] = 6;
    set_flags(F_SF);
    ck_assert_int_eq(step(), EX_DE);
    ck_assert_uint_eq(c->eip, CODE);
    ck_assert_uint_eq(c->r[R_EAX], 5);
    ck_assert_uint_eq(c->r[R_EDX], 6);
    ck_assert_uint_eq(flags(), F_SF);
}
END_TEST

/* Paging on: identity map of the first 4 MiB with page 0x9000 not present
 * and page 0xa000 read-only; CR0.WP = 1 so ring 0 honours it. */
static void paging_setup(void)
{
    const uint32_t pd = 0x10000, pt = 0x11000;
    uint32_t pde = pt | 3;
    tm_poke(tm, pd, &pde, 4);
    for (uint32_t p = 0; p < 1024; p++) {
        uint32_t pte = (p << 12) | 3;
        if (p == 9)
            pte = 0;
        if (p == 10)
            pte = (p << 12) | 1;
        tm_poke(tm, pt + p * 4, &pte, 4);
    }
    cpu_write_cr3(c, pd);
    cpu_write_cr0(c, c->cr0 | CR0_PG | CR0_WP);
}

START_TEST(page_fault_mid_rmw)
{
    static const uint8_t pattern[4] = {0x11, 0x22, 0x33, 0x44};
    struct {
        const char *code;
        size_t n;
    } cases[] = {
        {"\x01\x05\xfe\x8f\x00\x00", 6},         /* add [0x8ffe], eax: second half not present */
        {"\xf0\x01\x05\xfe\x8f\x00\x00", 7},     /* lock add */
        {"\xd1\x25\xfe\x8f\x00\x00", 6},         /* shl dword [0x8ffe], 1 */
        {"\xf7\x1d\xfe\x8f\x00\x00", 6},         /* neg dword [0x8ffe] */
        {"\xff\x05\x00\xa0\x00\x00", 6},         /* inc dword [0xa000]: read-only */
        {"\x0f\xab\x0d\x00\xa0\x00\x00", 7},     /* bts [0xa000], ecx: read-only */
        {"\x0f\xa5\x05\x00\xa0\x00\x00", 7},     /* shld [0xa000], eax, cl: read-only */
        {"\x80\x35\xff\x8f\x00\x00\x01", 7},     /* xor byte [0x8fff], 1: fine... */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        load32(cases[k].code, cases[k].n);
        paging_setup();
        tm_poke(tm, 0x8ffc, pattern, 4);
        tm_poke(tm, 0xa000, pattern, 4);
        c->r[R_EAX] = 0x01020304;
        c->r[R_ECX] = 3;
        set_flags(F_ZF | F_AF);
        int v = step();
        if (k == 7) { /* control: a byte wholly in the present page */
            ck_assert_int_eq(v, -1);
            ck_assert_uint_eq(tm_peek(tm, 0x8fff, 1), 0x45);
            continue;
        }
        ck_assert_int_eq(v, EX_PF);
        ck_assert_uint_eq(c->eip, CODE);
        ck_assert_uint_eq(c->r[R_EAX], 0x01020304);
        ck_assert_uint_eq(flags(), F_ZF | F_AF);
        ck_assert_uint_eq(tm_peek(tm, 0x8ffc, 4), 0x44332211);
        ck_assert_uint_eq(tm_peek(tm, 0xa000, 4), 0x44332211);
        if (k < 4) {
            ck_assert_uint_eq(c->cr2, 0x9000);
            ck_assert_uint_eq(c->fault_err, PF_W); /* not present, write */
        } else {
            ck_assert_uint_eq(c->cr2, 0xa000);
            ck_assert_uint_eq(c->fault_err, PF_W | PF_P);
        }
    }
}
END_TEST

START_TEST(bt_bit_string_addressing)
{
    /* bts [0x8000], eax with eax = 32768: the dword at 0x8000 + 4096 */
    load32("\x0f\xab\x05\x00\x80\x00\x00", 7);
    paging_setup();
    c->r[R_EAX] = 32768;
    ck_assert_int_eq(step(), EX_PF);
    ck_assert_uint_eq(c->cr2, 0x9000);
    /* bt [0x8004], eax with eax = -1: bit 31 of the dword at 0x8000 */
    load32("\x0f\xa3\x05\x04\x80\x00\x00", 7);
    tm_poke(tm, 0x8000, "\x00\x00\x00\x80\x00\x00\x00\x00", 8);
    c->r[R_EAX] = 0xffffffffu;
    set_flags(0);
    run32();
    ck_assert_uint_eq(flags(), F_CF);
    /* btc word [0x8004], ax with ax = -17: bit 15 of the word at 0x8000 */
    load32("\x66\x0f\xbb\x05\x04\x80\x00\x00", 8);
    tm_poke(tm, 0x8000, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
    c->r[R_EAX] = 0xffef;
    run32();
    ck_assert_uint_eq(tm_peek(tm, 0x8000, 4), 0x00008000);
    ck_assert_uint_eq(flags() & F_CF, 0);
    /* bts dword [0x8000], 35 (immediate): modulo 32, bit 3 of the same dword */
    load32("\x0f\xba\x2d\x00\x80\x00\x00\x23", 8);
    tm_poke(tm, 0x8000, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
    run32();
    ck_assert_uint_eq(tm_peek(tm, 0x8000, 4), 0x8);
    ck_assert_uint_eq(tm_peek(tm, 0x8004, 4), 0);
}
END_TEST

START_TEST(addressing_16bit)
{
    /* add [bx+si+4], ax with DS = 0100h; bx+si wraps at 64 KiB */
    static const uint8_t code[] = {0x01, 0x40, 0x04, 0xf4};
    tm_real(tm, 0x7c00, code, sizeof(code));
    c->seg[S_DS].sel = 0x100;
    c->seg[S_DS].base = 0x1000;
    seg_update_cache(c, &c->seg[S_DS]);
    c->r[R_EBX] = 0xfff0;
    c->r[R_ESI] = 0x0020; /* ea = (fff0 + 20 + 4) & ffff = 0014h */
    c->r[R_EAX] = 0x0101;
    tm_poke(tm, 0x1014, "\xff\x00", 2);
    set_flags(0);
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm_peek(tm, 0x1014, 2), 0x0200);
    ck_assert_uint_eq(flags(), F_AF | F_PF);
    /* shl word [bp+di], cl: BP selects SS (base 0 here), not DS */
    static const uint8_t code2[] = {0xd3, 0x23, 0xf4};
    tm_real(tm, 0x7c00, code2, sizeof(code2));
    c->seg[S_DS].base = 0x1000;
    seg_update_cache(c, &c->seg[S_DS]);
    c->r[R_EBP] = 0x0500;
    c->r[R_EDI] = 0x0002;
    c->r[R_ECX] = 4;
    tm_poke(tm, 0x0502, "\x34\x12", 2);
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm_peek(tm, 0x0502, 2), 0x2340);
    /* imul ax, [di], 7 with a 32-bit operand prefix: imul eax, [di], 7 */
    static const uint8_t code3[] = {0x66, 0x6b, 0x05, 0x07, 0xf4};
    tm_real(tm, 0x7c00, code3, sizeof(code3));
    c->r[R_EDI] = 0x600;
    tm_poke(tm, 0x600, "\x00\x00\x00\x20", 4);
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EAX], 0xe0000000u);
    ck_assert_uint_eq(flags() & (F_CF | F_OF), F_CF | F_OF);
}
END_TEST

START_TEST(cmov_reads_source_always)
{
    /* CMOVZ eax, [0x9000] with ZF = 0 (false) still reads: #PF */
    load32("\x0f\x44\x05\x00\x90\x00\x00", 7);
    paging_setup();
    c->r[R_EAX] = 0xcafebabe;
    set_flags(0);
    ck_assert_int_eq(step(), EX_PF);
    ck_assert_uint_eq(c->cr2, 0x9000);
    /* false: nothing written; true: loaded */
    load32("\x0f\x44\x05\x00\x80\x00\x00", 7);
    tm_poke(tm, 0x8000, "\x11\x22\x33\x44", 4);
    c->r[R_EAX] = 0xcafebabe;
    set_flags(0);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0xcafebabe);
    load32("\x0f\x44\x05\x00\x80\x00\x00", 7);
    set_flags(F_ZF);
    run32();
    ck_assert_uint_eq(c->r[R_EAX], 0x44332211);
}
END_TEST

START_TEST(cmp_test_do_not_write)
{
    /* CMP/TEST with a memory operand in a read-only page: no fault */
    load32("\x39\x05\x00\xa0\x00\x00\x85\x05\x00\xa0\x00\x00", 12);
    paging_setup();
    tm_poke(tm, 0xa000, "\x04\x03\x02\x01", 4);
    c->r[R_EAX] = 0x01020304;
    ck_assert_int_eq(step(), -1);
    ck_assert_uint_eq(flags() & F_ZF, F_ZF);
    ck_assert_int_eq(step(), -1);
    ck_assert_uint_eq(flags() & F_ZF, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alu_unit");
    TCase *t = tcase_create("alu");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, daa_sdm_example);
    tcase_add_test(t, das_sdm_example);
    tcase_add_test(t, daa_plain_and_high_adjust);
    tcase_add_test(t, aaa_aas);
    tcase_add_test(t, aam_aad);
    tcase_add_test(t, salc);
    tcase_add_test(t, undefined_flags_mul_div);
    tcase_add_test(t, undefined_flags_shifts);
    tcase_add_test(t, shld_shrd_16bit_large_count);
    tcase_add_test(t, undefined_flags_bitops);
    tcase_add_test(t, cmov_reads_source_always);
    tcase_add_test(t, divide_errors);
    tcase_add_test(t, idiv_edge_quotients);
    tcase_add_test(t, divide_error_memory_operand_32);
    tcase_add_test(t, page_fault_mid_rmw);
    tcase_add_test(t, bt_bit_string_addressing);
    tcase_add_test(t, addressing_16bit);
    tcase_add_test(t, cmp_test_do_not_write);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
