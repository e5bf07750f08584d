/*
 * PCI configuration mechanism #1 (ports 0xCF8 address, 0xCFC-0xCFF data)
 * for bus 0, with BAR sizing and mapping, the expansion ROM BAR and INTx
 * routing through the PIIX3's PIRQ route registers.
 *
 * A device fills its config space header (IDs, class, pin) and declares its
 * BARs; the bus implements the standard registers (command, BARs, ROM BAR,
 * interrupt line) and calls the device back when a BAR moves or decoding is
 * switched on or off, so the device can (re)register its ports or memory.
 */
#ifndef TRAPEZE_DEVICES_PCI_H
#define TRAPEZE_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_IO, PCI_BAR_MEM, PCI_BAR_MEM_PREFETCH };

#define PCI_ROM_BAR 6
#define PCI_UNMAPPED 0xffffffffu

struct pci_device;

/* Called when BAR 'bar' (0-5, or PCI_ROM_BAR) becomes decoded at addr, or
 * stops being decoded (addr = PCI_UNMAPPED). */
typedef void (*pci_map_fn)(struct pci_device *d, int bar, uint32_t addr);

struct pci_bar {
    uint32_t size; /* power of two; 0 = not implemented */
    enum pci_bar_type type;
    uint32_t mapped; /* address currently decoded, or PCI_UNMAPPED */
};

struct pci_device {
    uint8_t config[256];
    struct pci_bar bar[7];
    pci_map_fn map;
    /* Optional hooks for device-specific registers (offset >= 0x40, or any
     * register the device wants to see after the generic handling). */
    void (*config_written)(struct pci_device *d, int reg, int size, uint32_t val);
    void *ctx;
    int devfn;
    int irq_level; /* INTx output */
    struct pci_bus *pcibus;
};

struct pci_bus {
    struct bus *bus;
    uint32_t address; /* CONFIG_ADDRESS */
    struct pci_device *dev[256]; /* by devfn */
    /* PIRQ routing (the PIIX3 ISA bridge owns the registers; it points here). */
    uint8_t *pirq_route;          /* 4 bytes: IRQ for PIRQA-D, bit 7 = disabled */
    int pirq_level[4];            /* number of devices asserting each PIRQ */
    uint8_t isa_driven[16];       /* level PCI currently drives on each ISA IRQ */
};

void pci_bus_init(struct pci_bus *pb, struct bus *b);
/* Adds d at device slot/function; the device's config header must be filled. */
void pci_register(struct pci_bus *pb, struct pci_device *d, int slot, int fn);
/* Declares a BAR (bar 0-5 or PCI_ROM_BAR); size is rounded up to a power of two
 * (at least 16 bytes for memory, 4 for I/O, 2 KiB for the ROM). */
void pci_declare_bar(struct pci_device *d, int bar, uint32_t size, enum pci_bar_type type);
/* INTx level from the device; routed PIRQ = (pin - 1 + slot) mod 4. */
void pci_set_irq(struct pci_device *d, int level);

/* Config space helpers for device code. */
static inline void pci_set16(struct pci_device *d, int reg, uint16_t v)
{
    d->config[reg] = (uint8_t)v;
    d->config[reg + 1] = (uint8_t)(v >> 8);
}
static inline void pci_set32(struct pci_device *d, int reg, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        d->config[reg + k] = (uint8_t)(v >> (8 * k));
}
static inline uint32_t pci_get32(const struct pci_device *d, int reg)
{
    return d->config[reg] | (d->config[reg + 1] << 8) | (d->config[reg + 2] << 16) |
           ((uint32_t)d->config[reg + 3] << 24);
}
/* Fills vendor, device, class (base, sub, prog-if), revision, header type 0. */
void pci_set_ids(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t base_class,
                 uint8_t sub_class, uint8_t prog_if, uint8_t revision);

/* The chipset functions every PC here has: i440FX host bridge (00:00.0) and
 * PIIX3 PCI-to-ISA bridge (00:01.0, with the PIRQ route registers). */
struct pc_chipset {
    struct pci_device host, isa;
};
void pc_chipset_init(struct pc_chipset *cs, struct pci_bus *pb);

/* After a snapshot restored the devices' configuration registers (with
 * bar[].mapped still describing what the bus decodes): applies the BARs,
 * the command register and device-specific decoders as a guest's writes
 * would have (vmm/snapshot.c). */
void pci_replay_decoding(struct pci_bus *pb);

#endif
