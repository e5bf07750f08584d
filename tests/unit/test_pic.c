/* 8259A pair: initialisation, priorities, EOI, cascade, masks, ELCR, poll, AEOI, spurious. */
#include <check.h>
#include <stdlib.h>

#include "devices/pic8259.h"

static struct bus bus;
static struct pic pic;
static int intr_changes;

static void set_intr(void *ctx, bool level)
{
    (void)ctx;
    (void)level;
    intr_changes++;
}

static void out(uint16_t port, uint8_t v) { bus_port_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)bus_port_read(&bus, port, 1); }

/* The PC BIOS/Linux initialisation: vectors 0x20 and 0x28, cascade on IRQ 2. */
static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    pic_init(&pic, &bus, set_intr, NULL);
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x01);
    out(0xa0, 0x11); out(0xa1, 0x28); out(0xa1, 0x02); out(0xa1, 0x01);
    out(0x21, 0x00); out(0xa1, 0x00);
}
static void teardown(void) { bus_free(&bus); }

START_TEST(irq0_ack_eoi)
{
    ck_assert(!pic.intr);
    bus_set_irq(&bus, 0, 1);
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x20);
    ck_assert(!pic.intr);
    out(0x20, 0x0b); /* OCW3: read ISR */
    ck_assert_int_eq(in(0x20), 0x01);
    out(0x20, 0x20); /* non-specific EOI */
    ck_assert_int_eq(in(0x20), 0x00);
    /* edge-triggered: no new request until the line goes low and high again */
    ck_assert(!pic.intr);
    bus_set_irq(&bus, 0, 0);
    bus_set_irq(&bus, 0, 1);
    ck_assert(pic.intr);
}
END_TEST

START_TEST(mask_blocks)
{
    out(0x21, 0x02);
    bus_set_irq(&bus, 1, 1);
    ck_assert(!pic.intr);
    out(0x20, 0x0a); /* read IRR */
    ck_assert_int_eq(in(0x20), 0x02);
    ck_assert_int_eq(in(0x21), 0x02);
    out(0x21, 0x00);
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x21);
}
END_TEST

START_TEST(nesting_priority)
{
    bus_set_irq(&bus, 3, 1);
    ck_assert_int_eq(pic_ack(&pic), 0x23);
    bus_set_irq(&bus, 4, 1); /* lower priority: blocked while 3 is in service */
    ck_assert(!pic.intr);
    bus_set_irq(&bus, 1, 1); /* higher priority: nests */
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x21);
    out(0x20, 0x20); /* EOI ends IRQ 1 (highest in service) */
    ck_assert(!pic.intr);
    out(0x20, 0x63); /* specific EOI for IRQ 3 */
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x24);
}
END_TEST

START_TEST(cascade)
{
    bus_set_irq(&bus, 14, 1);
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x2e);
    out(0xa0, 0x0b);
    ck_assert_int_eq(in(0xa0), 0x40);
    out(0x20, 0x0b);
    ck_assert_int_eq(in(0x20), 0x04);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    ck_assert_int_eq(in(0xa0), 0x00);
    ck_assert_int_eq(in(0x20), 0x00);
}
END_TEST

START_TEST(spurious_irq7)
{
    bus_set_irq(&bus, 5, 1);
    out(0x4d0, 0x20); /* make IRQ 5 level-triggered, then drop the line */
    bus_set_irq(&bus, 5, 0);
    ck_assert(!pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x27);
    out(0x20, 0x0b);
    ck_assert_int_eq(in(0x20), 0x00); /* no ISR bit for a spurious IRQ */
}
END_TEST

START_TEST(level_triggered_elcr)
{
    out(0x4d1, 0xff);
    ck_assert_int_eq(in(0x4d1), 0xde); /* IRQ 8 and 13 stay edge */
    bus_set_irq(&bus, 11, 1);
    ck_assert_int_eq(pic_ack(&pic), 0x2b);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    ck_assert(pic.intr); /* line still high: requests again */
    bus_set_irq(&bus, 11, 0);
    ck_assert(!pic.intr);
}
END_TEST

START_TEST(poll_mode)
{
    bus_set_irq(&bus, 6, 1);
    out(0x20, 0x0c); /* OCW3 poll */
    ck_assert_int_eq(in(0x20), 0x86);
    out(0x20, 0x0b);
    ck_assert_int_eq(in(0x20), 0x40);
}
END_TEST

START_TEST(auto_eoi_and_rotation)
{
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x03); /* AEOI */
    bus_set_irq(&bus, 0, 1);
    ck_assert_int_eq(pic_ack(&pic), 0x20);
    out(0x20, 0x0b);
    ck_assert_int_eq(in(0x20), 0x00);
    /* set priority: IRQ 4 lowest, so IRQ 5 is highest */
    out(0x20, 0xc4);
    bus_set_irq(&bus, 3, 1);
    bus_set_irq(&bus, 6, 1);
    ck_assert_int_eq(pic_ack(&pic), 0x26);
}
END_TEST

START_TEST(special_mask_mode)
{
    bus_set_irq(&bus, 2 + 1, 1);
    ck_assert_int_eq(pic_ack(&pic), 0x23);
    out(0x21, 0x08);  /* mask the in-service IRQ 3 */
    out(0x20, 0x68);  /* OCW3: set special mask mode */
    bus_set_irq(&bus, 5, 1); /* lower priority, but IRQ 3 is masked */
    ck_assert(pic.intr);
    ck_assert_int_eq(pic_ack(&pic), 0x25);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pic8259");
    TCase *t = tcase_create("pic");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, irq0_ack_eoi);
    tcase_add_test(t, mask_blocks);
    tcase_add_test(t, nesting_priority);
    tcase_add_test(t, cascade);
    tcase_add_test(t, spurious_irq7);
    tcase_add_test(t, level_triggered_elcr);
    tcase_add_test(t, poll_mode);
    tcase_add_test(t, auto_eoi_and_rotation);
    tcase_add_test(t, special_mask_mode);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
