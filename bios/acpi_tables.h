/*
 * ACPI 1.0 tables for direct boots (Linux, Multiboot), as a PC BIOS of the
 * PIIX4 era would publish them: RSDP, RSDT, FADT (revision 1), FACS and a
 * DSDT in AML, all in the BIOS area at ACPI_TABLES_BASE (0xF0000, which the
 * Linux loader's e820 map already reserves; the RSDP is found there by the
 * OS's scan of 0xE0000-0xFFFFF on 16-byte boundaries).
 *
 * The FADT describes the PIIX4 PM block (devices/acpi_pm.h): PM1a event and
 * control, the 24-bit PM timer, GPE0, SCI on IRQ 9, no SMI command port
 * (the platform is always in ACPI mode, SCI_EN reads 1), the fixed power
 * button, no sleep button, C1 (HLT) only. No MADT: the machine has no local
 * APIC or I/O APIC, so the OS uses the 8259 pair ("PIC mode").
 *
 * The DSDT declares \_S5 (soft-off, the PIIX4's SLP_TYP 0) and the PCI host
 * bridge PCI0 (PNP0A03, bus 0, its I/O and memory windows) with the ISA
 * devices under the PIIX3 (00:01.0): RTC (PNP0B00), PS/2 keyboard (PNP0303)
 * and mouse (PNP0F13), COM1 (PNP0501) and the PIT (PNP0100), each with its
 * _CRS, so the OS's PNP layer finds them as the firmware's devices. There is
 * no _PRT: no PCI device of this machine has an INTx pin yet; one that gets
 * a pin needs a _PRT (with PIRQ link devices) here.
 *
 * Layout of the area (offsets from ACPI_TABLES_BASE):
 *   0x000 RSDP (20 bytes, revision 0)   0x020 RSDT (one entry: the FADT)
 *   0x080 FADT (116 bytes)              0x100 FACS (64 bytes, 64-aligned)
 *   0x140 DSDT (to the end of the area)
 */
#ifndef TRAPEZE_BIOS_ACPI_TABLES_H
#define TRAPEZE_BIOS_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "mmu/bus.h"

#define ACPI_TABLES_BASE 0xf0000u
#define ACPI_TABLES_SIZE 0x1000u
enum {
    ACPI_RSDP_OFF = 0x000, ACPI_RSDT_OFF = 0x020, ACPI_FADT_OFF = 0x080,
    ACPI_FACS_OFF = 0x100, ACPI_DSDT_OFF = 0x140,
};

struct acpi_platform {
    uint16_t pm_base;  /* the PM I/O block (PMBA) */
    uint8_t sci_irq;   /* ISA IRQ of the SCI */
    uint32_t ram_size; /* bytes of RAM from 0: the PCI memory window starts above */
};

/* Builds the tables into area (ACPI_TABLES_SIZE bytes, zeroed first), as
 * they will sit at physical address base. Returns the number of bytes used,
 * or -1 if the DSDT does not fit (a programming error). */
int acpi_tables_build(uint8_t *area, uint32_t base, const struct acpi_platform *p);
/* Builds the tables and writes them to guest memory at ACPI_TABLES_BASE. */
int acpi_tables_install(struct bus *b, const struct acpi_platform *p);

#endif
