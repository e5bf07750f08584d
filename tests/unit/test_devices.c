/* Devices of the first machine: 16550A UART, debug console, exit device,
 * output sinks. Each is driven through the bus's port dispatch, as the CPU
 * would. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/debugcon.h"
#include "devices/exit_device.h"
#include "devices/sink.h"
#include "devices/uart16550.h"
#include "mmu/bus.h"

/* A bus with a memory stream as the sink. */
struct rig {
    struct bus bus;
    struct sink sink;
    char *buf;
    size_t len;
    FILE *f;
    int irq_line, irq_level, irq_calls;
};

static void irq_sink(void *ctx, int line, int level)
{
    struct rig *r = ctx;
    r->irq_line = line;
    r->irq_level = level;
    r->irq_calls++;
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(bus_init(&r->bus, 1 << 20), 0);
    r->f = open_memstream(&r->buf, &r->len);
    ck_assert_ptr_nonnull(r->f);
    sink_init_stream(&r->sink, r->f, true);
    r->bus.irq_sink = irq_sink;
    r->bus.irq_ctx = r;
    r->irq_line = -1;
    return r;
}

/* Closes the sink and returns what was written (owned by r). */
static const char *rig_output(struct rig *r)
{
    ck_assert_int_eq(sink_close(&r->sink), 0);
    return r->buf ? r->buf : "";
}

static void rig_free(struct rig *r)
{
    if (r->sink.f)
        sink_close(&r->sink);
    free(r->buf);
    bus_free(&r->bus);
    free(r);
}

#define OUTB(p, v) bus_port_write(&r->bus, (p), 1, (v))
#define INB(p) bus_port_read(&r->bus, (p), 1)
enum { COM1 = UART_COM1_BASE };

START_TEST(uart_transmits_to_sink)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & 0x60, 0x60); /* THRE | TEMT */
    OUTB(COM1, 'h');
    OUTB(COM1, 'i');
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & 0x60, 0x60);
    ck_assert_str_eq(rig_output(r), "hi");
    ck_assert_uint_eq(u.tx_bytes, 2);
    rig_free(r);
}
END_TEST

START_TEST(uart_divisor_latch)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    OUTB(COM1 + UART_LCR, 0x83); /* DLAB, 8N1 */
    OUTB(COM1 + UART_DLL, 0x01);
    OUTB(COM1 + UART_DLM, 0x00);
    ck_assert_uint_eq(INB(COM1 + UART_DLL), 0x01);
    ck_assert_uint_eq(INB(COM1 + UART_DLM), 0x00);
    ck_assert_uint_eq(u.divisor, 1);
    OUTB(COM1 + UART_LCR, 0x03);
    ck_assert_uint_eq(INB(COM1 + UART_LCR), 0x03);
    /* With DLAB clear, offset 0 is THR again: nothing of the divisor leaked out. */
    OUTB(COM1, 'x');
    ck_assert_str_eq(rig_output(r), "x");
    rig_free(r);
}
END_TEST

/* The probe Linux's 8250 driver runs (autoconfig): IER read-back, loopback
 * modem lines, FIFO bits of IIR (16550A), scratch register. */
START_TEST(uart_linux_probe)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    OUTB(COM1 + UART_IER, 0);
    ck_assert_uint_eq(INB(COM1 + UART_IER) & 0x0f, 0);
    OUTB(COM1 + UART_IER, 0xff);
    ck_assert_uint_eq(INB(COM1 + UART_IER), 0x0f); /* upper bits read 0 on a 16550A */
    OUTB(COM1 + UART_IER, 0);
    OUTB(COM1 + UART_MCR, 0x1a); /* loop, OUT2, RTS */
    ck_assert_uint_eq(INB(COM1 + UART_MSR) & 0xf0, 0x90);
    OUTB(COM1 + UART_MCR, 0);
    OUTB(COM1 + UART_FCR, 0x01);
    ck_assert_uint_eq(INB(COM1 + UART_IIR) & 0xc0, 0xc0);
    OUTB(COM1 + UART_FCR, 0x00);
    ck_assert_uint_eq(INB(COM1 + UART_IIR), 0x01); /* no FIFO, no interrupt */
    OUTB(COM1 + UART_SCR, 0x5a);
    ck_assert_uint_eq(INB(COM1 + UART_SCR), 0x5a);
    rig_free(r);
}
END_TEST

START_TEST(uart_loopback_and_receive)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    OUTB(COM1 + UART_MCR, 0x10);
    OUTB(COM1, 'L'); /* looped back, not transmitted */
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & 1, 1);
    ck_assert_uint_eq(INB(COM1), 'L');
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & 1, 0);
    OUTB(COM1 + UART_MCR, 0);
    ck_assert(uart_receive(&u, 'a'));
    ck_assert(uart_receive(&u, 'b'));
    ck_assert_uint_eq(INB(COM1), 'a');
    ck_assert_uint_eq(INB(COM1), 'b');
    for (int k = 0; k < UART_FIFO_SIZE; k++)
        ck_assert(uart_receive(&u, (uint8_t)k));
    ck_assert(!uart_receive(&u, 0xee));
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    ck_assert_uint_eq(INB(COM1 + UART_LSR) & UART_LSR_OE, 0); /* cleared by the read */
    ck_assert_str_eq(rig_output(r), "");
    rig_free(r);
}
END_TEST

START_TEST(uart_interrupts)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    OUTB(COM1 + UART_MCR, UART_MCR_OUT2);
    OUTB(COM1 + UART_IER, 0x02); /* THRE: raised at once, THR is empty */
    ck_assert_int_eq(r->irq_line, 4);
    ck_assert_int_eq(r->irq_level, 1);
    ck_assert_uint_eq(INB(COM1 + UART_IIR) & 0x0f, 0x02);
    ck_assert_int_eq(r->irq_level, 0); /* reading IIR cleared it */
    ck_assert_uint_eq(INB(COM1 + UART_IIR) & 0x0f, 0x01);
    OUTB(COM1, 'z'); /* THR empty again after the byte */
    ck_assert_int_eq(r->irq_level, 1);
    OUTB(COM1 + UART_IER, 0x03);
    uart_receive(&u, 'q'); /* received data outranks THRE */
    ck_assert_uint_eq(INB(COM1 + UART_IIR) & 0x0f, 0x04);
    INB(COM1);
    ck_assert_uint_eq(INB(COM1 + UART_IIR) & 0x0f, 0x02);
    /* OUT2 low: no line to the PIC, whatever is pending. */
    OUTB(COM1 + UART_MCR, 0);
    OUTB(COM1, 'z');
    ck_assert_int_eq(r->irq_level, 0);
    rig_free(r);
}
END_TEST

START_TEST(uart_word_access_spans_registers)
{
    struct rig *r = rig_new();
    struct uart16550 u;
    uart_init(&u, &r->bus, COM1, UART_COM1_IRQ, &r->sink);
    OUTB(COM1 + UART_SCR, 0x77);
    /* A word read at base+6 reads MSR and SCR. */
    uint32_t w = bus_port_read(&r->bus, COM1 + 6, 2);
    ck_assert_uint_eq(w >> 8, 0x77);
    /* A word read at base+7 reaches past the UART: the unclaimed 0x400 reads 0xff. */
    w = bus_port_read(&r->bus, COM1 + 7, 2);
    ck_assert_uint_eq(w, 0xff77);
    rig_free(r);
}
END_TEST

START_TEST(debugcon_writes_and_detects)
{
    struct rig *r = rig_new();
    struct debugcon d;
    debugcon_init(&d, &r->bus, DEBUGCON_PORT, &r->sink);
    ck_assert_uint_eq(INB(DEBUGCON_PORT), 0xe9);
    OUTB(DEBUGCON_PORT, 'o');
    bus_port_write(&r->bus, DEBUGCON_PORT, 2, 0x4b6b); /* low byte only: 'k' */
    OUTB(DEBUGCON_PORT, '\n');
    ck_assert_str_eq(rig_output(r), "ok\n");
    ck_assert_uint_eq(d.bytes, 3);
    rig_free(r);
}
END_TEST

START_TEST(exit_device_records_first_write)
{
    struct rig *r = rig_new();
    struct exit_device e;
    uint8_t stop = 0;
    exit_device_init(&e, &r->bus, EXIT_DEVICE_PORT, &stop);
    ck_assert(!e.written);
    OUTB(EXIT_DEVICE_PORT, 0x10);
    ck_assert_int_eq(stop, 1);
    ck_assert(e.written);
    ck_assert_uint_eq(e.value, 0x10);
    ck_assert_int_eq(exit_device_status(e.value), 33);
    OUTB(EXIT_DEVICE_PORT, 0x11); /* later writes do not change the outcome */
    ck_assert_uint_eq(e.value, 0x10);
    ck_assert_int_eq(exit_device_status(0), 1);
    ck_assert_int_eq(exit_device_status(0x11), 35);
    ck_assert_int_eq(exit_device_status(0x80), 1);    /* 0x101 truncated to 8 bits */
    ck_assert_int_eq(exit_device_status(0x7f), 255);
    rig_free(r);
}
END_TEST

START_TEST(exit_device_wide_write)
{
    struct rig *r = rig_new();
    struct exit_device e;
    exit_device_init(&e, &r->bus, EXIT_DEVICE_PORT, NULL);
    bus_port_write(&r->bus, EXIT_DEVICE_PORT, 4, 0x12345603);
    ck_assert_uint_eq(e.value, 0x12345603);
    ck_assert_int_eq(exit_device_status(e.value), 7);
    rig_free(r);
}
END_TEST

START_TEST(sink_specs)
{
    struct sink s;
    char err[256];
    ck_assert_int_eq(sink_open(&s, "none", "--serial", err, sizeof(err)), 0);
    sink_put(&s, 'x'); /* discarded */
    ck_assert_int_eq(sink_close(&s), 0);
    ck_assert_int_eq(sink_open(&s, "stdio", "--serial", err, sizeof(err)), 0);
    ck_assert_ptr_eq(s.f, stdout);
    ck_assert_int_eq(sink_close(&s), 0);

    ck_assert_int_eq(sink_open(&s, "tty", "--serial", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--serial"));
    ck_assert_ptr_nonnull(strstr(err, "'tty'"));
    ck_assert_int_eq(sink_open(&s, "file:", "--debugcon", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--debugcon"));
    ck_assert_int_eq(sink_open(&s, "file:/nonexistent-dir/x", "--serial", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x"));

    char path[] = "/tmp/trapeze-sink-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    ck_assert_int_eq(sink_open(&s, spec, "--serial", err, sizeof(err)), 0);
    sink_put(&s, 'A');
    sink_put(&s, '\n');
    ck_assert_int_eq(sink_close(&s), 0);
    FILE *f = fopen(path, "rb");
    char got[8] = {0};
    ck_assert_uint_eq(fread(got, 1, sizeof(got), f), 2);
    fclose(f);
    unlink(path);
    ck_assert_str_eq(got, "A\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *t = tcase_create("uart");
    tcase_add_test(t, uart_transmits_to_sink);
    tcase_add_test(t, uart_divisor_latch);
    tcase_add_test(t, uart_linux_probe);
    tcase_add_test(t, uart_loopback_and_receive);
    tcase_add_test(t, uart_interrupts);
    tcase_add_test(t, uart_word_access_spans_registers);
    suite_add_tcase(s, t);
    t = tcase_create("debug_exit_sink");
    tcase_add_test(t, debugcon_writes_and_detects);
    tcase_add_test(t, exit_device_records_first_write);
    tcase_add_test(t, exit_device_wide_write);
    tcase_add_test(t, sink_specs);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
