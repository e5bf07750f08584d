/*
 * Multiboot v1 loader (see multiboot.h). Field offsets are those of the
 * Multiboot Specification 0.6.96, sections 3.1 (header) and 3.3 (info).
 */
#include "loader_util.h"
#include "multiboot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Header flags */
enum {
    MBH_ALIGN = 1u << 0,    /* modules page-aligned: no modules, nothing to do */
    MBH_MEMINFO = 1u << 1,  /* mem_* wanted: always given */
    MBH_VIDEO = 1u << 2,    /* video mode wanted: ignored (no framebuffer) */
    MBH_AOUT = 1u << 16,    /* address fields valid */
    MBH_REQUIRED = 0xffffu, /* bits 0-15: the loader must understand them */
};

/* Info flags */
enum { MBI_MEM = 1u << 0, MBI_CMDLINE = 1u << 2, MBI_MMAP = 1u << 6, MBI_LOADER = 1u << 9 };

/* Layout of the info area (offsets from MB_INFO_ADDR). */
enum {
    INFO_STRUCT = 0x000, /* struct: 88 bytes used */
    INFO_MMAP = 0x080,   /* up to 5 entries of 24 bytes */
    INFO_LOADER = 0x100, /* "trapeze" */
    INFO_CMDLINE = 0x120,
};

struct ctx {
    struct bus *b;
    const char *name;
    const uint8_t *img;
    size_t size;
    char *err;
    size_t errlen;
};

/* "FILE: message" into the caller's error buffer; returns -1. */
#define fail(x, ...) loader_error((x)->err, (x)->errlen, (x)->name, __VA_ARGS__)

static void wr32(struct bus *b, uint32_t pa, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    bus_write_bytes(b, pa, t, 4);
}

/* Is the physical range [start, end) (end > start, 64-bit to avoid wrap)
 * a place an image may occupy? 'what' names it in the message. */
static int check_range(struct ctx *x, uint64_t start, uint64_t end, const char *what)
{
    if (end > x->b->ram_size)
        return fail(x, "%s 0x%llx-0x%llx lies beyond the end of RAM (0x%x bytes; see --memory)",
                    what, (unsigned long long)start, (unsigned long long)end - 1,
                    x->b->ram_size);
    if (start < MB_INFO_ADDR + MB_INFO_SIZE && end > MB_INFO_ADDR)
        return fail(x, "%s 0x%llx-0x%llx overlaps the Multiboot information area 0x%x-0x%x",
                    what, (unsigned long long)start, (unsigned long long)end - 1, MB_INFO_ADDR,
                    MB_INFO_ADDR + MB_INFO_SIZE - 1);
    if (start < MB_HOLE_END && end > MB_HOLE_START)
        return fail(x, "%s 0x%llx-0x%llx overlaps the reserved region 0xa0000-0xfffff", what,
                    (unsigned long long)start, (unsigned long long)end - 1);
    return 0;
}

/* Copies file bytes and zeroes the rest of [pa, pa+memsz). The range has
 * been checked to lie in RAM, which is one host block at physical 0. */
static void place(struct ctx *x, uint32_t pa, const uint8_t *src, uint32_t filesz, uint32_t memsz)
{
    memcpy(x->b->ram + pa, src, filesz);
    memset(x->b->ram + pa + filesz, 0, memsz - filesz);
}

/* Finds the header: 4-byte aligned, within the first 8192 bytes, magic
 * followed by flags and a checksum that makes the three sum to zero. */
static long find_header(struct ctx *x, bool *bad_checksum)
{
    size_t lim = x->size < MULTIBOOT_SEARCH ? x->size : MULTIBOOT_SEARCH;
    *bad_checksum = false;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        const uint8_t *p = x->img + off;
        if (le32(p) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if ((uint32_t)(le32(p) + le32(p + 4) + le32(p + 8)) == 0)
            return (long)off;
        *bad_checksum = true;
    }
    return -1;
}

static int load_aout(struct ctx *x, size_t h, struct multiboot_boot *out)
{
    if (h + 32 > x->size)
        return fail(x, "truncated Multiboot header at offset 0x%zx (address fields missing)", h);
    const uint8_t *p = x->img + h;
    uint32_t header_addr = le32(p + 12), load_addr = le32(p + 16);
    uint32_t load_end = le32(p + 20), bss_end = le32(p + 24), entry = le32(p + 28);

    if (load_addr > header_addr)
        return fail(x, "Multiboot load_addr 0x%x is above header_addr 0x%x", load_addr,
                    header_addr);
    if (header_addr - load_addr > h)
        return fail(x,
                    "Multiboot header_addr 0x%x - load_addr 0x%x = 0x%x exceeds the header's "
                    "file offset 0x%zx",
                    header_addr, load_addr, header_addr - load_addr, h);
    size_t off = h - (header_addr - load_addr); /* file offset of load_addr */
    uint64_t text_len;
    if (load_end == 0) {
        text_len = x->size - off;
    } else {
        if (load_end <= load_addr)
            return fail(x, "Multiboot load_end_addr 0x%x is not above load_addr 0x%x", load_end,
                        load_addr);
        text_len = load_end - load_addr;
        if (text_len > x->size - off)
            return fail(x,
                        "file is truncated: the Multiboot header asks for 0x%llx bytes from "
                        "offset 0x%zx, the file has 0x%zx",
                        (unsigned long long)text_len, off, x->size - off);
    }
    if (text_len == 0)
        return fail(x, "Multiboot image is empty after its header");
    uint64_t end = (uint64_t)load_addr + text_len;
    uint64_t mem_end = end;
    if (bss_end != 0) {
        if (bss_end < end)
            return fail(x, "Multiboot bss_end_addr 0x%x is below the end of the loaded image 0x%llx",
                        bss_end, (unsigned long long)end);
        mem_end = bss_end;
    }
    if (check_range(x, load_addr, mem_end, "kernel image") < 0)
        return -1;
    if (entry < load_addr || entry >= end)
        return fail(x, "entry point 0x%x is outside the loaded image 0x%x-0x%llx", entry,
                    load_addr, (unsigned long long)end - 1);
    place(x, load_addr, x->img + off, (uint32_t)text_len, (uint32_t)(mem_end - load_addr));
    out->entry = entry;
    out->load_start = load_addr;
    out->load_end = (uint32_t)mem_end;
    out->elf = false;
    return 0;
}

/* ELF32 constants (System V ABI, i386 supplement). */
enum { ET_EXEC = 2, EM_386 = 3, PT_LOAD = 1, EHDR_SIZE = 52, PHDR_SIZE = 32 };

static int load_elf(struct ctx *x, struct multiboot_boot *out)
{
    const uint8_t *e = x->img;
    if (x->size < EHDR_SIZE)
        return fail(x, "truncated ELF header (%zu bytes, need %d)", x->size, EHDR_SIZE);
    if (e[4] != 1)
        return fail(x, "ELF class %u is not ELFCLASS32 (a 64-bit kernel cannot be booted)",
                    e[4]);
    if (e[5] != 1)
        return fail(x, "ELF data encoding %u is not little-endian", e[5]);
    if (le16(e + 16) != ET_EXEC)
        return fail(x, "ELF type %u is not an executable (ET_EXEC)", le16(e + 16));
    if (le16(e + 18) != EM_386)
        return fail(x, "ELF machine %u is not i386", le16(e + 18));
    uint32_t e_entry = le32(e + 24), phoff = le32(e + 28);
    uint16_t phentsize = le16(e + 42), phnum = le16(e + 44);
    if (phnum == 0)
        return fail(x, "ELF file has no program headers");
    if (phentsize < PHDR_SIZE)
        return fail(x, "ELF program header size %u is too small", phentsize);
    if ((uint64_t)phoff + (uint64_t)phnum * phentsize > x->size)
        return fail(x, "truncated ELF file: program headers at 0x%x (%u x %u bytes) end beyond "
                       "the file (0x%zx bytes)",
                    phoff, phnum, phentsize, x->size);

    /* Validate every segment before writing any. */
    int nload = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned k = 0; k < phnum; k++) {
        const uint8_t *ph = e + phoff + (size_t)k * phentsize;
        if (le32(ph) != PT_LOAD)
            continue;
        uint32_t p_offset = le32(ph + 4), p_paddr = le32(ph + 12);
        uint32_t p_filesz = le32(ph + 16), p_memsz = le32(ph + 20);
        if (p_filesz > p_memsz)
            return fail(x, "ELF segment %u: file size 0x%x exceeds memory size 0x%x", k, p_filesz,
                        p_memsz);
        if ((uint64_t)p_offset + p_filesz > x->size)
            return fail(x, "truncated ELF file: segment %u needs bytes 0x%x-0x%llx, the file has "
                           "0x%zx",
                        k, p_offset, (unsigned long long)p_offset + p_filesz - 1, x->size);
        if (p_memsz == 0)
            continue;
        char what[32];
        snprintf(what, sizeof(what), "ELF segment %u", k);
        if (check_range(x, p_paddr, (uint64_t)p_paddr + p_memsz, what) < 0)
            return -1;
        nload++;
        if (p_paddr < lo)
            lo = p_paddr;
        if ((uint64_t)p_paddr + p_memsz > hi)
            hi = (uint64_t)p_paddr + p_memsz;
    }
    if (nload == 0)
        return fail(x, "ELF file has no loadable (PT_LOAD) segments");

    /* The entry point is a virtual address; boot loaders translate it
     * through the segment containing it (kernels linked high, loaded low). */
    bool found = false;
    uint32_t entry = 0;
    for (unsigned k = 0; k < phnum && !found; k++) {
        const uint8_t *ph = e + phoff + (size_t)k * phentsize;
        uint32_t p_vaddr = le32(ph + 8), p_paddr = le32(ph + 12), p_memsz = le32(ph + 20);
        if (le32(ph) == PT_LOAD && e_entry - p_vaddr < p_memsz) {
            entry = e_entry - p_vaddr + p_paddr;
            found = true;
        }
    }
    if (!found)
        return fail(x, "entry point 0x%x is outside every loadable segment", e_entry);

    for (unsigned k = 0; k < phnum; k++) {
        const uint8_t *ph = e + phoff + (size_t)k * phentsize;
        if (le32(ph) != PT_LOAD || le32(ph + 20) == 0)
            continue;
        place(x, le32(ph + 12), e + le32(ph + 4), le32(ph + 16), le32(ph + 20));
    }
    out->entry = entry;
    out->load_start = (uint32_t)lo;
    out->load_end = (uint32_t)hi;
    out->elf = true;
    return 0;
}

static void mmap_entry(struct bus *b, uint32_t *at, uint64_t base, uint64_t len, uint32_t type)
{
    wr32(b, *at, 20); /* size of the entry, not counting this field */
    wr32(b, *at + 4, (uint32_t)base);
    wr32(b, *at + 8, (uint32_t)(base >> 32));
    wr32(b, *at + 12, (uint32_t)len);
    wr32(b, *at + 16, (uint32_t)(len >> 32));
    wr32(b, *at + 20, type);
    *at += 24;
}

/* Builds the information structure; the memory map is a PC's: conventional
 * memory, the reserved 640K-1M hole, and extended memory. */
static int build_info(struct ctx *x, const char *cmdline, struct multiboot_boot *out)
{
    struct bus *b = x->b;
    const uint32_t base = MB_INFO_ADDR;
    size_t cl = cmdline ? strlen(cmdline) : 0;
    if (cmdline && cl + 1 > MB_INFO_SIZE - INFO_CMDLINE)
        return fail(x, "kernel command line too long (%zu bytes, at most %u)", cl,
                    MB_INFO_SIZE - INFO_CMDLINE - 1);

    uint8_t zero[MB_INFO_SIZE] = {0};
    bus_write_bytes(b, base, zero, sizeof(zero));

    uint32_t ram = b->ram_size;
    uint32_t low = ram < MB_HOLE_START ? ram : MB_HOLE_START;
    uint32_t flags = MBI_MEM | MBI_MMAP | MBI_LOADER;
    wr32(b, base + 4, low / 1024);                                           /* mem_lower */
    wr32(b, base + 8, ram > MB_HOLE_END ? (ram - MB_HOLE_END) / 1024 : 0);  /* mem_upper */

    uint32_t at = base + INFO_MMAP;
    mmap_entry(b, &at, 0, low, 1);
    mmap_entry(b, &at, MB_HOLE_START, MB_HOLE_END - MB_HOLE_START, 2);
    if (ram > MB_HOLE_END)
        mmap_entry(b, &at, MB_HOLE_END, ram - MB_HOLE_END, 1);
    wr32(b, base + 44, at - (base + INFO_MMAP)); /* mmap_length */
    wr32(b, base + 48, base + INFO_MMAP);        /* mmap_addr */

    static const char loader[] = "trapeze";
    bus_write_bytes(b, base + INFO_LOADER, loader, sizeof(loader));
    wr32(b, base + 64, base + INFO_LOADER);

    if (cmdline) {
        bus_write_bytes(b, base + INFO_CMDLINE, cmdline, cl + 1);
        wr32(b, base + 16, base + INFO_CMDLINE);
        flags |= MBI_CMDLINE;
    }
    wr32(b, base, flags);
    out->info_addr = base;
    return 0;
}

int multiboot_load_image(struct bus *b, const char *name, const uint8_t *img, size_t size,
                         const char *cmdline, struct multiboot_boot *out, char *err,
                         size_t errlen)
{
    struct ctx x = {b, name, img, size, err, errlen};
    memset(out, 0, sizeof(*out));
    if (size == 0)
        return fail(&x, "file is empty");
    if (b->ram_size < MB_HOLE_END)
        return fail(&x, "needs more than 1 MiB of RAM to boot");
    bool bad_checksum;
    long h = find_header(&x, &bad_checksum);
    if (h < 0) {
        if (bad_checksum)
            return fail(&x, "Multiboot header has a bad checksum");
        return fail(&x, "not a Multiboot kernel: no Multiboot header (magic 0x%08x) in the "
                        "first %d bytes",
                    MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH);
    }
    uint32_t flags = le32(img + h + 4);
    uint32_t unknown = flags & MBH_REQUIRED & ~(uint32_t)(MBH_ALIGN | MBH_MEMINFO | MBH_VIDEO);
    if (unknown)
        return fail(&x, "Multiboot header requires features trapeze does not support (flags 0x%x)",
                    unknown);
    int r;
    if (flags & MBH_AOUT)
        r = load_aout(&x, (size_t)h, out);
    else if (size >= 4 && !memcmp(img, "\177ELF", 4))
        r = load_elf(&x, out);
    else
        return fail(&x, "Multiboot header has no address fields (flag bit 16) and the file is "
                        "not ELF");
    if (r < 0)
        return -1;
    return build_info(&x, cmdline, out);
}

int multiboot_load_file(struct bus *b, const char *path, const char *append,
                        struct multiboot_boot *out, char *err, size_t errlen)
{
    struct ctx x = {b, path, NULL, 0, err, errlen};
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&x, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(&x, "not a regular file");
    }
    if ((uint64_t)st.st_size > MB_MAX_FILE) {
        fclose(f);
        return fail(&x, "file is too large (%lld bytes, at most %u)", (long long)st.st_size,
                    MB_MAX_FILE);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *img = malloc(size ? size : 1);
    if (!img) {
        fclose(f);
        return fail(&x, "out of memory reading %zu bytes", size);
    }
    if (fread(img, 1, size, f) != size) {
        int e = ferror(f) ? errno : 0;
        free(img);
        fclose(f);
        return fail(&x, "read error: %s", e ? strerror(e) : "file shrank while reading");
    }
    fclose(f);

    char *cmdline = NULL;
    size_t n = strlen(path) + (append ? strlen(append) : 0) + 2;
    cmdline = malloc(n);
    if (!cmdline) {
        free(img);
        return fail(&x, "out of memory");
    }
    if (append && *append)
        snprintf(cmdline, n, "%s %s", path, append);
    else
        snprintf(cmdline, n, "%s", path);
    int r = multiboot_load_image(b, path, img, size, cmdline, out, err, errlen);
    free(cmdline);
    free(img);
    return r;
}
