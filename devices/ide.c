/*
 * PIIX3 IDE function and ATA hard disks (see ide.h). Command semantics per
 * ATA/ATAPI-6 (T13/1410D), checked against what Linux's libata (ata_piix)
 * and SeaBIOS's ata.c do when they probe and drive a disk.
 */
#include "ide.h"

#include <stdio.h>
#include <string.h>

enum {
    REG_DATA = 0, REG_ERROR = 1, REG_FEATURE = 1, REG_NSECTOR = 2, REG_SECTOR = 3,
    REG_LCYL = 4, REG_HCYL = 5, REG_SELECT = 6, REG_STATUS = 7, REG_COMMAND = 7
};
enum { SEL_DEV = 0x10, SEL_LBA = 0x40 };
enum { READY = ATA_ST_DRDY | ATA_ST_DSC };

#define MAX_MULT 16

static const uint16_t cmd_base[2] = {0x1f0, 0x170};
static const uint16_t ctl_base[2] = {0x3f6, 0x376};
static const int chan_irq[2] = {14, 15};

/* --- interrupts ------------------------------------------------------------ */

/* INTRQ is driven by the selected device only, and released while nIEN is
 * set. The PIIX3 passes it to the 8259 as an ISA edge-triggered line; the
 * bus-master status interrupt bit latches every rising edge. */
static void update_irq(struct ide_channel *ch)
{
    int level = ch->drive[ch->cur].irq_pending && !(ch->devctl & ATA_DC_NIEN);
    if (level == ch->irq_level)
        return;
    ch->irq_level = level;
    if (level)
        ch->bm_status |= 0x04;
    bus_set_irq(ch->ide->bus, ch->irq, level);
}

void ide_raise_irq(struct ide_drive *d)
{
    d->irq_pending = true;
    update_irq(d->ch);
}

static void clear_irq(struct ide_drive *d)
{
    d->irq_pending = false;
    update_irq(d->ch);
}

/* --- helpers -------------------------------------------------------------- */

void ide_fill_string(uint16_t *id, int word, int nwords, const char *s)
{
    /* ATA strings: space padded, first character in the high byte. */
    size_t len = strlen(s);
    for (int k = 0; k < 2 * nwords; k++) {
        uint8_t c = (size_t)k < len ? (uint8_t)s[k] : ' ';
        if (k & 1)
            id[word + k / 2] |= c;
        else
            id[word + k / 2] = (uint16_t)(c << 8);
    }
}

void ide_set_signature(struct ide_drive *d)
{
    d->nsector = 1;
    d->sector = 1;
    d->select = 0;
    if (d->kind == IDE_CDROM) {
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
    } else if (d->kind == IDE_DISK) {
        d->lcyl = d->hcyl = 0;
    } else {
        d->lcyl = d->hcyl = 0xff; /* no device: an invalid signature */
    }
}

void ide_start_window(struct ide_drive *d, uint32_t n, void (*done)(struct ide_drive *))
{
    d->pos = 0;
    d->end = n;
    d->done = done;
    d->status = READY | ATA_ST_DRQ;
}

static void stop_transfer(struct ide_drive *d)
{
    d->pos = d->end = 0;
    d->done = NULL;
}

static void finish_ok(struct ide_drive *d)
{
    stop_transfer(d);
    d->status = READY;
    ide_raise_irq(d);
}

static void finish_error(struct ide_drive *d, uint8_t err)
{
    stop_transfer(d);
    d->error = err;
    d->status = READY | ATA_ST_ERR;
    ide_raise_irq(d);
}

static void abort_cmd(struct ide_drive *d) { finish_error(d, ATA_ER_ABRT); }

/* --- addressing ----------------------------------------------------------- */

/* The address in the task file: LBA28, or CHS in the current geometry.
 * Returns false for an invalid CHS address (sector 0, head/sector beyond
 * the geometry). */
static bool get_address(struct ide_drive *d, uint64_t *lba)
{
    if (d->select & SEL_LBA) {
        *lba = ((uint64_t)(d->select & 0x0f) << 24) | ((uint32_t)d->hcyl << 16) |
               ((uint32_t)d->lcyl << 8) | d->sector;
        return true;
    }
    uint32_t cyl = d->lcyl | (d->hcyl << 8), head = d->select & 0x0f, sec = d->sector;
    if (!d->cur_spt || sec == 0 || sec > d->cur_spt || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + (sec - 1);
    return true;
}

/* Writes an address back to the task file in the mode the command used. */
static void set_address(struct ide_drive *d, uint64_t lba)
{
    if (d->select & SEL_LBA) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_spt && d->cur_heads) {
        uint32_t cyl = (uint32_t)(lba / (d->cur_heads * d->cur_spt));
        uint32_t rem = (uint32_t)(lba % (d->cur_heads * d->cur_spt));
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
        d->select = (uint8_t)((d->select & 0xf0) | (rem / d->cur_spt));
        d->sector = (uint8_t)(rem % d->cur_spt + 1);
    }
}

/* Range check for a command on count sectors; sets IDNF and completes the
 * command with an error when out of range. */
static bool check_range(struct ide_drive *d, uint64_t *lba, uint32_t count)
{
    if (!get_address(d, lba) || *lba + count > d->capacity) {
        finish_error(d, ATA_ER_IDNF);
        return false;
    }
    return true;
}

/* --- IDENTIFY DEVICE ------------------------------------------------------ */

static void ata_identify(struct ide_drive *d, uint16_t id[256])
{
    memset(id, 0, 512);
    id[0] = 0x0040; /* fixed device, not removable */
    id[1] = (uint16_t)d->cyls;
    id[3] = (uint16_t)d->heads;
    id[6] = (uint16_t)d->spt;
    char serial[21];
    snprintf(serial, sizeof(serial), "TRPZ%04X%08X", d->ch->ide->pci.devfn * 4 +
             (int)(d->ch - d->ch->ide->ch) * 2 + d->unit, (unsigned)d->capacity);
    ide_fill_string(id, 10, 10, serial);
    ide_fill_string(id, 23, 4, "1.0");
    ide_fill_string(id, 27, 20, "TRAPEZE HARDDISK");
    id[47] = 0x8000 | MAX_MULT;
    id[49] = 0x0a00; /* IORDY supported, LBA supported; no DMA */
    id[50] = 0x4000;
    id[51] = 0x0200; /* PIO mode 2 timing (obsolete field) */
    id[53] = 0x0003; /* words 54-58 and 64-70 valid */
    id[54] = (uint16_t)d->cur_cyls;
    id[55] = (uint16_t)d->cur_heads;
    id[56] = (uint16_t)d->cur_spt;
    uint32_t cur_cap = d->cur_cyls * d->cur_heads * d->cur_spt;
    id[57] = (uint16_t)cur_cap;
    id[58] = (uint16_t)(cur_cap >> 16);
    if (d->mult)
        id[59] = 0x0100 | d->mult;
    id[60] = (uint16_t)d->capacity;
    id[61] = (uint16_t)(d->capacity >> 16);
    id[64] = 0x0003; /* PIO modes 3 and 4 */
    id[65] = id[66] = id[67] = id[68] = 120;
    id[80] = 0x007e; /* ATA-1 .. ATA-6 */
    id[82] = 0x4028; /* NOP, write cache, power management */
    id[83] = 0x5000; /* FLUSH CACHE; no LBA48 */
    id[84] = 0x4000;
    id[85] = (uint16_t)(0x4008 | (d->write_cache ? 0x20 : 0));
    id[86] = 0x1000;
    id[87] = 0x4000;
}

static void identify_done(struct ide_drive *d)
{
    stop_transfer(d);
    d->status = READY;
}

static void cmd_identify(struct ide_drive *d, bool packet)
{
    uint16_t id[256];
    if (packet)
        atapi_identify(d, id);
    else
        ata_identify(d, id);
    for (int k = 0; k < 256; k++) {
        d->buf[2 * k] = (uint8_t)id[k];
        d->buf[2 * k + 1] = (uint8_t)(id[k] >> 8);
    }
    ide_start_window(d, 512, identify_done);
    ide_raise_irq(d);
}

/* --- READ/WRITE SECTORS and MULTIPLE --------------------------------------- */

static void read_block_done(struct ide_drive *d);
static void write_block_done(struct ide_drive *d);

/* Loads the next DRQ block of a read and interrupts. */
static void read_next_block(struct ide_drive *d)
{
    d->block = d->left < d->blocking ? d->left : d->blocking;
    set_address(d, d->lba);
    if (disk_image_read(&d->img, d->lba, d->buf, d->block) < 0) {
        finish_error(d, ATA_ER_UNC); /* host I/O error: unrecoverable data */
        return;
    }
    ide_start_window(d, d->block * 512, read_block_done);
    ide_raise_irq(d);
}

/* PIO data-in: an interrupt precedes every block; none follows the last. */
static void read_block_done(struct ide_drive *d)
{
    d->lba += d->block;
    d->left -= d->block;
    d->nsector = (uint8_t)d->left;
    if (d->left) {
        read_next_block(d);
        return;
    }
    set_address(d, d->lba - 1);
    stop_transfer(d);
    d->status = READY;
}

static void open_write_block(struct ide_drive *d)
{
    d->block = d->left < d->blocking ? d->left : d->blocking;
    ide_start_window(d, d->block * 512, write_block_done);
}

/* PIO data-out: the first block is requested without an interrupt, every
 * later block and the completion with one. */
static void write_block_done(struct ide_drive *d)
{
    set_address(d, d->lba);
    if (disk_image_write(&d->img, d->lba, d->buf, d->block) < 0) {
        finish_error(d, ATA_ER_ABRT);
        return;
    }
    d->lba += d->block;
    d->left -= d->block;
    d->nsector = (uint8_t)d->left;
    if (d->left) {
        open_write_block(d);
        ide_raise_irq(d);
        return;
    }
    finish_ok(d);
}

static void cmd_rw(struct ide_drive *d, bool write, bool multiple)
{
    uint32_t count = d->nsector ? d->nsector : 256;
    uint64_t lba;
    if (multiple && !d->mult) {
        abort_cmd(d);
        return;
    }
    if (write && d->img.read_only) {
        abort_cmd(d); /* documented: a read-only image refuses writes */
        return;
    }
    if (!check_range(d, &lba, count))
        return;
    d->lba = lba;
    d->left = count;
    d->blocking = multiple ? d->mult : 1;
    if (write)
        open_write_block(d);
    else
        read_next_block(d);
}

/* --- other commands -------------------------------------------------------- */

static void cmd_set_features(struct ide_drive *d)
{
    switch (d->feature) {
    case 0x03: { /* set transfer mode: PIO only */
        uint8_t mode = d->nsector;
        if (mode <= 1 || (mode >= 0x08 && mode <= 0x0c))
            finish_ok(d);
        else
            abort_cmd(d);
        return;
    }
    case 0x02: /* enable write cache */
    case 0x82: /* disable write cache */
        if (d->kind != IDE_DISK) {
            abort_cmd(d);
            return;
        }
        d->write_cache = d->feature == 0x02;
        finish_ok(d);
        return;
    case 0x55: case 0xaa: /* read look-ahead off/on */
    case 0x66: case 0xcc: /* reverting to power-on defaults off/on */
        finish_ok(d);
        return;
    default:
        abort_cmd(d);
    }
}

static void cmd_init_params(struct ide_drive *d)
{
    uint32_t heads = (d->select & 0x0f) + 1u, spt = d->nsector;
    if (spt == 0) {
        abort_cmd(d);
        return;
    }
    uint64_t cyls = d->capacity / (heads * spt);
    if (cyls > 65535)
        cyls = 65535;
    d->cur_heads = heads;
    d->cur_spt = spt;
    d->cur_cyls = (uint32_t)cyls;
    finish_ok(d);
}

static void cmd_set_multiple(struct ide_drive *d)
{
    uint8_t n = d->nsector;
    if (n > MAX_MULT || (n & (n - 1))) {
        abort_cmd(d);
        return;
    }
    d->mult = n; /* 0 disables multiple mode */
    finish_ok(d);
}

/* Both devices run EXECUTE DEVICE DIAGNOSTIC; device 0 reports for the pair
 * and interrupts. */
static void cmd_diagnostic(struct ide_channel *ch)
{
    for (int u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        stop_transfer(d);
        ide_set_signature(d);
        d->error = 0x01; /* passed (device 0: device 1 passed or absent) */
        d->status = d->kind == IDE_DISK ? READY : 0;
        d->irq_pending = false;
    }
    ch->cur = 0;
    ide_raise_irq(&ch->drive[0]);
}

static void exec_command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = &ch->drive[ch->cur];
    if (cmd == 0x90) {
        if (ch->drive[0].kind != IDE_NONE || ch->drive[1].kind != IDE_NONE)
            cmd_diagnostic(ch);
        return;
    }
    if (d->kind == IDE_NONE)
        return; /* nobody answers */
    if (d->status & ATA_ST_BSY)
        return; /* commands are ignored while busy */
    d->irq_pending = false;
    update_irq(ch);
    stop_transfer(d);
    d->error = 0;

    if (d->kind == IDE_CDROM) {
        switch (cmd) {
        case 0xa0: /* PACKET */
            atapi_packet(d);
            return;
        case 0xa1: /* IDENTIFY PACKET DEVICE */
            cmd_identify(d, true);
            return;
        case 0x08: /* DEVICE RESET: no interrupt */
            ide_set_signature(d);
            d->error = 0x01;
            d->status = 0;
            d->sense_key = d->asc = d->ascq = 0;
            return;
        case 0xef:
            cmd_set_features(d);
            return;
        case 0xe5:
            d->nsector = 0xff;
            finish_ok(d);
            return;
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: /* power */
            finish_ok(d);
            return;
        default:
            /* IDENTIFY DEVICE, READ SECTORS etc.: a packet device aborts them
             * and shows its signature, which is how hosts tell it apart. */
            ide_set_signature(d);
            d->select = (uint8_t)(ch->cur ? SEL_DEV : 0);
            abort_cmd(d);
            return;
        }
    }

    uint64_t lba;
    switch (cmd) {
    case 0xec:
        cmd_identify(d, false);
        return;
    case 0x20: case 0x21: /* READ SECTOR(S) with/without retry */
        cmd_rw(d, false, false);
        return;
    case 0x30: case 0x31: /* WRITE SECTOR(S) */
        cmd_rw(d, true, false);
        return;
    case 0xc4: /* READ MULTIPLE */
        cmd_rw(d, false, true);
        return;
    case 0xc5: /* WRITE MULTIPLE */
        cmd_rw(d, true, true);
        return;
    case 0x40: case 0x41: /* READ VERIFY SECTOR(S) */
        if (check_range(d, &lba, d->nsector ? d->nsector : 256)) {
            set_address(d, lba + (d->nsector ? d->nsector : 256) - 1);
            finish_ok(d);
        }
        return;
    case 0x70: /* SEEK */
        if (check_range(d, &lba, 1))
            finish_ok(d);
        return;
    case 0x91:
        cmd_init_params(d);
        return;
    case 0xc6:
        cmd_set_multiple(d);
        return;
    case 0xef:
        cmd_set_features(d);
        return;
    case 0xe7: /* FLUSH CACHE */
        if (disk_image_flush(&d->img) < 0)
            abort_cmd(d);
        else
            finish_ok(d);
        return;
    case 0xe5: /* CHECK POWER MODE: active or idle */
        d->nsector = 0xff;
        finish_ok(d);
        return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: /* STANDBY/IDLE/SLEEP */
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x98: case 0x99: /* old encodings */
        finish_ok(d);
        return;
    default:
        if ((cmd & 0xf0) == 0x10) { /* RECALIBRATE */
            if (!(d->select & SEL_LBA)) {
                d->lcyl = d->hcyl = 0;
                d->sector = 1;
            }
            finish_ok(d);
            return;
        }
        abort_cmd(d); /* includes NOP, DMA and LBA48 commands */
    }
}

/* --- software reset -------------------------------------------------------- */

static void write_devctl(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->devctl;
    ch->devctl = v;
    if ((v & ATA_DC_SRST) && !(old & ATA_DC_SRST)) {
        /* Reset asserted: both devices busy, transfers and interrupts dropped. */
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            stop_transfer(d);
            d->irq_pending = false;
            if (d->kind != IDE_NONE)
                d->status = ATA_ST_BSY | ATA_ST_DSC;
        }
    } else if (!(v & ATA_DC_SRST) && (old & ATA_DC_SRST)) {
        /* Reset released: signatures; an ATA device is ready, a packet
         * device leaves DRDY clear (ATA/ATAPI-6 9.12). No interrupt. */
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            ide_set_signature(d);
            d->error = 0x01;
            d->status = d->kind == IDE_DISK ? READY : 0;
            d->sense_key = d->asc = d->ascq = 0;
        }
        ch->cur = 0;
    }
    update_irq(ch);
}

/* --- port access ----------------------------------------------------------- */

static bool channel_empty(const struct ide_channel *ch)
{
    return ch->drive[0].kind == IDE_NONE && ch->drive[1].kind == IDE_NONE;
}

/* IDE decode enable: IDETIM bit 15 for the channel (PCI config 0x40/0x42). */
static bool decoding(const struct ide_channel *ch)
{
    const struct ide *ide = ch->ide;
    return ide->pci.config[0x41 + 2 * (ch - ide->ch)] & 0x80;
}

static uint32_t data_read(struct ide_drive *d, int size)
{
    if (!(d->status & ATA_ST_DRQ) || d->pos >= d->end)
        return 0xffffffffu >> (32 - 8 * size);
    uint32_t v = 0;
    for (int k = 0; k < size; k++)
        v |= (uint32_t)d->buf[d->pos + (uint32_t)k] << (8 * k);
    d->pos += (uint32_t)size;
    if (d->pos >= d->end && d->done)
        d->done(d);
    return v;
}

static void data_write(struct ide_drive *d, int size, uint32_t v)
{
    if (!(d->status & ATA_ST_DRQ) || d->pos >= d->end)
        return;
    for (int k = 0; k < size; k++)
        d->buf[d->pos + (uint32_t)k] = (uint8_t)(v >> (8 * k));
    d->pos += (uint32_t)size;
    if (d->pos >= d->end && d->done)
        d->done(d);
}

static uint8_t reg_read(struct ide_channel *ch, int reg)
{
    struct ide_drive *d = &ch->drive[ch->cur];
    if (channel_empty(ch))
        return 0xff;
    switch (reg) {
    case REG_ERROR: return d->error;
    case REG_NSECTOR: return d->nsector;
    case REG_SECTOR: return d->sector;
    case REG_LCYL: return d->lcyl;
    case REG_HCYL: return d->hcyl;
    case REG_SELECT: return d->select;
    case REG_STATUS:
        if (d->kind == IDE_NONE)
            return 0;
        clear_irq(d);
        return d->status;
    }
    return 0xff;
}

static void reg_write(struct ide_channel *ch, int reg, uint8_t v)
{
    if (reg == REG_COMMAND) {
        exec_command(ch, v);
        return;
    }
    for (int u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        switch (reg) {
        case REG_FEATURE: d->feature = v; break;
        case REG_NSECTOR: d->nsector = v; break;
        case REG_SECTOR: d->sector = v; break;
        case REG_LCYL: d->lcyl = v; break;
        case REG_HCYL: d->hcyl = v; break;
        case REG_SELECT: d->select = v; break;
        }
    }
    if (reg == REG_SELECT) {
        ch->cur = (v & SEL_DEV) ? 1 : 0;
        update_irq(ch);
    }
}

static struct ide_channel *port_channel(struct ide *ide, uint16_t port, int *reg, bool *ctl)
{
    for (int c = 0; c < 2; c++) {
        if (port >= cmd_base[c] && port < cmd_base[c] + 8) {
            *reg = port - cmd_base[c];
            *ctl = false;
            return &ide->ch[c];
        }
        if (port == ctl_base[c]) {
            *reg = 0;
            *ctl = true;
            return &ide->ch[c];
        }
    }
    return NULL;
}

static uint32_t port_read(void *ctx, uint16_t port, int size)
{
    int reg;
    bool ctl;
    struct ide_channel *ch = port_channel(ctx, port, &reg, &ctl);
    uint32_t ones = 0xffffffffu >> (32 - 8 * size);
    if (!ch || !decoding(ch))
        return ones;
    if (!ctl && reg == REG_DATA) {
        if (channel_empty(ch))
            return ones;
        return data_read(&ch->drive[ch->cur], size);
    }
    if (ctl) { /* alternate status: no interrupt side effect */
        struct ide_drive *d = &ch->drive[ch->cur];
        if (channel_empty(ch))
            return ones;
        return d->kind == IDE_NONE ? 0 : d->status;
    }
    uint32_t v = 0;
    for (int k = 0; k < size && reg + k < 8; k++)
        v |= (uint32_t)reg_read(ch, reg + k) << (8 * k);
    return v;
}

static void port_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    int reg;
    bool ctl;
    struct ide_channel *ch = port_channel(ctx, port, &reg, &ctl);
    if (!ch || !decoding(ch))
        return;
    if (ctl) {
        write_devctl(ch, (uint8_t)val);
        return;
    }
    if (reg == REG_DATA) {
        data_write(&ch->drive[ch->cur], size, val);
        return;
    }
    for (int k = 0; k < size && reg + k < 8; k++)
        reg_write(ch, reg + k, (uint8_t)(val >> (8 * k)));
}

/* --- bus-master IDE registers (BAR4) ---------------------------------------- */

static uint32_t bm_read(void *ctx, uint16_t port, int size)
{
    struct ide *ide = ctx;
    uint32_t base = ide->pci.bar[4].mapped;
    uint32_t v = 0;
    for (int k = 0; k < size; k++) {
        uint32_t off = (uint32_t)port + (uint32_t)k - base;
        struct ide_channel *ch = &ide->ch[(off >> 3) & 1];
        uint32_t b;
        switch (off & 7) {
        case 0: b = ch->bm_cmd; break;
        case 2: b = ch->bm_status; break;
        case 4: case 5: case 6: case 7: b = (ch->bm_prd >> (8 * ((off & 7) - 4))) & 0xff; break;
        default: b = 0;
        }
        v |= b << (8 * k);
    }
    return v;
}

static void bm_write(void *ctx, uint16_t port, int size, uint32_t val)
{
    struct ide *ide = ctx;
    uint32_t base = ide->pci.bar[4].mapped;
    for (int k = 0; k < size; k++) {
        uint32_t off = (uint32_t)port + (uint32_t)k - base;
        struct ide_channel *ch = &ide->ch[(off >> 3) & 1];
        uint8_t b = (uint8_t)(val >> (8 * k));
        switch (off & 7) {
        case 0: ch->bm_cmd = b & 0x09; break;
        case 2: /* bits 1-2 write-one-to-clear, 5-6 read/write, 7 (simplex) 0 */
            ch->bm_status = (uint8_t)((ch->bm_status & ~(b & 0x06) & 0x07) | (b & 0x60));
            break;
        case 4: case 5: case 6: case 7: {
            int sh = 8 * ((off & 7) - 4);
            ch->bm_prd = (ch->bm_prd & ~(0xffu << sh)) | ((uint32_t)b << sh);
            ch->bm_prd &= ~3u;
            break;
        }
        }
    }
}

static void pci_map(struct pci_device *pd, int bar, uint32_t addr)
{
    struct ide *ide = pd->ctx;
    if (bar != 4)
        return;
    /* The bus has no port unregistration: a moved BAR leaves stale
     * handlers at the old base that compute an out-of-window offset, so
     * clear them explicitly. */
    (void)addr;
    for (uint32_t p = 0; p < 0x10000; p++) {
        struct port_handler *h = &ide->bus->ports[p];
        if (h->ctx == ide && h->read == bm_read) {
            h->read = NULL;
            h->write = NULL;
            h->ctx = NULL;
        }
    }
    if (addr != PCI_UNMAPPED)
        bus_add_ports(ide->bus, (uint16_t)addr, 16, bm_read, bm_write, ide);
}

/* --- setup ----------------------------------------------------------------- */

void ide_init(struct ide *ide, struct bus *b, struct pci_bus *pb)
{
    memset(ide, 0, sizeof(*ide));
    ide->bus = b;
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        ch->ide = ide;
        ch->irq = chan_irq[c];
        for (int u = 0; u < 2; u++) {
            ch->drive[u].ch = ch;
            ch->drive[u].unit = u;
            ch->drive[u].img.fd = -1;
            ide_set_signature(&ch->drive[u]);
        }
        bus_add_ports(b, cmd_base[c], 8, port_read, port_write, ide);
        bus_add_ports(b, ctl_base[c], 1, port_read, port_write, ide);
    }
    struct pci_device *pd = &ide->pci;
    /* Class 01 01 80: IDE, both channels in compatibility mode (fixed),
     * bus-master capable. No INTx pin: the channels use IRQ 14 and 15. */
    pci_set_ids(pd, 0x8086, 0x7010, 0x01, 0x01, 0x80, 0x00);
    pci_set16(pd, 0x06, 0x0280); /* status: fast back-to-back, medium DEVSEL */
    pci_declare_bar(pd, 4, 16, PCI_BAR_IO);
    pd->config[0x0d] = 0x00;
    /* IDETIM: decode enabled on both channels at power-on (the real PIIX3
     * waits for the BIOS; enabling here lets a direct-boot kernel find the
     * disks, and SeaBIOS writes the same value). */
    pci_set16(pd, 0x40, 0x8000);
    pci_set16(pd, 0x42, 0x8000);
    pd->map = pci_map;
    pd->ctx = ide;
    if (pb)
        pci_register(pb, pd, 1, 1);
}

static int attach(struct ide *ide, int channel, int unit, const char *path, enum ide_kind kind,
                  char *err, size_t errlen)
{
    if (channel < 0 || channel > 1 || unit < 0 || unit > 1) {
        snprintf(err, errlen, "%s: no IDE position %d:%d", path, channel, unit);
        return -1;
    }
    struct ide_drive *d = &ide->ch[channel].drive[unit];
    if (d->kind != IDE_NONE) {
        snprintf(err, errlen, "%s: IDE position %d:%d is already taken by %s", path, channel,
                 unit, d->img.path);
        return -1;
    }
    if (disk_image_open(&d->img, path, kind == IDE_CDROM ? DISK_IMAGE_CD : DISK_IMAGE_HD, err,
                        errlen) < 0)
        return -1;
    d->kind = kind;
    if (kind == IDE_DISK) {
        /* Geometry: 16 heads, 63 sectors per track, as many cylinders as
         * fit (at most 16383, the IDENTIFY limit for CHS addressing);
         * small images get fewer heads so some cylinders exist. */
        uint64_t total = disk_image_sectors(&d->img);
        d->capacity = total;
        d->heads = 16;
        d->spt = 63;
        while (d->heads > 1 && total / (d->heads * d->spt) == 0)
            d->heads >>= 1;
        uint64_t cyls = total / (d->heads * d->spt);
        if (cyls == 0)
            d->spt = (uint32_t)total, cyls = 1, d->heads = 1;
        if (cyls > 16383)
            cyls = 16383;
        d->cyls = (uint32_t)cyls;
        d->cur_cyls = d->cyls;
        d->cur_heads = d->heads;
        d->cur_spt = d->spt;
        d->write_cache = true;
        d->status = READY;
    } else {
        d->status = 0;
    }
    ide_set_signature(d);
    d->error = 0x01;
    return 0;
}

int ide_attach_disk(struct ide *ide, int channel, int unit, const char *path, char *err,
                    size_t errlen)
{
    return attach(ide, channel, unit, path, IDE_DISK, err, errlen);
}

int ide_attach_cdrom(struct ide *ide, int channel, int unit, const char *path, char *err,
                     size_t errlen)
{
    return attach(ide, channel, unit, path, IDE_CDROM, err, errlen);
}

void ide_free(struct ide *ide)
{
    for (int c = 0; c < 2; c++)
        for (int u = 0; u < 2; u++)
            disk_image_close(&ide->ch[c].drive[u].img);
}
