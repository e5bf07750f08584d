/*
 * Linux x86 boot protocol loader (see linux_boot.h). Offsets are those of
 * struct boot_params and struct setup_header in Documentation/x86/boot.rst
 * and Documentation/x86/zero-page.rst; the setup header sits at the same
 * offset (0x1F1) in the image's first sector and in boot_params.
 */
#include "loader_util.h"
#include "linux_boot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* struct boot_params (the zero page) */
enum {
    BP_EXT_MEM_K = 0x002,  /* screen_info.ext_mem_k (u16) */
    BP_ALT_MEM_K = 0x1e0,  /* u32 */
    BP_E820_ENTRIES = 0x1e8, /* u8 */
    BP_SENTINEL = 0x1ef,   /* u8, must stay 0 (the header was copied properly) */
    BP_HDR = 0x1f1,        /* struct setup_header */
    BP_HDR_MAX_END = 0x290, /* the header may not reach past this */
    BP_E820_TABLE = 0x2d0, /* 128 entries of 20 bytes */
    BP_SIZE = 0x1000,
};

/* struct setup_header fields, as offsets into the image / boot_params */
enum {
    H_SETUP_SECTS = 0x1f1,   /* u8, 0 means 4 */
    H_SYSSIZE = 0x1f4,       /* u32 from 2.04: protected-mode size in 16-byte units */
    H_BOOT_FLAG = 0x1fe,     /* u16 0xAA55 */
    H_JUMP = 0x200,          /* 0xEB, then the header's end - 0x202 */
    H_MAGIC = 0x202,         /* "HdrS" */
    H_VERSION = 0x206,       /* u16 */
    H_TYPE_OF_LOADER = 0x210,
    H_LOADFLAGS = 0x211,
    H_CODE32_START = 0x214,
    H_RAMDISK_IMAGE = 0x218,
    H_RAMDISK_SIZE = 0x21c,
    H_HEAP_END_PTR = 0x224,  /* u16 */
    H_CMD_LINE_PTR = 0x228,
    H_INITRD_ADDR_MAX = 0x22c, /* from 2.03 */
    H_KERNEL_ALIGNMENT = 0x230, /* from 2.05 */
    H_RELOCATABLE = 0x234,   /* u8, from 2.05 */
    H_CMDLINE_SIZE = 0x238,  /* from 2.06 */
    H_PREF_ADDRESS = 0x258,  /* u64, from 2.10 */
    H_INIT_SIZE = 0x260,     /* from 2.10 */
};

enum { LF_LOADED_HIGH = 0x01, LF_CAN_USE_HEAP = 0x80 };
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ENTRY_SIZE = 20 };

#define LOADER_ID 0xffu /* type_of_loader: "undefined", the value for loaders without an ID */

struct ctx {
    const char *name;
    char *err;
    size_t errlen;
};

/* "WHO: message" into the caller's error buffer; returns -1. */
#define fail(x, who, ...) loader_error((x)->err, (x)->errlen, (who), __VA_ARGS__)
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }

bool linux_is_bzimage(const uint8_t *img, size_t size)
{
    return size >= H_MAGIC + 4 && !memcmp(img + H_MAGIC, "HdrS", 4);
}

static void e820_add(uint8_t *bp, uint64_t base, uint64_t len, uint32_t type)
{
    uint8_t *e = bp + BP_E820_TABLE + bp[BP_E820_ENTRIES] * E820_ENTRY_SIZE;
    put32(e, (uint32_t)base);
    put32(e + 4, (uint32_t)(base >> 32));
    put32(e + 8, (uint32_t)len);
    put32(e + 12, (uint32_t)(len >> 32));
    put32(e + 16, type);
    bp[BP_E820_ENTRIES]++;
}

/* The GDT of the 32-bit boot entry: __BOOT_CS (0x10) flat 4 GiB execute/read,
 * __BOOT_DS (0x18) flat 4 GiB read/write, both DPL 0, 32-bit, page
 * granular, accessed (so loading them writes nothing). */
static const uint32_t boot_gdt[8] = {
    0, 0, 0, 0, 0x0000ffffu, 0x00cf9b00u, 0x0000ffffu, 0x00cf9300u,
};

int linux_load_image(struct bus *b, const char *name, const uint8_t *img, size_t size,
                     const char *rd_name, const uint8_t *rd, size_t rd_size,
                     const char *cmdline, struct linux_boot *out, char *err, size_t errlen)
{
    struct ctx x = {name, err, errlen};
    memset(out, 0, sizeof(*out));
    uint32_t ram = b->ram_size;

    /* --- the image: a setup header we understand --- */
    if (size == 0)
        return fail(&x, name, "file is empty");
    if (size < H_MAGIC + 4)
        return fail(&x, name, "not a Linux kernel: only %zu bytes, too short for a boot sector "
                              "and setup header", size);
    if (memcmp(img + H_MAGIC, "HdrS", 4))
        return fail(&x, name, "not a Linux kernel: no \"HdrS\" setup header signature at 0x202 "
                              "(a bzImage is needed, e.g. /boot/vmlinuz-*)");
    if (le16(img + H_BOOT_FLAG) != 0xaa55)
        return fail(&x, name, "not a Linux kernel: boot flag at 0x1fe is 0x%04x, not 0xaa55",
                    le16(img + H_BOOT_FLAG));
    uint16_t version = le16(img + H_VERSION);
    if (version < LB_MIN_VERSION)
        return fail(&x, name, "Linux boot protocol %u.%02u is too old (trapeze needs 2.04 or "
                              "later, kernels since 2.6.14)", version >> 8, version & 0xff);
    /* The header runs from 0x1f1 to 0x202 + the short jump's displacement
     * (the jump over it at 0x200); copied to boot_params whole. */
    size_t hdr_end = img[H_JUMP] == 0xeb ? H_MAGIC + img[H_JUMP + 1] : H_CMDLINE_SIZE + 4;
    if (hdr_end > BP_HDR_MAX_END)
        hdr_end = BP_HDR_MAX_END;
    /* The setup code is at least 5 sectors (2560 bytes), so once the file
     * is known to be longer than that, every header field (< 0x290) can
     * be read. */
    unsigned setup_sects = img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4;
    size_t prot_off = (size_t)(setup_sects + 1) * 512;
    if (size <= prot_off)
        return fail(&x, name, "file is truncated: %zu bytes, but the setup code alone takes %zu "
                              "(%u setup sectors)", size, prot_off, setup_sects);
    uint8_t loadflags = img[H_LOADFLAGS];
    if (!(loadflags & LF_LOADED_HIGH))
        return fail(&x, name, "kernel is a zImage that must load at 0x10000 (LOADED_HIGH clear); "
                              "only bzImage kernels are supported");
    uint64_t syssize = (uint64_t)le32(img + H_SYSSIZE) * 16;
    size_t prot_size = size - prot_off;
    if (syssize > prot_size)
        return fail(&x, name, "file is truncated: the header gives a %llu-byte protected-mode "
                              "kernel at offset 0x%zx, the file holds %zu bytes there",
                    (unsigned long long)syssize, prot_off, prot_size);
    if (syssize == 0)
        return fail(&x, name, "setup header gives an empty protected-mode kernel (syssize 0)");

    /* --- where the kernel runs: [1 MiB, need_end) must be RAM --- */
    if (ram < LB_KERNEL_ADDR)
        return fail(&x, name, "needs more than 1 MiB of RAM to boot");
    uint64_t kernel_end = (uint64_t)LB_KERNEL_ADDR + prot_size;
    uint64_t need_end = kernel_end;
    if (version >= 0x020a) {
        /* The decompressor (arch/x86/boot/compressed/head_32.S) runs the
         * kernel at the load address rounded up to kernel_alignment when
         * relocatable, else at pref_address, and never below pref_address;
         * it needs init_size bytes from there. */
        uint64_t pref = le32(img + H_PREF_ADDRESS) | (uint64_t)le32(img + H_PREF_ADDRESS + 4) << 32;
        uint32_t align = le32(img + H_KERNEL_ALIGNMENT);
        uint64_t run = pref;
        if (img[H_RELOCATABLE] && align && !(align & (align - 1))) {
            uint64_t a = ((uint64_t)LB_KERNEL_ADDR + align - 1) & ~(uint64_t)(align - 1);
            if (a > run)
                run = a;
        }
        uint64_t e = run + le32(img + H_INIT_SIZE);
        if (e > need_end)
            need_end = e;
    }
    if (need_end > ram)
        return fail(&x, name, "kernel needs RAM up to 0x%llx to decompress and run, the machine "
                              "has 0x%x bytes (give at least %llu MiB with --memory)",
                    (unsigned long long)need_end, ram,
                    (unsigned long long)((need_end + (1u << 20) - 1) >> 20));

    /* --- command line --- */
    uint32_t cmdline_max = version >= 0x0206 ? le32(img + H_CMDLINE_SIZE) : 255;
    size_t cl = cmdline ? strlen(cmdline) : 0;
    if (cl > cmdline_max || cl + 1 > LB_CMDLINE_MAX)
        return fail(&x, name, "kernel command line is %zu bytes, the kernel accepts at most %u",
                    cl, cmdline_max < LB_CMDLINE_MAX - 1 ? cmdline_max : LB_CMDLINE_MAX - 1);

    /* --- initrd: as high as the kernel allows, page aligned --- */
    uint32_t rd_start = 0;
    if (rd) {
        if (rd_size == 0)
            return fail(&x, rd_name, "initrd file is empty");
        uint64_t max = version >= 0x0203 ? (uint64_t)le32(img + H_INITRD_ADDR_MAX) + 1 : 0x38000000u;
        uint64_t top = max < ram ? max : ram;
        if (rd_size > top || ((top - rd_size) & ~0xfffull) < need_end)
            return fail(&x, rd_name, "initrd of %zu bytes does not fit between the kernel (up to "
                                     "0x%llx) and 0x%llx; give more RAM with --memory",
                        rd_size, (unsigned long long)need_end, (unsigned long long)top);
        rd_start = (uint32_t)((top - rd_size) & ~0xfffull);
    }

    /* --- everything checked: write guest memory --- */
    memcpy(b->ram + LB_KERNEL_ADDR, img + prot_off, prot_size);
    if (rd)
        memcpy(b->ram + rd_start, rd, rd_size);

    char cmd[1] = {0};
    bus_write_bytes(b, LB_CMDLINE_ADDR, cmdline ? cmdline : cmd, cl + 1);

    uint8_t gdt[sizeof(boot_gdt)];
    for (unsigned k = 0; k < 8; k++)
        put32(gdt + 4 * k, boot_gdt[k]);
    bus_write_bytes(b, LB_GDT_ADDR, gdt, sizeof(gdt));

    /* The BIOS data area words the kernel reads (arch/x86/kernel/ebda.c):
     * base memory in KiB and the EBDA segment. */
    uint8_t w[2];
    put16(w, (uint16_t)(LB_EBDA_ADDR >> 4));
    bus_write_bytes(b, 0x40e, w, 2);
    put16(w, (uint16_t)(LB_EBDA_ADDR >> 10));
    bus_write_bytes(b, 0x413, w, 2);

    uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof(bp));
    memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
    /* screen_info stays zero but for the memory size: no video adapter was
     * set up, so the kernel uses its dummy console (vgacon checks for zero
     * rows/columns); the console is the serial port. */
    uint32_t ext_k = ram > LB_KERNEL_ADDR ? (ram - LB_KERNEL_ADDR) >> 10 : 0;
    put16(bp + BP_EXT_MEM_K, (uint16_t)(ext_k > 0xfc00 ? 0xfc00 : ext_k));
    put32(bp + BP_ALT_MEM_K, ext_k);
    bp[H_TYPE_OF_LOADER] = LOADER_ID;
    bp[H_LOADFLAGS] = (uint8_t)(loadflags | LF_CAN_USE_HEAP);
    put32(bp + H_CODE32_START, LB_KERNEL_ADDR);
    put16(bp + H_HEAP_END_PTR, (uint16_t)(LB_CMDLINE_ADDR - LB_PARAMS_ADDR - 0x200));
    put32(bp + H_CMD_LINE_PTR, LB_CMDLINE_ADDR);
    put32(bp + H_RAMDISK_IMAGE, rd_start);
    put32(bp + H_RAMDISK_SIZE, rd ? (uint32_t)rd_size : 0);
    e820_add(bp, 0, LB_EBDA_ADDR, E820_RAM);
    e820_add(bp, LB_EBDA_ADDR, 0xa0000 - LB_EBDA_ADDR, E820_RESERVED);
    e820_add(bp, 0xf0000, 0x10000, E820_RESERVED); /* BIOS area: the ACPI tables (acpi_tables.h) */
    e820_add(bp, LB_KERNEL_ADDR, ram - LB_KERNEL_ADDR, E820_RAM);
    bus_write_bytes(b, LB_PARAMS_ADDR, bp, sizeof(bp));

    out->version = version;
    out->entry = LB_KERNEL_ADDR;
    out->params = LB_PARAMS_ADDR;
    out->gdt_base = LB_GDT_ADDR;
    out->gdt_limit = sizeof(boot_gdt) - 1;
    out->kernel_start = LB_KERNEL_ADDR;
    out->kernel_end = (uint32_t)kernel_end;
    out->kernel_need_end = (uint32_t)need_end;
    out->initrd_start = rd_start;
    out->initrd_size = rd ? (uint32_t)rd_size : 0;
    out->cmdline = LB_CMDLINE_ADDR;
    return 0;
}

uint8_t *boot_read_file(const char *path, size_t max, size_t *size, char *err, size_t errlen)
{
    struct ctx x = {path, err, errlen};
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(&x, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        fail(&x, path, "not a regular file");
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        fail(&x, path, "file is too large (%lld bytes, at most %zu)", (long long)st.st_size, max);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        fail(&x, path, "out of memory reading %zu bytes", n);
        return NULL;
    }
    if (fread(buf, 1, n, f) != n) {
        int e = ferror(f) ? errno : 0;
        free(buf);
        fclose(f);
        fail(&x, path, "read error: %s", e ? strerror(e) : "file shrank while reading");
        return NULL;
    }
    fclose(f);
    *size = n;
    return buf;
}

int linux_load_files(struct bus *b, const char *kernel, const char *initrd, const char *cmdline,
                     struct linux_boot *out, char *err, size_t errlen)
{
    size_t ksize, rsize = 0;
    uint8_t *k = boot_read_file(kernel, LB_MAX_FILE, &ksize, err, errlen);
    if (!k)
        return -1;
    uint8_t *r = NULL;
    if (initrd && !(r = boot_read_file(initrd, LB_MAX_FILE, &rsize, err, errlen))) {
        free(k);
        return -1;
    }
    int ret = linux_load_image(b, kernel, k, ksize, initrd, r, rsize, cmdline, out, err, errlen);
    free(r);
    free(k);
    return ret;
}
