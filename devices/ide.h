/*
 * The PIIX3 IDE function (PCI 00:01.1, 8086:7010) in ISA compatibility
 * mode: two legacy channels (primary 0x1F0-0x1F7 + 0x3F6 on IRQ 14,
 * secondary 0x170-0x177 + 0x376 on IRQ 15), each with a master and a slave
 * that is an ATA hard disk (ide.c) or an ATAPI CD-ROM (atapi.c) backed by a
 * raw image file (disk_image.h), or absent.
 *
 * Transfers are PIO only: IDENTIFY says no DMA modes, so Linux's ata_piix
 * and SeaBIOS both use PIO. BAR4 (bus-master IDE registers) exists with its
 * registers readable and writable so drivers that probe it are content, but
 * starting a DMA transfer does nothing.
 *
 * Commands complete synchronously inside the port write that issues them
 * (the image is read or written right there): BSY is never seen set except
 * while SRST is held. That is a legal timing for both ATA and ATAPI.
 *
 * Register model (ATA/ATAPI-6): writes to the command block go to both
 * devices; reads come from the selected device. A selected device that is
 * absent while the other is present reads status 0 (how hosts detect it);
 * a channel with no device floats (0xFF).
 */
#ifndef TRAPEZE_DEVICES_IDE_H
#define TRAPEZE_DEVICES_IDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/disk_image.h"
#include "devices/pci.h"
#include "mmu/bus.h"

enum ide_kind { IDE_NONE = 0, IDE_DISK, IDE_CDROM };

/* Status register bits. */
enum {
    ATA_ST_ERR = 0x01, ATA_ST_DRQ = 0x08, ATA_ST_DSC = 0x10, ATA_ST_DF = 0x20,
    ATA_ST_DRDY = 0x40, ATA_ST_BSY = 0x80
};
/* Error register bits. */
enum { ATA_ER_AMNF = 0x01, ATA_ER_ABRT = 0x04, ATA_ER_IDNF = 0x10, ATA_ER_UNC = 0x40 };
/* Device control register bits. */
enum { ATA_DC_NIEN = 0x02, ATA_DC_SRST = 0x04 };

/* Largest PIO data window: an ATAPI DRQ chunk is at most 0xFFFE bytes, a
 * response at most 0xFFFF (allocation lengths are 16-bit), an ATA block
 * 16 sectors. */
#define IDE_BUF_SIZE 0x10000

struct ide_channel;

struct ide_drive {
    enum ide_kind kind;
    struct disk_image img;
    struct ide_channel *ch;
    int unit; /* 0 = master, 1 = slave */

    /* Task file as this device holds it. */
    uint8_t feature, nsector, sector, lcyl, hcyl, select;
    uint8_t status, error;
    bool irq_pending; /* INTRQ wanted; cleared by reading Status or a new command */

    /* ATA geometry: default (IDENTIFY words 1/3/6) and current (set by
     * INITIALIZE DEVICE PARAMETERS, used for CHS addressing). */
    uint32_t cyls, heads, spt;
    uint32_t cur_cyls, cur_heads, cur_spt;
    uint64_t capacity; /* LBA28 sectors */
    uint8_t mult;      /* sectors per block for READ/WRITE MULTIPLE; 0 = disabled */
    bool write_cache;

    /* PIO data window: the host moves buf[pos, end) through the data port;
     * when pos reaches end, done() decides what follows. */
    uint8_t buf[IDE_BUF_SIZE];
    uint32_t pos, end;
    void (*done)(struct ide_drive *d);
    /* ATA multi-sector command in progress. */
    uint64_t lba;      /* next sector to transfer */
    uint32_t left;     /* sectors left in the command */
    uint32_t block;    /* sectors in the current DRQ block */
    uint32_t blocking; /* sectors per DRQ block for this command (1 or mult) */

    /* ATAPI (atapi.c). */
    uint8_t cdb[12];
    uint32_t byte_limit; /* byte count limit of the PACKET command (even, nonzero) */
    uint32_t xfer_left;  /* bytes still to send after the current chunk */
    uint64_t xfer_off;   /* image offset of the next chunk (reads from the image) */
    bool xfer_image;     /* chunks come from the image, else from resp[] */
    uint32_t resp_pos, resp_len;
    uint8_t resp[IDE_BUF_SIZE];
    uint8_t sense_key, asc, ascq;
};

struct ide_channel {
    struct ide *ide;
    struct ide_drive drive[2];
    int cur;        /* selected device */
    uint8_t devctl; /* device control register */
    int irq;        /* ISA IRQ line */
    int irq_level;  /* level currently driven */
    /* Bus-master IDE registers (BAR4 + 8 * channel). */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
};

struct ide {
    struct pci_device pci;
    struct ide_channel ch[2];
    struct bus *bus;
};

/* Registers the IDE function at 00:01.1 and claims the legacy ports. */
void ide_init(struct ide *ide, struct bus *b, struct pci_bus *pb);
/* Attach an image to channel (0 primary, 1 secondary) / unit (0 master,
 * 1 slave). Return 0, or -1 with a message naming the file in err. */
int ide_attach_disk(struct ide *ide, int channel, int unit, const char *path, char *err,
                    size_t errlen);
int ide_attach_cdrom(struct ide *ide, int channel, int unit, const char *path, char *err,
                     size_t errlen);
/* Closes the images. */
void ide_free(struct ide *ide);

/* --- between ide.c and atapi.c ------------------------------------------- */

/* Asserts INTRQ for d (subject to nIEN and device selection). */
void ide_raise_irq(struct ide_drive *d);
/* Opens a data window of n bytes at buf[0] with DRQ set; done runs when the
 * host has moved them. */
void ide_start_window(struct ide_drive *d, uint32_t n, void (*done)(struct ide_drive *));
void ide_fill_string(uint16_t *id, int word, int nwords, const char *s);
/* Device signature in the task file (after reset or diagnostics). */
void ide_set_signature(struct ide_drive *d);

void atapi_identify(struct ide_drive *d, uint16_t id[256]);
/* PACKET command written: opens the 12-byte CDB window. */
void atapi_packet(struct ide_drive *d);

#endif
