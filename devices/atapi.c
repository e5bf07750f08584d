/*
 * ATAPI CD-ROM on the IDE channel (see ide.h): the PACKET protocol of
 * ATA/ATAPI-6 (12-byte CDB, byte count limit in the cylinder registers,
 * interrupt reason in the sector count register) and the MMC commands that
 * SeaBIOS's El Torito boot and Linux's sr/cdrom drivers issue. 2048-byte
 * sectors from an ISO image; one data track, one session; the medium is
 * always present and never changes (no UNIT ATTENTION).
 */
#include "ide.h"

#include <string.h>

enum { IR_COD = 0x01, IR_IO = 0x02 }; /* interrupt reason (sector count) */
enum { READY = ATA_ST_DRDY | ATA_ST_DSC };

/* Sense keys and additional sense codes used here. */
enum { SK_NONE = 0, SK_NOT_READY = 2, SK_MEDIUM_ERROR = 3, SK_ILLEGAL_REQUEST = 5 };
enum {
    ASC_READ_ERROR = 0x11, ASC_INVALID_OPCODE = 0x20, ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24, ASC_SAVING_NOT_SUPPORTED = 0x39
};

#define CD_SECTOR 2048

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t cd_sectors(const struct ide_drive *d) { return (uint32_t)disk_image_sectors(&d->img); }

/* Address field of a TOC entry: 4 bytes, LBA or (0, M, S, F) with the
 * 2-second (150-frame) pregap of track 1. */
static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (!msf) {
        put32(p, lba);
        return;
    }
    lba += 150;
    p[0] = 0;
    p[1] = (uint8_t)(lba / (75 * 60));
    p[2] = (uint8_t)(lba / 75 % 60);
    p[3] = (uint8_t)(lba % 75);
}

void atapi_identify(struct ide_drive *d, uint16_t id[256])
{
    memset(id, 0, 512);
    /* ATAPI, CD-ROM, removable, DRQ within 50 us of PACKET, 12-byte CDB. */
    id[0] = 0x8000 | (5 << 8) | 0x80 | (2 << 5);
    int n = (int)(d->ch - d->ch->ide->ch) * 2 + d->unit;
    char serial[21] = "TRPZCD00000000000000";
    serial[19] = (char)('0' + n);
    ide_fill_string(id, 10, 10, serial);
    ide_fill_string(id, 23, 4, "1.0");
    ide_fill_string(id, 27, 20, "TRAPEZE CD-ROM");
    id[49] = 0x0a00; /* IORDY, LBA; no DMA */
    id[50] = 0x4000;
    id[51] = 0x0200;
    id[53] = 0x0002; /* words 64-70 valid */
    id[64] = 0x0003;
    id[65] = id[66] = id[67] = id[68] = 120;
    id[80] = 0x007e;
    id[82] = 0x4010; /* NOP, PACKET feature set */
    id[83] = 0x4000;
    id[84] = 0x4000;
    id[85] = 0x4010;
    id[87] = 0x4000;
}

/* --- completion ------------------------------------------------------------ */

static void complete(struct ide_drive *d)
{
    d->pos = d->end = 0;
    d->done = NULL;
    d->nsector = IR_IO | IR_COD;
    d->status = READY;
    ide_raise_irq(d);
}

/* CHECK CONDITION: the sense key also goes to the error register's upper
 * nibble, with ABRT. */
static void check_condition(struct ide_drive *d, uint8_t key, uint8_t asc)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = 0;
    d->pos = d->end = 0;
    d->done = NULL;
    d->error = (uint8_t)(key << 4 | ATA_ER_ABRT);
    d->nsector = IR_IO | IR_COD;
    d->status = READY | ATA_ST_ERR;
    ide_raise_irq(d);
}

static void good(struct ide_drive *d)
{
    d->sense_key = d->asc = d->ascq = 0;
    complete(d);
}

/* --- data-in in byte-count-limited chunks ---------------------------------- */

static void chunk_done(struct ide_drive *d);

/* Opens the next DRQ chunk (at most byte_limit bytes) and interrupts. */
static void next_chunk(struct ide_drive *d)
{
    uint32_t n = d->xfer_left < d->byte_limit ? d->xfer_left : d->byte_limit;
    if (d->xfer_image) {
        if (disk_image_pread(&d->img, d->xfer_off, d->buf, n) < 0) {
            check_condition(d, SK_MEDIUM_ERROR, ASC_READ_ERROR);
            return;
        }
        d->xfer_off += n;
    } else {
        memcpy(d->buf, d->resp + d->resp_pos, n);
        d->resp_pos += n;
    }
    d->xfer_left -= n;
    ide_start_window(d, n, chunk_done);
    d->buf[n] = 0; /* pad byte of an odd-length chunk */
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = IR_IO;
    ide_raise_irq(d);
}

static void chunk_done(struct ide_drive *d)
{
    if (d->xfer_left)
        next_chunk(d);
    else
        good(d);
}

/* Sends resp[0, len) truncated to the allocation length. */
static void send_resp(struct ide_drive *d, uint32_t len, uint32_t alloc)
{
    if (len > alloc)
        len = alloc;
    if (!len) {
        good(d);
        return;
    }
    d->xfer_image = false;
    d->resp_pos = 0;
    d->resp_len = len;
    d->xfer_left = len;
    next_chunk(d);
}

/* --- commands --------------------------------------------------------------- */

static void cmd_inquiry(struct ide_drive *d)
{
    uint8_t *r = d->resp;
    if (d->cdb[1] & 1) { /* EVPD: vital product data pages are not offered */
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(r, 0, 36);
    r[0] = 0x05; /* CD/DVD device */
    r[1] = 0x80; /* removable */
    r[2] = 0x00; /* ATAPI devices report no ANSI version */
    r[3] = 0x21; /* ATAPI version 2, response data format 1 */
    r[4] = 36 - 5;
    memcpy(r + 8, "TRAPEZE ", 8);
    memcpy(r + 16, "CD-ROM          ", 16);
    memcpy(r + 32, "1.0 ", 4);
    send_resp(d, 36, d->cdb[4]);
}

static void cmd_request_sense(struct ide_drive *d)
{
    uint8_t *r = d->resp;
    memset(r, 0, 18);
    r[0] = 0x70; /* current error, fixed format */
    r[2] = d->sense_key;
    r[7] = 10;
    r[12] = d->asc;
    r[13] = d->ascq;
    /* Reporting the sense clears it. */
    d->sense_key = d->asc = d->ascq = 0;
    uint32_t alloc = d->cdb[4];
    if (alloc > 18)
        alloc = 18;
    if (!alloc) {
        complete(d);
        return;
    }
    d->xfer_image = false;
    d->resp_pos = 0;
    d->xfer_left = alloc;
    next_chunk(d);
}

static void cmd_read_capacity(struct ide_drive *d)
{
    put32(d->resp, cd_sectors(d) - 1);
    put32(d->resp + 4, CD_SECTOR);
    send_resp(d, 8, 8);
}

static void cmd_read(struct ide_drive *d, uint32_t lba, uint32_t count)
{
    if ((uint64_t)lba + count > cd_sectors(d)) {
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (!count) {
        good(d);
        return;
    }
    d->xfer_image = true;
    d->xfer_off = (uint64_t)lba * CD_SECTOR;
    d->xfer_left = count * CD_SECTOR;
    next_chunk(d);
}

/* Mode pages: 0x01 read error recovery, 0x0E CD audio control, 0x2A
 * CD capabilities and mechanical status. Returns the length written at p,
 * or 0 for an unknown page. */
static uint32_t mode_page(uint8_t *p, int page)
{
    switch (page) {
    case 0x01:
        memset(p, 0, 8);
        p[0] = 0x01;
        p[1] = 6;
        p[3] = 3; /* read retry count */
        return 8;
    case 0x0e:
        memset(p, 0, 16);
        p[0] = 0x0e;
        p[1] = 14;
        p[2] = 0x04; /* immediate */
        p[8] = 1; p[9] = 0xff; /* port 0: channel 0, full volume */
        p[10] = 2; p[11] = 0xff;
        return 16;
    case 0x2a:
        memset(p, 0, 22);
        p[0] = 0x2a;
        p[1] = 20;
        p[2] = 0x00; /* reads CD-ROM only (no CD-R/RW, DVD) */
        p[3] = 0x00; /* writes nothing */
        p[4] = 0x71; /* multi-session, mode 2 form 1/2, audio play */
        p[5] = 0x00;
        p[6] = 0x29; /* tray loading mechanism, eject, lock */
        p[7] = 0x00;
        put16(p + 8, 706 * 4);  /* max read speed, KB/s (obsolete) */
        put16(p + 10, 256);     /* volume levels */
        put16(p + 12, 512);     /* buffer size, KB */
        put16(p + 14, 706 * 4); /* current read speed */
        return 22;
    }
    return 0;
}

static void cmd_mode_sense(struct ide_drive *d, bool ten)
{
    int pc = d->cdb[2] >> 6, page = d->cdb[2] & 0x3f;
    uint32_t hdr = ten ? 8 : 4, len = hdr;
    uint8_t *r = d->resp;
    if (pc == 3) { /* saved values */
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    memset(r, 0, hdr);
    if (page == 0x3f) {
        static const int pages[] = {0x01, 0x0e, 0x2a};
        for (size_t k = 0; k < sizeof(pages) / sizeof(pages[0]); k++)
            len += mode_page(r + len, pages[k]);
    } else {
        uint32_t n = mode_page(r + len, page);
        if (!n) {
            check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            return;
        }
        len += n;
    }
    if (pc == 1) /* changeable values: none */
        memset(r + hdr, 0, len - hdr), r[hdr] = (uint8_t)page;
    uint8_t medium = 0x01; /* 120 mm CD-ROM data only, door closed */
    if (ten) {
        put16(r, len - 2);
        r[2] = medium;
        send_resp(d, len, be16(d->cdb + 7));
    } else {
        r[0] = (uint8_t)(len - 1);
        r[1] = medium;
        send_resp(d, len, d->cdb[4]);
    }
}

static void cmd_read_toc(struct ide_drive *d)
{
    bool msf = d->cdb[1] & 2;
    int format = d->cdb[2] & 0x0f;
    if (!format)
        format = d->cdb[9] >> 6; /* SFF-8020 placed the format in byte 9 */
    int start = d->cdb[6];
    uint32_t alloc = be16(d->cdb + 7), len = 4;
    uint8_t *r = d->resp;
    uint32_t leadout = cd_sectors(d);
    memset(r, 0, 64);
    switch (format) {
    case 0: /* TOC: track 1 and the lead-out */
        if (start > 1 && start != 0xaa) {
            check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            return;
        }
        r[2] = 1;
        r[3] = 1;
        if (start <= 1) {
            r[len + 1] = 0x14; /* ADR 1, data track */
            r[len + 2] = 1;
            put_addr(r + len + 4, 0, msf);
            len += 8;
        }
        r[len + 1] = 0x14;
        r[len + 2] = 0xaa;
        put_addr(r + len + 4, leadout, msf);
        len += 8;
        break;
    case 1: /* session information: one session starting at track 1 */
        r[2] = 1;
        r[3] = 1;
        r[5] = 0x14;
        r[6] = 1;
        put_addr(r + 8, 0, msf);
        len = 12;
        break;
    case 2: { /* full (raw) TOC: points A0, A1, A2 and track 1, always MSF */
        r[2] = 1;
        r[3] = 1;
        static const uint8_t points[] = {0xa0, 0xa1, 0xa2, 0x01};
        for (int k = 0; k < 4; k++) {
            uint8_t *e = r + len;
            e[0] = 1;    /* session */
            e[1] = 0x14; /* ADR 1, data */
            e[3] = points[k];
            if (points[k] == 0xa0) {
                e[8] = 1; /* first track; disc type 0 (CD-ROM) */
            } else if (points[k] == 0xa1) {
                e[8] = 1; /* last track */
            } else {
                uint8_t a[4];
                put_addr(a, points[k] == 0xa2 ? leadout : 0, true);
                e[8] = a[1];
                e[9] = a[2];
                e[10] = a[3];
            }
            len += 11;
        }
        break;
    }
    default:
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    put16(r, len - 2);
    send_resp(d, len, alloc);
}

static void cmd_get_configuration(struct ide_drive *d)
{
    int rt = d->cdb[1] & 3;
    uint32_t start = be16(d->cdb + 2), len = 8;
    uint8_t *r = d->resp;
    memset(r, 0, 64);
    put16(r + 6, 0x0008); /* current profile: CD-ROM */
    /* Feature 0 (profile list): the one profile, current. */
    if (start == 0) {
        uint8_t *f = r + len;
        put16(f, 0x0000);
        f[2] = 0x03; /* persistent, current */
        f[3] = 4;
        put16(f + 4, 0x0008);
        f[6] = 0x01;
        len += 8;
    }
    /* Feature 1 (core): ATAPI physical interface. */
    if (start <= 1 && !(rt == 2 && start != 1)) {
        uint8_t *f = r + len;
        put16(f, 0x0001);
        f[2] = 0x07; /* version 1, persistent, current */
        f[3] = 4;
        put32(f + 4, 2);
        len += 8;
    }
    if (rt == 2 && start == 0)
        len = 16;
    put32(r, len - 4);
    send_resp(d, len, be16(d->cdb + 7));
}

static void cmd_get_event_status(struct ide_drive *d)
{
    uint8_t *r = d->resp;
    uint8_t classes = d->cdb[4];
    if (!(d->cdb[1] & 1)) { /* asynchronous notification is not supported */
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(r, 0, 8);
    r[3] = 0x10; /* supported classes: media */
    uint32_t len;
    if (classes & 0x10) {
        put16(r, 6);
        r[2] = 0x04; /* media class */
        r[4] = 0;    /* no change */
        r[5] = 0x02; /* media present, tray closed */
        len = 8;
    } else {
        put16(r, 2);
        r[2] = 0x80; /* no event available */
        len = 4;
    }
    send_resp(d, len, be16(d->cdb + 7));
}

static void cmd_read_disc_info(struct ide_drive *d)
{
    uint8_t *r = d->resp;
    if (d->cdb[1] & 7) { /* only the standard disc information */
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(r, 0, 34);
    put16(r, 32);
    r[2] = 0x0e; /* last session complete, disc finalized */
    r[3] = 1;    /* first track */
    r[4] = 1;    /* sessions */
    r[5] = 1;    /* first track in last session */
    r[6] = 1;    /* last track in last session */
    r[7] = 0x20; /* unrestricted use */
    r[8] = 0x00; /* CD-DA or CD-ROM */
    put32(r + 16, 0xffffffffu); /* no lead-in of a last session */
    put32(r + 20, 0xffffffffu);
    send_resp(d, 34, be16(d->cdb + 7));
}

static void exec_packet(struct ide_drive *d)
{
    const uint8_t *c = d->cdb;
    switch (c[0]) {
    case 0x00: /* TEST UNIT READY */
        good(d);
        return;
    case 0x03:
        cmd_request_sense(d);
        return;
    case 0x12:
        cmd_inquiry(d);
        return;
    case 0x1a:
        cmd_mode_sense(d, false);
        return;
    case 0x5a:
        cmd_mode_sense(d, true);
        return;
    case 0x1b: /* START STOP UNIT: accepted; the medium stays */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x2b: /* SEEK(10) */
    case 0xbb: /* SET CD SPEED */
        good(d);
        return;
    case 0x25:
        cmd_read_capacity(d);
        return;
    case 0x28: /* READ(10) */
        cmd_read(d, be32(c + 2), be16(c + 7));
        return;
    case 0xa8: /* READ(12) */
        cmd_read(d, be32(c + 2), be32(c + 6));
        return;
    case 0x43:
        cmd_read_toc(d);
        return;
    case 0x46:
        cmd_get_configuration(d);
        return;
    case 0x4a:
        cmd_get_event_status(d);
        return;
    case 0x51:
        cmd_read_disc_info(d);
        return;
    default:
        check_condition(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
}

static void cdb_done(struct ide_drive *d)
{
    memcpy(d->cdb, d->buf, 12);
    d->pos = d->end = 0;
    d->done = NULL;
    exec_packet(d);
}

void atapi_packet(struct ide_drive *d)
{
    if (d->feature & 1) { /* DMA requested: not offered in IDENTIFY */
        d->error = ATA_ER_ABRT;
        d->nsector = IR_IO | IR_COD;
        d->status = READY | ATA_ST_ERR;
        ide_raise_irq(d);
        return;
    }
    uint32_t limit = d->lcyl | (uint32_t)d->hcyl << 8;
    if (limit == 0 || limit == 0xffff)
        limit = 0xfffe;
    d->byte_limit = limit & ~1u;
    if (!d->byte_limit)
        d->byte_limit = 2;
    /* The CDB is requested without an interrupt (IDENTIFY word 0 says DRQ
     * within 50 us). */
    ide_start_window(d, 12, cdb_done);
    d->nsector = IR_COD;
}
