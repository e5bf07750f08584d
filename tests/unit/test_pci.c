/* PCI configuration mechanism #1: IDs, BAR sizing and mapping, ROM BAR, PIRQ routing, 0xCF9. */
#include <check.h>
#include <stdlib.h>

#include "devices/pci.h"

static struct bus bus;
static struct pci_bus pb;
static struct pc_chipset cs;
static struct pci_device dev;
static uint32_t mapped[7];
static int irq_level[16];

static void sink(void *ctx, int line, int level) { (void)ctx; irq_level[line] = level; }
static void map_cb(struct pci_device *d, int bar, uint32_t addr) { (void)d; mapped[bar] = addr; }

static uint32_t cfg_read(int devfn, int reg, int size)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (uint32_t)(devfn << 8) | (uint32_t)(reg & 0xfc));
    return bus_port_read(&bus, (uint16_t)(0xcfc + (reg & 3)), size);
}
static void cfg_write(int devfn, int reg, int size, uint32_t v)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (uint32_t)(devfn << 8) | (uint32_t)(reg & 0xfc));
    bus_port_write(&bus, (uint16_t)(0xcfc + (reg & 3)), size, v);
}

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    bus.irq_sink = sink;
    memset(irq_level, 0, sizeof(irq_level));
    pci_bus_init(&pb, &bus);
    pc_chipset_init(&cs, &pb);
    memset(&dev, 0, sizeof(dev));
    pci_set_ids(&dev, 0x1234, 0x5678, 0x02, 0x00, 0x00, 0x01);
    dev.config[0x3d] = 1; /* INTA# */
    pci_declare_bar(&dev, 0, 0x1000, PCI_BAR_MEM);
    pci_declare_bar(&dev, 1, 0x20, PCI_BAR_IO);
    pci_declare_bar(&dev, PCI_ROM_BAR, 0x8000, PCI_BAR_MEM);
    dev.map = map_cb;
    for (int k = 0; k < 7; k++)
        mapped[k] = PCI_UNMAPPED;
    pci_register(&pb, &dev, 3, 0);
}
static void teardown(void) { bus_free(&bus); }

START_TEST(chipset_ids_and_absent_devices)
{
    ck_assert_uint_eq(cfg_read(0x00, 0, 4), 0x12378086u);
    ck_assert_uint_eq(cfg_read(0x08, 0, 4), 0x70008086u);
    ck_assert_uint_eq(cfg_read(0x08, 0x0e, 1) & 0x80, 0x80); /* PIIX3 is multi-function */
    ck_assert_uint_eq(cfg_read(0x18 << 3, 0, 4), 0xffffffffu); /* nothing at slot 24 */
    bus_port_write(&bus, 0xcf8, 4, 0x80010000u);             /* bus 1: nothing */
    ck_assert_uint_eq(bus_port_read(&bus, 0xcfc, 4), 0xffffffffu);
    ck_assert_uint_eq(bus_port_read(&bus, 0xcf8, 4), 0x80010000u);
}
END_TEST

START_TEST(bar_sizing_and_mapping)
{
    int df = 3 << 3;
    cfg_write(df, 0x10, 4, 0xffffffffu);
    ck_assert_uint_eq(cfg_read(df, 0x10, 4), 0xfffff000u); /* 4 KiB memory BAR */
    cfg_write(df, 0x14, 4, 0xffffffffu);
    ck_assert_uint_eq(cfg_read(df, 0x14, 4), 0xffffffe1u); /* 32-byte I/O BAR */
    cfg_write(df, 0x30, 4, 0xffffffffu);
    ck_assert_uint_eq(cfg_read(df, 0x30, 4), 0xffff8001u); /* 32 KiB ROM, enable bit */
    cfg_write(df, 0x10, 4, 0xe0000000u);
    cfg_write(df, 0x14, 4, 0xc000u);
    cfg_write(df, 0x30, 4, 0xfebe0000u); /* ROM not enabled */
    ck_assert_uint_eq(mapped[0], PCI_UNMAPPED); /* decoding off until the command register says */
    cfg_write(df, 0x04, 2, 0x0003);
    ck_assert_uint_eq(mapped[0], 0xe0000000u);
    ck_assert_uint_eq(mapped[1], 0xc000u);
    ck_assert_uint_eq(mapped[PCI_ROM_BAR], PCI_UNMAPPED);
    cfg_write(df, 0x30, 4, 0xfebe0001u);
    ck_assert_uint_eq(mapped[PCI_ROM_BAR], 0xfebe0000u);
    cfg_write(df, 0x04, 2, 0x0001); /* memory decoding off */
    ck_assert_uint_eq(mapped[0], PCI_UNMAPPED);
    ck_assert_uint_eq(mapped[1], 0xc000u);
    /* read-only IDs */
    cfg_write(df, 0x00, 4, 0);
    ck_assert_uint_eq(cfg_read(df, 0, 4), 0x56781234u);
}
END_TEST

START_TEST(pirq_routing)
{
    /* slot 3, INTA# -> PIRQ (0 + 3) & 3 = D; route PIRQD to IRQ 11 */
    pci_set_irq(&dev, 1);
    ck_assert_int_eq(irq_level[11], 0); /* routing disabled at reset */
    cfg_write(0x08, 0x63, 1, 11);
    ck_assert_int_eq(irq_level[11], 1);
    pci_set_irq(&dev, 0);
    ck_assert_int_eq(irq_level[11], 0);
    pci_set_irq(&dev, 1);
    ck_assert_int_eq(irq_level[11], 1);
    cfg_write(0x08, 0x63, 1, 0x80); /* routing disabled: the line drops */
    ck_assert_int_eq(irq_level[11], 0);
    cfg_write(0x08, 0x63, 1, 10);   /* rerouted: the asserted PIRQ drives IRQ 10 */
    ck_assert_int_eq(irq_level[10], 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci");
    TCase *t = tcase_create("pci");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, chipset_ids_and_absent_devices);
    tcase_add_test(t, bar_sizing_and_mapping);
    tcase_add_test(t, pirq_routing);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
