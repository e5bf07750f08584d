/*
 * The decoded-instruction cache (cpu/dcache.h) and its write tracking
 * (mmu/bus.h): whatever writes guest code, the next execution of it runs
 * the new bytes. What trapeze guarantees: a write is seen by every
 * instruction fetched after the writing instruction completes, including
 * the very next one in straight-line code (stronger than the SDM's
 * "after a jump" rule for the P6).
 *
 * Code below was assembled with nasm; the source is in the comments.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/dcache.h"
#include "harness.h"

/* f at 0x11000: mov al, 0 ; ret */
static const uint8_t f_code[] = {0xb0, 0x00, 0xc3};

static struct tmachine *flat(const uint8_t *code, size_t n)
{
    struct tmachine *tm = tm_new(1024);
    tm_flat32(tm, 0x10000, code, n, 0x9000);
    return tm;
}

/* Identity-maps the first 4 MiB and maps linear 0x400000 to physical 0x11000. */
static void paging_with_alias(struct tmachine *tm)
{
    struct cpu *c = &tm->cpu;
    for (uint32_t k = 0; k < 1024; k++) {
        uint32_t pte = (k << 12) | 3;
        tm_poke(tm, 0x21000 + 4 * k, &pte, 4);
    }
    uint32_t pde0 = 0x21000 | 3, pde1 = 0x22000 | 3, alias = 0x11000 | 3;
    tm_poke(tm, 0x20000, &pde0, 4);
    tm_poke(tm, 0x20004, &pde1, 4);
    tm_poke(tm, 0x22000, &alias, 4);
    cpu_write_cr3(c, 0x20000);
    cpu_write_cr0(c, c->cr0 | CR0_PG);
}

START_TEST(write_to_next_instruction)
{
    /*      mov ecx, 3
     *      xor ebx, ebx
     * top: mov byte [p+1], cl
     * p:   mov al, 0          ; cached after the first iteration
     *      add bl, al
     *      dec ecx
     *      jnz top
     *      hlt */
    static const uint8_t code[] = {0xb9, 0x03, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x88, 0x0d,
                                   0x0e, 0x00, 0x01, 0x00, 0xb0, 0x00, 0x00, 0xc3, 0x49,
                                   0x75, 0xf3, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EBX] & 0xff, 3 + 2 + 1);
    ck_assert_uint_ge(tm->bus.code_drops, 2);
    tm_free(tm);
}
END_TEST

START_TEST(write_through_linear_alias)
{
    /* mov byte [0x400000 + 1], 0x21 ; alias written before f is code (TLB caches W)
     * call 0x11000                   ; f becomes code: the alias loses direct writes
     * mov esi, eax
     * mov byte [0x400000 + 1], 0x42 ; must drop f's decoded code
     * call 0x11000
     * hlt */
    static const uint8_t code[] = {0xc6, 0x05, 0x01, 0x00, 0x40, 0x00, 0x21, 0xe8, 0xf4,
                                   0x0f, 0x00, 0x00, 0x89, 0xc6, 0xc6, 0x05, 0x01, 0x00,
                                   0x40, 0x00, 0x42, 0xe8, 0xe6, 0x0f, 0x00, 0x00, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    tm_poke(tm, 0x11000, f_code, sizeof(f_code));
    paging_with_alias(tm);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_ESI] & 0xff, 0x21);
    ck_assert_uint_eq(tm->cpu.r[R_EAX] & 0xff, 0x42);
    tm_free(tm);
}
END_TEST

START_TEST(overwritten_by_rep_movs_and_stos)
{
    /*      call 0x11000      ; cache f
     *      mov ebp, eax
     *      mov esi, src
     *      mov edi, 0x11000
     *      mov ecx, 3
     *      cld
     *      rep movsb         ; f = mov al, 0x33 ; ret
     *      call 0x11000
     *      mov ebx, eax
     *      mov edi, 0x11001
     *      mov al, 0x44
     *      mov ecx, 1
     *      rep stosb         ; f = mov al, 0x44 ; ret
     *      call 0x11000
     *      hlt
     * src: db 0xb0, 0x33, 0xc3 */
    static const uint8_t code[] = {
        0xe8, 0xfb, 0x0f, 0x00, 0x00, 0x89, 0xc5, 0xbe, 0x34, 0x00, 0x01, 0x00, 0xbf, 0x00,
        0x10, 0x01, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0xfc, 0xf3, 0xa4, 0xe8, 0xe2, 0x0f,
        0x00, 0x00, 0x89, 0xc3, 0xbf, 0x01, 0x10, 0x01, 0x00, 0xb0, 0x44, 0xb9, 0x01, 0x00,
        0x00, 0x00, 0xf3, 0xaa, 0xe8, 0xcd, 0x0f, 0x00, 0x00, 0xf4, 0xb0, 0x33, 0xc3};
    struct tmachine *tm = flat(code, sizeof(code));
    tm_poke(tm, 0x11000, f_code, sizeof(f_code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EBP] & 0xff, 0x00);
    ck_assert_uint_eq(tm->cpu.r[R_EBX] & 0xff, 0x33);
    ck_assert_uint_eq(tm->cpu.r[R_EAX] & 0xff, 0x44);
    tm_free(tm);
}
END_TEST

START_TEST(overwritten_by_bus_write_bytes)
{
    /* A device (DMA) or a loader rewrites code the CPU has cached. */
    static const uint8_t code[] = {0xb8, 0x11, 0x11, 0x11, 0x11, 0xf4}; /* mov eax, 0x11111111 ; hlt */
    static const uint8_t code2[] = {0xb8, 0x22, 0x22, 0x22, 0x22, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 0x11111111);
    bus_write_bytes(&tm->bus, 0x10000, code2, sizeof(code2));
    tm->cpu.halted = false;
    tm->cpu.eip = 0x10000;
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 0x22222222);
    /* bus_code_written: for writers that store into RAM directly */
    tm->bus.ram[0x10001] = 0x33;
    bus_code_written(&tm->bus, 0x10001, 1);
    tm->cpu.halted = false;
    tm->cpu.eip = 0x10000;
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 0x22222233);
    tm_free(tm);
}
END_TEST

static const struct tlb_entry *tlb_of(struct tmachine *tm, uint32_t lin)
{
    const struct tlb_entry *e = &tm->cpu.mmu.tlb[(lin >> PAGE_SHIFT) & (TLB_ENTRIES - 1)];
    return e->lpage == ((lin & PAGE_MASK) | tm->cpu.mmu.epoch) ? e : NULL;
}

START_TEST(page_reused_for_data_then_code)
{
    /*  call 0x11000          ; page 0x11000 holds code
     *  mov edi, 0x11000      ; reused as data
     *  mov ecx, 1024
     *  xor eax, eax
     *  dec eax
     *  rep stosd
     *  hlt
     *  mov dword [0x11000], 0x00c355b0   ; code again: mov al, 0x55 ; ret
     *  call 0x11000
     *  hlt */
    static const uint8_t code[] = {0xe8, 0xfb, 0x0f, 0x00, 0x00, 0xbf, 0x00, 0x10, 0x01, 0x00,
                                   0xb9, 0x00, 0x04, 0x00, 0x00, 0x31, 0xc0, 0x48, 0xf3, 0xab,
                                   0xf4, 0xc7, 0x05, 0x00, 0x10, 0x01, 0x00, 0xb0, 0x55, 0xc3,
                                   0x00, 0xe8, 0xdc, 0x0f, 0x00, 0x00, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    tm_poke(tm, 0x11000, f_code, sizeof(f_code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    /* The fill dropped the code; writes to the page are direct again. */
    ck_assert_uint_eq(tm_peek(tm, 0x11ffc, 4), 0xffffffffu);
    ck_assert(!bus_page_has_code(&tm->bus, 0x11000));
    const struct tlb_entry *e = tlb_of(tm, 0x11000);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->host_writable);
    tm->cpu.halted = false;
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX] & 0xff, 0x55);
    /* Executing from it made it a code page again: no direct writes. */
    ck_assert(bus_page_has_code(&tm->bus, 0x11000));
    e = tlb_of(tm, 0x11000);
    ck_assert(!e || !e->host_writable);
    tm_free(tm);
}
END_TEST

START_TEST(a20_toggle)
{
    /* Real mode, CS:IP = FFFF:0510 = linear 0x100500; with A20 masked it is
     * physical 0x000500. Each location: mov ax, imm16 ; hlt. */
    struct tmachine *tm = tm_new(2048);
    static const uint8_t lo[] = {0xb8, 0x34, 0x12, 0xf4}, hi[] = {0xb8, 0x78, 0x56, 0xf4};
    tm_real(tm, 0x7c00, "\xf4", 1);
    tm_poke(tm, 0x000500, lo, sizeof(lo));
    tm_poke(tm, 0x100500, hi, sizeof(hi));
    struct cpu *c = &tm->cpu;
    c->seg[S_CS].sel = 0xffff;
    c->seg[S_CS].base = 0xffff0;
    seg_update_cache(c, &c->seg[S_CS]);
    static const struct { bool a20; uint32_t ax; } steps[] = {
        {true, 0x5678}, {false, 0x1234}, {true, 0x5678}, {false, 0x1234}};
    for (unsigned k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        bus_set_a20(&tm->bus, steps[k].a20);
        c->eip = 0x0510;
        c->halted = false;
        ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
        ck_assert_uint_eq(c->r[R_EAX] & 0xffff, steps[k].ax);
    }
    tm_free(tm);
}
END_TEST

START_TEST(code_size_changes_decoding)
{
    /* B8 78 56 34 12 F4: 32-bit: mov eax, 0x12345678 ; hlt.
     * 16-bit: mov ax, 0x5678 ; xor al, 0x12 ; hlt. */
    static const uint8_t code[] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0xf4};
    struct tmachine *tm = tm_new(1024);
    tm_flat32(tm, 0x8000, code, sizeof(code), 0x9000); /* below 64 KiB for IP */
    struct cpu *c = &tm->cpu;
    for (int round = 0; round < 2; round++) {
        c->seg[S_CS].ar |= AR_DB;
        seg_update_cache(c, &c->seg[S_CS]);
        c->eip = 0x8000;
        c->halted = false;
        c->r[R_EAX] = 0;
        ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
        ck_assert_uint_eq(c->r[R_EAX], 0x12345678);
        c->seg[S_CS].ar &= ~AR_DB;
        seg_update_cache(c, &c->seg[S_CS]);
        c->eip = 0x8000;
        c->halted = false;
        c->r[R_EAX] = 0;
        ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
        ck_assert_uint_eq(c->r[R_EAX], 0x566a);
    }
    tm_free(tm);
}
END_TEST

START_TEST(cs_limit_on_cached_instruction)
{
    /* CS = 0x1000, IP = 0xfff8: mov ax, 0x1234 (3 bytes) ; hlt. Cached while
     * it fits, then CS's limit shrinks to 0xfff9: the cached instruction
     * ends beyond it and must raise #GP with IP on the instruction. */
    struct tmachine *tm = tm_new(1024);
    tm_real(tm, 0x7c00, "\xf4", 1);
    tm_trap_all_vectors(tm);
    tm_poke(tm, 0x1fff8, "\xb8\x34\x12\xf4", 4);
    struct cpu *c = &tm->cpu;
    c->seg[S_CS].sel = 0x1000;
    c->seg[S_CS].base = 0x10000;
    seg_update_cache(c, &c->seg[S_CS]);
    c->eip = 0xfff8;
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EAX] & 0xffff, 0x1234);
    ck_assert_int_eq(tm_last_vector(tm), -1);

    c->seg[S_CS].limit = 0xfff9;
    seg_update_cache(c, &c->seg[S_CS]);
    c->eip = 0xfff8;
    c->halted = false;
    c->r[R_EAX] = 0;
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_int_eq(tm_last_vector(tm), EX_GP);
    ck_assert_uint_eq(c->r[R_EAX] & 0xffff, 0);
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 6, 2), 0xfff8); /* pushed IP */
    ck_assert_uint_eq(tm_peek(tm, 0xfffe - 4, 2), 0x1000); /* pushed CS */
    tm_free(tm);
}
END_TEST

START_TEST(reset_flushes)
{
    /* Memory written behind the bus's back is seen after cpu_reset. */
    static const uint8_t code[] = {0xb8, 0x11, 0x11, 0x11, 0x11, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    tm->bus.ram[0x10001] = 0x44;
    cpu_reset(&tm->cpu);
    cpu_set_flat32(&tm->cpu, 0x10000);
    ck_assert_int_eq(tm_run(tm, 10), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], 0x11111144);
    tm_free(tm);
}
END_TEST

START_TEST(budget_stops_inside_a_block)
{
    /* inc eax x 8 ; hlt: one block of nine instructions. A budget of 3
     * runs exactly three of them, the next run goes on from the fourth
     * (the same bytes, entered in the middle), and the block is run again
     * from its start. */
    static const uint8_t code[] = {0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    uint64_t ic = c->icount;
    uint32_t eax = c->r[R_EAX];
    ck_assert_int_eq(tm_run(tm, 3), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->icount - ic, 3);
    ck_assert_uint_eq(c->eip, 0x10003);
    ck_assert_uint_eq(c->r[R_EAX] - eax, 3);
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EAX] - eax, 8);
    c->eip = 0x10000;
    c->halted = false;
    ck_assert_int_eq(tm_run(tm, 5), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->eip, 0x10005);
    ck_assert_uint_eq(c->r[R_EAX] - eax, 13);
    tm_free(tm);
}
END_TEST

START_TEST(long_instructions_split_blocks_at_255_bytes)
{
    /* ds ds ds ds ds ds ds ds ds add eax, 1 (14 bytes) x 25 ; hlt: 351
     * bytes, more than one block spans (insn.start_off is a byte): run
     * to the HLT, then again from the start with a budget of 20, which
     * runs the first block (18 instructions, 252 bytes) and two more. */
    uint8_t code[25 * 14 + 1];
    for (int k = 0; k < 25; k++) {
        memset(code + 14 * k, 0x3e, 9);
        memcpy(code + 14 * k + 9, (const uint8_t[]){0x05, 0x01, 0x00, 0x00, 0x00}, 5);
    }
    code[25 * 14] = 0xf4;
    struct tmachine *tm = flat(code, sizeof(code));
    struct cpu *c = &tm->cpu;
    uint64_t ic = c->icount;
    uint32_t eax = c->r[R_EAX];
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->eip, 0x10000 + 25 * 14 + 1);
    ck_assert_uint_eq(c->r[R_EAX] - eax, 25);
    ck_assert_uint_eq(c->icount - ic, 26);
    c->eip = 0x10000;
    c->halted = false;
    ck_assert_int_eq(tm_run(tm, 20), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->icount - ic, 46);
    ck_assert_uint_eq(c->eip, 0x10000 + 20 * 14);
    ck_assert_uint_eq(c->r[R_EAX] - eax, 45);
    tm_free(tm);
}
END_TEST

START_TEST(write_further_ahead_in_the_block)
{
    /*      mov byte [p+1], 7   ; the block holds the old p already
     *      nop
     *      nop
     * p:   mov al, 0
     *      hlt */
    static const uint8_t code[] = {0xc6, 0x05, 0x0a, 0x00, 0x01, 0x00, 0x07,
                                   0x90, 0x90, 0xb0, 0x00, 0xf4};
    struct tmachine *tm = flat(code, sizeof(code));
    ck_assert_int_eq(tm_run(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(tm->cpu.r[R_EAX] & 0xff, 7);
    tm_free(tm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decode_cache");
    TCase *t = tcase_create("invalidation");
    tcase_add_test(t, write_to_next_instruction);
    tcase_add_test(t, write_through_linear_alias);
    tcase_add_test(t, overwritten_by_rep_movs_and_stos);
    tcase_add_test(t, overwritten_by_bus_write_bytes);
    tcase_add_test(t, page_reused_for_data_then_code);
    tcase_add_test(t, a20_toggle);
    tcase_add_test(t, code_size_changes_decoding);
    tcase_add_test(t, cs_limit_on_cached_instruction);
    tcase_add_test(t, reset_flushes);
    tcase_add_test(t, budget_stops_inside_a_block);
    tcase_add_test(t, long_instructions_split_blocks_at_255_bytes);
    tcase_add_test(t, write_further_ahead_in_the_block);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
