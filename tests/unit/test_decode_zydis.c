/*
 * Differential test of the instruction decoder (cpu/decode.c) against
 * Zydis 4, in 32-bit and 16-bit legacy modes.
 *
 * For every input both decoders give a verdict: valid with a length, or
 * invalid (#UD or over-long). Both valid -> the lengths and the address
 * sizes must be equal; both
 * invalid -> agreement. Any other outcome must be explained by one of the
 * rules in classify() below, each a property of the decoded instruction (its
 * ISA set, mnemonic, Zydis' error status), never a list of byte strings.
 * Anything else is a failure and is printed with its bytes.
 *
 * Zydis is set up as a P6 decoder as far as it can be: every optional
 * decoder mode that re-purposes old opcodes for post-P6 extensions (MPX,
 * CET, LZCNT, TZCNT, CLDEMOTE, WBNOINVD) is switched off, so 0F 19-1F decode
 * as the hint NOPs and F3 0F BC/BD as BSF/BSR with an ignored prefix, as on
 * a P6.
 *
 * Coverage (the exhaustive part, per mode): every one-byte opcode and every
 * 0F xx opcode, under each prefix set {none, 66, 67, 66 67, F0, F2, F3, 2E},
 * with every ModRM byte; for the 24 ModRM bytes that take a SIB under
 * 32-bit addressing, every SIB byte. Displacement and immediate bytes come
 * from a fixed pseudo-random filler (their values do not change lengths).
 * Then 1,000,000 random byte strings, half biased towards prefixes and the
 * 0F map. Cost: ~28 M decodes by each decoder, about 2 s under ASan.
 *
 * The rules that claim #UD (register-deferred, UD0/UD1/UD2, RSM) are
 * verified by execution: short forms that hit them are run in real mode and
 * must raise #UD.
 *
 * Both-invalid inputs where only one decoder says "over 15 bytes" (#GP)
 * and the other #UD are counted, not failed: which fault wins when an
 * invalid opcode or reserved x87 form also runs past 15 bytes is not
 * specified by the SDM. DECODE_ZYDIS_EXPLORE=1 prints one example of every
 * mnemonic each rule accepted, to audit the rules.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "cpu/decode.h"
#include "cpu/insn.h"
#include "harness.h"

#define BUFLEN 32 /* both decoders see this many bytes: more than 15 */

enum { V_VALID, V_INVALID };

/* The documented reasons a disagreement is allowed. */
enum rule {
    R_AGREE_VALID,   /* both valid, same length and address size */
    R_AGREE_INVALID, /* both invalid */
    R_POST_P6_ISA,   /* Zydis: an extension trapeze's P6 does not implement:
                        anything after the Pentium Pro's set (MMX, SSE*, 3DNow!,
                        AVX, FXSR, ...). trapeze models a P6 without MMX (CPUID
                        does not advertise it), so #UD is right */
    R_ALWAYS_UD,     /* UD0/UD1/UD2: #UD on every CPU, length immaterial */
    R_RSM,           /* RSM: #UD outside SMM, and trapeze has no SMM */
    R_REG_DEFERRED,  /* Zydis: bad register field (Sreg 6/7, MOV CS, CR1/5-7);
                        trapeze decodes and the handler raises #UD */
    R_X87_RESERVED,  /* reserved x87 escape encoding: trapeze decodes the whole
                        D8-DF space with the same length rules and lets the x87
                        executor decide */
    R_FAIL,          /* undocumented disagreement */
    R_COUNT
};

static const char *const rule_name[R_COUNT] = {
    [R_AGREE_VALID] = "agree: valid, same length and address size",
    [R_AGREE_INVALID] = "agree: invalid",
    [R_POST_P6_ISA] = "rule extension beyond the P6 model (trapeze #UD)",
    [R_ALWAYS_UD] = "rule UD0/UD1/UD2 (#UD either way)",
    [R_RSM] = "rule RSM outside SMM (#UD)",
    [R_REG_DEFERRED] = "rule register field checked by the handler",
    [R_X87_RESERVED] = "rule reserved x87 encoding left to the x87 executor",
    [R_FAIL] = "UNDOCUMENTED DISAGREEMENT",
};

/* ISA sets a Pentium II (family 6, model 3) implements, as Zydis names them. */
static bool isa_in_p6(ZydisISASet s)
{
    switch (s) {
    case ZYDIS_ISA_SET_I86:
    case ZYDIS_ISA_SET_I186:
    case ZYDIS_ISA_SET_I286REAL:
    case ZYDIS_ISA_SET_I286PROTECTED:
    case ZYDIS_ISA_SET_I386:
    case ZYDIS_ISA_SET_I486REAL:
    case ZYDIS_ISA_SET_I486:
    case ZYDIS_ISA_SET_PENTIUMREAL:
    case ZYDIS_ISA_SET_PPRO:
    case ZYDIS_ISA_SET_CMOV:
    case ZYDIS_ISA_SET_FCMOV:
    case ZYDIS_ISA_SET_X87:
    case ZYDIS_ISA_SET_RDPMC:
    case ZYDIS_ISA_SET_FAT_NOP:
        return true;
    default:
        return false;
    }
}

static bool explore;

/*
 * The register-deferred, UD0/UD1/UD2 and RSM rules are claims that the
 * instruction raises #UD when run. The forms of at most three bytes that hit
 * them in 16-bit mode (register forms only for the register-deferred rule)
 * are kept here and executed in real mode at the end of exhaustive_opcodes.
 */
#define MAX_DEFERRED 512
static uint8_t deferred[MAX_DEFERRED][4];
static int ndeferred;

static void note_deferred(const uint8_t *buf, uint8_t len)
{
    for (int k = 0; k < ndeferred; k++)
        if (!memcmp(deferred[k], buf, len))
            return;
    if (ndeferred < MAX_DEFERRED) {
        memset(deferred[ndeferred], 0x90, 4);
        memcpy(deferred[ndeferred++], buf, len);
    }
}

struct stats {
    unsigned long n[R_COUNT];
    unsigned long printed;
    unsigned seen[40];
    unsigned long too_long_kind_differs;
};

struct dec {
    ZydisDecoder z32, z16;
};

static void zinit(ZydisDecoder *z, ZydisMachineMode m, ZydisStackWidth w)
{
    ck_assert(ZYAN_SUCCESS(ZydisDecoderInit(z, m, w)));
    static const ZydisDecoderMode off[] = {
        ZYDIS_DECODER_MODE_MPX,   ZYDIS_DECODER_MODE_CET,      ZYDIS_DECODER_MODE_LZCNT,
        ZYDIS_DECODER_MODE_TZCNT, ZYDIS_DECODER_MODE_WBNOINVD, ZYDIS_DECODER_MODE_CLDEMOTE,
    };
    for (size_t k = 0; k < sizeof(off) / sizeof(off[0]); k++)
        ck_assert(ZYAN_SUCCESS(ZydisDecoderEnableMode(z, off[k], ZYAN_FALSE)));
}

static void report(const uint8_t *buf, int code32, enum decode_status ts, const struct insn *ti,
                   ZyanStatus zs, const ZydisDecodedInstruction *zi)
{
    char hex[3 * BUFLEN + 1];
    for (int k = 0; k < 16; k++)
        sprintf(hex + 3 * k, "%02x ", buf[k]);
    printf("  %d-bit: %s\n    trapeze: status %d len %u (%s)\n", code32 ? 32 : 16, hex, ts,
           ti->len, ti->op ? ti->op->mnemonic : "-");
    if (ZYAN_SUCCESS(zs))
        printf("    zydis:   valid len %u %s isa_set %s isa_ext %s\n", zi->length,
               ZydisMnemonicGetString(zi->mnemonic), ZydisISASetGetString(zi->meta.isa_set),
               ZydisISAExtGetString(zi->meta.isa_ext));
    else
        printf("    zydis:   status 0x%x\n", (unsigned)zs);
}

static enum rule check_one(struct dec *d, const uint8_t *buf, int code32, struct stats *st)
{
    struct insn ti;
    ZydisDecodedInstruction zi;
    enum decode_status ts = decode(buf, BUFLEN, code32, &ti);
    ZyanStatus zs =
        ZydisDecoderDecodeInstruction(code32 ? &d->z32 : &d->z16, NULL, buf, BUFLEN, &zi);
    int tv = ts == DEC_OK ? V_VALID : V_INVALID;
    int zv = ZYAN_SUCCESS(zs) ? V_VALID : V_INVALID;
    enum rule r = R_FAIL;

    if (tv == V_VALID && zv == V_VALID && ti.len == zi.length &&
        ti.addrsize * 8 == zi.address_width)
        r = R_AGREE_VALID;
    else if (tv == V_INVALID && zv == V_INVALID) {
        r = R_AGREE_INVALID;
        /* Informational: #GP (over 15 bytes) versus #UD. */
        if ((ts == DEC_TOO_LONG) != (zs == ZYDIS_STATUS_INSTRUCTION_TOO_LONG))
            st->too_long_kind_differs++;
    }
    else if (zv == V_VALID && (zi.mnemonic == ZYDIS_MNEMONIC_UD0 ||
                               zi.mnemonic == ZYDIS_MNEMONIC_UD1 ||
                               zi.mnemonic == ZYDIS_MNEMONIC_UD2) &&
             (tv == V_INVALID || (ti.op && ti.op->fn_name && !strcmp(ti.op->fn_name, "ud2"))))
        r = R_ALWAYS_UD;
    else if (zv == V_VALID && tv == V_INVALID && ts == DEC_INVALID && !isa_in_p6(zi.meta.isa_set))
        r = R_POST_P6_ISA;
    else if (zv == V_VALID && tv == V_INVALID && zi.mnemonic == ZYDIS_MNEMONIC_RSM)
        r = R_RSM;
    else if (tv == V_VALID && zs == ZYDIS_STATUS_BAD_REGISTER && ti.op &&
             strpbrk(ti.op->operands, "SCD") && !(ti.op->attr & A_X87))
        r = R_REG_DEFERRED;
    else if (tv == V_VALID && zv == V_INVALID && (ti.op->attr & A_X87) &&
             zs == ZYDIS_STATUS_DECODING_ERROR)
        r = R_X87_RESERVED;

    st->n[r]++;
    if (!code32 && ti.len <= 3 &&
        ((r == R_REG_DEFERRED && ti.mod == 3) || r == R_ALWAYS_UD || r == R_RSM))
        note_deferred(buf, ti.len);
    if (explore && r >= R_POST_P6_ISA && r != R_FAIL) {
        /* Audit aid (DECODE_ZYDIS_EXPLORE=1): one example of every Zydis
         * mnemonic (or error) that each rule accepted. */
        static bool seen[R_COUNT][ZYDIS_MNEMONIC_MAX_VALUE + 2];
        unsigned key = zv == V_VALID ? (unsigned)zi.mnemonic : ZYDIS_MNEMONIC_MAX_VALUE + 1;
        if (!seen[r][key]) {
            seen[r][key] = true;
            printf("[%s] ", rule_name[r]);
            report(buf, code32, ts, &ti, zs, &zi);
        }
    }
    if (r == R_FAIL && st->printed < 40) {
        /* One report per (mode, opcode, verdicts, Zydis mnemonic): a wrong
         * row shows once, not once per ModRM byte. */
        unsigned key = ((unsigned)code32 << 31) ^ ((unsigned)ti.b << 20) ^
                       ((unsigned)(ti.op != NULL) << 19) ^ ((unsigned)ts << 16) ^
                       (zv == V_VALID ? (unsigned)zi.mnemonic : 0xffffu & (unsigned)zs);
        for (unsigned long k = 0; k < st->printed; k++)
            if (st->seen[k] == key)
                return r;
        st->seen[st->printed++] = key;
        report(buf, code32, ts, &ti, zs, &zi);
    }
    return r;
}

/* xorshift64*: deterministic, fast */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void print_stats(const char *what, const struct stats *st)
{
    unsigned long total = 0;
    for (int r = 0; r < R_COUNT; r++)
        total += st->n[r];
    printf("decode vs zydis, %s: %lu inputs\n", what, total);
    for (int r = 0; r < R_COUNT; r++)
        if (st->n[r] || r == R_FAIL)
            printf("  %-55s %lu\n", rule_name[r], st->n[r]);
    printf("  (of the invalid ones, over-15-byte in one decoder only: %lu)\n",
           st->too_long_kind_differs);
}

/* Prefix sets that change decoding; 2E stands for every segment override. */
static const uint8_t prefix_sets[][3] = {
    {0}, {1, 0x66}, {1, 0x67}, {2, 0x66, 0x67}, {1, 0xf0}, {1, 0xf2}, {1, 0xf3}, {1, 0x2e},
};
#define NPFX (sizeof(prefix_sets) / sizeof(prefix_sets[0]))

START_TEST(exhaustive_opcodes)
{
    struct dec d;
    struct stats st = {0};
    zinit(&d.z32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    zinit(&d.z16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
    decode_init();

    uint8_t filler[BUFLEN];
    for (int k = 0; k < BUFLEN; k++)
        filler[k] = (uint8_t)rnd();

    for (int code32 = 0; code32 <= 1; code32++) {
        for (unsigned opc = 0; opc < 512; opc++) {
            if (opc == 0x0f)
                continue; /* the 0F map is enumerated as opc 0x100-0x1ff */
            for (size_t p = 0; p < NPFX; p++) {
                uint8_t buf[BUFLEN];
                size_t n = 0;
                for (int k = 0; k < prefix_sets[p][0]; k++)
                    buf[n++] = prefix_sets[p][1 + k];
                bool a32 = code32 ^ (memchr(&prefix_sets[p][1], 0x67, prefix_sets[p][0]) != NULL);
                if (opc >= 0x100)
                    buf[n++] = 0x0f;
                buf[n++] = (uint8_t)opc;
                size_t m = n;
                for (unsigned modrm = 0; modrm < 256; modrm++) {
                    buf[m] = (uint8_t)modrm;
                    bool sib = a32 && (modrm >> 6) != 3 && (modrm & 7) == 4;
                    unsigned nsib = sib ? 256 : 1;
                    for (unsigned s = 0; s < nsib; s++) {
                        size_t q = m + 1;
                        if (sib)
                            buf[q++] = (uint8_t)s;
                        memcpy(buf + q, filler, BUFLEN - q);
                        check_one(&d, buf, code32, &st);
                    }
                }
            }
        }
    }
    print_stats("exhaustive opcode x prefix x ModRM x SIB", &st);
    ck_assert_uint_eq(st.n[R_FAIL], 0);

    /* Execute each form a #UD-claiming rule accepted: it must #UD. */
    int ud = 0;
    struct tmachine *tm = tm_new(1024);
    for (int k = 0; k < ndeferred; k++) {
        uint8_t code[5];
        memcpy(code, deferred[k], 4);
        code[4] = 0xf4;
        tm_real(tm, 0x7c00, code, sizeof(code));
        tm_trap_all_vectors(tm);
        tm_run(tm, 10);
        if (tm_last_vector(tm) == EX_UD)
            ud++;
        else
            printf("  form %02x %02x %02x did not raise #UD (vector %d)\n", code[0],
                   code[1], code[2], tm_last_vector(tm));
    }
    tm_free(tm);
    printf("  forms accepted by #UD-claiming rules, executed: %d, raised #UD: %d\n", ndeferred,
           ud);
    ck_assert_int_gt(ndeferred, 0);
    ck_assert_int_eq(ud, ndeferred);
}
END_TEST

static const uint8_t prefixes[] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65,
                                   0x66, 0x67, 0xf0, 0xf2, 0xf3};

START_TEST(random_strings)
{
    struct dec d;
    struct stats st = {0};
    zinit(&d.z32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    zinit(&d.z16, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
    decode_init();
    rng_state = 0x243f6a8885a308d3ull; /* fixed seed: the run is reproducible */

    for (long t = 0; t < 1000000; t++) {
        uint8_t buf[BUFLEN];
        for (int k = 0; k < BUFLEN; k += 8) {
            uint64_t v = rnd();
            memcpy(buf + k, &v, 8);
        }
        if (t & 1) {
            /* Biased: 0-15 prefixes (so over-long inputs occur), then a
             * 0F-map opcode one time in three. */
            uint64_t v = rnd();
            int np = (v & 3) == 3 ? (int)((v >> 2) % 16) : (int)((v >> 2) % 4);
            int n = 0;
            for (int k = 0; k < np; k++)
                buf[n++] = prefixes[rnd() % sizeof(prefixes)];
            if ((v >> 8) % 3 == 0)
                buf[n++] = 0x0f;
        }
        check_one(&d, buf, (int)((t >> 1) & 1), &st);
    }
    print_stats("1,000,000 random strings", &st);
    ck_assert_uint_eq(st.n[R_FAIL], 0);
}
END_TEST

int main(void)
{
    explore = getenv("DECODE_ZYDIS_EXPLORE") != NULL;
    Suite *s = suite_create("decode_zydis");
    TCase *t = tcase_create("differential");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, exhaustive_opcodes);
    tcase_add_test(t, random_strings);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
