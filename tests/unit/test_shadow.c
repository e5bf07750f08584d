/*
 * Shadow paging (vmm/shadow.c) on a bare machine: the identity shadow for
 * a guest without paging, the VMM's slot in every shadow, fills from the
 * guest's tables (rights, accessed/dirty bits the guest sees), genuine
 * faults with the guest's error code, and write protection of the guest's
 * page-table pages (including a frame that becomes a page table after a
 * writable shadow entry mapped it).
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"
#include "vmm/compress.h"
#include "vmm/shadow.h"

enum { P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80 };
enum { GPD = 0x10000, GPT1 = 0x11000, GPT2 = 0x12000 };

struct fixture {
    struct tmachine *tm;
    struct vcpu v;
};

static void setup(struct fixture *f)
{
    f->tm = tm_new(1024);
    ck_assert_int_eq(vcpu_init(&f->v, VM_MODE_VMM, &f->tm->cpu, &f->tm->bus), 0);
    f->tm->cpu.cr3 = shadow_root();
}

static void guest_paging(struct fixture *f, uint32_t cr0)
{
    struct vcpu *v = &f->v;
    v->cr0 = cr0;
    v->cr3 = GPD;
    v->cr4 = 0;
    mmu_set_cr0(&v->gmmu, v->cr0);
    mmu_set_cr4(&v->gmmu, v->cr4);
    mmu_set_cr3(&v->gmmu, v->cr3);
    shadow_flush(v);
}

static uint32_t spd(struct fixture *f, uint32_t slot)
{
    return ((uint32_t *)(f->v.mem + VMM_SPD_OFF))[slot];
}

/* The shadow PTE for lin (0 when its slot has no shadow page table). */
static uint32_t spte(struct fixture *f, uint32_t lin)
{
    uint32_t k = f->v.spt_of[lin >> 22];
    if (!k)
        return 0;
    return ((uint32_t *)(f->v.mem + VMM_SPT_OFF + (k - 1) * PAGE_SIZE))[(lin >> 12) & 1023];
}

static void put32(struct fixture *f, uint32_t pa, uint32_t val) { tm_poke(f->tm, pa, &val, 4); }

static void teardown(struct fixture *f)
{
    vcpu_free(&f->v);
    tm_free(f->tm);
}

START_TEST(identity_without_guest_paging)
{
    struct fixture f;
    setup(&f);
    guest_paging(&f, CR0_PE);
    ck_assert_uint_eq(spd(&f, 0), 0x000000u | P | W | U | PS | A | D);
    ck_assert_uint_eq(spd(&f, 5), 0x1400000u | P | W | U | PS | A | D);
    /* The VMM's region: its own page table, supervisor only. */
    ck_assert_uint_eq(spd(&f, 1023) & ~(uint32_t)A, (VMM_BASE + VMM_VPT_OFF) | P | W);
    uint32_t gerr;
    bool ptw;
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x1000, 0, &gerr, &ptw), SPF_FATAL);
    teardown(&f);
}
END_TEST

START_TEST(fills_from_the_guest_tables)
{
    struct fixture f;
    setup(&f);
    put32(&f, GPD + 1 * 4, GPT1 | P | W | U);
    put32(&f, GPT1 + 0 * 4, 0x20000 | P | W | U); /* 0x400000: clean user RW */
    put32(&f, GPT1 + 3 * 4, 0x21000 | P | D);     /* 0x403000: supervisor RO, dirty */
    guest_paging(&f, CR0_PE | CR0_PG | CR0_WP);
    ck_assert_uint_eq(spd(&f, 1), 0);
    ck_assert_uint_eq(spd(&f, 0), 0);
    uint32_t gerr;
    bool ptw;
    /* A read fills a read-only shadow entry and sets A, not D. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x400123, 0, &gerr, &ptw), SPF_FIXED);
    ck_assert_uint_eq(spte(&f, 0x400000), 0x20000u | P | U | A);
    ck_assert_uint_eq(tm_peek(f.tm, GPT1, 4), 0x20000u | P | W | U | A);
    ck_assert_uint_eq(tm_peek(f.tm, GPD + 4, 4), GPT1 | P | W | U | A);
    /* The first write faults again and the fill sets D, then grants W. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x400123, P | W, &gerr, &ptw), SPF_FIXED);
    ck_assert_uint_eq(spte(&f, 0x400000), 0x20000u | P | W | U | A | D);
    ck_assert_uint_eq(tm_peek(f.tm, GPT1, 4), 0x20000u | P | W | U | A | D);
    /* Not present: the guest's own fault, with its error code. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x401000, U | W, &gerr, &ptw), SPF_GUEST);
    ck_assert_uint_eq(gerr, U | W);
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x800000, 0, &gerr, &ptw), SPF_GUEST);
    ck_assert_uint_eq(gerr, 0);
    /* Supervisor read-only with WP = 1: user read and supervisor write fault. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x403000, U, &gerr, &ptw), SPF_GUEST);
    ck_assert_uint_eq(gerr, P | U);
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x403000, W, &gerr, &ptw), SPF_GUEST);
    ck_assert_uint_eq(gerr, P | W);
    teardown(&f);
}
END_TEST

START_TEST(page_tables_are_write_protected)
{
    struct fixture f;
    setup(&f);
    put32(&f, GPD + 1 * 4, GPT1 | P | W | U);
    put32(&f, GPT1 + 1 * 4, GPT1 | P | W | U | A | D); /* 0x401000 maps its own PT */
    put32(&f, GPT1 + 2 * 4, GPT2 | P | W | U | A | D); /* 0x402000: frame GPT2, not yet a PT */
    put32(&f, GPD + 2 * 4, GPT2 | P | W | U);          /* ... which PDE 2 uses */
    put32(&f, GPT2 + 0 * 4, 0x22000 | P | W | U);
    guest_paging(&f, CR0_PE | CR0_PG);
    uint32_t gerr;
    bool ptw;
    /* Writing the PT page: allowed by the guest, not by the shadow. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x401010, W, &gerr, &ptw), SPF_EMULATE);
    ck_assert(ptw);
    ck_assert_uint_eq(spte(&f, 0x401000) & (P | W), P);
    /* GPT2 mapped writable while it is no page table yet... */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x402000, W, &gerr, &ptw), SPF_FIXED);
    ck_assert_uint_eq(spte(&f, 0x402000) & (P | W), P | W);
    /* ... loses W once a fill walks through it. */
    ck_assert_int_eq(shadow_page_fault(&f.v, 0x800000, 0, &gerr, &ptw), SPF_FIXED);
    ck_assert_uint_eq(spte(&f, 0x800000) & ~(uint32_t)(A | D), 0x22000u | P | U);
    ck_assert_uint_eq(spte(&f, 0x402000) & (P | W), P);
    /* A flush forgets every shadow entry and every protected frame. */
    shadow_flush(&f.v);
    ck_assert_uint_eq(spte(&f, 0x402000), 0);
    ck_assert_uint_eq(f.v.pt_count, 0);
    teardown(&f);
}
END_TEST

START_TEST(reads_through_the_guest_tables)
{
    struct fixture f;
    setup(&f);
    put32(&f, GPD + 1 * 4, GPT1 | P | W);
    put32(&f, GPT1 + 0 * 4, 0x23000 | P);
    put32(&f, 0x23ffe, 0x44332211);
    guest_paging(&f, CR0_PE | CR0_PG);
    uint8_t b[4];
    shadow_read_guest(&f.v, 0x400ffe, b, 4); /* the second page is not present */
    ck_assert_uint_eq(b[0], 0x11);
    ck_assert_uint_eq(b[1], 0x22);
    ck_assert_uint_eq(b[2], 0);
    ck_assert_uint_eq(b[3], 0);
    ck_assert_uint_eq(tm_peek(f.tm, GPT1, 4) & A, 0); /* no accessed bit */
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shadow");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, identity_without_guest_paging);
    tcase_add_test(tc, fills_from_the_guest_tables);
    tcase_add_test(tc, page_tables_are_write_protected);
    tcase_add_test(tc, reads_through_the_guest_tables);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
