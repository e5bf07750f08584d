/* 8254 PIT: modes, latches, read-back, channel 2 gate via port 0x61, IRQ 0 timing. */
#include <check.h>
#include <stdlib.h>

#include "devices/pit8254.h"

static struct bus bus;
static struct pit pit;
static uint64_t now_ns;
static int irq0_rises, irq0_level;

static uint64_t clock_fn(void *ctx) { (void)ctx; return now_ns; }
static void sink(void *ctx, int line, int level)
{
    (void)ctx;
    if (line == 0) {
        if (level && !irq0_level)
            irq0_rises++;
        irq0_level = level;
    }
}
static void out(uint16_t port, uint8_t v) { bus_port_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)bus_port_read(&bus, port, 1); }
/* Advances virtual time, firing timers as the machine would. */
static void advance(uint64_t ns)
{
    uint64_t end = now_ns + ns;
    while (bus_next_deadline(&bus) <= end) {
        now_ns = bus_next_deadline(&bus);
        bus_run_timers(&bus, now_ns);
    }
    now_ns = end;
}
static uint64_t ticks_ns(uint64_t t) { return t * 1000000000ull / PIT_HZ; }

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    bus.clock = clock_fn;
    bus.irq_sink = sink;
    now_ns = 1000;
    irq0_rises = irq0_level = 0;
    pit_init(&pit, &bus);
}
static void teardown(void) { bus_free(&bus); }

START_TEST(mode2_rate_generator_irq)
{
    out(0x43, 0x34); /* ch0, lo/hi, mode 2 */
    out(0x40, 0xa9); out(0x40, 0x04); /* 1193: ~1 kHz */
    int before = irq0_rises;
    advance(10 * 1000000ull + 500000); /* 10.5 ms */
    ck_assert_int_eq(irq0_rises - before, 10);
}
END_TEST

START_TEST(mode0_one_shot)
{
    out(0x43, 0x30); /* ch0, lo/hi, mode 0 */
    out(0x40, 100); out(0x40, 0);
    ck_assert_int_eq(irq0_level, 0);
    advance(ticks_ns(99));
    ck_assert_int_eq(irq0_level, 0);
    advance(ticks_ns(2) + 1);
    ck_assert_int_eq(irq0_level, 1);
    advance(ticks_ns(1000));
    ck_assert_int_eq(irq0_rises, 1); /* no repeat */
}
END_TEST

START_TEST(latch_and_count_down)
{
    out(0x43, 0x34);
    out(0x40, 0x00); out(0x40, 0x10); /* 4096 */
    advance(ticks_ns(96) + 10);
    out(0x43, 0x00); /* latch ch0 */
    advance(ticks_ns(500));
    uint16_t v = in(0x40);
    v |= (uint16_t)(in(0x40) << 8);
    ck_assert_uint_eq(v, 4096 - 96);
}
END_TEST

START_TEST(readback_status)
{
    out(0x43, 0xb6); /* ch2, lo/hi, mode 3 */
    out(0x43, 0xe8); /* read-back status of ch2 (latch status only) */
    uint8_t st = in(0x42);
    ck_assert_uint_eq(st & 0x3f, 0x36); /* access 3, mode 3, binary */
    ck_assert(st & 0x40);               /* null count: nothing loaded yet */
}
END_TEST

START_TEST(channel2_gate_and_output)
{
    /* Linux's PIT calibration: gate on, speaker off, mode 0 on channel 2. */
    out(0x61, (in(0x61) & ~0x02) | 0x01);
    out(0x43, 0xb0);
    out(0x42, 0xff); out(0x42, 0xff);
    ck_assert_int_eq(in(0x61) & 0x20, 0);
    advance(ticks_ns(0x10000));
    ck_assert_int_eq(in(0x61) & 0x20, 0x20);
    /* gate low pauses mode 0 */
    out(0x43, 0xb0);
    out(0x42, 0x00); out(0x42, 0x01); /* 256 */
    advance(ticks_ns(10) + 5);
    out(0x61, 0x00);
    advance(ticks_ns(1000));
    out(0x43, 0x80);
    uint16_t v = in(0x42);
    v |= (uint16_t)(in(0x42) << 8);
    ck_assert_uint_eq(v, 256 - 10);
}
END_TEST

START_TEST(refresh_toggle)
{
    uint8_t a = in(0x61) & 0x10;
    advance(15085);
    uint8_t b = in(0x61) & 0x10;
    ck_assert_uint_ne(a, b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pit8254");
    TCase *t = tcase_create("pit");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, mode2_rate_generator_irq);
    tcase_add_test(t, mode0_one_shot);
    tcase_add_test(t, latch_and_count_down);
    tcase_add_test(t, readback_status);
    tcase_add_test(t, channel2_gate_and_output);
    tcase_add_test(t, refresh_toggle);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
