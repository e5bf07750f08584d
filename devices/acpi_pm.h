/*
 * The PIIX4 power management function (PCI 00:01.3, 8086:7113 rev 03, the
 * PIIX4E/M whose PM timer reads are reliable) as the ACPI hardware of the
 * PC: PM1 event block (PMSTS/PMEN), PM1 control (PMCNTRL), the ACPI PM
 * timer (PMTMR) and GPE0 (GPSTS/GPEN), at the 64-byte I/O block that the
 * PMBA register (config 0x40) places, decoded while PMREGMISC (0x80) bit 0
 * is set. The pairing of PIIX3 ISA/IDE with a PIIX4 PM function is QEMU's
 * "pc" machine too, so firmware written for it finds what it expects.
 *
 * Register block (offsets from PMBA; PIIX4 datasheet section 4.2 / 7.2):
 *   0x00 PMSTS  16  RW1C  TMROF_STS 0, GBL_STS 5, PWRBTN_STS 8, WAK_STS 15
 *   0x02 PMEN   16        TMROF_EN 0, GBL_EN 5, PWRBTN_EN 8
 *   0x04 PMCNTRL 16       SCI_EN 0, SUS_TYP 12:10, SUS_EN 13 (write-only)
 *   0x08 PMTMR  32   RO   24-bit counter at 3.579545 MHz
 *   0x0C GPSTS  16  RW1C, 0x0E GPEN 16 (no general-purpose event source here)
 *   0x10-0x3F           other PIIX4 registers: kept, no effect
 *
 * The timer is not ticked: it is the VM's virtual clock (bus_now_ns) scaled
 * to 3.579545 MHz, so it agrees exactly with the TSC and the PIT. TMROF_STS
 * (bit 23 of the counter toggled) is computed when read; a bus timer is
 * armed for the next toggle only while TMROF_EN asks for an SCI.
 *
 * SCI: IRQ 9, level, high while SCI_EN and an enabled status bit are set
 * (with SCI_EN clear a PIIX4 signals SMI instead; there is no SMM here).
 * Sleep: writing SUS_EN with SUS_TYP 0 is the PIIX4's soft-off (S5); the
 * machine's power_off callback ends the run. Other sleep types (S1-S4) are
 * not offered by the tables and are ignored.
 */
#ifndef TRAPEZE_DEVICES_ACPI_PM_H
#define TRAPEZE_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"
#include "pci.h"

#define ACPI_PM_TIMER_HZ 3579545u
#define ACPI_PM_SCI_IRQ 9
#define ACPI_PM_IO_SIZE 64
/* Where the direct-boot firmware places the block (QEMU/SeaBIOS use 0x600 or 0xB000). */
#define ACPI_PM_DEFAULT_BASE 0x600
#define ACPI_PM_PCI_SLOT 1
#define ACPI_PM_PCI_FN 3

/* Register offsets in the I/O block, and bits. */
enum {
    ACPI_PM1_STS = 0x00, ACPI_PM1_EN = 0x02, ACPI_PM1_CNT = 0x04, ACPI_PM_TMR = 0x08,
    ACPI_GPE0_STS = 0x0c, ACPI_GPE0_EN = 0x0e,
};
enum {
    ACPI_PM1_TMR = 1u << 0, ACPI_PM1_GBL = 1u << 5, ACPI_PM1_PWRBTN = 1u << 8,
    ACPI_PM1_WAK = 1u << 15,
    ACPI_CNT_SCI_EN = 1u << 0, ACPI_CNT_SLP_EN = 1u << 13,
};
#define ACPI_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define ACPI_PIIX4_SLP_TYP_SOFT_OFF 0

struct acpi_pm {
    uint8_t apmc, apms; /* APM control/status ports 0xB2/0xB3 */
    struct pci_device pci;
    struct bus *bus;
    uint16_t base;          /* decoded I/O base, 0 when not decoded */
    uint16_t sts, en, cnt;  /* PMSTS (without TMROF), PMEN, PMCNTRL (without SUS_EN) */
    uint64_t tmr_cleared;   /* counter >> 23 when TMROF_STS was last cleared */
    uint16_t gpsts, gpen;
    uint8_t other[ACPI_PM_IO_SIZE]; /* 0x10-0x3F */
    struct vtimer tmr_timer; /* next bit-23 toggle, armed while TMROF_EN */
    bool sci;                /* IRQ 9 level driven */
    void (*power_off)(void *ctx);
    void *power_off_ctx;
};

/* Creates the function and registers it at 00:01.3, not yet decoding. */
void acpi_pm_init(struct acpi_pm *pm, struct bus *b, struct pci_bus *pb);
/* Power-on state (PMBA 0, decoding off, SCI_EN 0, every event clear). */
void acpi_pm_reset(struct acpi_pm *pm);
/* What the BIOS's POST does: PMBA = base, PM I/O decoding on, and ACPI mode
 * (SCI_EN, as the BIOS's SMI handler sets it; the FADT has no SMI_CMD). */
void acpi_pm_firmware_setup(struct acpi_pm *pm, uint16_t base);
/* The ACPI PM timer's count now (24 bits). */
uint32_t acpi_pm_timer(struct acpi_pm *pm);
/* The power button was pressed: PWRBTN_STS, an SCI if enabled. */
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
