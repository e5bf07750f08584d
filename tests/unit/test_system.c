/*
 * System instructions, flags-register instructions, port I/O permission,
 * CPUID, MSRs and SYSENTER/SYSEXIT.
 *
 * Most tests execute one instruction directly (decode, advance EIP, call
 * the handler with the fault longjmp caught here), so they depend neither
 * on other instruction families nor on protected-mode exception delivery;
 * privilege levels and modes are set up by writing struct cpu directly.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu/cpuid.h"
#include "cpu/decode.h"
#include "cpu/msr.h"
#include "harness.h"

#define GDT 0x10000u
#define TSS 0x20000u
#define LDT 0x30000u

/* Executes one instruction at CS:EIP (bytes given here, not in memory).
 * Returns -1 on completion or the fault vector (EIP/ESP restored as the run
 * loop does; the error code is in c->fault_err). */
static int exec_bytes(struct tmachine *tm, const uint8_t *code, size_t n)
{
    struct cpu *c = &tm->cpu;
    struct insn i;
    ck_assert_int_eq(decode(code, n, cpu_code32(c), &i), DEC_OK);
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
#define X(tm, ...) \
    exec_bytes(tm, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void put_desc(struct tmachine *tm, unsigned idx, uint32_t lo, uint32_t hi)
{
    tm_poke(tm, GDT + idx * 8, &lo, 4);
    tm_poke(tm, GDT + idx * 8 + 4, &hi, 4);
}

/* 32-bit flat protected mode, CPL 0, with a GDT:
 *  1 0x08 code DPL0     2 0x10 data DPL0     3 0x18 data DPL3
 *  4 0x20 TSS32 avail   5 0x28 LDT           6 0x30 LDT not present
 *  7 0x38 conforming execute-only code DPL0  8 0x40 386 interrupt gate
 *  9 0x48 execute-only code DPL0             10 0x50 read-only data DPL0 */
static struct tmachine *pm(void)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t nop = 0x90;
    tm_flat32(tm, 0x1000, &nop, 1, 0x8000);
    struct cpu *c = &tm->cpu;
    c->gdtr.base = GDT;
    c->gdtr.limit = 11 * 8 - 1;
    put_desc(tm, 1, 0x0000ffff, 0x00cf9b00);
    put_desc(tm, 2, 0x0000ffff, 0x00cf9300);
    put_desc(tm, 3, 0x0000ffff, 0x00cff300);
    put_desc(tm, 4, (TSS << 16) | 0x0fff, (TSS & 0xff000000u) | ((TSS >> 16) & 0xff) | 0x8900);
    put_desc(tm, 5, (LDT << 16) | 0x00ff, ((LDT >> 16) & 0xff) | 0x8200);
    put_desc(tm, 6, (LDT << 16) | 0x00ff, ((LDT >> 16) & 0xff) | 0x0200);
    put_desc(tm, 7, 0x0000ffff, 0x00cf9c00);
    put_desc(tm, 8, 0x00081000, 0x00008e00);
    put_desc(tm, 9, 0x0000ffff, 0x00cf9800);
    put_desc(tm, 10, 0x0000ffff, 0x00cf9100);
    return tm;
}

static struct tmachine *real(void)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t nop = 0x90;
    tm_real(tm, 0x1000, &nop, 1);
    return tm;
}

/* ------------------------------------------------------------------ */

START_TEST(priv_instructions_gp_at_cpl3)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->cpl = 3;
    static const uint8_t forms[][8] = {
        {3, 0x0f, 0x20, 0xc0},             /* mov eax, cr0 */
        {3, 0x0f, 0x22, 0xc0},             /* mov cr0, eax */
        {3, 0x0f, 0x21, 0xf8},             /* mov eax, dr7 */
        {3, 0x0f, 0x23, 0xf8},             /* mov dr7, eax */
        {7, 0x0f, 0x01, 0x15, 0, 1, 0, 0}, /* lgdt [0x100] */
        {7, 0x0f, 0x01, 0x1d, 0, 1, 0, 0}, /* lidt [0x100] */
        {3, 0x0f, 0x00, 0xd0},             /* lldt ax */
        {3, 0x0f, 0x00, 0xd8},             /* ltr ax */
        {3, 0x0f, 0x01, 0xf0},             /* lmsw ax */
        {2, 0x0f, 0x06},                   /* clts */
        {2, 0x0f, 0x08},                   /* invd */
        {2, 0x0f, 0x09},                   /* wbinvd */
        {3, 0x0f, 0x01, 0x38},             /* invlpg [eax] */
        {2, 0x0f, 0x32},                   /* rdmsr */
        {2, 0x0f, 0x30},                   /* wrmsr */
        {2, 0x0f, 0x35},                   /* sysexit */
        {1, 0xfa},                         /* cli (IOPL 0) */
        {1, 0xfb},                         /* sti */
    };
    c->r[R_ECX] = MSR_SYSENTER_CS;
    c->msr.sysenter_cs = 0x08;
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
        uint32_t cr0 = c->cr0;
        ck_assert_msg(exec_bytes(tm, forms[k] + 1, forms[k][0]) == EX_GP, "form %zu", k);
        ck_assert_uint_eq(c->fault_err, 0);
        ck_assert_uint_eq(c->eip, 0x1000);
        ck_assert_uint_eq(c->cr0, cr0);
    }
    /* The same at CPL 0 do not fault (sample). */
    c->cpl = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x06), -1);
    ck_assert_int_eq(X(tm, 0x0f, 0x09), -1);
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0x38), -1);
    tm_free(tm);
}
END_TEST

START_TEST(v86_privileged_gp)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->eflags |= F_VM | F_IOPL; /* IOPL 3: CLI allowed, MOV CR not */
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x0f, 0x20, 0xc0), EX_GP);
    ck_assert_int_eq(X(tm, 0x0f, 0x06), EX_GP);
    ck_assert_int_eq(X(tm, 0xfa), -1);
    /* The 0F 00 group and ARPL are #UD in V86 mode. */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xc8), EX_UD); /* str eax */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xc0), EX_UD); /* sldt eax */
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), EX_UD); /* lar */
    ck_assert_int_eq(X(tm, 0x63, 0xd8), EX_UD);       /* arpl */
    tm_free(tm);
}
END_TEST

START_TEST(real_mode_0f00_ud)
{
    struct tmachine *tm = real();
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xc8), EX_UD);
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), EX_UD);
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), EX_UD);
    ck_assert_int_eq(X(tm, 0x0f, 0x03, 0xc3), EX_UD);
    ck_assert_int_eq(X(tm, 0x63, 0xd8), EX_UD);
    /* but MOV CR and LGDT work in real mode */
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x20, 0xc0), -1);
    tm_free(tm);
}
END_TEST

START_TEST(cr0_cr4_checks)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* PG without PE */
    c->r[R_EAX] = CR0_PG;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xc0), EX_GP);
    /* NW without CD */
    c->r[R_EAX] = CR0_PE | CR0_NW;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xc0), EX_GP);
    ck_assert(c->cr0 & CR0_PE);
    /* ET reads 1 whatever is written; reserved bits read 0 */
    c->r[R_EAX] = CR0_PE | 0x00000f00;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xc0), -1);
    ck_assert_uint_eq(c->cr0, CR0_PE | CR0_ET);
    ck_assert_int_eq(X(tm, 0x0f, 0x20, 0xc3), -1); /* mov ebx, cr0 */
    ck_assert_uint_eq(c->r[R_EBX], CR0_PE | CR0_ET);
    /* CR4: VME, PVI, PAE, MCE and reserved bits are #GP */
    static const uint32_t bad[] = {CR4_VME, CR4_PVI, CR4_PAE, CR4_MCE, 1u << 9, 1u << 31};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        c->r[R_EAX] = bad[k];
        ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xe0), EX_GP);
        ck_assert_uint_eq(c->cr4, 0);
    }
    c->r[R_EAX] = CR4_PSE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xe0), -1);
    ck_assert_uint_eq(c->cr4, CR4_PSE | CR4_PGE | CR4_TSD | CR4_DE | CR4_PCE);
    ck_assert_uint_eq(c->mmu.cr4, c->cr4);
    /* CR1, CR5-7: #UD both ways, even at CPL 3 */
    ck_assert_int_eq(X(tm, 0x0f, 0x20, 0xc8), EX_UD);
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xe8), EX_UD);
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x0f, 0x20, 0xf8), EX_UD);
    c->cpl = 0;
    /* CR3 reaches the MMU; CR2 is plain storage */
    c->r[R_EAX] = 0x00123018;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xd8), -1);
    ck_assert_uint_eq(c->mmu.cr3, 0x00123018);
    c->r[R_EAX] = 0xdeadbeef;
    ck_assert_int_eq(X(tm, 0x0f, 0x22, 0xd0), -1);
    ck_assert_int_eq(X(tm, 0x0f, 0x20, 0xd1), -1); /* mov ecx, cr2 */
    ck_assert_uint_eq(c->r[R_ECX], 0xdeadbeef);
    tm_free(tm);
}
END_TEST

START_TEST(debug_registers)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* DR6 / DR7 fixed bits */
    c->r[R_EAX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xf0), -1); /* mov dr6, eax */
    ck_assert_uint_eq(c->dr[6], 0xffff0ff0);
    c->r[R_EAX] = 0xffffffff;
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xf0), -1);
    ck_assert_uint_eq(c->dr[6], 0xffffefff);
    c->r[R_EAX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xf8), -1); /* mov dr7, eax */
    ck_assert_uint_eq(c->dr[7], 0x400);
    /* DR4/DR5 alias DR6/DR7 with CR4.DE = 0 ... */
    ck_assert_int_eq(X(tm, 0x0f, 0x21, 0xe3), -1); /* mov ebx, dr4 */
    ck_assert_uint_eq(c->r[R_EBX], 0xffffefff);
    ck_assert_int_eq(X(tm, 0x0f, 0x21, 0xeb), -1); /* mov ebx, dr5 */
    ck_assert_uint_eq(c->r[R_EBX], 0x400);
    /* ... and are #UD with CR4.DE = 1 */
    cpu_write_cr4(c, CR4_DE);
    ck_assert_int_eq(X(tm, 0x0f, 0x21, 0xe3), EX_UD);
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xe8), EX_UD);
    /* DR0-3 hold anything */
    c->r[R_EAX] = 0x12345678;
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xd8), -1); /* mov dr3, eax */
    ck_assert_uint_eq(c->dr[3], 0x12345678);
    /* General detect: #DB fault with BD set, GD cleared */
    c->r[R_EAX] = 0x2000;
    ck_assert_int_eq(X(tm, 0x0f, 0x23, 0xf8), -1);
    ck_assert_uint_eq(c->dr[7], 0x2400);
    uint32_t start = c->eip;
    ck_assert_int_eq(X(tm, 0x0f, 0x21, 0xc1), EX_DB); /* mov ecx, dr0 */
    ck_assert_uint_eq(c->eip, start); /* a fault */
    ck_assert(c->dr[6] & (1u << 13));
    ck_assert(!(c->dr[7] & (1u << 13)));
    ck_assert_int_eq(X(tm, 0x0f, 0x21, 0xc1), -1);
    tm_free(tm);
}
END_TEST

START_TEST(gdtr_idtr)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    static const uint8_t img[6] = {0xff, 0x07, 0x44, 0x33, 0x22, 0x11};
    tm_poke(tm, 0x100, img, 6);
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0x1d, 0x00, 0x01, 0, 0), -1); /* lidt [0x100] */
    ck_assert_uint_eq(c->idtr.base, 0x11223344);
    ck_assert_uint_eq(c->idtr.limit, 0x7ff);
    /* 16-bit operand size: 24 bits of base */
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x01, 0x15, 0x00, 0x01, 0, 0), -1); /* o16 lgdt */
    ck_assert_uint_eq(c->gdtr.base, 0x00223344);
    ck_assert_uint_eq(c->gdtr.limit, 0x7ff);
    /* SGDT/SIDT: not privileged; o16 stores the high byte as 0 */
    c->cpl = 3;
    tm_poke(tm, 0x200, "\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 7);
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0x0d, 0x00, 0x02, 0, 0), -1); /* sidt [0x200] */
    ck_assert_uint_eq(tm_peek(tm, 0x200, 2), 0x7ff);
    ck_assert_uint_eq(tm_peek(tm, 0x202, 4), 0x11223344);
    ck_assert_uint_eq(tm_peek(tm, 0x206, 1), 0xaa);
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x01, 0x0d, 0x00, 0x02, 0, 0), -1);
    ck_assert_uint_eq(tm_peek(tm, 0x202, 4), 0x00223344);
    /* register form is #UD (decoder) */
    struct insn i;
    ck_assert_int_eq(decode((const uint8_t[]){0x0f, 0x01, 0xc0}, 3, 1, &i), DEC_INVALID);
    tm_free(tm);
}
END_TEST

START_TEST(msw)
{
    struct tmachine *tm = real();
    struct cpu *c = &tm->cpu;
    /* LMSW loads only bits 0-3 and can set PE (real mode here) */
    c->r[R_EAX] = 0xfff3; /* PE, MP */
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0xf0), -1);
    ck_assert(cpu_pmode(c));
    ck_assert_uint_eq(c->cr0 & 0xffff, CR0_PE | CR0_MP | CR0_ET);
    ck_assert_uint_eq(c->cr0 & (CR0_CD | CR0_NW), CR0_CD | CR0_NW); /* untouched */
    /* ... but never clear it */
    c->r[R_EAX] = 0x0008; /* TS only */
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0xf0), -1);
    ck_assert_uint_eq(c->cr0 & 0xf, CR0_PE | CR0_TS);
    /* CLTS */
    ck_assert_int_eq(X(tm, 0x0f, 0x06), -1);
    ck_assert_uint_eq(c->cr0 & 0xf, CR0_PE);
    /* SMSW: 16-bit register form keeps the high word; 32-bit gets all of CR0 */
    c->r[R_EBX] = 0xabcd0000;
    ck_assert_int_eq(X(tm, 0x0f, 0x01, 0xe3), -1); /* smsw bx (code16) */
    ck_assert_uint_eq(c->r[R_EBX], 0xabcd0000 | (c->cr0 & 0xffff));
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x01, 0xe3), -1); /* smsw ebx */
    ck_assert_uint_eq(c->r[R_EBX], c->cr0);
    ck_assert(c->r[R_EBX] & CR0_CD);
    /* memory form: 16 bits */
    tm_poke(tm, 0x300, "\x55\x55\x55\x55", 4);
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x01, 0x26, 0x00, 0x03), -1); /* smsw [0x300] */
    ck_assert_uint_eq(tm_peek(tm, 0x300, 4), 0x55550000 | (c->cr0 & 0xffff));
    tm_free(tm);
}
END_TEST

START_TEST(ltr_lldt_str_sldt)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* LTR with a non-TSS, null, LDT-referencing and not-present selector */
    c->r[R_EAX] = 0x10;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x10);
    c->r[R_EAX] = 0x0003;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0);
    c->r[R_EAX] = 0x24;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x24);
    c->r[R_EAX] = 0x58; /* beyond the GDT limit */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x58);
    /* the good one: loads TR, marks the descriptor busy */
    c->r[R_EAX] = 0x20;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), -1);
    ck_assert_uint_eq(c->tr.sel, 0x20);
    ck_assert_uint_eq(c->tr.base, TSS);
    ck_assert_uint_eq(c->tr.limit, 0xfff);
    ck_assert_uint_eq((c->tr.ar >> 8) & 0xf, 0xb);
    ck_assert_uint_eq((tm_peek(tm, GDT + 0x20 + 4, 4) >> 8) & 0xf, 0xb);
    /* a busy TSS cannot be loaded again */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd8), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x20);

    /* LLDT */
    c->r[R_EAX] = 0x30;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), EX_NP);
    ck_assert_uint_eq(c->fault_err, 0x30);
    c->r[R_EAX] = 0x20; /* a TSS is not an LDT */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x20);
    c->r[R_EAX] = 0x2c; /* TI = 1 */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0x2c);
    c->r[R_EAX] = 0x28;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), -1);
    ck_assert_uint_eq(c->ldtr.base, LDT);
    ck_assert_uint_eq(c->ldtr.limit, 0xff);
    ck_assert(c->ldtr.valid);

    /* STR/SLDT: zero-extended into a 32-bit register, low word with o16,
     * 16 bits to memory; not privileged */
    c->cpl = 3;
    c->r[R_EBX] = 0xffffffff;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xcb), -1); /* str ebx */
    ck_assert_uint_eq(c->r[R_EBX], 0x20);
    c->r[R_EBX] = 0xffffffff;
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x00, 0xcb), -1); /* str bx */
    ck_assert_uint_eq(c->r[R_EBX], 0xffff0020);
    c->r[R_EBX] = 0xffffffff;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xc3), -1); /* sldt ebx */
    ck_assert_uint_eq(c->r[R_EBX], 0x28);
    tm_poke(tm, 0x400, "\x77\x77\x77\x77", 4);
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0x0d, 0x00, 0x04, 0, 0), -1); /* str [0x400] */
    ck_assert_uint_eq(tm_peek(tm, 0x400, 4), 0x77770020);

    /* null LLDT makes LDT references invalid */
    c->cpl = 0;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xd0), -1);
    ck_assert(!c->ldtr.valid);
    tm_free(tm);
}
END_TEST

START_TEST(lar_lsl_verr_verw_arpl)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* LAR of the flat code segment */
    c->r[R_EBX] = 0x08;
    c->r[R_EAX] = 0xdeadbeef;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(cpu_get_eflags(c) & F_ZF);
    ck_assert_uint_eq(c->r[R_EAX], 0x00cf9b00);
    ck_assert_int_eq(X(tm, 0x66, 0x0f, 0x02, 0xc3), -1); /* o16: low word */
    ck_assert_uint_eq(c->r[R_EAX], 0x00cf9b00);
    /* LSL: the scaled limit */
    ck_assert_int_eq(X(tm, 0x0f, 0x03, 0xc3), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0xffffffff);
    c->r[R_EBX] = 0x20; /* TSS: LAR and LSL both accept it */
    ck_assert_int_eq(X(tm, 0x0f, 0x03, 0xc3), -1);
    ck_assert(cpu_get_eflags(c) & F_ZF);
    ck_assert_uint_eq(c->r[R_EAX], 0xfff);
    /* interrupt gate: LAR and LSL refuse (ZF = 0, dest unchanged) */
    c->r[R_EBX] = 0x40;
    c->r[R_EAX] = 0x1234;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    ck_assert_uint_eq(c->r[R_EAX], 0x1234);
    /* null and beyond-limit selectors */
    c->r[R_EBX] = 0x0;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->r[R_EBX] = 0x80;
    ck_assert_int_eq(X(tm, 0x0f, 0x03, 0xc3), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    /* privilege: at CPL 3 a DPL 0 data segment is invisible, DPL 3 and
     * conforming code are visible */
    c->cpl = 3;
    c->r[R_EBX] = 0x10;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->r[R_EBX] = 0x1b;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(cpu_get_eflags(c) & F_ZF);
    c->r[R_EBX] = 0x38;
    ck_assert_int_eq(X(tm, 0x0f, 0x02, 0xc3), -1);
    ck_assert(cpu_get_eflags(c) & F_ZF);
    /* VERR/VERW */
    c->r[R_EAX] = 0x1b;
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), -1); /* verr ax */
    ck_assert(cpu_get_eflags(c) & F_ZF);
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe8), -1); /* verw ax */
    ck_assert(cpu_get_eflags(c) & F_ZF);
    c->r[R_EAX] = 0x10; /* DPL 0 at CPL 3 */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->cpl = 0;
    c->r[R_EAX] = 0x48; /* execute-only code: not readable, not writable */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->r[R_EAX] = 0x08; /* readable code, not writable */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), -1);
    ck_assert(cpu_get_eflags(c) & F_ZF);
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe8), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->r[R_EAX] = 0x50; /* read-only data */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe8), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    c->r[R_EAX] = 0x20; /* system segment */
    ck_assert_int_eq(X(tm, 0x0f, 0x00, 0xe0), -1);
    ck_assert(!(cpu_get_eflags(c) & F_ZF));
    /* ARPL: raises RPL, sets ZF; otherwise ZF = 0 and no change. Other
     * flags untouched. */
    cpu_set_eflags(c, F_CF, F_ARITH);
    c->r[R_EAX] = 0x0010;
    c->r[R_EBX] = 0x0003;
    ck_assert_int_eq(X(tm, 0x63, 0xd8), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x0013);
    ck_assert_uint_eq(cpu_get_eflags(c) & F_ARITH, F_CF | F_ZF);
    ck_assert_int_eq(X(tm, 0x63, 0xd8), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x0013);
    ck_assert_uint_eq(cpu_get_eflags(c) & F_ARITH, F_CF);
    tm_free(tm);
}
END_TEST

/* ------------------------------------------------------------------ */

static void push32(struct tmachine *tm, uint32_t v)
{
    tm->cpu.r[R_ESP] -= 4;
    tm_poke(tm, tm->cpu.r[R_ESP], &v, 4);
}

/* POPF of val at (cpl, iopl) starting from EFLAGS = F_RES1 | iopl */
static uint32_t popf_at(unsigned cpl, unsigned iopl, uint32_t val, int o16)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->cpl = (uint8_t)cpl;
    c->eflags = F_RES1 | (iopl << 12);
    push32(tm, val);
    if (o16)
        ck_assert_int_eq(X(tm, 0x66, 0x9d), -1);
    else
        ck_assert_int_eq(X(tm, 0x9d), -1);
    uint32_t f = cpu_get_eflags(c);
    tm_free(tm);
    return f;
}

START_TEST(popf_rules)
{
    uint32_t all = F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_RF | F_VM | F_AC | F_ID;
    uint32_t everything_but = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID | F_RES1;
    /* CPL 0: everything except VM and RF (cleared) */
    ck_assert_uint_eq(popf_at(0, 0, all, 0), everything_but | F_IF | F_IOPL);
    /* CPL 3, IOPL 0: IF and IOPL silently unchanged */
    ck_assert_uint_eq(popf_at(3, 0, all, 0), everything_but);
    /* CPL 3, IOPL 3: IF changes, IOPL stays (3, from before) */
    ck_assert_uint_eq(popf_at(3, 3, all, 0), everything_but | F_IF | F_IOPL);
    ck_assert_uint_eq(popf_at(3, 3, 0, 0), F_RES1 | F_IOPL);
    /* CPL 1, IOPL 1: IF changes; IOPL stays 1 */
    ck_assert_uint_eq(popf_at(1, 1, all, 0), everything_but | F_IF | (1u << 12));
    /* CPL 1, IOPL 0: IF not */
    ck_assert_uint_eq(popf_at(1, 0, F_IF, 0), F_RES1);
    /* 16-bit POPF: only the low word (AC/ID cannot be set this way) */
    ck_assert_uint_eq(popf_at(0, 0, all, 1),
                      (everything_but & 0xffff) | F_IF | F_IOPL);
    /* reserved bits read as their fixed values */
    ck_assert_uint_eq(popf_at(0, 0, 0xffc08028u, 0), F_RES1);
}
END_TEST

START_TEST(pushf_popf_v86_and_image)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->eflags = F_RES1 | F_RF | F_IF;
    lf_set(c, LF_LOGIC, 4, 0, 0, 0); /* ZF, PF lazily */
    ck_assert_int_eq(X(tm, 0x9c), -1);
    ck_assert_uint_eq(tm_peek(tm, c->r[R_ESP], 4), F_RES1 | F_IF | F_ZF | F_PF);
    ck_assert_int_eq(X(tm, 0x66, 0x9c), -1);
    ck_assert_uint_eq(c->r[R_ESP], 0x8000 - 6);
    /* V86, IOPL < 3: PUSHF, POPF, CLI, STI fault */
    c->eflags = F_RES1 | F_VM | (2u << 12);
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x9c), EX_GP);
    ck_assert_int_eq(X(tm, 0x9d), EX_GP);
    ck_assert_int_eq(X(tm, 0xfa), EX_GP);
    ck_assert_int_eq(X(tm, 0xfb), EX_GP);
    ck_assert_uint_eq(c->r[R_ESP], 0x8000 - 6);
    /* V86, IOPL 3: POPF cannot clear VM or change IOPL */
    c->eflags = F_RES1 | F_VM | F_IOPL;
    seg_update_cache(c, &c->seg[S_SS]);
    push32(tm, F_IF | F_CF);
    ck_assert_int_eq(X(tm, 0x9d), -1);
    ck_assert_uint_eq(cpu_get_eflags(c), F_RES1 | F_VM | F_IOPL | F_IF | F_CF);
    tm_free(tm);
}
END_TEST

START_TEST(cli_sti_rules)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->cpl = 3;
    c->eflags = F_RES1 | (2u << 12);
    ck_assert_int_eq(X(tm, 0xfb), EX_GP);
    c->cpl = 2;
    ck_assert_int_eq(X(tm, 0xfb), -1);
    ck_assert(c->eflags & F_IF);
    ck_assert(c->inhibit_intr);
    /* STI with IF already set: no shadow */
    c->inhibit_intr = false;
    ck_assert_int_eq(X(tm, 0xfb), -1);
    ck_assert(!c->inhibit_intr);
    ck_assert_int_eq(X(tm, 0xfa), -1);
    ck_assert(!(c->eflags & F_IF));
    tm_free(tm);
}
END_TEST

static int acks;
static int ack_irq(void *ctx)
{
    (void)ctx;
    acks++;
    return 0x40;
}

/* The interrupt shadow through the run loop: STI; NOP; NOP with INTR high
 * takes the interrupt after the NOP, not after the STI. */
START_TEST(sti_shadow_in_run_loop)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {0xfb, 0x90, 0x90, 0xf4};
    tm_real(tm, 0x7c00, code, sizeof(code));
    tm_trap_all_vectors(tm);
    tm->env.intr_ack = ack_irq;
    tm->cpu.intr_line = true;
    acks = 0;
    ck_assert_int_eq(tm_run(tm, 2), CPU_EXIT_BUDGET);
    ck_assert_int_eq(acks, 0);
    ck_assert_uint_eq(tm->cpu.eip, 0x7c02);
    tm->cpu.intr_line = true;
    tm_run(tm, 1);
    ck_assert_int_eq(acks, 1);
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0x7c02); /* interrupted before the 2nd NOP */
    tm_free(tm);
}
END_TEST

/* ------------------------------------------------------------------ */
/* I/O permission */

static uint32_t port_last_write;
static uint32_t port_rd(void *ctx, uint16_t port, int size)
{
    (void)ctx;
    (void)size;
    return 0x11223300u | (port & 0xff);
}
static void port_wr(void *ctx, uint16_t port, int size, uint32_t v)
{
    (void)ctx;
    (void)port;
    (void)size;
    port_last_write = v;
}

/* TSS at TSS with the bitmap at 0x68 covering ports 0-0x7f (16 bytes),
 * limit 0x78 (the trailing 0xff byte). Ports 0x64 and 0x68 are denied. */
static struct tmachine *io_machine(void)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    uint16_t base = 0x68;
    tm_poke(tm, TSS + 0x66, &base, 2);
    uint8_t map[17] = {0};
    map[0x64 >> 3] |= 1u << (0x64 & 7);
    map[0x68 >> 3] |= 1u << (0x68 & 7);
    map[16] = 0xff;
    tm_poke(tm, TSS + 0x68, map, sizeof(map));
    c->tr.sel = 0x20;
    c->tr.base = TSS;
    c->tr.limit = 0x78;
    c->tr.ar = AR_P | 0x0b00;
    c->tr.valid = true;
    bus_add_ports(&tm->bus, 0, 0x100, port_rd, port_wr, NULL);
    c->cpl = 3;
    return tm;
}

START_TEST(io_bitmap)
{
    struct tmachine *tm = io_machine();
    struct cpu *c = &tm->cpu;
    ck_assert_int_eq(X(tm, 0xe4, 0x60), -1); /* in al, 0x60 */
    ck_assert_uint_eq(c->r[R_EAX] & 0xff, 0x60);
    ck_assert_int_eq(X(tm, 0xe4, 0x64), EX_GP);
    ck_assert_uint_eq(c->fault_err, 0);
    /* 4 bytes from 0x62 include 0x64 */
    ck_assert_int_eq(X(tm, 0xe5, 0x62), EX_GP);
    ck_assert_int_eq(X(tm, 0xe5, 0x5c), -1); /* 0x5c-0x5f */
    ck_assert_uint_eq(c->r[R_EAX], 0x1122335c);
    /* straddling a bitmap byte: 0x67-0x68 denied by 0x68's bit, 0x67 alone ok */
    c->r[R_EDX] = 0x67;
    ck_assert_int_eq(X(tm, 0x66, 0xed), EX_GP); /* in ax, dx */
    ck_assert_int_eq(X(tm, 0xec), -1);          /* in al, dx */
    c->r[R_EAX] = 0xcafe;
    ck_assert_int_eq(X(tm, 0x66, 0xef), EX_GP); /* out dx, ax */
    ck_assert_int_eq(X(tm, 0xee), -1);          /* out dx, al */
    ck_assert_uint_eq(port_last_write, 0xfe);
    /* the last byte in the limit needs the next one too: port 0x78's byte is
     * at 0x77, its pair at 0x78 = limit (ok); port 0x80's byte is beyond */
    c->r[R_EDX] = 0x78;
    ck_assert_int_eq(X(tm, 0xec), -1);
    c->r[R_EDX] = 0x80;
    ck_assert_int_eq(X(tm, 0xec), EX_GP);
    c->tr.limit = 0x77; /* now 0x78's pair byte is beyond the limit too */
    c->r[R_EDX] = 0x78;
    ck_assert_int_eq(X(tm, 0xec), EX_GP);
    /* CPL <= IOPL: no bitmap at all */
    c->eflags |= F_IOPL;
    c->r[R_EDX] = 0x80;
    ck_assert_int_eq(X(tm, 0xec), -1);
    /* V86: the bitmap always applies, whatever IOPL */
    c->eflags |= F_VM;
    ck_assert_int_eq(X(tm, 0xec), EX_GP);
    c->r[R_EDX] = 0x60;
    ck_assert_int_eq(X(tm, 0xec), -1);
    c->eflags &= ~(uint32_t)(F_VM | F_IOPL);
    /* 16-bit TSS: #GP */
    c->tr.ar = AR_P | 0x0300;
    ck_assert_int_eq(X(tm, 0xec), EX_GP);
    /* CPL 0 with IOPL 0 never looks */
    c->cpl = 0;
    ck_assert_int_eq(X(tm, 0xe4, 0x64), -1);
    tm_free(tm);
}
END_TEST

START_TEST(io_breakpoint_trap)
{
    struct tmachine *tm = io_machine();
    struct cpu *c = &tm->cpu;
    c->cpl = 0;
    cpu_write_cr4(c, CR4_DE);
    c->dr[0] = 0x61;
    c->dr[7] = 0x400 | 0x1 | (2u << 16); /* L0, R/W0 = I/O, LEN0 = 1 */
    ck_assert_int_eq(X(tm, 0xe4, 0x60), -1);
    ck_assert(!c->data_bp_hit);
    ck_assert_int_eq(X(tm, 0x66, 0xe5, 0x60), -1); /* in ax, 0x60 touches 0x61 */
    ck_assert(c->data_bp_hit);                     /* the run loop's #DB trap */
    ck_assert_uint_eq(c->r[R_EAX] & 0xffff, 0x3360);
    ck_assert_uint_eq(c->dr[6] & 0xf, 1);
    /* without CR4.DE, R/W = 10 is not an I/O breakpoint */
    c->data_bp_hit = false;
    cpu_write_cr4(c, 0);
    ck_assert_int_eq(X(tm, 0xe6, 0x61), -1);
    ck_assert(!c->data_bp_hit);
    tm_free(tm);
}
END_TEST

/* Through the run loop: real mode, MOV CR4 / MOV DR set up an I/O
 * breakpoint on port 0x61; OUT to it traps with the IP after the OUT. */
START_TEST(io_breakpoint_run_loop)
{
    struct tmachine *tm = tm_new(1024);
    static const uint8_t code[] = {
        0x66, 0xb8, 0x08, 0, 0, 0,       /* mov eax, CR4_DE */
        0x0f, 0x22, 0xe0,                /* mov cr4, eax */
        0x66, 0xb8, 0x61, 0, 0, 0,       /* mov eax, 0x61 */
        0x0f, 0x23, 0xc0,                /* mov dr0, eax */
        0x66, 0xb8, 0x01, 0x04, 0x02, 0, /* mov eax, 0x20401: L0, R/W0 = 10 */
        0x0f, 0x23, 0xf8,                /* mov dr7, eax */
        0xe6, 0x60,                      /* out 0x60, al: no match */
        0xe6, 0x61,                      /* out 0x61, al: trap */
        0xf4,
    };
    tm_real(tm, 0x7c00, code, sizeof(code));
    tm_trap_all_vectors(tm);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_int_eq(tm_last_vector(tm), EX_DB);
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0x7c00 + sizeof(code) - 1);
    ck_assert_uint_eq(tm->cpu.dr[6] & 0xf, 1);
    tm_free(tm);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(cpuid_values)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    c->cpl = 3;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(c->r[R_EAX], 2);
    char v[13] = {0};
    memcpy(v, &c->r[R_EBX], 4);
    memcpy(v + 4, &c->r[R_EDX], 4);
    memcpy(v + 8, &c->r[R_ECX], 4);
    ck_assert_str_eq(v, "GenuineIntel");
    c->r[R_EAX] = 1;
    ck_assert_int_eq(X(tm, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x633);
    ck_assert_uint_eq(c->r[R_EBX], 0);
    ck_assert_uint_eq(c->r[R_ECX], 0);
    uint32_t want = CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP | CPUID_PGE |
                    CPUID_CMOV;
    ck_assert_uint_eq(c->r[R_EDX] & want, want);
    ck_assert_uint_eq(c->r[R_EDX] & (CPUID_VME | CPUID_PAE | CPUID_MCE | CPUID_APIC |
                                     CPUID_MTRR | CPUID_MCA | CPUID_PAT | CPUID_PSE36 |
                                     CPUID_MMX | CPUID_FXSR),
                      0);
    ck_assert_uint_eq(c->r[R_EDX], cpuid_features_edx());
    c->r[R_EAX] = 2;
    ck_assert_int_eq(X(tm, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x03020101);
    ck_assert_uint_eq(c->r[R_EDX], 0x0c040843);
    /* above the maximum, basic or extended: leaf 2's data */
    c->r[R_EAX] = 0x80000000u;
    ck_assert_int_eq(X(tm, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x03020101);
    c->r[R_EAX] = 4;
    ck_assert_int_eq(X(tm, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(c->r[R_EDX], 0x0c040843);
    tm_free(tm);
}
END_TEST

START_TEST(msrs_and_tsc)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* unknown MSRs, APIC_BASE, writes to PLATFORM_ID: #GP */
    static const uint32_t bad[] = {0x1b, 0x3a, 0xfe, 0x2ff, 0x1a0, 0xc0000080u, 0xc3};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        c->r[R_ECX] = bad[k];
        ck_assert_int_eq(X(tm, 0x0f, 0x32), EX_GP);
        ck_assert_int_eq(X(tm, 0x0f, 0x30), EX_GP);
    }
    c->r[R_ECX] = MSR_PLATFORM_ID;
    ck_assert_int_eq(X(tm, 0x0f, 0x32), -1);
    ck_assert_int_eq(X(tm, 0x0f, 0x30), EX_GP);
    /* the microcode-revision dance Linux does */
    c->r[R_ECX] = MSR_BIOS_SIGN_ID;
    c->r[R_EAX] = c->r[R_EDX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1);
    ck_assert_int_eq(X(tm, 0x0f, 0x32), -1);
    ck_assert_uint_eq(c->r[R_EDX], 0);
    /* P6 performance counters: PERFCTR writes sign-extend 32 bits to 40;
     * INST_RETIRED counts while EVNTSEL0.EN is set; RDPMC reads them. */
    c->r[R_ECX] = 0x186;
    c->r[R_EAX] = (1u << 22) | 0xc0;
    c->r[R_EDX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1);
    c->r[R_ECX] = 0xc1;
    c->r[R_EAX] = 0xfffffff0u;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1);
    c->icount += 5;
    ck_assert_int_eq(X(tm, 0x0f, 0x32), -1);
    ck_assert_uint_eq(c->r[R_EDX], 0xff);
    ck_assert_uint_eq(c->r[R_EAX], 0xfffffff5u);
    c->r[R_ECX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x33), -1); /* rdpmc */
    ck_assert_uint_eq(c->r[R_EDX], 0xff);
    c->r[R_ECX] = 0x186;
    c->r[R_EAX] = c->r[R_EDX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1); /* stop: the count freezes */
    c->r[R_ECX] = 0xc1;
    ck_assert_int_eq(X(tm, 0x0f, 0x32), -1);
    uint32_t frozen = c->r[R_EAX];
    c->icount += 100;
    ck_assert_int_eq(X(tm, 0x0f, 0x32), -1);
    ck_assert_uint_eq(c->r[R_EAX], frozen);
    /* TSC: WRMSR writes the low 32 bits, clears the high half; it counts
     * retired instructions */
    c->r[R_ECX] = MSR_TSC;
    c->r[R_EAX] = 1000;
    c->r[R_EDX] = 5;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1);
    c->icount += 10;
    ck_assert_int_eq(X(tm, 0x0f, 0x31), -1); /* rdtsc */
    ck_assert_uint_eq(c->r[R_EAX], 1010);
    ck_assert_uint_eq(c->r[R_EDX], 0);
    ck_assert_uint_eq(cpu_tsc(c), 1010);
    /* CR4.TSD: RDTSC at CPL 3 #GP, at CPL 0 fine */
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x0f, 0x31), -1);
    cpu_write_cr4(c, CR4_TSD);
    ck_assert_int_eq(X(tm, 0x0f, 0x31), EX_GP);
    c->cpl = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x31), -1);
    /* RDPMC: ECX 0/1; CR4.PCE lets CPL 3 read */
    c->r[R_ECX] = 2;
    ck_assert_int_eq(X(tm, 0x0f, 0x33), EX_GP);
    c->r[R_ECX] = 1;
    c->r[R_EAX] = c->r[R_EDX] = 0xffffffff;
    ck_assert_int_eq(X(tm, 0x0f, 0x33), -1);
    ck_assert_uint_eq(c->r[R_EAX] | c->r[R_EDX], 0);
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x0f, 0x33), EX_GP);
    cpu_write_cr4(c, CR4_PCE);
    ck_assert_int_eq(X(tm, 0x0f, 0x33), -1);
    tm_free(tm);
}
END_TEST

static void wrmsr_ok(struct tmachine *tm, uint32_t msr, uint32_t v)
{
    tm->cpu.r[R_ECX] = msr;
    tm->cpu.r[R_EAX] = v;
    tm->cpu.r[R_EDX] = 0;
    ck_assert_int_eq(X(tm, 0x0f, 0x30), -1);
}

START_TEST(sysenter_sysexit)
{
    struct tmachine *tm = pm();
    struct cpu *c = &tm->cpu;
    /* SYSENTER_CS = 0: both #GP */
    ck_assert_int_eq(X(tm, 0x0f, 0x34), EX_GP);
    ck_assert_int_eq(X(tm, 0x0f, 0x35), EX_GP);
    wrmsr_ok(tm, MSR_SYSENTER_CS, 0x08);
    wrmsr_ok(tm, MSR_SYSENTER_ESP, 0x9000);
    wrmsr_ok(tm, MSR_SYSENTER_EIP, 0xc0001000u);
    /* SYSEXIT to user at EDX with the stack at ECX */
    c->r[R_EDX] = 0x08048000;
    c->r[R_ECX] = 0xbffff000u;
    c->eflags |= F_IF;
    ck_assert_int_eq(X(tm, 0x0f, 0x35), -1);
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->seg[S_CS].sel, 0x1b);
    ck_assert_uint_eq(c->seg[S_SS].sel, 0x23);
    ck_assert_uint_eq(AR_DPL_OF(c->seg[S_CS].ar), 3);
    ck_assert_uint_eq(AR_DPL_OF(c->seg[S_SS].ar), 3);
    ck_assert(cpu_code32(c) && cpu_stack32(c));
    ck_assert_uint_eq(c->eip, 0x08048000);
    ck_assert_uint_eq(c->r[R_ESP], 0xbffff000u);
    ck_assert(c->eflags & F_IF);
    /* SYSEXIT again, at CPL 3: #GP */
    ck_assert_int_eq(X(tm, 0x0f, 0x35), EX_GP);
    /* SYSENTER back to ring 0 */
    ck_assert_int_eq(X(tm, 0x0f, 0x34), -1);
    ck_assert_uint_eq(c->cpl, 0);
    ck_assert_uint_eq(c->seg[S_CS].sel, 0x08);
    ck_assert_uint_eq(c->seg[S_SS].sel, 0x10);
    ck_assert_uint_eq(AR_DPL_OF(c->seg[S_CS].ar), 0);
    ck_assert_uint_eq(c->seg[S_SS].limit, 0xffffffffu);
    ck_assert_uint_eq(c->eip, 0xc0001000u);
    ck_assert_uint_eq(c->r[R_ESP], 0x9000);
    ck_assert(!(c->eflags & F_IF));
    /* from V86 mode: VM cleared */
    c->eflags |= F_VM;
    c->cpl = 3;
    ck_assert_int_eq(X(tm, 0x0f, 0x34), -1);
    ck_assert(!cpu_v86(c));
    tm_free(tm);

    /* real mode: both #GP */
    tm = real();
    tm->cpu.msr.sysenter_cs = 0x08;
    ck_assert_int_eq(X(tm, 0x0f, 0x34), EX_GP);
    ck_assert_int_eq(X(tm, 0x0f, 0x35), EX_GP);
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("system");
    TCase *t = tcase_create("system");
    tcase_add_test(t, priv_instructions_gp_at_cpl3);
    tcase_add_test(t, v86_privileged_gp);
    tcase_add_test(t, real_mode_0f00_ud);
    tcase_add_test(t, cr0_cr4_checks);
    tcase_add_test(t, debug_registers);
    tcase_add_test(t, gdtr_idtr);
    tcase_add_test(t, msw);
    tcase_add_test(t, ltr_lldt_str_sldt);
    tcase_add_test(t, lar_lsl_verr_verw_arpl);
    tcase_add_test(t, popf_rules);
    tcase_add_test(t, pushf_popf_v86_and_image);
    tcase_add_test(t, cli_sti_rules);
    tcase_add_test(t, sti_shadow_in_run_loop);
    tcase_add_test(t, io_bitmap);
    tcase_add_test(t, io_breakpoint_trap);
    tcase_add_test(t, io_breakpoint_run_loop);
    tcase_add_test(t, cpuid_values);
    tcase_add_test(t, msrs_and_tsc);
    tcase_add_test(t, sysenter_sysexit);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
