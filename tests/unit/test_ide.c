/* PIIX3 IDE: ATA disk and ATAPI CD-ROM register behaviour through the ports,
 * backed by temporary image files; disk image validation; PCI function. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ide.h"
#include "devices/pci.h"

static struct bus bus;
static struct pci_bus pcib;
static struct ide ide;
static int irq_line[16], irq_edges[16];
static char dir[64];
static char hd_path[128], cd_path[128];
static char err[256];

#define HD_SECTORS 8192u /* 4 MiB: geometry 8/16/63 */
#define CD_SECTORS 100u

static void sink(void *ctx, int line, int level)
{
    (void)ctx;
    if (level && !irq_line[line])
        irq_edges[line]++;
    irq_line[line] = level;
}

static void outb(uint16_t p, uint8_t v) { bus_port_write(&bus, p, 1, v); }
static uint8_t inb(uint16_t p) { return (uint8_t)bus_port_read(&bus, p, 1); }
static uint16_t inw(uint16_t p) { return (uint16_t)bus_port_read(&bus, p, 2); }
static void outw(uint16_t p, uint16_t v) { bus_port_write(&bus, p, 2, v); }

/* Every byte of sector n of a test disk: (n * 7 + offset) & 0xff, and the
 * first four bytes hold n. */
static void fill_sector(uint8_t *s, uint32_t n, uint32_t size)
{
    for (uint32_t k = 0; k < size; k++)
        s[k] = (uint8_t)(n * 7 + k);
    memcpy(s, &n, 4);
}

static void make_image(const char *path, uint32_t sectors, uint32_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint8_t s[2048];
    for (uint32_t n = 0; n < sectors; n++) {
        fill_sector(s, n, size);
        ck_assert_uint_eq(fwrite(s, size, 1, f), 1);
    }
    fclose(f);
}

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 1 << 20), 0);
    bus.irq_sink = sink;
    memset(irq_line, 0, sizeof(irq_line));
    memset(irq_edges, 0, sizeof(irq_edges));
    strcpy(dir, "/tmp/trapeze-ide-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(hd_path, sizeof(hd_path), "%s/hd.img", dir);
    snprintf(cd_path, sizeof(cd_path), "%s/cd.iso", dir);
    make_image(hd_path, HD_SECTORS, 512);
    make_image(cd_path, CD_SECTORS, 2048);
    pci_bus_init(&pcib, &bus);
    ide_init(&ide, &bus, &pcib);
}

static void teardown(void)
{
    ide_free(&ide);
    unlink(hd_path);
    unlink(cd_path);
    rmdir(dir);
    bus_free(&bus);
}

static void attach_hd(int ch, int unit)
{
    ck_assert_msg(ide_attach_disk(&ide, ch, unit, hd_path, err, sizeof(err)) == 0, "%s", err);
}
static void attach_cd(int ch, int unit)
{
    ck_assert_msg(ide_attach_cdrom(&ide, ch, unit, cd_path, err, sizeof(err)) == 0, "%s", err);
}

static void read_words(uint16_t base, uint16_t *w, int n)
{
    for (int k = 0; k < n; k++)
        w[k] = inw(base);
}

/* LBA28 task file and command on the primary channel, master. */
static void ata_lba(uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(0x1f6, (uint8_t)(0xe0 | (lba >> 24)));
    outb(0x1f2, count);
    outb(0x1f3, (uint8_t)lba);
    outb(0x1f4, (uint8_t)(lba >> 8));
    outb(0x1f5, (uint8_t)(lba >> 16));
    outb(0x1f7, cmd);
}

static void check_sector(const uint8_t *got, uint32_t n)
{
    uint8_t want[512];
    fill_sector(want, n, 512);
    ck_assert_msg(memcmp(got, want, 512) == 0, "sector %u content", n);
}

static void read_sector_data(uint8_t *buf)
{
    for (int k = 0; k < 256; k++) {
        uint16_t w = inw(0x1f0);
        buf[2 * k] = (uint8_t)w;
        buf[2 * k + 1] = (uint8_t)(w >> 8);
    }
}

START_TEST(identify_disk)
{
    attach_hd(0, 0);
    outb(0x1f6, 0xa0);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f7, 0xec);
    ck_assert_int_eq(irq_line[14], 1);
    ck_assert_uint_eq(inb(0x3f6), 0x58); /* alternate status leaves the IRQ */
    ck_assert_int_eq(irq_line[14], 1);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    ck_assert_int_eq(irq_line[14], 0);
    uint16_t id[256];
    read_words(0x1f0, id, 256);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    ck_assert_uint_eq(id[0], 0x0040);
    ck_assert_uint_eq(id[1], 8);
    ck_assert_uint_eq(id[3], 16);
    ck_assert_uint_eq(id[6], 63);
    ck_assert_uint_eq(id[47], 0x8010);
    ck_assert_uint_eq(id[49] & 0x0300, 0x0200); /* LBA, no DMA */
    ck_assert_uint_eq(id[53] & 3, 3);
    ck_assert_uint_eq(id[60] | (uint32_t)id[61] << 16, HD_SECTORS);
    ck_assert_uint_eq(id[63], 0);
    ck_assert_uint_eq(id[83] & 0x0400, 0); /* no LBA48 */
    char model[41];
    for (int k = 0; k < 20; k++) {
        model[2 * k] = (char)(id[27 + k] >> 8);
        model[2 * k + 1] = (char)id[27 + k];
    }
    model[40] = 0;
    ck_assert_str_eq(model, "TRAPEZE HARDDISK                        ");
    ck_assert_uint_eq(id[10] >> 8, 'T');
}
END_TEST

START_TEST(read_sectors_lba)
{
    attach_hd(0, 0);
    ata_lba(5, 3, 0x20);
    uint8_t buf[512];
    for (uint32_t n = 5; n < 8; n++) {
        ck_assert_int_eq(irq_edges[14], (int)(n - 4)); /* one interrupt per sector */
        ck_assert_uint_eq(inb(0x1f7), 0x58);
        read_sector_data(buf);
        check_sector(buf, n);
    }
    ck_assert_int_eq(irq_edges[14], 3); /* none after the last data-in block */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    /* READ SECTORS without retry, last sector of the disk, count 0 = 256
     * would run off the end: */
    ata_lba(HD_SECTORS - 1, 1, 0x21);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    read_sector_data(buf);
    check_sector(buf, HD_SECTORS - 1);
}
END_TEST

START_TEST(read_chs)
{
    attach_hd(0, 0);
    /* cylinder 1, head 2, sector 4 -> LBA (1*16+2)*63+3 = 1137 */
    outb(0x1f6, 0xa2);
    outb(0x1f2, 1);
    outb(0x1f3, 4);
    outb(0x1f4, 1);
    outb(0x1f5, 0);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    uint8_t buf[512];
    read_sector_data(buf);
    check_sector(buf, 1137);
    /* sector 0 does not exist in CHS */
    outb(0x1f3, 0);
    outb(0x1f2, 1);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    ck_assert_uint_eq(inb(0x1f1), ATA_ER_IDNF);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors/track */
    outb(0x1f6, 0xa3);
    outb(0x1f2, 17);
    outb(0x1f7, 0x91);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f6, 0xa1); /* head 1 */
    outb(0x1f2, 1);
    outb(0x1f3, 5);
    outb(0x1f4, 2);
    outb(0x1f5, 0);
    outb(0x1f7, 0x20); /* (2*4+1)*17+4 = 157 */
    read_sector_data(buf);
    check_sector(buf, 157);
    /* head 4 is beyond 4 heads */
    outb(0x1f6, 0xa4);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x51);
}
END_TEST

START_TEST(write_then_read)
{
    attach_hd(0, 0);
    ata_lba(10, 2, 0x30);
    ck_assert_int_eq(irq_edges[14], 0); /* the first block needs no interrupt */
    ck_assert_uint_eq(inb(0x3f6), 0x58);
    for (int k = 0; k < 256; k++)
        outw(0x1f0, (uint16_t)(0xa000 + k));
    ck_assert_int_eq(irq_edges[14], 1);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    /* second sector with 32-bit accesses */
    for (int k = 0; k < 128; k++)
        bus_port_write(&bus, 0x1f0, 4, 0xb0000000u + (uint32_t)k);
    ck_assert_int_eq(irq_edges[14], 2); /* completion */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    /* the file holds the data */
    int fd = open(hd_path, O_RDONLY);
    uint16_t w[512];
    ck_assert_int_eq(pread(fd, w, 1024, 10 * 512), 1024);
    close(fd);
    ck_assert_uint_eq(w[0], 0xa000);
    ck_assert_uint_eq(w[255], 0xa0ff);
    ck_assert_uint_eq(w[256], 0x0000);
    ck_assert_uint_eq(w[257], 0xb000);
    ck_assert_uint_eq(w[510], 127);
    /* and reads back, 32 bits at a time */
    ata_lba(11, 1, 0x20);
    inb(0x1f7);
    ck_assert_uint_eq(bus_port_read(&bus, 0x1f0, 4), 0xb0000000u);
    ck_assert_uint_eq(bus_port_read(&bus, 0x1f0, 4), 0xb0000001u);
}
END_TEST

START_TEST(multiple_mode)
{
    attach_hd(0, 0);
    ata_lba(0, 10, 0xc4);
    ck_assert_uint_eq(inb(0x1f7), 0x51); /* multiple mode off: aborted */
    ck_assert_uint_eq(inb(0x1f1), ATA_ER_ABRT);
    outb(0x1f2, 3);
    outb(0x1f7, 0xc6);
    ck_assert_uint_eq(inb(0x1f7), 0x51); /* not a power of two */
    outb(0x1f2, 4);
    outb(0x1f7, 0xc6);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f7, 0xec);
    uint16_t id[256];
    inb(0x1f7);
    read_words(0x1f0, id, 256);
    ck_assert_uint_eq(id[59], 0x0104);
    int before = irq_edges[14];
    ata_lba(20, 10, 0xc4);
    uint8_t buf[512];
    int blocks[3] = {4, 4, 2};
    uint32_t n = 20;
    for (int b = 0; b < 3; b++) {
        ck_assert_int_eq(irq_edges[14] - before, b + 1);
        ck_assert_uint_eq(inb(0x1f7), 0x58);
        for (int s = 0; s < blocks[b]; s++, n++) {
            read_sector_data(buf);
            check_sector(buf, n);
            if (s < blocks[b] - 1)
                ck_assert_int_eq(irq_edges[14] - before, b + 1); /* none inside a block */
        }
    }
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    /* WRITE MULTIPLE: 6 sectors in blocks of 4 and 2 */
    before = irq_edges[14];
    ata_lba(100, 6, 0xc5);
    for (int k = 0; k < 4 * 256; k++)
        outw(0x1f0, 0x1111);
    ck_assert_int_eq(irq_edges[14] - before, 1);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    for (int k = 0; k < 2 * 256; k++)
        outw(0x1f0, 0x2222);
    ck_assert_int_eq(irq_edges[14] - before, 2);
    ata_lba(104, 1, 0x20);
    ck_assert_uint_eq(inw(0x1f0), 0x2222);
}
END_TEST

START_TEST(errors)
{
    attach_hd(0, 0);
    ata_lba(HD_SECTORS, 1, 0x20);
    ck_assert_int_eq(irq_line[14], 1);
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    ck_assert_uint_eq(inb(0x1f1), ATA_ER_IDNF);
    ata_lba(HD_SECTORS - 1, 2, 0x30); /* runs past the end */
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    ata_lba(0, 0, 0x40); /* verify 256 sectors from 0: fine */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f7, 0xa0); /* PACKET to a disk */
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    ck_assert_uint_eq(inb(0x1f1), ATA_ER_ABRT);
    outb(0x1f7, 0xc8); /* READ DMA: no DMA */
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    outb(0x1f7, 0x24); /* READ SECTORS EXT: no LBA48 */
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    outb(0x1f7, 0xe7); /* FLUSH CACHE */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    ck_assert_uint_eq(inb(0x1f1), 0);
    outb(0x1f1, 0x03);
    outb(0x1f2, 0x0c); /* SET FEATURES: PIO mode 4 */
    outb(0x1f7, 0xef);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f2, 0x42); /* UDMA 2: not offered */
    outb(0x1f7, 0xef);
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    outb(0x1f7, 0xe5); /* CHECK POWER MODE */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    ck_assert_uint_eq(inb(0x1f2), 0xff);
    outb(0x1f7, 0x10); /* RECALIBRATE */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f7, 0xe1); /* IDLE IMMEDIATE */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
}
END_TEST

START_TEST(nien_masks_irq)
{
    attach_hd(0, 0);
    outb(0x3f6, ATA_DC_NIEN);
    outb(0x1f7, 0xec);
    ck_assert_int_eq(irq_line[14], 0);
    outb(0x3f6, 0);
    ck_assert_int_eq(irq_line[14], 1); /* the pending interrupt shows */
    inb(0x1f7);
    ck_assert_int_eq(irq_line[14], 0);
    outb(0x3f6, ATA_DC_NIEN);
    outb(0x1f7, 0xe7);
    inb(0x1f7); /* polled: reading status clears the pending interrupt */
    outb(0x3f6, 0);
    ck_assert_int_eq(irq_line[14], 0);
    ck_assert_int_eq(irq_line[15], 0);
}
END_TEST

START_TEST(srst_signatures)
{
    attach_hd(0, 0);
    attach_cd(0, 1);
    outb(0x1f6, 0xb0);
    outb(0x1f7, 0xec); /* leave the CD with an error */
    outb(0x3f6, ATA_DC_SRST | ATA_DC_NIEN);
    ck_assert_uint_eq(inb(0x3f6) & ATA_ST_BSY, ATA_ST_BSY);
    outb(0x3f6, ATA_DC_NIEN);
    ck_assert_int_eq(irq_line[14], 0);
    /* device 0 selected after reset */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    ck_assert_uint_eq(inb(0x1f1), 0x01);
    ck_assert_uint_eq(inb(0x1f2), 1);
    ck_assert_uint_eq(inb(0x1f3), 1);
    ck_assert_uint_eq(inb(0x1f4), 0);
    ck_assert_uint_eq(inb(0x1f5), 0);
    outb(0x1f6, 0xb0);
    ck_assert_uint_eq(inb(0x1f6), 0xb0);
    ck_assert_uint_eq(inb(0x1f7), 0x00); /* packet device: DRDY clear */
    ck_assert_uint_eq(inb(0x1f2), 1);
    ck_assert_uint_eq(inb(0x1f3), 1);
    ck_assert_uint_eq(inb(0x1f4), 0x14);
    ck_assert_uint_eq(inb(0x1f5), 0xeb);
    /* EXECUTE DEVICE DIAGNOSTIC: the same signatures, device 0 interrupts */
    outb(0x3f6, 0);
    outb(0x1f7, 0x90);
    ck_assert_int_eq(irq_line[14], 1);
    ck_assert_uint_eq(inb(0x1f1), 0x01);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f6, 0xb0);
    ck_assert_uint_eq(inb(0x1f4), 0x14);
}
END_TEST

START_TEST(absent_devices)
{
    attach_hd(0, 0);
    outb(0x1f6, 0xb0); /* no slave */
    ck_assert_uint_eq(inb(0x1f7), 0x00);
    ck_assert_uint_eq(inb(0x3f6), 0x00);
    outb(0x1f2, 0x55); /* registers still echo (the master answers) */
    ck_assert_uint_eq(inb(0x1f2), 0x55);
    outb(0x1f7, 0xec); /* nobody executes it */
    ck_assert_int_eq(irq_line[14], 0);
    ck_assert_uint_eq(inb(0x1f7), 0x00);
    /* the empty secondary channel floats */
    ck_assert_uint_eq(inb(0x177), 0xff);
    ck_assert_uint_eq(inb(0x376), 0xff);
    outb(0x172, 0x55);
    ck_assert_uint_eq(inb(0x172), 0xff);
}
END_TEST

/* --- ATAPI ------------------------------------------------------------------ */

#define CDP 0x170 /* CD on the secondary master */

/* Sends a PACKET command with byte count limit 'limit'; returns the status. */
static uint8_t packet(const uint8_t cdb[12], uint16_t limit)
{
    outb(CDP + 6, 0xa0);
    outb(CDP + 1, 0);
    outb(CDP + 4, (uint8_t)limit);
    outb(CDP + 5, (uint8_t)(limit >> 8));
    outb(CDP + 7, 0xa0);
    ck_assert_uint_eq(inb(0x376), 0x58);       /* DRQ for the CDB */
    ck_assert_uint_eq(inb(CDP + 2) & 3, 0x01); /* CoD, out */
    for (int k = 0; k < 6; k++)
        outw(CDP, (uint16_t)(cdb[2 * k] | cdb[2 * k + 1] << 8));
    return inb(CDP + 7);
}

/* Reads the data phase into buf; returns the byte count, checks the
 * interrupt reason of each chunk and the completion. */
static uint32_t packet_in(uint8_t *buf, uint32_t max, uint32_t chunk_max)
{
    uint32_t got = 0;
    for (;;) {
        uint8_t st = inb(CDP + 7);
        if (!(st & ATA_ST_DRQ)) {
            ck_assert_uint_eq(st & ATA_ST_ERR, 0);
            ck_assert_uint_eq(inb(CDP + 2) & 3, 3); /* status phase */
            return got;
        }
        ck_assert_uint_eq(inb(CDP + 2) & 3, 0x02); /* data, to host */
        uint32_t n = inb(CDP + 4) | inb(CDP + 5) << 8;
        ck_assert_uint_le(n, chunk_max);
        for (uint32_t k = 0; k < n; k += 2) {
            uint16_t w = inw(CDP);
            ck_assert_uint_lt(got + k + 1, max);
            buf[got + k] = (uint8_t)w;
            buf[got + k + 1] = (uint8_t)(w >> 8);
        }
        got += n;
    }
}

START_TEST(atapi_identify_and_abort)
{
    attach_cd(1, 0);
    outb(CDP + 6, 0xa0);
    ck_assert_uint_eq(inb(CDP + 7), 0x00);
    outb(CDP + 7, 0xec); /* IDENTIFY DEVICE: aborted, signature shown */
    ck_assert_int_eq(irq_line[15], 1);
    ck_assert_uint_eq(inb(CDP + 7), 0x51);
    ck_assert_uint_eq(inb(CDP + 1), ATA_ER_ABRT);
    ck_assert_uint_eq(inb(CDP + 4), 0x14);
    ck_assert_uint_eq(inb(CDP + 5), 0xeb);
    outb(CDP + 7, 0xa1);
    ck_assert_uint_eq(inb(CDP + 7), 0x58);
    uint16_t id[256];
    read_words(CDP, id, 256);
    ck_assert_uint_eq(id[0], 0x85c0);
    ck_assert_uint_eq(id[27], ('T' << 8) | 'R');
    ck_assert_uint_eq(inb(CDP + 7), 0x50);
}
END_TEST

START_TEST(atapi_inquiry_capacity)
{
    attach_cd(1, 0);
    uint8_t buf[4096];
    uint8_t inq[12] = {0x12, 0, 0, 0, 36};
    packet(inq, 0xffff);
    ck_assert_int_eq(irq_line[15], 0); /* reading status cleared it */
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 0xfffe), 36);
    ck_assert_uint_eq(buf[0], 0x05);
    ck_assert_uint_eq(buf[1], 0x80);
    ck_assert_int_eq(memcmp(buf + 8, "TRAPEZE ", 8), 0);
    uint8_t cap[12] = {0x25};
    packet(cap, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 8), 8);
    ck_assert_uint_eq(buf[3], CD_SECTORS - 1);
    ck_assert_uint_eq(buf[6], 0x08); /* 2048 */
    uint8_t tur[12] = {0};
    packet(tur, 0);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 0), 0);
    /* MODE SENSE(10), capabilities page */
    uint8_t ms[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128};
    packet(ms, 0xffff);
    uint32_t n = packet_in(buf, sizeof(buf), 0xfffe);
    ck_assert_uint_eq(n, 8 + 22);
    ck_assert_uint_eq(buf[1], n - 2);
    ck_assert_uint_eq(buf[8], 0x2a);
    /* GET EVENT STATUS NOTIFICATION, polled, media class */
    uint8_t gesn[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    packet(gesn, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 8), 8);
    ck_assert_uint_eq(buf[2], 0x04);
    ck_assert_uint_eq(buf[5], 0x02);
    /* GET CONFIGURATION: current profile CD-ROM */
    uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 8};
    packet(gc, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 8), 8);
    ck_assert_uint_eq(buf[7], 0x08);
}
END_TEST

START_TEST(atapi_read10)
{
    attach_cd(1, 0);
    static uint8_t buf[4 * 2048 + 16], want[2048];
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, 17, 0, 0, 3};
    int before = irq_edges[15];
    packet(rd, 2048); /* SeaBIOS-style: one sector per DRQ chunk */
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 2048), 3 * 2048);
    ck_assert_int_eq(irq_edges[15] - before, 4); /* 3 chunks + completion */
    for (uint32_t s = 0; s < 3; s++) {
        fill_sector(want, 17 + s, 2048);
        ck_assert_int_eq(memcmp(buf + s * 2048, want, 2048), 0);
    }
    /* odd limit rounded down to even; READ(12) */
    uint8_t rd12[12] = {0xa8, 0, 0, 0, 0, CD_SECTORS - 2, 0, 0, 0, 2};
    packet(rd12, 1001);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 1000), 2 * 2048);
    fill_sector(want, CD_SECTORS - 1, 2048);
    ck_assert_int_eq(memcmp(buf + 2048, want, 2048), 0);
}
END_TEST

START_TEST(atapi_toc)
{
    attach_cd(1, 0);
    uint8_t buf[256];
    uint8_t toc[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 0xff};
    packet(toc, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 0xfffe), 20);
    ck_assert_uint_eq(buf[1], 18);
    ck_assert_uint_eq(buf[2], 1);
    ck_assert_uint_eq(buf[3], 1);
    ck_assert_uint_eq(buf[5], 0x14);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(buf[11], 0);
    ck_assert_uint_eq(buf[14], 0xaa);
    ck_assert_uint_eq(buf[19], CD_SECTORS);
    /* MSF: track 1 at 00:02:00, lead-out at 100 + 150 frames = 00:03:25 */
    toc[1] = 2;
    packet(toc, 0xffff);
    packet_in(buf, sizeof(buf), 0xfffe);
    ck_assert_uint_eq(buf[9], 0);
    ck_assert_uint_eq(buf[10], 2);
    ck_assert_uint_eq(buf[11], 0);
    ck_assert_uint_eq(buf[17], 0);
    ck_assert_uint_eq(buf[18], 3);
    ck_assert_uint_eq(buf[19], 25);
    /* format 1: multi-session information */
    uint8_t ms[12] = {0x43, 0, 1, 0, 0, 0, 0, 0, 12};
    packet(ms, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 0xfffe), 12);
    ck_assert_uint_eq(buf[1], 10);
    ck_assert_uint_eq(buf[6], 1);
    /* allocation length truncates */
    toc[1] = 0;
    toc[8] = 4;
    packet(toc, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 0xfffe), 4);
}
END_TEST

START_TEST(atapi_errors_and_sense)
{
    attach_cd(1, 0);
    uint8_t buf[64];
    uint8_t bad[12] = {0xff};
    ck_assert_uint_eq(packet(bad, 0xffff), 0x51);
    ck_assert_uint_eq(inb(CDP + 1), (5 << 4) | ATA_ER_ABRT);
    ck_assert_uint_eq(inb(CDP + 2) & 3, 3);
    uint8_t rs[12] = {0x03, 0, 0, 0, 18};
    packet(rs, 0xffff);
    ck_assert_uint_eq(packet_in(buf, sizeof(buf), 18), 18);
    ck_assert_uint_eq(buf[0], 0x70);
    ck_assert_uint_eq(buf[2], 5);
    ck_assert_uint_eq(buf[12], 0x20);
    packet(rs, 0xffff); /* cleared once reported */
    packet_in(buf, sizeof(buf), 18);
    ck_assert_uint_eq(buf[2], 0);
    uint8_t rd[12] = {0x28, 0, 0, 0, 0, CD_SECTORS - 1, 0, 0, 2};
    ck_assert_uint_eq(packet(rd, 0xffff), 0x51);
    packet(rs, 0xffff);
    packet_in(buf, sizeof(buf), 18);
    ck_assert_uint_eq(buf[2], 5);
    ck_assert_uint_eq(buf[12], 0x21);
    /* DMA requested in the features register: aborted */
    outb(CDP + 1, 1);
    outb(CDP + 7, 0xa0);
    ck_assert_uint_eq(inb(CDP + 7), 0x51);
}
END_TEST

/* --- images ------------------------------------------------------------------ */

static int write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (size_t k = 0; k < n; k++)
        fputc(0, f);
    return fclose(f);
}

START_TEST(bad_images)
{
    char p[160];
    struct disk_image img;
    snprintf(p, sizeof(p), "%s/empty.img", dir);
    write_file(p, 0);
    ck_assert_int_eq(disk_image_open(&img, p, DISK_IMAGE_HD, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, p));
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    ck_assert_int_eq(ide_attach_disk(&ide, 0, 0, p, err, sizeof(err)), -1);
    unlink(p);
    snprintf(p, sizeof(p), "%s/trunc.img", dir);
    write_file(p, 1000);
    ck_assert_int_eq(disk_image_open(&img, p, DISK_IMAGE_HD, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 512"));
    unlink(p);
    snprintf(p, sizeof(p), "%s/trunc.iso", dir);
    write_file(p, 2048 * 3 + 512);
    ck_assert_int_eq(disk_image_open(&img, p, DISK_IMAGE_CD, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 2048"));
    unlink(p);
    snprintf(p, sizeof(p), "%s/missing.img", dir);
    ck_assert_int_eq(disk_image_open(&img, p, DISK_IMAGE_HD, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, p));
    ck_assert_int_eq(disk_image_open(&img, dir, DISK_IMAGE_HD, err, sizeof(err)), -1);
    /* the position is left free after a failure */
    attach_hd(0, 0);
    ck_assert_int_eq(ide_attach_disk(&ide, 0, 0, hd_path, err, sizeof(err)), -1);
}
END_TEST

START_TEST(read_only_image)
{
    if (geteuid() == 0) {
        /* root opens a mode-0444 file read-write: check the flag path instead */
        attach_hd(0, 0);
        ide.ch[0].drive[0].img.read_only = true;
    } else {
        chmod(hd_path, 0444);
        attach_hd(0, 0);
    }
    ata_lba(1, 1, 0x30);
    ck_assert_uint_eq(inb(0x1f7), 0x51);
    ck_assert_uint_eq(inb(0x1f1), ATA_ER_ABRT);
    ata_lba(1, 1, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
}
END_TEST

/* --- PCI function -------------------------------------------------------------- */

static uint32_t cfg_read(int reg)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (1u << 11) | (1u << 8) | (uint32_t)reg);
    return bus_port_read(&bus, 0xcfc, 4);
}
static void cfg_write(int reg, uint32_t v)
{
    bus_port_write(&bus, 0xcf8, 4, 0x80000000u | (1u << 11) | (1u << 8) | (uint32_t)reg);
    bus_port_write(&bus, 0xcfc, 4, v);
}

START_TEST(pci_function)
{
    attach_hd(0, 0);
    ck_assert_uint_eq(cfg_read(0x00), 0x70108086u);
    ck_assert_uint_eq(cfg_read(0x08) >> 8, 0x010180u);
    cfg_write(0x20, 0xffffffffu);
    ck_assert_uint_eq(cfg_read(0x20), 0xfffffff1u); /* 16 bytes of I/O */
    cfg_write(0x20, 0xc000);
    cfg_write(0x04, 0x0005); /* I/O decode, bus master */
    bus_port_write(&bus, 0xc004, 4, 0x12345677u);
    ck_assert_uint_eq(bus_port_read(&bus, 0xc004, 4), 0x12345674u);
    bus_port_write(&bus, 0xc00a, 1, 0x60);
    ck_assert_uint_eq(bus_port_read(&bus, 0xc00a, 1), 0x60);
    /* an IRQ sets the interrupt bit of the channel's status; write 1 clears */
    ata_lba(0, 1, 0x20);
    ck_assert_uint_eq(bus_port_read(&bus, 0xc002, 1) & 0x04, 0x04);
    bus_port_write(&bus, 0xc002, 1, 0x04);
    ck_assert_uint_eq(bus_port_read(&bus, 0xc002, 1) & 0x04, 0);
    /* moving the BAR moves the registers */
    cfg_write(0x20, 0xd000);
    ck_assert_uint_eq(bus_port_read(&bus, 0xd004, 4), 0x12345674u);
    ck_assert_uint_eq(bus_port_read(&bus, 0xc004, 4), 0xffffffffu);
    /* IDETIM decode enable off: the primary channel disappears */
    cfg_write(0x40, 0x80000000u);
    ck_assert_uint_eq(inb(0x1f7), 0xff);
    ck_assert_uint_ne(inb(0x177), 0x00);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ide");
    TCase *t = tcase_create("ide");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, identify_disk);
    tcase_add_test(t, read_sectors_lba);
    tcase_add_test(t, read_chs);
    tcase_add_test(t, write_then_read);
    tcase_add_test(t, multiple_mode);
    tcase_add_test(t, errors);
    tcase_add_test(t, nien_masks_irq);
    tcase_add_test(t, srst_signatures);
    tcase_add_test(t, absent_devices);
    tcase_add_test(t, atapi_identify_and_abort);
    tcase_add_test(t, atapi_inquiry_capacity);
    tcase_add_test(t, atapi_read10);
    tcase_add_test(t, atapi_toc);
    tcase_add_test(t, atapi_errors_and_sense);
    tcase_add_test(t, bad_images);
    tcase_add_test(t, read_only_image);
    tcase_add_test(t, pci_function);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
