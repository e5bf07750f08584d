/*
 * Multiboot v1 direct boot: loads a kernel image into guest RAM the way a
 * Multiboot boot loader (GRUB legacy, QEMU -kernel) does and builds the
 * Multiboot information structure. The caller puts the CPU in the entry
 * state: 32-bit flat protected mode, EAX = MULTIBOOT_BOOT_MAGIC,
 * EBX = info_addr, EIP = entry.
 *
 * Supported: the header anywhere in the first 8192 bytes (4-byte aligned),
 * ELF32 i386 executables (PT_LOAD segments at p_paddr, BSS zeroed), and the
 * "a.out kludge" (header flag bit 16: the address fields decide, for any
 * format). Modules are not supported; a video-mode request (flag bit 2) is
 * ignored, since trapeze has no framebuffer to offer yet.
 *
 * Memory layout the loader guarantees (the machine gives at least 2 MiB):
 *   [MB_INFO_ADDR, MB_INFO_ADDR + MB_INFO_SIZE)  info, memory map, boot loader
 *                                                name, command line
 *   0xA0000 - 0xFFFFF                             reserved (VGA, ROMs): no image
 * An image that overlaps either, or ends beyond RAM, is refused.
 *
 * Every malformed input is an error with a message "NAME: problem"; nothing
 * a file contains can make the loader read or write out of bounds.
 */
#ifndef TRAPEZE_BIOS_MULTIBOOT_H
#define TRAPEZE_BIOS_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_BOOT_MAGIC 0x2badb002u
#define MULTIBOOT_SEARCH 8192
#define MB_INFO_ADDR 0x9000u
#define MB_INFO_SIZE 0x1000u
#define MB_HOLE_START 0xa0000u
#define MB_HOLE_END 0x100000u
/* Images larger than this are refused before reading them whole. */
#define MB_MAX_FILE (256u << 20)

struct multiboot_boot {
    uint32_t entry;     /* physical entry point */
    uint32_t info_addr; /* for EBX */
    uint32_t load_start, load_end; /* physical extent of the image (BSS included) */
    bool elf;           /* loaded from ELF program headers (else the a.out kludge) */
};

/*
 * Loads img[0..size) named 'name' (for messages). cmdline is the complete
 * Multiboot command line (may be NULL: no command line). Returns 0, or -1
 * with err holding "name: problem". RAM outside the image and the info area
 * is left untouched.
 */
int multiboot_load_image(struct bus *b, const char *name, const uint8_t *img, size_t size,
                         const char *cmdline, struct multiboot_boot *out, char *err,
                         size_t errlen);

/*
 * Reads the file at path and loads it. The command line is the path followed
 * by a space and append, when append is non-empty, as GRUB and QEMU pass it
 * (kernels commonly skip the first word).
 */
int multiboot_load_file(struct bus *b, const char *path, const char *append,
                        struct multiboot_boot *out, char *err, size_t errlen);

#endif
