/* 8042 controller, PS/2 keyboard (set 2 -> 1 translation) and mouse, A20 and reset lines. */
#include <check.h>
#include <stdlib.h>

#include "devices/i8042.h"

static struct bus bus;
static struct i8042 kbc;
static int irq1, irq12, resets, edges1, edges12;

static void sink(void *ctx, int line, int level)
{
    (void)ctx;
    if (line == 1) edges1 += level && !irq1, irq1 = level;
    if (line == 12) edges12 += level && !irq12, irq12 = level;
}
static void reset_cb(void *ctx) { (void)ctx; resets++; }
static void out(uint16_t port, uint8_t v) { bus_port_write(&bus, port, 1, v); }
static uint8_t in(uint16_t port) { return (uint8_t)bus_port_read(&bus, port, 1); }
static int read_data(void) { return (in(0x64) & 1) ? in(0x60) : -1; }

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    bus.irq_sink = sink;
    bus.reset_request = reset_cb;
    irq1 = irq12 = resets = edges1 = edges12 = 0;
    i8042_init(&kbc, &bus);
}
static void teardown(void) { bus_free(&bus); }

START_TEST(self_test_and_ccb)
{
    out(0x64, 0xaa);
    ck_assert_int_eq(read_data(), 0x55);
    ck_assert(in(0x64) & 0x04); /* SYS flag */
    out(0x64, 0x20);
    ck_assert_int_eq(read_data(), 0x45);
    out(0x64, 0x60);
    out(0x60, 0x47);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data(), 0x47);
    ck_assert_int_eq(read_data(), -1);
}
END_TEST

/* Linux's i8042_check_aux with both interfaces disabled: the controller's
 * own replies still arrive (the AUX loopback as mouse data), and 0xA7/0xA8
 * show in the command byte. */
START_TEST(controller_replies_with_ports_disabled)
{
    out(0x64, 0x60);
    out(0x60, 0x74); /* KBDDIS | AUXDIS | XLATE | SYS, no interrupts */
    out(0x64, 0xd3);
    out(0x60, 0x5a);
    ck_assert_int_eq(in(0x64) & 0x21, 0x21); /* OBF with AUXOBF */
    ck_assert_int_eq(read_data(), 0x5a);
    out(0x64, 0xa7);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data() & 0x20, 0x20);
    out(0x64, 0xa8);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data() & 0x20, 0x00);
    out(0x64, 0xa9);
    ck_assert_int_eq(read_data(), 0x00);
    ck_assert_int_eq(read_data(), -1);
    /* Device data still waits for its interface: a keyboard reply queued
     * while the keyboard is disabled comes after the controller's byte. */
    out(0x64, 0xad);
    out(0x60, 0xee); /* writing to the keyboard enables its interface */
    ck_assert_int_eq(read_data(), 0xee);
}
END_TEST

/* Every byte of a multi-byte reply is a new rising edge on IRQ 1 (the PIC
 * input is edge-triggered; Linux reads one byte per interrupt). */
START_TEST(each_reply_byte_is_an_irq_edge)
{
    out(0x64, 0x60);
    out(0x60, 0x45); /* KBDINT | SYS | XLATE */
    edges1 = 0;
    out(0x60, 0xf2);
    ck_assert_int_eq(edges1, 1);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert_int_eq(edges1, 2);
    ck_assert_int_eq(read_data(), 0xab);
    ck_assert_int_eq(edges1, 3);
    ck_assert_int_eq(read_data(), 0x41);
    ck_assert_int_eq(irq1, 0);
    /* The mouse likewise: reset answers FA AA 00 on IRQ 12. */
    out(0x64, 0x60);
    out(0x60, 0x47); /* KBDINT | AUXINT | SYS | XLATE */
    out(0x64, 0xa8);
    edges12 = 0;
    out(0x64, 0xd4);
    out(0x60, 0xff);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert_int_eq(read_data(), 0xaa);
    ck_assert_int_eq(read_data(), 0x00);
    ck_assert_int_eq(edges12, 3);
    ck_assert_int_eq(irq12, 0);
}
END_TEST

START_TEST(keyboard_reset_and_identify)
{
    out(0x60, 0xff);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert_int_eq(read_data(), 0xaa);
    out(0x60, 0xf2);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert_int_eq(read_data(), 0xab);
    ck_assert_int_eq(read_data(), 0x41);
}
END_TEST

START_TEST(translated_scancodes_and_irq1)
{
    static const uint8_t a_down[] = {0x1c}, a_up[] = {0xf0, 0x1c}, rctrl_up[] = {0xe0, 0xf0, 0x14};
    i8042_key(&kbc, a_down, 1);
    ck_assert_int_eq(irq1, 1);
    ck_assert_int_eq(read_data(), 0x1e);
    ck_assert_int_eq(irq1, 0);
    i8042_key(&kbc, a_up, 2);
    ck_assert_int_eq(read_data(), 0x9e);
    i8042_key(&kbc, rctrl_up, 3);
    ck_assert_int_eq(read_data(), 0xe0);
    ck_assert_int_eq(read_data(), 0x9d);
    /* without translation the set 2 bytes pass through */
    out(0x64, 0x60);
    out(0x60, 0x05);
    i8042_key(&kbc, a_up, 2);
    ck_assert_int_eq(read_data(), 0xf0);
    ck_assert_int_eq(read_data(), 0x1c);
}
END_TEST

START_TEST(mouse_stream)
{
    out(0x64, 0x60);
    out(0x60, 0x47); /* enable IRQ 12 */
    out(0x64, 0xd4);
    out(0x60, 0xf4);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert(in(0x64) & 0x20 || 1);
    i8042_mouse(&kbc, 5, 3, 0, 1);
    ck_assert_int_eq(irq12, 1);
    ck_assert(in(0x64) & 0x20);
    ck_assert_int_eq(read_data(), 0x29); /* 0x08 | left | dy negative */
    ck_assert_int_eq(read_data(), 5);
    ck_assert_int_eq(read_data(), 0xfd);
    /* IntelliMouse knock */
    static const uint8_t rates[] = {200, 100, 80};
    for (int k = 0; k < 3; k++) {
        out(0x64, 0xd4); out(0x60, 0xf3); read_data();
        out(0x64, 0xd4); out(0x60, rates[k]); read_data();
    }
    out(0x64, 0xd4);
    out(0x60, 0xf2);
    ck_assert_int_eq(read_data(), 0xfa);
    ck_assert_int_eq(read_data(), 0x03);
}
END_TEST

START_TEST(a20_and_reset)
{
    ck_assert_uint_eq(bus.a20_mask, 0xffefffffu);
    out(0x64, 0xd1);
    out(0x60, 0x03);
    ck_assert_uint_eq(bus.a20_mask, 0xffffffffu);
    out(0x64, 0xd0);
    ck_assert_int_eq(read_data(), 0x03);
    out(0x92, 0x00);
    out(0x64, 0xd1);
    out(0x60, 0x01);
    ck_assert_uint_eq(bus.a20_mask, 0xffefffffu);
    out(0x92, 0x02);
    ck_assert_uint_eq(bus.a20_mask, 0xffffffffu);
    ck_assert_int_eq(in(0x92), 0x02);
    ck_assert_int_eq(resets, 0);
    out(0x64, 0xfe);
    ck_assert_int_eq(resets, 1);
    out(0x92, 0x03);
    ck_assert_int_eq(resets, 2);
}
END_TEST

/* Linux's probe (drivers/input/serio/i8042.c): self-test, CTR with the
 * keyboard interface disabled, then i8042_check_aux: the AUX loopback
 * (0xD3) must come back as mouse data, and 0xA7/0xA8 must show in the CTR.
 * Run from the state a BIOS leaves (both interfaces disabled, AUXDIS set)
 * and from the power-on state. */
static void linux_probe(uint8_t start_ctr)
{
    out(0x64, 0x60);
    out(0x60, start_ctr);
    while (read_data() >= 0) /* i8042_flush */
        ;
    out(0x64, 0xaa);
    ck_assert_int_eq(read_data(), 0x55);
    out(0x64, 0x20);
    int ctr = read_data();
    ck_assert_int_eq(ctr, start_ctr);
    ctr = (ctr | 0x10) & ~0x01; /* KBDDIS, no KBDINT */
    out(0x64, 0x60);
    out(0x60, (uint8_t)ctr);
    ck_assert_int_eq(read_data(), -1);
    /* AUX loopback: the byte returns with the AUX flag (status bit 5),
     * whether or not the AUX interface is enabled. */
    out(0x64, 0xd3);
    out(0x60, 0x5a);
    ck_assert_int_eq(in(0x64) & 0x21, 0x21);
    ck_assert_int_eq(in(0x60), 0x5a);
    ck_assert_int_eq(read_data(), -1);
    /* i8042_toggle_aux(false), (true) */
    out(0x64, 0xa7);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data() & 0x20, 0x20);
    out(0x64, 0xa8);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data() & 0x20, 0x00);
    /* The AUX IRQ test: AUXINT on, loopback 0xA5 raises IRQ 12. */
    out(0x64, 0x20);
    ctr = read_data();
    out(0x64, 0x60);
    out(0x60, (uint8_t)((ctr & ~0x20) | 0x02));
    out(0x64, 0xd3);
    out(0x60, 0xa5);
    ck_assert_int_eq(irq12, 1);
    ck_assert_int_eq(in(0x64) & 0x21, 0x21);
    ck_assert_int_eq(in(0x60), 0xa5);
    ck_assert_int_eq(irq12, 0);
    ck_assert_int_eq(read_data(), -1);
}

START_TEST(linux_aux_probe_from_power_on)
{
    linux_probe(0x45);
}
END_TEST

START_TEST(linux_aux_probe_after_bios)
{
    linux_probe(0x75); /* KBDDIS | AUXDIS as firmware leaves them */
}
END_TEST

/* Controller replies are not held behind a disabled interface, and device
 * data is not lost: a mouse byte that arrived while the AUX interface was
 * disabled waits in the mouse until 0xA8. */
START_TEST(disabled_ports_hold_device_data_not_replies)
{
    out(0x64, 0xa7);
    out(0x64, 0xd4);
    out(0x60, 0xf2); /* identify: FA 00 from the mouse, held */
    ck_assert_int_eq(read_data(), -1);
    out(0x64, 0x20);
    ck_assert_int_eq(read_data() & 0x20, 0x20);
    out(0x64, 0xad);
    out(0x64, 0xd2);
    out(0x60, 0x1c); /* keyboard output buffer write: delivered as keyboard data */
    ck_assert_int_eq(in(0x64) & 0x21, 0x01);
    ck_assert_int_eq(in(0x60), 0x1c);
    out(0x64, 0xa8);
    ck_assert_int_eq(in(0x64) & 0x21, 0x21);
    ck_assert_int_eq(in(0x60), 0xfa);
    ck_assert_int_eq(read_data(), 0x00);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("i8042");
    TCase *t = tcase_create("kbc");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, self_test_and_ccb);
    tcase_add_test(t, controller_replies_with_ports_disabled);
    tcase_add_test(t, each_reply_byte_is_an_irq_edge);
    tcase_add_test(t, keyboard_reset_and_identify);
    tcase_add_test(t, translated_scancodes_and_irq1);
    tcase_add_test(t, mouse_stream);
    tcase_add_test(t, a20_and_reset);
    tcase_add_test(t, linux_aux_probe_from_power_on);
    tcase_add_test(t, linux_aux_probe_after_bios);
    tcase_add_test(t, disabled_ports_hold_device_data_not_replies);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
