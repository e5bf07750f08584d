/*
 * Linux x86 boot protocol, direct boot without firmware: loads a bzImage
 * and an optional initrd into guest RAM, fills struct boot_params (the
 * "zero page") the way Documentation/x86/boot.rst asks a boot loader to, and
 * describes the 32-bit boot entry state (linux_boot_enter, in
 * bios/linux_entry.c, puts the CPU in it).
 *
 * Requirements on the image: boot_flag 0xAA55 at 0x1FE, "HdrS" at 0x202,
 * protocol version >= 2.04, LOADED_HIGH (the protected-mode kernel runs at
 * 1 MiB). Kernels of protocol >= 2.10 tell their memory needs (pref_address,
 * init_size); the loader refuses a RAM size that cannot hold them.
 *
 * Guest-physical layout (everything below 1 MiB is RAM the real-mode part of
 * a BIOS boot would use; none of it overlaps the reserved 0x9FC00-0xFFFFF):
 *   LB_GDT_ADDR       0x08000  GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18
 *   LB_PARAMS_ADDR    0x10000  struct boot_params, 4 KiB
 *   LB_CMDLINE_ADDR   0x20000  command line, NUL-terminated
 *   0x100000                   protected-mode kernel (code32_start)
 *   top of RAM                 initrd, page aligned, below initrd_addr_max
 * The BIOS data area gets the two words the kernel reads from it (base
 * memory size at 0x413, EBDA segment at 0x40E), as a BIOS would leave them.
 *
 * E820 map: [0, 0x9FC00) RAM, [0x9FC00, 0xA0000) reserved (EBDA),
 * [0xF0000, 0x100000) reserved (BIOS ROM), [1 MiB, RAM end) RAM.
 *
 * Every malformed input is an error "FILE: problem"; nothing a file holds can
 * make the loader read or write out of bounds.
 */
#ifndef TRAPEZE_BIOS_LINUX_BOOT_H
#define TRAPEZE_BIOS_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define LB_GDT_ADDR 0x8000u
#define LB_PARAMS_ADDR 0x10000u
#define LB_CMDLINE_ADDR 0x20000u
#define LB_CMDLINE_MAX 0x10000u /* room reserved for the command line */
#define LB_EBDA_ADDR 0x9fc00u
#define LB_KERNEL_ADDR 0x100000u
#define LB_MIN_VERSION 0x0204u
#define LB_BOOT_CS 0x10u
#define LB_BOOT_DS 0x18u
/* Files larger than this are refused before reading them whole. */
#define LB_MAX_FILE (1024u << 20)

struct linux_boot {
    uint16_t version;        /* boot protocol version, e.g. 0x020f */
    uint32_t entry;          /* code32_start: EIP at entry */
    uint32_t params;         /* struct boot_params: ESI at entry */
    uint32_t gdt_base;       /* GDTR at entry */
    uint16_t gdt_limit;
    uint32_t kernel_start, kernel_end; /* protected-mode image as loaded */
    uint32_t kernel_need_end; /* end of what the kernel may use while decompressing */
    uint32_t initrd_start, initrd_size; /* size 0: no initrd */
    uint32_t cmdline;        /* physical address of the command line */
};

/* Does the image look like a Linux boot-protocol kernel ("HdrS" at 0x202)?
 * Only a hint for choosing a loader: linux_load_image() checks everything. */
bool linux_is_bzimage(const uint8_t *img, size_t size);

/*
 * Loads the kernel img[0..size) named 'name', the initrd rd[0..rd_size)
 * named rd_name (rd may be NULL: no initrd) and the command line (NULL:
 * empty). Returns 0, or -1 with err holding "file: problem".
 */
int linux_load_image(struct bus *b, const char *name, const uint8_t *img, size_t size,
                     const char *rd_name, const uint8_t *rd, size_t rd_size,
                     const char *cmdline, struct linux_boot *out, char *err, size_t errlen);

/* Reads the files and loads them (initrd may be NULL). */
int linux_load_files(struct bus *b, const char *kernel, const char *initrd, const char *cmdline,
                     struct linux_boot *out, char *err, size_t errlen);

/* Reads a whole regular file of at most max bytes. Returns a malloc'ed
 * buffer (free it) or NULL with err "path: problem". Used by the loaders. */
uint8_t *boot_read_file(const char *path, size_t max, size_t *size, char *err, size_t errlen);

#endif
