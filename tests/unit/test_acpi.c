/*
 * ACPI: the tables of bios/acpi_tables.c (found as an OS finds them, every
 * checksum, the FADT's PM block, the DSDT's AML for \_S5 and the PNP
 * devices) and the PIIX4 PM function of devices/acpi_pm.c (PMBA decoding,
 * the PM timer's rate, TMROF, SCI on IRQ 9, soft-off).
 *
 * With ACPI_DUMP=DIR in the environment the tables are also written there
 * (dsdt.dat, facp.dat, ...) for `iasl -d`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/acpi_tables.h"
#include "devices/acpi_pm.h"

static struct bus bus;
static struct pci_bus pcib;
static struct acpi_pm pm;
static uint64_t now_ns;
static int irq9, power_offs;

static uint64_t clock_fn(void *ctx) { (void)ctx; return now_ns; }
static void sink(void *ctx, int line, int level)
{
    (void)ctx;
    if (line == 9)
        irq9 = level;
}
static void on_power_off(void *ctx) { (void)ctx; power_offs++; }

static uint32_t rd32(uint32_t pa) { uint32_t v; bus_read_bytes(&bus, pa, &v, 4); return v; }
static uint8_t sum(uint32_t pa, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t b;
        bus_read_bytes(&bus, pa + i, &b, 1);
        s = (uint8_t)(s + b);
    }
    return s;
}

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 2u << 20), 0);
    bus.clock = clock_fn;
    bus.irq_sink = sink;
    now_ns = 0;
    irq9 = power_offs = 0;
    pci_bus_init(&pcib, &bus);
    acpi_pm_init(&pm, &bus, &pcib);
    pm.power_off = on_power_off;
}
static void teardown(void) { bus_free(&bus); }

static void cfg_write(int reg, int size, uint32_t v)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (ACPI_PM_PCI_SLOT << 11) | (ACPI_PM_PCI_FN << 8) |
                                       (uint32_t)(reg & 0xfc));
    bus_port_write(&bus, (uint16_t)(0xcfc + (reg & 3)), size, v);
}
static uint32_t cfg_read(int reg, int size)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (ACPI_PM_PCI_SLOT << 11) | (ACPI_PM_PCI_FN << 8) |
                                       (uint32_t)(reg & 0xfc));
    return bus_port_read(&bus, (uint16_t)(0xcfc + (reg & 3)), size);
}

/* Scans 0xE0000-0xFFFFF on 16-byte boundaries for a valid RSDP, as Linux's
 * acpi_find_root_pointer does. */
static uint32_t find_rsdp(void)
{
    for (uint32_t pa = 0xe0000; pa < 0x100000; pa += 16) {
        char sig[8];
        bus_read_bytes(&bus, pa, sig, 8);
        if (!memcmp(sig, "RSD PTR ", 8) && sum(pa, 20) == 0)
            return pa;
    }
    return 0;
}

static void dump(const char *dir, const char *file, uint32_t pa)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t len = rd32(pa + 4);
    uint8_t buf[ACPI_TABLES_SIZE];
    bus_read_bytes(&bus, pa, buf, len);
    fwrite(buf, 1, len, f);
    fclose(f);
}

START_TEST(tables_found_and_consistent)
{
    struct acpi_platform p = {0x600, 9, 128u << 20};
    ck_assert_int_gt(acpi_tables_install(&bus, &p), 0);
    uint32_t rsdp = find_rsdp();
    ck_assert_uint_eq(rsdp, ACPI_TABLES_BASE);
    uint8_t rev;
    bus_read_bytes(&bus, rsdp + 15, &rev, 1);
    ck_assert_uint_eq(rev, 0); /* ACPI 1.0: 20-byte RSDP, RSDT only */

    uint32_t rsdt = rd32(rsdp + 16);
    ck_assert_uint_eq(rd32(rsdt), 0x54445352); /* "RSDT" */
    ck_assert_uint_eq(rd32(rsdt + 4), 40);
    ck_assert_uint_eq(sum(rsdt, 40), 0);

    uint32_t fadt = rd32(rsdt + 36);
    ck_assert_uint_eq(rd32(fadt), 0x50434146); /* "FACP" */
    ck_assert_uint_eq(rd32(fadt + 4), 116);
    ck_assert_uint_eq(sum(fadt, 116), 0);
    uint8_t b[116];
    bus_read_bytes(&bus, fadt, b, 116);
    ck_assert_uint_eq(b[8], 1);                    /* revision 1 */
    ck_assert_uint_eq(b[46] | b[47] << 8, 9);      /* SCI_INT */
    ck_assert_uint_eq(rd32(fadt + 48), 0);         /* SMI_CMD: always ACPI mode */
    ck_assert_uint_eq(rd32(fadt + 56), 0x600);     /* PM1a_EVT_BLK */
    ck_assert_uint_eq(rd32(fadt + 64), 0x604);     /* PM1a_CNT_BLK */
    ck_assert_uint_eq(rd32(fadt + 76), 0x608);     /* PM_TMR_BLK */
    ck_assert_uint_eq(rd32(fadt + 80), 0x60c);     /* GPE0_BLK */
    ck_assert_uint_eq(b[88], 4);
    ck_assert_uint_eq(b[89], 2);
    ck_assert_uint_eq(b[91], 4);
    ck_assert_uint_eq(rd32(fadt + 112) & (1u << 8), 0); /* 24-bit timer */

    uint32_t facs = rd32(fadt + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_uint_eq(rd32(facs), 0x53434146); /* "FACS" */
    ck_assert_uint_eq(rd32(facs + 4), 64);

    uint32_t dsdt = rd32(fadt + 40);
    ck_assert_uint_eq(rd32(dsdt), 0x54445344); /* "DSDT" */
    uint32_t dlen = rd32(dsdt + 4);
    ck_assert_uint_le(dsdt + dlen, ACPI_TABLES_BASE + ACPI_TABLES_SIZE);
    ck_assert_uint_eq(sum(dsdt, dlen), 0);
    uint8_t aml[ACPI_TABLES_SIZE];
    bus_read_bytes(&bus, dsdt, aml, dlen);
    /* Name(\_S5_, Package(4){0, 0, 0, 0}) as the first AML object. */
    static const uint8_t s5[] = {0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0};
    ck_assert_mem_eq(aml + 36, s5, sizeof(s5));
    /* Name(_HID, EisaId("PNP0B00")) and the other devices' IDs. */
    static const uint8_t ids[][4] = {{0x41, 0xd0, 0x0b, 0x00}, {0x41, 0xd0, 0x03, 0x03},
                                     {0x41, 0xd0, 0x0f, 0x13}, {0x41, 0xd0, 0x05, 0x01},
                                     {0x41, 0xd0, 0x01, 0x00}, {0x41, 0xd0, 0x0a, 0x03}};
    for (unsigned k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
        uint8_t pat[10] = {0x08, '_', 'H', 'I', 'D', 0x0c};
        memcpy(pat + 6, ids[k], 4);
        ck_assert_ptr_nonnull(memmem(aml, dlen, pat, sizeof(pat)));
    }

    const char *dir = getenv("ACPI_DUMP");
    if (dir) {
        dump(dir, "dsdt.dat", dsdt);
        dump(dir, "facp.dat", fadt);
        dump(dir, "rsdt.dat", rsdt);
    }
}
END_TEST

START_TEST(pmba_decoding)
{
    ck_assert_uint_eq(cfg_read(0x00, 4), 0x71138086);
    ck_assert_uint_eq(cfg_read(0x08, 4), 0x06800003);
    ck_assert_uint_eq(cfg_read(0x40, 4), 1); /* I/O indicator, base 0 */
    cfg_write(0x40, 4, 0xb03f);
    ck_assert_uint_eq(cfg_read(0x40, 4), 0xb001); /* bits 5:1 read 0 */
    ck_assert_uint_eq(bus_port_read(&bus, 0xb004, 2), 0xffff); /* PMIOSE off */
    cfg_write(0x80, 1, 1);
    ck_assert_uint_eq(bus_port_read(&bus, 0xb004, 2), 0); /* SCI_EN 0 at power-on */
    cfg_write(0x40, 4, 0x601);
    ck_assert_uint_eq(bus_port_read(&bus, 0xb004, 2), 0xffff); /* moved away */
    ck_assert_uint_eq(bus_port_read(&bus, 0x604, 2), 0);
}
END_TEST

START_TEST(pm_timer_rate_and_overflow)
{
    acpi_pm_firmware_setup(&pm, 0x600);
    ck_assert_uint_eq(bus_port_read(&bus, 0x604, 2) & ACPI_CNT_SCI_EN, ACPI_CNT_SCI_EN);
    now_ns = 1000000000; /* one second: 3579545 ticks */
    ck_assert_uint_eq(bus_port_read(&bus, 0x608, 4), 3579545);
    now_ns = 2000000000;
    ck_assert_uint_eq(bus_port_read(&bus, 0x608, 4), 7159090 & 0xffffff);
    /* Bit 23 toggled at 2^23 ticks (2.34 s): TMROF_STS. */
    ck_assert_uint_eq(bus_port_read(&bus, 0x600, 2) & 1, 0);
    now_ns = 2400000000u;
    ck_assert_uint_eq(bus_port_read(&bus, 0x600, 2) & 1, 1);
    ck_assert_int_eq(irq9, 0); /* not enabled */
    bus_port_write(&bus, 0x602, 2, 1); /* TMROF_EN: SCI */
    ck_assert_int_eq(irq9, 1);
    bus_port_write(&bus, 0x600, 2, 1); /* clear */
    ck_assert_int_eq(irq9, 0);
    ck_assert_uint_eq(bus_port_read(&bus, 0x600, 2) & 1, 0);
    /* The next toggle (2^24 ticks, 4.687 s) fires the armed timer. */
    uint64_t next = bus_next_deadline(&bus);
    ck_assert_uint_eq(next, (16777216ull * 1000000000ull + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
    now_ns = next;
    bus_run_timers(&bus, now_ns);
    ck_assert_int_eq(irq9, 1);
    ck_assert_uint_eq(bus_port_read(&bus, 0x608, 4), 0); /* wrapped to 0 */
}
END_TEST

START_TEST(power_button_and_soft_off)
{
    acpi_pm_firmware_setup(&pm, 0x600);
    acpi_pm_power_button(&pm);
    ck_assert_uint_eq(bus_port_read(&bus, 0x600, 2) & ACPI_PM1_PWRBTN, ACPI_PM1_PWRBTN);
    ck_assert_int_eq(irq9, 0);
    bus_port_write(&bus, 0x602, 2, ACPI_PM1_PWRBTN);
    ck_assert_int_eq(irq9, 1);
    bus_port_write(&bus, 0x600, 2, ACPI_PM1_PWRBTN);
    ck_assert_int_eq(irq9, 0);
    /* Linux's S5: SLP_TYP written first, then with SLP_EN. */
    bus_port_write(&bus, 0x604, 2, ACPI_CNT_SCI_EN | (5u << 10)); /* a type, no SLP_EN */
    ck_assert_int_eq(power_offs, 0);
    bus_port_write(&bus, 0x604, 2, ACPI_CNT_SCI_EN | (1u << 10) | ACPI_CNT_SLP_EN); /* STR: not offered */
    ck_assert_int_eq(power_offs, 0);
    ck_assert_uint_eq(bus_port_read(&bus, 0x604, 2) & ACPI_CNT_SLP_EN, 0); /* write-only */
    bus_port_write(&bus, 0x604, 2, ACPI_CNT_SCI_EN | ACPI_CNT_SLP_EN); /* soft-off */
    ck_assert_int_eq(power_offs, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpi");
    TCase *t = tcase_create("acpi");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, tables_found_and_consistent);
    tcase_add_test(t, pmba_decoding);
    tcase_add_test(t, pm_timer_rate_and_overflow);
    tcase_add_test(t, power_button_and_soft_off);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
