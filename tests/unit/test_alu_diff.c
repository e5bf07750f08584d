/*
 * Differential test of the integer ALU against the host CPU.
 *
 * Each instruction form is encoded once per random case and run twice: on
 * the host, from a small generated stub in an executable page (64-bit code
 * runs the same encodings with 8-, 16- and 32-bit operands: no REX, so
 * registers 4-7 of byte forms are AH CH DH BH as in 32-bit code), and on the
 * emulated CPU in 32-bit flat protected mode, followed by HLT. Registers
 * and the flags the SDM defines for that instruction and count are compared;
 * undefined flags are masked here and checked against the documented P6
 * choices by test_alu_unit.c. A quarter of the cases give the emulator the
 * memory form of the r/m operand (disp32 at MEM) while the host uses the
 * register: this checks the read-modify-write paths against the same oracle.
 *
 * Host-specific encodings: 40-4F are REX prefixes in 64-bit mode, so the
 * host runs INC/DEC Zv as FF /0 and FF /1; 82 is invalid there, so the host
 * runs 80 for it. The host is an AMD CPU: where AMD and Intel differ in a
 * flag the SDM defines there is no difference by definition.
 *
 * Deterministic: a fixed xorshift seed. Prints one summary line per family.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

#define CODE 0x1000u
#define MEM 0x8000u
#define STACK 0x7000u
#define CASES 10000

/* ---- random numbers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* Random operand with edge values a good part of the time. */
static uint32_t rnd_operand(void)
{
    static const uint32_t edge[] = {0,          1,          2,          0x7f,       0x80,
                                    0xff,       0x7fff,     0x8000,     0xffff,     0x7fffffff,
                                    0x80000000, 0xffffffff, 0x0f,       0x10,       0x99,
                                    0xfffffffe, 0xff80,     0xffffff80, 0x00ff00ff, 0xff00ff00};
    uint32_t k = rnd() % 8;
    if (k == 0)
        return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
    if (k == 1) {
        uint32_t b = 1u << (rnd() % 32);
        return (rnd() & 1) ? b : b - 1;
    }
    if (k == 2) /* small values, sign-extended or not */
        return (rnd() & 1) ? rnd() % 16 : (uint32_t)-(int32_t)(rnd() % 16);
    return rnd();
}

/* ---- the host side ---- */

struct hstate {
    uint64_t r[8]; /* rax rcx rdx rbx (rsp unused) rbp rsi rdi */
    uint64_t flags;
};

static uint8_t *host_page;
static size_t host_insn_at; /* offset of the instruction in the stub */
static uint8_t host_cur[32];
static size_t host_cur_len = (size_t)-1;

static const uint8_t stub_pre[] = {
    0x53, 0x55, 0x41, 0x57,       /* push rbx; push rbp; push r15 */
    0x49, 0x89, 0xff,             /* mov r15, rdi */
    0x41, 0xff, 0x77, 0x40,       /* push qword [r15+64] */
    0x9d,                         /* popfq */
    0x49, 0x8b, 0x47, 0x00,       /* mov rax, [r15] */
    0x49, 0x8b, 0x4f, 0x08,       /* mov rcx, [r15+8] */
    0x49, 0x8b, 0x57, 0x10,       /* mov rdx, [r15+16] */
    0x49, 0x8b, 0x5f, 0x18,       /* mov rbx, [r15+24] */
    0x49, 0x8b, 0x6f, 0x28,       /* mov rbp, [r15+40] */
    0x49, 0x8b, 0x77, 0x30,       /* mov rsi, [r15+48] */
    0x49, 0x8b, 0x7f, 0x38,       /* mov rdi, [r15+56] */
};
static const uint8_t stub_post[] = {
    0x9c,                         /* pushfq */
    0x41, 0x8f, 0x47, 0x40,       /* pop qword [r15+64] */
    0x49, 0x89, 0x47, 0x00,       /* mov [r15], rax */
    0x49, 0x89, 0x4f, 0x08,       /* mov [r15+8], rcx */
    0x49, 0x89, 0x57, 0x10,       /* mov [r15+16], rdx */
    0x49, 0x89, 0x5f, 0x18,       /* mov [r15+24], rbx */
    0x49, 0x89, 0x6f, 0x28,       /* mov [r15+40], rbp */
    0x49, 0x89, 0x77, 0x30,       /* mov [r15+48], rsi */
    0x49, 0x89, 0x7f, 0x38,       /* mov [r15+56], rdi */
    0x41, 0x5f, 0x5d, 0x5b, 0xc3, /* pop r15; pop rbp; pop rbx; ret */
};

static void host_init(void)
{
    if (host_page)
        return;
    host_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    ck_assert_ptr_ne(host_page, MAP_FAILED);
    memcpy(host_page, stub_pre, sizeof(stub_pre));
    host_insn_at = sizeof(stub_pre);
}

static void host_run(const uint8_t *insn, size_t n, struct hstate *s)
{
    if (n != host_cur_len || memcmp(insn, host_cur, n)) {
        memcpy(host_page + host_insn_at, insn, n);
        memcpy(host_page + host_insn_at + n, stub_post, sizeof(stub_post));
        memcpy(host_cur, insn, n);
        host_cur_len = n;
        __builtin___clear_cache((char *)host_page, (char *)host_page + 4096);
    }
    ((void (*)(struct hstate *))(void *)host_page)(s);
}

/* ---- instruction forms ---- */

enum kind {
    K_ARITH, /* all six flags defined */
    K_LOGIC, /* AF undefined */
    K_NONE,  /* no flag changes: all compared */
    K_SHIFT, /* SHL/SHR/SAR */
    K_ROT,   /* ROL/ROR */
    K_RC,    /* RCL/RCR */
    K_SHD,   /* SHLD/SHRD */
    K_MUL,
    K_DIV,
    K_BT,
    K_BSX,   /* BSF/BSR */
};

enum { IMM_NONE, IMM_B, IMM_Z, IMM_COUNT };
enum { CNT_NONE, CNT_ONE, CNT_CL, CNT_IB }; /* where a shift count comes from */

struct form {
    const char *family;
    const char *name;
    int size;                 /* operand size 1, 2, 4 */
    uint8_t op[2];            /* opcode (0F xx: op[0] = 0x0f) */
    uint8_t hop;              /* host opcode byte replacing op[0] (0: same) */
    int modrm;                /* 1: ModRM follows */
    int ext;                  /* ModRM.reg for group forms, -1: register operand */
    int zreg;                 /* emulator encodes the r/m register in the opcode (INC/DEC Zv) */
    int imm;                  /* IMM_* */
    enum kind kind;
    int cnt;                  /* CNT_* */
    int sub;                  /* shift: ModRM.reg (4 SHL 5 SHR 7 SAR ...); SHD: 0 left 1 right;
                                 DIV: 0 unsigned 1 signed */
    int no_mem;               /* memory form differs semantically (BT Gv) or no E operand */
    int implicit_ax_dx;       /* writes eAX/eDX implicitly (MUL/DIV) */
    int host_ext0;            /* the host runs ModRM.reg 0 instead of ext (TEST /1) */
};

#define MAX_FORMS 512
static struct form forms[MAX_FORMS];
static int nforms;

static struct form *add_form(const char *family, const char *name, int size, int op0, int op1,
                             int modrm, int ext, int imm, enum kind kind)
{
    if (nforms >= MAX_FORMS)
        abort();
    struct form *f = &forms[nforms++];
    memset(f, 0, sizeof(*f));
    f->family = family;
    f->name = name;
    f->size = size;
    f->op[0] = (uint8_t)op0;
    f->op[1] = (uint8_t)op1;
    f->modrm = modrm;
    f->ext = ext;
    f->imm = imm;
    f->kind = kind;
    return f;
}

static const char *alu_names[8] = {"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"};
static const char *sh_names[8] = {"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"};
static const char *cc_names[16] = {"O", "NO", "B", "NB", "Z", "NZ", "BE", "NBE",
                                   "S", "NS", "P", "NP", "L", "NL", "LE", "NLE"};

static void build_forms(void)
{
    static char names[MAX_FORMS][32];
    int nn = 0;
#define NAME(...) (snprintf(names[nn], sizeof(names[nn]), __VA_ARGS__), names[nn++])
    nforms = 0;
    for (int k = 0; k < 8; k++) {
        enum kind kd = (k == 1 || k == 4 || k == 6) ? K_LOGIC : K_ARITH;
        const char *n = alu_names[k];
        add_form("alu", NAME("%s Eb,Gb", n), 1, 8 * k, -1, 1, -1, IMM_NONE, kd);
        add_form("alu", NAME("%s Gb,Eb", n), 1, 8 * k + 2, -1, 1, -1, IMM_NONE, kd);
        add_form("alu", NAME("%s AL,Ib", n), 1, 8 * k + 4, -1, 0, -1, IMM_B, kd);
        add_form("alu", NAME("%s Eb,Ib(80)", n), 1, 0x80, -1, 1, k, IMM_B, kd);
        add_form("alu", NAME("%s Eb,Ib(82)", n), 1, 0x82, -1, 1, k, IMM_B, kd)->hop = 0x80;
        for (int s = 2; s <= 4; s += 2) {
            add_form("alu", NAME("%s Ev,Gv/%d", n, s * 8), s, 8 * k + 1, -1, 1, -1, IMM_NONE, kd);
            add_form("alu", NAME("%s Gv,Ev/%d", n, s * 8), s, 8 * k + 3, -1, 1, -1, IMM_NONE, kd);
            add_form("alu", NAME("%s eAX,Iz/%d", n, s * 8), s, 8 * k + 5, -1, 0, -1, IMM_Z, kd);
            add_form("alu", NAME("%s Ev,Iz/%d", n, s * 8), s, 0x81, -1, 1, k, IMM_Z, kd);
            add_form("alu", NAME("%s Ev,Ib/%d", n, s * 8), s, 0x83, -1, 1, k, IMM_B, kd);
        }
    }
    add_form("test", "TEST Eb,Gb", 1, 0x84, -1, 1, -1, IMM_NONE, K_LOGIC);
    add_form("test", "TEST AL,Ib", 1, 0xa8, -1, 0, -1, IMM_B, K_LOGIC);
    add_form("test", "TEST Eb,Ib", 1, 0xf6, -1, 1, 0, IMM_B, K_LOGIC);
    /* F6 /1 is an undocumented alias of TEST on Intel; the host runs /0. */
    add_form("test", "TEST Eb,Ib(/1)", 1, 0xf6, -1, 1, 1, IMM_B, K_LOGIC)->host_ext0 = 1;
    for (int s = 2; s <= 4; s += 2) {
        add_form("test", NAME("TEST Ev,Gv/%d", s * 8), s, 0x85, -1, 1, -1, IMM_NONE, K_LOGIC);
        add_form("test", NAME("TEST eAX,Iz/%d", s * 8), s, 0xa9, -1, 0, -1, IMM_Z, K_LOGIC);
        add_form("test", NAME("TEST Ev,Iz/%d", s * 8), s, 0xf7, -1, 1, 0, IMM_Z, K_LOGIC);
        add_form("test", NAME("TEST Ev,Iz(/1)/%d", s * 8), s, 0xf7, -1, 1, 1, IMM_Z, K_LOGIC)
            ->host_ext0 = 1;
    }

    add_form("incdec", "INC Eb", 1, 0xfe, -1, 1, 0, IMM_NONE, K_ARITH);
    add_form("incdec", "DEC Eb", 1, 0xfe, -1, 1, 1, IMM_NONE, K_ARITH);
    add_form("notneg", "NOT Eb", 1, 0xf6, -1, 1, 2, IMM_NONE, K_NONE);
    add_form("notneg", "NEG Eb", 1, 0xf6, -1, 1, 3, IMM_NONE, K_ARITH);
    for (int s = 2; s <= 4; s += 2) {
        add_form("incdec", NAME("INC Ev/%d", s * 8), s, 0xff, -1, 1, 0, IMM_NONE, K_ARITH);
        add_form("incdec", NAME("DEC Ev/%d", s * 8), s, 0xff, -1, 1, 1, IMM_NONE, K_ARITH);
        struct form *f = add_form("incdec", NAME("INC Zv/%d", s * 8), s, 0xff, -1, 1, 0, IMM_NONE, K_ARITH);
        f->zreg = 0x40;
        f = add_form("incdec", NAME("DEC Zv/%d", s * 8), s, 0xff, -1, 1, 1, IMM_NONE, K_ARITH);
        f->zreg = 0x48;
        add_form("notneg", NAME("NOT Ev/%d", s * 8), s, 0xf7, -1, 1, 2, IMM_NONE, K_NONE);
        add_form("notneg", NAME("NEG Ev/%d", s * 8), s, 0xf7, -1, 1, 3, IMM_NONE, K_ARITH);
    }

    for (int k = 0; k < 8; k++) {
        enum kind kd = k < 2 ? K_ROT : k < 4 ? K_RC : K_SHIFT;
        for (int s = 1; s <= 4; s *= 2) {
            int b = s == 1 ? 0 : 1;
            struct form *f;
            f = add_form("shift", NAME("%s E%d,1", sh_names[k], s * 8), s, 0xd0 + b, -1, 1, k, IMM_NONE, kd);
            f->cnt = CNT_ONE, f->sub = k;
            f = add_form("shift", NAME("%s E%d,CL", sh_names[k], s * 8), s, 0xd2 + b, -1, 1, k, IMM_NONE, kd);
            f->cnt = CNT_CL, f->sub = k;
            f = add_form("shift", NAME("%s E%d,Ib", sh_names[k], s * 8), s, 0xc0 + b, -1, 1, k, IMM_COUNT, kd);
            f->cnt = CNT_IB, f->sub = k;
        }
    }
    for (int s = 2; s <= 4; s += 2) {
        struct form *f;
        f = add_form("shd", NAME("SHLD Ib/%d", s * 8), s, 0x0f, 0xa4, 1, -1, IMM_COUNT, K_SHD);
        f->cnt = CNT_IB, f->sub = 0;
        f = add_form("shd", NAME("SHLD CL/%d", s * 8), s, 0x0f, 0xa5, 1, -1, IMM_NONE, K_SHD);
        f->cnt = CNT_CL, f->sub = 0;
        f = add_form("shd", NAME("SHRD Ib/%d", s * 8), s, 0x0f, 0xac, 1, -1, IMM_COUNT, K_SHD);
        f->cnt = CNT_IB, f->sub = 1;
        f = add_form("shd", NAME("SHRD CL/%d", s * 8), s, 0x0f, 0xad, 1, -1, IMM_NONE, K_SHD);
        f->cnt = CNT_CL, f->sub = 1;
    }

    static const char *md[4] = {"MUL", "IMUL", "DIV", "IDIV"};
    for (int k = 0; k < 4; k++) {
        for (int s = 1; s <= 4; s *= 2) {
            struct form *f = add_form("muldiv", NAME("%s E%d", md[k], s * 8), s, s == 1 ? 0xf6 : 0xf7,
                                      -1, 1, 4 + k, IMM_NONE, k < 2 ? K_MUL : K_DIV);
            f->sub = k & 1;
            f->implicit_ax_dx = 1;
        }
    }
    for (int s = 2; s <= 4; s += 2) {
        add_form("muldiv", NAME("IMUL Gv,Ev/%d", s * 8), s, 0x0f, 0xaf, 1, -1, IMM_NONE, K_MUL);
        add_form("muldiv", NAME("IMUL Gv,Ev,Iz/%d", s * 8), s, 0x69, -1, 1, -1, IMM_Z, K_MUL);
        add_form("muldiv", NAME("IMUL Gv,Ev,Ib/%d", s * 8), s, 0x6b, -1, 1, -1, IMM_B, K_MUL);
    }

    static const char *bt[4] = {"BT", "BTS", "BTR", "BTC"};
    static const uint8_t bt_op[4] = {0xa3, 0xab, 0xb3, 0xbb};
    for (int k = 0; k < 4; k++)
        for (int s = 2; s <= 4; s += 2) {
            add_form("bitops", NAME("%s Ev,Gv/%d", bt[k], s * 8), s, 0x0f, bt_op[k], 1, -1, IMM_NONE, K_BT)
                ->no_mem = 1;
            add_form("bitops", NAME("%s Ev,Ib/%d", bt[k], s * 8), s, 0x0f, 0xba, 1, 4 + k, IMM_B, K_BT);
        }
    for (int s = 2; s <= 4; s += 2) {
        add_form("bitops", NAME("BSF/%d", s * 8), s, 0x0f, 0xbc, 1, -1, IMM_NONE, K_BSX);
        add_form("bitops", NAME("BSR/%d", s * 8), s, 0x0f, 0xbd, 1, -1, IMM_NONE, K_BSX);
    }
    struct form *f = add_form("bitops", "BSWAP", 4, 0x0f, 0xc8, 0, -1, IMM_NONE, K_NONE);
    f->zreg = 0xc8;
    f->no_mem = 1;
    for (int cc = 0; cc < 16; cc++) {
        add_form("setcc", NAME("SET%s", cc_names[cc]), 1, 0x0f, 0x90 + cc, 1, 0, IMM_NONE, K_NONE);
        for (int s = 2; s <= 4; s += 2)
            add_form("cmovcc", NAME("CMOV%s/%d", cc_names[cc], s * 8), s, 0x0f, 0x40 + cc, 1, -1,
                     IMM_NONE, K_NONE);
    }
#undef NAME
}

/* ---- one case ---- */

struct enc {
    uint8_t b[16];
    size_t n;
};

static void put(struct enc *e, uint8_t v) { e->b[e->n++] = v; }
static void put_le(struct enc *e, uint32_t v, int n)
{
    for (int k = 0; k < n; k++)
        put(e, (uint8_t)(v >> (8 * k)));
}

/* Encodes f with r/m register rm (or memory at MEM when mem) and reg. */
static void encode(const struct form *f, bool host, bool mem, int rm, int reg, uint32_t imm,
                   struct enc *e)
{
    e->n = 0;
    if (f->size == 2)
        put(e, 0x66);
    if (f->zreg && !(host && f->zreg != 0xc8)) {
        /* emulator's INC/DEC Zv, or BSWAP on both */
        if (f->op[0] == 0x0f)
            put(e, 0x0f);
        put(e, (uint8_t)(f->zreg + rm));
        return;
    }
    uint8_t op0 = host && f->hop ? f->hop : f->op[0];
    put(e, op0);
    if (op0 == 0x0f)
        put(e, f->op[1]);
    if (f->modrm) {
        int r = f->ext >= 0 ? (host && f->host_ext0 ? 0 : f->ext) : reg;
        if (mem) {
            put(e, (uint8_t)((r << 3) | 5));
            put_le(e, MEM, 4);
        } else {
            put(e, (uint8_t)(0xc0 | (r << 3) | rm));
        }
    }
    switch (f->imm) {
    case IMM_B: case IMM_COUNT: put(e, (uint8_t)imm); break;
    case IMM_Z: put_le(e, imm, f->size); break;
    default: break;
    }
}

static uint32_t reg_val(const uint32_t *r, int reg, int size)
{
    if (size == 1)
        return reg < 4 ? r[reg] & 0xff : (r[reg - 4] >> 8) & 0xff;
    return size == 2 ? r[reg] & 0xffff : r[reg];
}
static void set_reg_val(uint32_t *r, int reg, int size, uint32_t v)
{
    if (size == 1) {
        if (reg < 4)
            r[reg] = (r[reg] & ~0xffu) | (v & 0xff);
        else
            r[reg - 4] = (r[reg - 4] & ~0xff00u) | ((v & 0xff) << 8);
    } else if (size == 2) {
        r[reg] = (r[reg] & ~0xffffu) | (v & 0xffff);
    } else {
        r[reg] = v;
    }
}

/* Would the host fault on this DIV/IDIV? */
static bool div_faults(const struct form *f, const uint32_t *r, int rm)
{
    uint32_t d = reg_val(r, rm, f->size);
    if (!d)
        return true;
    if (f->size == 1) {
        uint32_t a = r[R_EAX] & 0xffff;
        if (!f->sub)
            return a / d > 0xff;
        int32_t q = (int16_t)a / (int8_t)d;
        return q != (int8_t)q;
    }
    if (f->size == 2) {
        uint32_t a = ((r[R_EDX] & 0xffff) << 16) | (r[R_EAX] & 0xffff);
        if (!f->sub)
            return a / d > 0xffff;
        if ((int16_t)d == -1 && a == 0x80000000u)
            return true;
        int32_t q = (int32_t)a / (int16_t)d;
        return q != (int16_t)q;
    }
    uint64_t a = ((uint64_t)r[R_EDX] << 32) | r[R_EAX];
    if (!f->sub)
        return a / d > 0xffffffffu;
    if ((int32_t)d == -1 && a == 0x8000000000000000ull)
        return true;
    int64_t q = (int64_t)a / (int32_t)d;
    return q != (int32_t)q;
}

/* Flags not compared for this form and count. */
static uint32_t undefined_flags(const struct form *f, unsigned count, bool *skip_result)
{
    unsigned bits = 8 * (unsigned)f->size;
    *skip_result = false;
    switch (f->kind) {
    case K_LOGIC: return F_AF;
    case K_SHIFT:
        if (!count)
            return 0;
        return F_AF | (count > 1 ? F_OF : 0) | (f->sub != 7 && count >= bits ? F_CF : 0);
    case K_ROT: case K_RC: return count > 1 ? F_OF : 0;
    case K_SHD:
        if (!count)
            return 0;
        if (count > bits) {
            *skip_result = true;
            return F_ARITH;
        }
        return F_AF | (count > 1 ? F_OF : 0);
    case K_MUL: return F_SF | F_ZF | F_AF | F_PF;
    case K_DIV: return F_ARITH;
    case K_BT: return F_OF | F_SF | F_AF | F_PF;
    case K_BSX: return F_CF | F_OF | F_SF | F_AF | F_PF;
    default: return 0;
    }
}

struct family_stats {
    const char *name;
    long cases, mem_cases, skipped, failures;
};
static struct family_stats fam[16];
static int nfam;

static struct family_stats *family(const char *name)
{
    for (int k = 0; k < nfam; k++)
        if (!strcmp(fam[k].name, name))
            return &fam[k];
    fam[nfam].name = name;
    return &fam[nfam++];
}

static struct tmachine *tm;

static void emu_setup(void)
{
    tm = tm_new(64);
    tm_flat32(tm, CODE, "\xf4", 1, STACK);
}

/* Runs one case; returns false (and prints) on a mismatch. */
static bool run_case(const struct form *f, struct family_stats *st)
{
    int size = f->size;
    int rm, reg;
    /* registers: 0-7 for byte operands (4-7 = AH..BH), never ESP otherwise */
    do
        rm = (int)(rnd() % 8);
    while (size > 1 && rm == R_ESP);
    do
        reg = (int)(rnd() % 8);
    while (size > 1 && reg == R_ESP);

    uint32_t r[8];
    for (int k = 0; k < 8; k++)
        r[k] = rnd_operand();
    r[R_ESP] = STACK;
    if (f->kind == K_DIV && (rnd() & 1)) {
        /* make a non-faulting division likely */
        if (f->sub)
            r[R_EDX] = (r[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
        else
            r[R_EDX] = rnd() % 4;
        if (size == 1)
            r[R_EAX] = (r[R_EAX] & ~0xff00u) | ((rnd() % 3) << 8);
    }
    uint32_t imm = rnd_operand();
    if (f->imm == IMM_B)
        imm = (uint32_t)(int32_t)(int8_t)imm;
    unsigned count = 0;
    if (f->cnt == CNT_IB || f->cnt == CNT_CL) {
        uint32_t cv = (rnd() % 4) ? rnd() % 34 : rnd() & 0xff;
        if (f->cnt == CNT_IB)
            imm = cv;
        else if (rm == R_ECX && size > 1)
            ; /* the count is the operand itself */
        else
            r[R_ECX] = (r[R_ECX] & ~0xffu) | cv;
    }
    if (f->cnt == CNT_ONE)
        count = 1;
    else if (f->cnt == CNT_IB)
        count = imm & 31;
    else if (f->cnt == CNT_CL)
        count = r[R_ECX] & 31;
    if (f->kind == K_DIV && div_faults(f, r, rm)) {
        st->skipped++;
        return true;
    }
    uint32_t fl_in = rnd() & F_ARITH;

    bool mem = f->modrm && !f->no_mem && !f->zreg && (rnd() % 4 == 0);
    if (mem) {
        /* the emulator's E operand lives in memory: the reg operand and the
         * implicit destinations must be other registers */
        bool same = f->ext < 0 && reg == rm;
        bool ax_dx = f->implicit_ax_dx && (size == 1 ? (rm == 0 || rm == 4) : (rm == 0 || rm == 2));
        bool cl = f->cnt == CNT_CL && (size == 1 ? rm == 1 : rm == R_ECX);
        if (same || ax_dx || cl)
            mem = false;
    }

    bool skip_result;
    uint32_t undef = undefined_flags(f, count, &skip_result);

    /* host */
    struct enc he, ee;
    encode(f, true, false, rm, reg, imm, &he);
    struct hstate hs;
    for (int k = 0; k < 8; k++)
        hs.r[k] = r[k];
    hs.flags = 0x202 | fl_in;
    host_run(he.b, he.n, &hs);

    /* emulator */
    encode(f, false, mem, rm, reg, imm, &ee);
    ee.b[ee.n++] = 0xf4;
    tm_poke(tm, CODE, ee.b, ee.n);
    struct cpu *c = &tm->cpu;
    memcpy(c->r, r, sizeof(r));
    if (mem) {
        uint32_t v = reg_val(r, rm, size);
        tm_poke(tm, MEM, &v, (size_t)size);
    }
    c->eip = CODE;
    c->halted = false;
    c->lf.op = LF_NONE;
    c->eflags = F_RES1 | fl_in;
    enum cpu_exit ex = tm_run(tm, 4);
    uint32_t er[8];
    memcpy(er, c->r, sizeof(er));
    if (mem)
        set_reg_val(er, rm, size, tm_peek(tm, MEM, size));
    uint32_t ef = cpu_get_eflags(c) & F_ARITH & ~undef;
    uint32_t hf = (uint32_t)hs.flags & F_ARITH & ~undef;

    bool ok = ex == CPU_EXIT_HLT && c->eip == CODE + ee.n && ef == hf;
    for (int k = 0; k < 8 && ok; k++) {
        if (k == R_ESP)
            continue;
        uint32_t hv = (uint32_t)hs.r[k], evv = er[k];
        if (skip_result && k == rm) {
            hv &= ~0xffffu;
            evv &= ~0xffffu;
        }
        if (hv != evv)
            ok = false;
    }
    st->cases++;
    st->mem_cases += mem;
    if (!ok) {
        st->failures++;
        if (st->failures <= 8) {
            fprintf(stderr, "MISMATCH %s%s: rm=%d reg=%d imm=%#x count=%u flags_in=%#x exit=%d\n",
                    f->name, mem ? " (mem)" : "", rm, reg, imm, count, fl_in, ex);
            for (int k = 0; k < 8; k++)
                fprintf(stderr, "  r%d in=%08x host=%08x emu=%08x\n", k, r[k], (uint32_t)hs.r[k],
                        er[k]);
            fprintf(stderr, "  flags host=%03x emu=%03x (undefined mask %03x)\n", hf, ef, undef);
        }
    }
    return ok;
}

static void run_family(const char *name)
{
    host_init();
    if (!tm)
        emu_setup();
    struct family_stats *st = family(name);
    int nf = 0;
    for (int k = 0; k < nforms; k++) {
        if (strcmp(forms[k].family, name))
            continue;
        nf++;
        /* CASES executed cases per form: divisions the host would fault on
         * are drawn again (bounded, in case a form could never run) */
        long want = st->cases + CASES;
        for (int n = 0; st->cases < want && n < 4 * CASES; n++)
            run_case(&forms[k], st);
        ck_assert_int_eq(st->cases, want);
    }
    printf("alu_diff %-7s %3d forms, %8ld cases (%ld memory), %ld skipped (host #DE), %ld mismatches\n",
           name, nf, st->cases, st->mem_cases, st->skipped, st->failures);
    fflush(stdout);
    ck_assert_int_eq(st->failures, 0);
}

START_TEST(diff_alu) { run_family("alu"); }
END_TEST
START_TEST(diff_test) { run_family("test"); }
END_TEST
START_TEST(diff_incdec) { run_family("incdec"); }
END_TEST
START_TEST(diff_notneg) { run_family("notneg"); }
END_TEST
START_TEST(diff_shift) { run_family("shift"); }
END_TEST
START_TEST(diff_shd) { run_family("shd"); }
END_TEST
START_TEST(diff_muldiv) { run_family("muldiv"); }
END_TEST
START_TEST(diff_bitops) { run_family("bitops"); }
END_TEST
START_TEST(diff_setcc) { run_family("setcc"); }
END_TEST
START_TEST(diff_cmovcc) { run_family("cmovcc"); }
END_TEST

int main(void)
{
    build_forms();
    Suite *s = suite_create("alu_diff");
    TCase *t = tcase_create("host");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, diff_alu);
    tcase_add_test(t, diff_test);
    tcase_add_test(t, diff_incdec);
    tcase_add_test(t, diff_notneg);
    tcase_add_test(t, diff_shift);
    tcase_add_test(t, diff_shd);
    tcase_add_test(t, diff_muldiv);
    tcase_add_test(t, diff_bitops);
    tcase_add_test(t, diff_setcc);
    tcase_add_test(t, diff_cmovcc);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
