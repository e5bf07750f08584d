/* MC146818 RTC/CMOS: time from the virtual clock, BCD/binary, SET, periodic and update IRQs, config bytes. */
#include <check.h>
#include <stdlib.h>

#include "devices/rtc_cmos.h"

static struct bus bus;
static struct rtc rtc;
static uint64_t now_ns;
static int irq8;

static uint64_t clock_fn(void *ctx) { (void)ctx; return now_ns; }
static void sink(void *ctx, int line, int level) { (void)ctx; if (line == 8) irq8 = level; }
static uint8_t rd(uint8_t reg) { bus_port_write(&bus, 0x70, 1, reg); return (uint8_t)bus_port_read(&bus, 0x71, 1); }
static void wr(uint8_t reg, uint8_t v) { bus_port_write(&bus, 0x70, 1, reg); bus_port_write(&bus, 0x71, 1, v); }
static void advance(uint64_t ns)
{
    uint64_t end = now_ns + ns;
    while (bus_next_deadline(&bus) <= end) {
        now_ns = bus_next_deadline(&bus);
        bus_run_timers(&bus, now_ns);
    }
    now_ns = end;
}

/* 2024-02-29 23:59:58 UTC, a Thursday */
#define START 1709251198

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    bus.clock = clock_fn;
    bus.irq_sink = sink;
    now_ns = 0;
    irq8 = 0;
    rtc_init(&rtc, &bus, START);
}
static void teardown(void) { bus_free(&bus); }

START_TEST(bcd_time_and_rollover)
{
    ck_assert_uint_eq(rd(0x00), 0x58);
    ck_assert_uint_eq(rd(0x02), 0x59);
    ck_assert_uint_eq(rd(0x04), 0x23);
    ck_assert_uint_eq(rd(0x07), 0x29);
    ck_assert_uint_eq(rd(0x08), 0x02);
    ck_assert_uint_eq(rd(0x09), 0x24);
    ck_assert_uint_eq(rd(0x32), 0x20);
    ck_assert_uint_eq(rd(0x06), 5); /* Thursday = 5 (Sunday = 1) */
    advance(2500000000ull);
    ck_assert_uint_eq(rd(0x00), 0x00);
    ck_assert_uint_eq(rd(0x07), 0x01);
    ck_assert_uint_eq(rd(0x08), 0x03);
    ck_assert_uint_eq(rd(0x0d), 0x80);
}
END_TEST

START_TEST(binary_12h_mode)
{
    wr(0x0b, 0x04); /* binary, 12-hour */
    ck_assert_uint_eq(rd(0x00), 58);
    ck_assert_uint_eq(rd(0x04), 0x80 | 11); /* 11 PM */
}
END_TEST

START_TEST(set_time)
{
    wr(0x0b, 0x82); /* SET, 24h, BCD */
    wr(0x00, 0x30); wr(0x02, 0x15); wr(0x04, 0x10);
    wr(0x07, 0x01); wr(0x08, 0x01); wr(0x09, 0x99); wr(0x32, 0x19);
    advance(5000000000ull); /* frozen while SET */
    ck_assert_uint_eq(rd(0x00), 0x30);
    wr(0x0b, 0x02);
    advance(1000000000ull);
    ck_assert_uint_eq(rd(0x00), 0x31);
    ck_assert_int_eq(rtc_time(&rtc), 915185731);
}
END_TEST

START_TEST(periodic_irq)
{
    wr(0x0a, 0x26); /* 1024 Hz */
    wr(0x0b, 0x42); /* PIE */
    ck_assert_int_eq(irq8, 0);
    advance(1000000000ull / 1024 + 1000);
    ck_assert_int_eq(irq8, 1);
    uint8_t c = rd(0x0c);
    ck_assert_uint_eq(c & 0xc0, 0xc0);
    ck_assert_int_eq(irq8, 0);
    ck_assert_uint_eq(rd(0x0c), 0);
}
END_TEST

START_TEST(update_irq_and_uip)
{
    wr(0x0b, 0x12); /* UIE */
    advance(999000000ull);
    ck_assert_int_eq(irq8, 0);
    advance(800000ull); /* inside the 244 us window before the update */
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0x80);
    advance(1000000ull);
    ck_assert_int_eq(irq8, 1);
    ck_assert_uint_eq(rd(0x0c) & 0x90, 0x90);
}
END_TEST

START_TEST(config_bytes)
{
    rtc_set_config(&rtc, 64u << 20, "dc");
    ck_assert_uint_eq(rd(0x15) | (rd(0x16) << 8), 640);
    ck_assert_uint_eq(rd(0x17) | (rd(0x18) << 8), 63 * 1024);
    ck_assert_uint_eq(rd(0x34) | (rd(0x35) << 8), (48u << 20) / 65536);
    ck_assert_uint_eq(rd(0x3d), 0x23);
    wr(0x40, 0x5a);
    ck_assert_uint_eq(rd(0x40), 0x5a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rtc_cmos");
    TCase *t = tcase_create("rtc");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, bcd_time_and_rollover);
    tcase_add_test(t, binary_12h_mode);
    tcase_add_test(t, set_time);
    tcase_add_test(t, periodic_irq);
    tcase_add_test(t, update_irq_and_uip);
    tcase_add_test(t, config_bytes);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
