/* PIIX4 power management function: ACPI PM registers and timer (see acpi_pm.h). */
#include "acpi_pm.h"

#include <string.h>

enum { CFG_PMBA = 0x40, CFG_PMREGMISC = 0x80 };
enum { PM1_STS_MASK = ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_WAK }; /* stored in sts */
enum { PM1_EN_MASK = ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | (1u << 10) };
/* PMCNTRL bits that read back: SCI_EN, BRLD_EN_BM (1) and SUS_TYP. GBL_RLS
 * (2) and SUS_EN (13) are write-only. */
enum { PM1_CNT_MASK = 0x1c03 };

/* Counter ticks since the VM started: the virtual clock at 3.579545 MHz
 * (cost: one 128-bit multiply and divide). */
static uint64_t ticks(struct acpi_pm *pm)
{
    return (uint64_t)(((unsigned __int128)bus_now_ns(pm->bus) * ACPI_PM_TIMER_HZ) / 1000000000u);
}

/* The first virtual nanosecond at which the counter reaches t. */
static uint64_t ticks_to_ns(uint64_t t)
{
    return (uint64_t)(((unsigned __int128)t * 1000000000u + ACPI_PM_TIMER_HZ - 1) /
                      ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer(struct acpi_pm *pm) { return (uint32_t)(ticks(pm) & 0xffffff); }

/* TMROF_STS: bit 23 of the counter has toggled since the status was cleared. */
static bool tmrof(struct acpi_pm *pm) { return (ticks(pm) >> 23) != pm->tmr_cleared; }

static uint16_t pm1_sts(struct acpi_pm *pm)
{
    return (uint16_t)(pm->sts | (tmrof(pm) ? ACPI_PM1_TMR : 0));
}

/* Drives IRQ 9 and arms the overflow timer when TMROF_EN waits for it. */
static void update(struct acpi_pm *pm)
{
    bool level = (pm->cnt & ACPI_CNT_SCI_EN) &&
                 ((pm1_sts(pm) & pm->en) || (pm->gpsts & pm->gpen));
    if (level != pm->sci) {
        pm->sci = level;
        bus_set_irq(pm->bus, ACPI_PM_SCI_IRQ, level);
    }
    bus_timer_cancel(pm->bus, &pm->tmr_timer);
    if ((pm->en & ACPI_PM1_TMR) && !tmrof(pm))
        bus_timer_arm(pm->bus, &pm->tmr_timer, ticks_to_ns((pm->tmr_cleared + 1) << 23));
}

static void tmr_fire(void *ctx, uint64_t now)
{
    (void)now;
    update(ctx);
}

static uint8_t reg_read(struct acpi_pm *pm, unsigned off)
{
    switch (off) {
    case ACPI_PM1_STS: return (uint8_t)pm1_sts(pm);
    case ACPI_PM1_STS + 1: return (uint8_t)(pm1_sts(pm) >> 8);
    case ACPI_PM1_EN: return (uint8_t)pm->en;
    case ACPI_PM1_EN + 1: return (uint8_t)(pm->en >> 8);
    case ACPI_PM1_CNT: return (uint8_t)pm->cnt;
    case ACPI_PM1_CNT + 1: return (uint8_t)(pm->cnt >> 8);
    case ACPI_PM1_CNT + 2: case ACPI_PM1_CNT + 3: return 0;
    case ACPI_PM_TMR: case ACPI_PM_TMR + 1: case ACPI_PM_TMR + 2:
        return (uint8_t)(acpi_pm_timer(pm) >> (8 * (off - ACPI_PM_TMR)));
    case ACPI_PM_TMR + 3: return 0; /* 24-bit timer: bits 31:24 read 0 */
    case ACPI_GPE0_STS: return (uint8_t)pm->gpsts;
    case ACPI_GPE0_STS + 1: return (uint8_t)(pm->gpsts >> 8);
    case ACPI_GPE0_EN: return (uint8_t)pm->gpen;
    case ACPI_GPE0_EN + 1: return (uint8_t)(pm->gpen >> 8);
    default: return pm->other[off];
    }
}

static void pm1_cnt_write_hi(struct acpi_pm *pm, uint8_t v)
{
    uint16_t val = (uint16_t)(v << 8);
    pm->cnt = (uint16_t)((pm->cnt & 0x00ff) | (val & PM1_CNT_MASK & 0xff00));
    if ((val & ACPI_CNT_SLP_EN) && ACPI_CNT_SLP_TYP(val) == ACPI_PIIX4_SLP_TYP_SOFT_OFF &&
        pm->power_off)
        pm->power_off(pm->power_off_ctx);
}

static void reg_write(struct acpi_pm *pm, unsigned off, uint8_t v)
{
    switch (off) {
    case ACPI_PM1_STS:
    case ACPI_PM1_STS + 1: {
        uint16_t w = (uint16_t)(off == ACPI_PM1_STS ? v : v << 8);
        if ((w & ACPI_PM1_TMR) && tmrof(pm))
            pm->tmr_cleared = ticks(pm) >> 23;
        pm->sts &= (uint16_t)~w;
        break;
    }
    case ACPI_PM1_EN: pm->en = (uint16_t)((pm->en & 0xff00) | (v & PM1_EN_MASK)); break;
    case ACPI_PM1_EN + 1:
        pm->en = (uint16_t)((pm->en & 0x00ff) | ((v << 8) & PM1_EN_MASK));
        break;
    case ACPI_PM1_CNT: pm->cnt = (uint16_t)((pm->cnt & 0xff00) | (v & PM1_CNT_MASK)); break;
    case ACPI_PM1_CNT + 1: pm1_cnt_write_hi(pm, v); break;
    case ACPI_GPE0_STS: pm->gpsts &= (uint16_t)~v; break;
    case ACPI_GPE0_STS + 1: pm->gpsts &= (uint16_t)~(v << 8); break;
    case ACPI_GPE0_EN: pm->gpen = (uint16_t)((pm->gpen & 0xff00) | v); break;
    case ACPI_GPE0_EN + 1: pm->gpen = (uint16_t)((pm->gpen & 0x00ff) | (v << 8)); break;
    default:
        if (off >= 0x10)
            pm->other[off] = v;
        break; /* the rest of 0x04-0x0B is reserved or read-only */
    }
}

/* Accesses of 1, 2 or 4 bytes, composed bytewise: every byte of one access
 * sees the same virtual instant, so a 32-bit PMTMR read is consistent. */
static uint32_t io_read(void *ctx, uint16_t port, int size)
{
    struct acpi_pm *pm = ctx;
    uint32_t v = 0;
    for (int k = 0; k < size; k++) {
        unsigned off = (unsigned)(port - pm->base + k);
        if (off < ACPI_PM_IO_SIZE)
            v |= (uint32_t)reg_read(pm, off) << (8 * k);
        else
            v |= 0xffu << (8 * k);
    }
    return v;
}

static void io_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct acpi_pm *pm = ctx;
    for (int k = 0; k < size; k++) {
        unsigned off = (unsigned)(port - pm->base + k);
        if (off < ACPI_PM_IO_SIZE)
            reg_write(pm, off, (uint8_t)(v >> (8 * k)));
    }
    update(pm);
}

/* (Re)places the register block per PMBA and PMREGMISC.PMIOSE. The bus has
 * no port unregistration: the old block's handlers are cleared. */
static void remap(struct acpi_pm *pm)
{
    uint16_t base = (uint16_t)(pci_get32(&pm->pci, CFG_PMBA) & 0xffc0);
    if (!(pm->pci.config[CFG_PMREGMISC] & 1))
        base = 0;
    if (base == pm->base)
        return;
    if (pm->base)
        bus_add_ports(pm->bus, pm->base, ACPI_PM_IO_SIZE, NULL, NULL, NULL);
    pm->base = base;
    if (base)
        bus_add_ports(pm->bus, base, ACPI_PM_IO_SIZE, io_read, io_write, pm);
}

static void config_written(struct pci_device *d, int reg, int size, uint32_t val)
{
    struct acpi_pm *pm = d->ctx;
    (void)val;
    if (reg < CFG_PMBA + 4 && reg + size > CFG_PMBA) {
        /* PMBA: bits 15:6 are the base, bit 0 reads 1 (I/O space). */
        d->config[CFG_PMBA] = (uint8_t)((d->config[CFG_PMBA] & 0xc0) | 1);
        d->config[CFG_PMBA + 2] = d->config[CFG_PMBA + 3] = 0;
    }
    if (reg <= CFG_PMREGMISC && reg + size > CFG_PMREGMISC)
        d->config[CFG_PMREGMISC] &= 1;
    remap(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    bus_timer_cancel(pm->bus, &pm->tmr_timer);
    uint8_t *c = pm->pci.config;
    memset(c + 0x40, 0, 256 - 0x40);
    c[CFG_PMBA] = 1;
    remap(pm);
    pm->sts = pm->en = pm->cnt = 0;
    pm->gpsts = pm->gpen = 0;
    memset(pm->other, 0, sizeof(pm->other));
    pm->tmr_cleared = ticks(pm) >> 23;
    if (pm->sci)
        bus_set_irq(pm->bus, ACPI_PM_SCI_IRQ, 0);
    pm->sci = false;
}

/*
 * The APM control and status ports (0xB2, 0xB3). On a PIIX4 a write to 0xB2
 * raises an SMI whose handler, in firmware, switches ACPI mode on or off; a
 * FADT whose SMI_CMD is 0xB2 (SeaBIOS's tables) makes the OS write its
 * ACPI_ENABLE (0xF1) or ACPI_DISABLE (0xF0) value there. trapeze has no SMM:
 * the port does what that handler would, as QEMU's PIIX4 does.
 */
static uint32_t apm_read(void *ctx, uint16_t port, int size)
{
    struct acpi_pm *pm = ctx;
    (void)size;
    return port == 0xb2 ? pm->apmc : pm->apms;
}

static void apm_write(void *ctx, uint16_t port, int size, uint32_t v)
{
    struct acpi_pm *pm = ctx;
    (void)size;
    if (port == 0xb3) {
        pm->apms = (uint8_t)v;
        return;
    }
    pm->apmc = (uint8_t)v;
    if (pm->apmc == 0xf1)
        pm->cnt |= ACPI_CNT_SCI_EN;
    else if (pm->apmc == 0xf0)
        pm->cnt &= (uint16_t)~ACPI_CNT_SCI_EN;
    update(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct bus *b, struct pci_bus *pb)
{
    memset(pm, 0, sizeof(*pm));
    pm->bus = b;
    pm->tmr_timer.fire = tmr_fire;
    pm->tmr_timer.ctx = pm;
    /* 8086:7113 "82371AB/EB/MB PIIX4 ACPI", class 06 80 00 (other bridge),
     * revision 03 (PIIX4E/M: Linux's acpi_pm applies its slow triple-read
     * workaround to earlier revisions). No INTx pin: the SCI is wired to
     * IRQ 9 inside the chipset. */
    pci_set_ids(&pm->pci, 0x8086, 0x7113, 0x06, 0x80, 0x00, 0x03);
    pm->pci.ctx = pm;
    pm->pci.config_written = config_written;
    pci_register(pb, &pm->pci, ACPI_PM_PCI_SLOT, ACPI_PM_PCI_FN);
    bus_add_ports(b, 0xb2, 2, apm_read, apm_write, pm);
    acpi_pm_reset(pm);
}

void acpi_pm_firmware_setup(struct acpi_pm *pm, uint16_t base)
{
    pci_set32(&pm->pci, CFG_PMBA, (uint32_t)(base & 0xffc0) | 1);
    pm->pci.config[CFG_PMREGMISC] = 1;
    remap(pm);
    pm->cnt |= ACPI_CNT_SCI_EN;
    update(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
    pm->sts |= ACPI_PM1_PWRBTN;
    update(pm);
}
