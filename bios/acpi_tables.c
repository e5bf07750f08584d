/*
 * ACPI tables (see acpi_tables.h). Table layouts per the ACPI 1.0b
 * specification (chapter 5.2); AML encodings per ACPI 1.0b chapter 16 /
 * ACPI 6.x chapter 20 ("ACPI Machine Language Specification"), resource
 * descriptors per chapter 6.4. The DSDT is assembled by the small emitter
 * below; each construct's encoding is spelled out where it is emitted.
 */
#include "acpi_tables.h"

#include <string.h>

#include "devices/acpi_pm.h"

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* The 8-bit checksum byte that makes the sum of n bytes zero. */
static uint8_t sum_fix(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}

/* The 36-byte header every table but the RSDP and FACS starts with:
 * signature, length, revision, checksum (byte 9, filled last), OEM ID (6),
 * OEM table ID (8), OEM revision, creator ID (4), creator revision. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "TRAPEZ", 6);
    memcpy(t + 16, "TRAPEZE ", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "TRPZ", 4);
    put32(t + 32, 1);
}

static void finish(uint8_t *t)
{
    uint32_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24;
    t[9] = 0;
    t[9] = sum_fix(t, len);
}

/* --- AML emitter ----------------------------------------------------------
 * Appends to a fixed buffer; overflow is sticky and reported at the end.
 * Packages (Scope, Device, Package, Buffer) are opened right after their
 * opcode and closed after their contents, when the PkgLength is known and
 * inserted at the opening position. */
struct aml {
    uint8_t *p;
    size_t len, cap;
    int overflow;
};

static void emit(struct aml *a, const void *src, size_t n)
{
    if (a->len + n > a->cap) {
        a->overflow = 1;
        return;
    }
    memcpy(a->p + a->len, src, n);
    a->len += n;
}

static void emit1(struct aml *a, uint8_t v) { emit(a, &v, 1); }

static size_t pkg_open(struct aml *a) { return a->len; }

/* PkgLength (AML spec "PkgLength"): the length of the package from the
 * PkgLength itself to its end. Below 64 it is one byte (bits 5:0). Longer
 * ones use a lead byte whose bits 7:6 count the 1-3 bytes that follow and
 * whose bits 3:0 are the length's low nibble; the following bytes hold the
 * length's bits 11:4, 19:12, 27:20. */
static void pkg_close(struct aml *a, size_t at)
{
    if (a->overflow)
        return;
    size_t body = a->len - at;
    size_t n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : 3;
    size_t total = body + n;
    uint8_t enc[3];
    if (n == 1) {
        enc[0] = (uint8_t)total;
    } else {
        enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
        enc[1] = (uint8_t)(total >> 4);
        enc[2] = (uint8_t)(total >> 12);
    }
    if (a->len + n > a->cap) {
        a->overflow = 1;
        return;
    }
    memmove(a->p + at + n, a->p + at, body);
    memcpy(a->p + at, enc, n);
    a->len += n;
}

/* A NameSeg: four characters [A-Z_0-9], the first not a digit. */
static void nameseg(struct aml *a, const char *s) { emit(a, s, 4); }

/* Integers: ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A + byte, WordPrefix
 * 0x0B + word, DWordPrefix 0x0C + dword (little-endian). */
static void integer(struct aml *a, uint32_t v)
{
    uint8_t b[5];
    if (v <= 1) {
        emit1(a, (uint8_t)v);
    } else if (v <= 0xff) {
        b[0] = 0x0a, b[1] = (uint8_t)v;
        emit(a, b, 2);
    } else if (v <= 0xffff) {
        b[0] = 0x0b;
        put16(b + 1, v);
        emit(a, b, 3);
    } else {
        b[0] = 0x0c;
        put32(b + 1, v);
        emit(a, b, 5);
    }
}

/* EisaId("PNP0B00"): a compressed EISA ID as a DWordConst. The three letters
 * take 5 bits each (letter - 0x40), packed big-endian into the first two
 * bytes; the four hex digits fill the next two bytes as written. PNP0A03
 * gives bytes 41 D0 0A 03, the DWord 0x030AD041. */
static void eisaid(struct aml *a, const char *id)
{
    unsigned c1 = (unsigned)(id[0] - 0x40), c2 = (unsigned)(id[1] - 0x40),
             c3 = (unsigned)(id[2] - 0x40);
    unsigned h[4];
    for (int k = 0; k < 4; k++) {
        char c = id[3 + k];
        h[k] = (unsigned)(c <= '9' ? c - '0' : c - 'A' + 10);
    }
    uint8_t b[5] = {0x0c, (uint8_t)((c1 << 2) | (c2 >> 3)), (uint8_t)(((c2 & 7) << 5) | c3),
                    (uint8_t)((h[0] << 4) | h[1]), (uint8_t)((h[2] << 4) | h[3])};
    emit(a, b, 5);
}

/* Name(NAME, ...): NameOp 0x08, NameSeg, then the object. */
static void name(struct aml *a, const char *n) { emit1(a, 0x08), nameseg(a, n); }

/* Device(NAME) { ... }: ExtOpPrefix 0x5B, DeviceOp 0x82, PkgLength, NameSeg,
 * then the device's objects. Returns the position to close. */
static size_t device_open(struct aml *a, const char *n)
{
    emit1(a, 0x5b), emit1(a, 0x82);
    size_t at = pkg_open(a);
    nameseg(a, n);
    return at;
}

/* Name(_CRS, ResourceTemplate() { ... }): a Buffer (BufferOp 0x11,
 * PkgLength, BufferSize as an integer, the bytes) holding the resource
 * descriptors and the End Tag (0x79, checksum 0: "treat as summed"). */
static void crs(struct aml *a, const uint8_t *res, size_t n)
{
    name(a, "_CRS");
    emit1(a, 0x11);
    size_t at = pkg_open(a);
    integer(a, (uint32_t)n + 2);
    emit(a, res, n);
    emit1(a, 0x79), emit1(a, 0x00);
    pkg_close(a, at);
}

/* Resource descriptors, appended to a byte array. */
struct res {
    uint8_t b[160];
    size_t n;
};

/* IO(Decode16, min, max, align 1, len): small descriptor 0x47 (type 8,
 * length 7): information (bit 0: 16-bit decode), min, max, alignment, length. */
static void res_io(struct res *r, uint16_t port, uint8_t len)
{
    uint8_t *d = r->b + r->n;
    d[0] = 0x47, d[1] = 0x01;
    put16(d + 2, port), put16(d + 4, port);
    d[6] = 1, d[7] = len;
    r->n += 8;
}

/* IRQNoFlags() { irq }: small descriptor 0x22 (type 4, length 2): the IRQ
 * mask; the short form means edge-triggered, active high, exclusive. */
static void res_irq(struct res *r, unsigned irq)
{
    uint8_t *d = r->b + r->n;
    d[0] = 0x22;
    put16(d + 1, 1u << irq);
    r->n += 3;
}

/* Word Address Space descriptor (large, tag 0x88, length 13): resource type
 * (1 I/O, 2 bus number), general flags 0x0C (MinFixed, MaxFixed, positive
 * decode, producer: a bridge window), type-specific flags (I/O: 3 = ISA and
 * non-ISA ranges), granularity, min, max, translation, length. */
static void res_word(struct res *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
    uint8_t *d = r->b + r->n;
    d[0] = 0x88;
    put16(d + 1, 13);
    d[3] = type, d[4] = 0x0c, d[5] = tflags;
    put16(d + 6, 0), put16(d + 8, min), put16(d + 10, max), put16(d + 12, 0);
    put16(d + 14, (uint16_t)(max - min + 1));
    r->n += 16;
}

/* DWord Memory descriptor (large, tag 0x87, length 23): type 0 (memory),
 * general flags 0x0C as above, type-specific flags (bit 0 read-write, bits
 * 2:1 caching: 1 cacheable, 0 non-cacheable), granularity, min, max,
 * translation, length. */
static void res_mem(struct res *r, uint8_t tflags, uint32_t min, uint32_t max)
{
    uint8_t *d = r->b + r->n;
    d[0] = 0x87;
    put16(d + 1, 23);
    d[3] = 0, d[4] = 0x0c, d[5] = tflags;
    put32(d + 6, 0), put32(d + 10, min), put32(d + 14, max), put32(d + 18, 0);
    put32(d + 22, max - min + 1);
    r->n += 26;
}

/* One ISA device: Device(NAME) { Name(_HID, EisaId(hid)) [Name(_UID, uid)]
 * Name(_CRS, ...) }. */
static void isa_device(struct aml *a, const char *n, const char *hid, int uid,
                       const struct res *r)
{
    size_t at = device_open(a, n);
    name(a, "_HID"), eisaid(a, hid);
    if (uid >= 0)
        name(a, "_UID"), integer(a, (uint32_t)uid);
    crs(a, r->b, r->n);
    pkg_close(a, at);
}

static void dsdt_body(struct aml *a, const struct acpi_platform *p)
{
    /* Name(\_S5_, Package(4) { 0, 0, 0, 0 }): NameOp, RootChar 0x5C,
     * NameSeg; PackageOp 0x12, PkgLength, NumElements 4, four ZeroOps.
     * Elements 0 and 1 are SLP_TYP for PM1a_CNT and PM1b_CNT: 0 is the
     * PIIX4's soft-off (SUS_TYP 000). */
    emit1(a, 0x08), emit1(a, 0x5c), nameseg(a, "_S5_");
    emit1(a, 0x12);
    size_t pk = pkg_open(a);
    emit1(a, 4);
    for (int k = 0; k < 4; k++)
        integer(a, k < 2 ? ACPI_PIIX4_SLP_TYP_SOFT_OFF : 0);
    pkg_close(a, pk);

    /* Scope(\_SB_) { ... }: ScopeOp 0x10, PkgLength, NameString \_SB_. */
    emit1(a, 0x10);
    size_t sb = pkg_open(a);
    emit1(a, 0x5c), nameseg(a, "_SB_");

    /* Device(PCI0): the i440FX host bridge (_UID 0; its bus range, from
     * _CRS, starts at 0). A device has a _HID or an _ADR, not both. */
    size_t pci = device_open(a, "PCI0");
    name(a, "_HID"), eisaid(a, "PNP0A03");
    name(a, "_UID"), integer(a, 0);
    struct res r = {.n = 0};
    res_word(&r, 2, 0, 0x00, 0xff);            /* bus numbers 0-255 */
    res_io(&r, 0xcf8, 8);                      /* config mechanism #1 (consumed) */
    res_word(&r, 1, 3, 0x0000, 0x0cf7);        /* I/O below the config ports */
    res_word(&r, 1, 3, 0x0d00, 0xffff);        /* and above */
    res_mem(&r, 0x03, 0x000a0000, 0x000bffff); /* legacy VGA, cacheable */
    uint32_t hole = (p->ram_size + 0xfffff) & ~0xfffffu;
    res_mem(&r, 0x01, hole, 0xfebfffff);       /* PCI memory above RAM */
    crs(a, r.b, r.n);

    /* Device(ISA_): the PIIX3 PCI-to-ISA bridge, 00:01.0 (_ADR: device in
     * the high word, function in the low word). */
    size_t isa = device_open(a, "ISA_");
    name(a, "_ADR"), integer(a, 0x00010000);

    r.n = 0, res_io(&r, 0x70, 2), res_irq(&r, 8);
    isa_device(a, "RTC_", "PNP0B00", -1, &r);
    r.n = 0, res_io(&r, 0x60, 1), res_io(&r, 0x64, 1), res_irq(&r, 1);
    isa_device(a, "KBD_", "PNP0303", -1, &r);
    r.n = 0, res_irq(&r, 12);
    isa_device(a, "MOU_", "PNP0F13", -1, &r);
    r.n = 0, res_io(&r, 0x3f8, 8), res_irq(&r, 4);
    isa_device(a, "COM1", "PNP0501", 1, &r);
    r.n = 0, res_io(&r, 0x40, 4), res_irq(&r, 0);
    isa_device(a, "TMR_", "PNP0100", -1, &r);

    pkg_close(a, isa);
    pkg_close(a, pci);
    pkg_close(a, sb);
}

int acpi_tables_build(uint8_t *area, uint32_t base, const struct acpi_platform *p)
{
    memset(area, 0, ACPI_TABLES_SIZE);
    uint8_t *rsdp = area + ACPI_RSDP_OFF, *rsdt = area + ACPI_RSDT_OFF,
            *fadt = area + ACPI_FADT_OFF, *facs = area + ACPI_FACS_OFF,
            *dsdt = area + ACPI_DSDT_OFF;

    /* DSDT: header (revision 1: AML integers are 32-bit), then AML. */
    struct aml a = {dsdt + 36, 0, ACPI_TABLES_SIZE - ACPI_DSDT_OFF - 36, 0};
    dsdt_body(&a, p);
    if (a.overflow)
        return -1;
    header(dsdt, "DSDT", (uint32_t)(36 + a.len), 1);
    finish(dsdt);

    /* FACS: signature, length 64, hardware signature, firmware waking
     * vector 0 (no S1-S4), global lock 0, flags 0 (no S4BIOS). No checksum. */
    memcpy(facs, "FACS", 4);
    put32(facs + 4, 64);

    /* FADT, ACPI 1.0 layout (116 bytes). */
    uint16_t pm = p->pm_base;
    header(fadt, "FACP", 116, 1);
    put32(fadt + 36, base + ACPI_FACS_OFF);  /* FIRMWARE_CTRL */
    put32(fadt + 40, base + ACPI_DSDT_OFF);  /* DSDT */
    fadt[44] = 0;                            /* INT_MODEL: dual 8259 */
    put16(fadt + 46, p->sci_irq);            /* SCI_INT */
    put32(fadt + 48, 0);                     /* SMI_CMD 0: always in ACPI mode */
    put32(fadt + 56, pm + ACPI_PM1_STS);     /* PM1a_EVT_BLK */
    put32(fadt + 64, pm + ACPI_PM1_CNT);     /* PM1a_CNT_BLK */
    put32(fadt + 76, pm + ACPI_PM_TMR);      /* PM_TMR_BLK */
    put32(fadt + 80, pm + ACPI_GPE0_STS);    /* GPE0_BLK */
    fadt[88] = 4;                            /* PM1_EVT_LEN: STS + EN */
    fadt[89] = 2;                            /* PM1_CNT_LEN */
    fadt[91] = 4;                            /* PM_TMR_LEN */
    fadt[92] = 4;                            /* GPE0_BLK_LEN: 2 status + 2 enable bytes */
    put16(fadt + 96, 101);                   /* P_LVL2_LAT > 100: no C2 */
    put16(fadt + 98, 1001);                  /* P_LVL3_LAT > 1000: no C3 */
    fadt[108] = 0x32;                        /* CENTURY: CMOS index of the century */
    /* Flags: WBINVD (0) works, PROC_C1 (2) HLT, SLP_BUTTON (5) 1 = no fixed
     * sleep button, FIX_RTC (6) 1 = no RTC wake status in PM1; PWR_BUTTON
     * (4) 0 = the fixed power button exists; TMR_VAL_EXT (8) 0 = 24 bits. */
    put32(fadt + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 6));
    finish(fadt);

    /* RSDT: header and one 32-bit pointer, to the FADT. */
    header(rsdt, "RSDT", 40, 1);
    put32(rsdt + 36, base + ACPI_FADT_OFF);
    finish(rsdt);

    /* RSDP (ACPI 1.0, 20 bytes): "RSD PTR ", checksum of the 20 bytes, OEM
     * ID, revision 0, RSDT address. */
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "TRAPEZ", 6);
    rsdp[15] = 0;
    put32(rsdp + 16, base + ACPI_RSDT_OFF);
    rsdp[8] = sum_fix(rsdp, 20);

    return (int)(ACPI_DSDT_OFF + 36 + a.len);
}

int acpi_tables_install(struct bus *b, const struct acpi_platform *p)
{
    uint8_t area[ACPI_TABLES_SIZE];
    int n = acpi_tables_build(area, ACPI_TABLES_BASE, p);
    if (n < 0)
        return -1;
    bus_write_bytes(b, ACPI_TABLES_BASE, area, (size_t)n);
    return n;
}
