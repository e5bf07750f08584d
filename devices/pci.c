/*
 * PCI configuration mechanism #1, bus 0 (see pci.h). Register layout per the
 * PCI Local Bus Specification 2.1, type 0 header.
 */
#include "pci.h"

#include <string.h>

enum { REG_COMMAND = 0x04, REG_STATUS = 0x06, REG_BAR0 = 0x10, REG_ROM = 0x30,
       REG_INT_LINE = 0x3c, REG_INT_PIN = 0x3d };
enum { CMD_IO = 1, CMD_MEM = 2 };

static int bar_reg(int bar) { return bar == PCI_ROM_BAR ? REG_ROM : REG_BAR0 + 4 * bar; }

void pci_set_ids(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t base_class,
                 uint8_t sub_class, uint8_t prog_if, uint8_t revision)
{
    pci_set16(d, 0x00, vendor);
    pci_set16(d, 0x02, device);
    d->config[0x08] = revision;
    d->config[0x09] = prog_if;
    d->config[0x0a] = sub_class;
    d->config[0x0b] = base_class;
    d->config[0x0e] = 0x00;
}

void pci_declare_bar(struct pci_device *d, int bar, uint32_t size, enum pci_bar_type type)
{
    uint32_t min = bar == PCI_ROM_BAR ? 2048 : type == PCI_BAR_IO ? 4 : 16;
    uint32_t s = min;
    while (s < size)
        s <<= 1;
    d->bar[bar] = (struct pci_bar){s, type, PCI_UNMAPPED};
    uint32_t low = type == PCI_BAR_IO ? 1 : type == PCI_BAR_MEM_PREFETCH ? 8 : 0;
    pci_set32(d, bar_reg(bar), bar == PCI_ROM_BAR ? 0 : low);
}

/* Recomputes which BARs are decoded and tells the device about changes. */
static void update_mappings(struct pci_device *d)
{
    uint16_t cmd = d->config[REG_COMMAND] | (d->config[REG_COMMAND + 1] << 8);
    for (int k = 0; k < 7; k++) {
        struct pci_bar *b = &d->bar[k];
        if (!b->size)
            continue;
        uint32_t reg = pci_get32(d, bar_reg(k));
        uint32_t addr = PCI_UNMAPPED;
        if (b->type == PCI_BAR_IO) {
            if (cmd & CMD_IO) {
                addr = reg & ~3u;
                if (addr == 0 || addr + b->size > 0x10000)
                    addr = PCI_UNMAPPED;
            }
        } else if (cmd & CMD_MEM) {
            addr = reg & ~15u;
            if (k == PCI_ROM_BAR)
                addr = (reg & 1) ? (reg & ~0x7ffu) : PCI_UNMAPPED;
            if (addr == 0 || (uint64_t)addr + b->size > 0x100000000ull)
                addr = PCI_UNMAPPED;
        }
        if (addr != b->mapped) {
            b->mapped = addr;
            if (d->map)
                d->map(d, k, addr);
        }
    }
}

static void config_write(struct pci_device *d, int reg, int size, uint32_t val)
{
    for (int k = 0; k < size; k++) {
        int r = reg + k;
        uint8_t v = (uint8_t)(val >> (8 * k));
        if (r < 0x04 || (r >= 0x08 && r < 0x0c) || r == 0x0e || r == REG_INT_PIN ||
            (r >= 0x2c && r < 0x30))
            continue; /* read-only: IDs, class, header type, pin, subsystem */
        if (r == REG_STATUS || r == REG_STATUS + 1) {
            d->config[r] &= (uint8_t)~v; /* write-one-to-clear */
            continue;
        }
        if ((r >= REG_BAR0 && r < REG_BAR0 + 24) || (r >= REG_ROM && r < REG_ROM + 4)) {
            int bar = r >= REG_ROM ? PCI_ROM_BAR : (r - REG_BAR0) / 4;
            struct pci_bar *b = &d->bar[bar];
            if (!b->size) {
                d->config[r] = 0;
                continue;
            }
            /* Address bits below the size read as zero (the sizing protocol);
             * the low type bits are fixed. */
            uint32_t mask = ~(b->size - 1);
            int byte = (r - bar_reg(bar));
            uint8_t m = (uint8_t)(mask >> (8 * byte));
            uint8_t fixed;
            if (bar == PCI_ROM_BAR) {
                if (byte == 0)
                    m |= 1; /* enable bit */
                fixed = 0;
            } else {
                uint8_t low = b->type == PCI_BAR_IO ? 1 : b->type == PCI_BAR_MEM_PREFETCH ? 8 : 0;
                if (byte == 0)
                    m &= b->type == PCI_BAR_IO ? 0xfc : 0xf0;
                fixed = byte == 0 ? low : 0;
            }
            d->config[r] = (uint8_t)((v & m) | fixed);
            continue;
        }
        d->config[r] = v;
    }
    if (reg < 0x40)
        update_mappings(d);
    if (d->config_written)
        d->config_written(d, reg, size, val);
}

static uint32_t config_read(struct pci_device *d, int reg, int size)
{
    uint32_t v = 0;
    for (int k = 0; k < size; k++)
        v |= (uint32_t)d->config[reg + k] << (8 * k);
    return v;
}

static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    struct pci_bus *pb = ctx;
    if (port == 0xcf8 && size == 4)
        return pb->address;
    if (port == 0xcf9 && size == 1)
        return 0; /* reset control register: bits 1-2 read back as 0 after a reset */
    if (port >= 0xcfc) {
        uint32_t a = pb->address;
        int reg = (int)(a & 0xfc) + (port & 3);
        if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0)
            return 0xffffffffu >> (32 - 8 * size);
        struct pci_device *d = pb->dev[(a >> 8) & 0xff];
        if (!d || reg + size > 256)
            return 0xffffffffu >> (32 - 8 * size);
        return config_read(d, reg, size);
    }
    return 0xffffffffu >> (32 - 8 * size);
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct pci_bus *pb = ctx;
    if (port == 0xcf8 && size == 4) {
        pb->address = val & 0x80fffffcu;
        return;
    }
    /* The PIIX3's reset control register (a byte at 0xCF9, inside
     * CONFIG_ADDRESS's dword): bit 2 (RST_CPU) resets the system, as
     * SeaBIOS's reboot path on QEMU does (0x02 then 0x06). */
    if (port == 0xcf9 && size == 1) {
        if (val & 4)
            bus_request_reset(pb->bus);
        return;
    }
    if (port >= 0xcfc) {
        uint32_t a = pb->address;
        int reg = (int)(a & 0xfc) + (port & 3);
        if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0)
            return;
        struct pci_device *d = pb->dev[(a >> 8) & 0xff];
        if (d && reg + size <= 256)
            config_write(d, reg, size, val);
    }
}

void pci_bus_init(struct pci_bus *pb, struct bus *b)
{
    memset(pb, 0, sizeof(*pb));
    pb->bus = b;
    bus_add_ports(b, 0xcf8, 4, port_read, port_write, pb);
    bus_add_ports(b, 0xcfc, 4, port_read, port_write, pb);
}

void pci_register(struct pci_bus *pb, struct pci_device *d, int slot, int fn)
{
    d->devfn = (slot << 3) | fn;
    d->pcibus = pb;
    for (int k = 0; k < 7; k++)
        if (!d->bar[k].size)
            d->bar[k].mapped = PCI_UNMAPPED;
    pb->dev[d->devfn] = d;
}

/* Drives every ISA IRQ line from the PIRQs routed to it. PCI interrupts are
 * level-triggered and shared: a line is high while any device on any PIRQ
 * routed to it asserts it; a line that loses its last routed PIRQ drops. */
static void update_isa_irqs(struct pci_bus *pb)
{
    uint8_t want[16] = {0};
    for (int k = 0; pb->pirq_route && k < 4; k++) {
        uint8_t r = pb->pirq_route[k];
        if (!(r & 0x80) && (r & 0xf) >= 3 && pb->pirq_level[k])
            want[r & 0xf] = 1;
    }
    for (int irq = 0; irq < 16; irq++)
        if (want[irq] != pb->isa_driven[irq]) {
            pb->isa_driven[irq] = want[irq];
            bus_set_irq(pb->bus, irq, want[irq]);
        }
}

void pci_set_irq(struct pci_device *d, int level)
{
    level = level != 0;
    if (level == d->irq_level || !d->pcibus)
        return;
    d->irq_level = level;
    int pin = d->config[REG_INT_PIN];
    if (pin < 1 || pin > 4)
        return;
    int pirq = (pin - 1 + (d->devfn >> 3)) & 3;
    d->pcibus->pirq_level[pirq] += level ? 1 : -1;
    update_isa_irqs(d->pcibus);
}

/* --- i440FX host bridge and PIIX3 ISA bridge ------------------------------ */

static void isa_config_written(struct pci_device *d, int reg, int size, uint32_t val)
{
    (void)val;
    /* PIRQRC[A-D] at 0x60-0x63: re-evaluate the lines when routing changes. */
    if (reg + size > 0x60 && reg < 0x64)
        update_isa_irqs(d->pcibus);
}

void pci_replay_decoding(struct pci_bus *pb)
{
    for (int k = 0; k < 256; k++) {
        struct pci_device *d = pb->dev[k];
        if (!d)
            continue;
        update_mappings(d);
        if (d->config_written)
            d->config_written(d, 0x40, 0xc0, 0); /* device-specific decoders re-read theirs */
    }
}

void pc_chipset_init(struct pc_chipset *cs, struct pci_bus *pb)
{
    memset(cs, 0, sizeof(*cs));
    /* i440FX PMC: 8086:1237, host bridge. PAM registers (0x59-0x5f) are kept
     * but have no effect: the BIOS area below 1 MiB is always RAM here. */
    pci_set_ids(&cs->host, 0x8086, 0x1237, 0x06, 0x00, 0x00, 0x02);
    pci_set16(&cs->host, REG_COMMAND, 0x0006);
    pci_register(pb, &cs->host, 0, 0);
    /* PIIX3 ISA bridge: 8086:7000, multi-function (IDE is function 1). */
    pci_set_ids(&cs->isa, 0x8086, 0x7000, 0x06, 0x01, 0x00, 0x00);
    cs->isa.config[0x0e] = 0x80;
    pci_set16(&cs->isa, REG_COMMAND, 0x0007);
    for (int k = 0; k < 4; k++)
        cs->isa.config[0x60 + k] = 0x80; /* PIRQs disabled until the BIOS routes them */
    cs->isa.config_written = isa_config_written;
    pci_register(pb, &cs->isa, 1, 0);
    pb->pirq_route = &cs->isa.config[0x60];
}
