/*
 * Direct boot without firmware: picks the loader by the kernel file's
 * content and puts the CPU in that protocol's entry state.
 *   - a valid Multiboot v1 header in the first 8 KiB: Multiboot
 *     (bios/multiboot.h); the command line is "PATH APPEND";
 *   - else "HdrS" at 0x202: the Linux boot protocol (bios/linux_boot.h),
 *     32-bit entry; the command line is APPEND alone;
 *   - else: an error naming the file.
 * An initrd is only accepted for a Linux kernel.
 */
#ifndef TRAPEZE_BIOS_DIRECT_BOOT_H
#define TRAPEZE_BIOS_DIRECT_BOOT_H

#include <stddef.h>

#include "../cpu/cpu.h"
#include "linux_boot.h"
#include "multiboot.h"

enum boot_kind { BOOT_NONE = 0, BOOT_MULTIBOOT, BOOT_LINUX };

struct direct_boot {
    enum boot_kind kind;
    struct multiboot_boot mb; /* valid for BOOT_MULTIBOOT */
    struct linux_boot lx;     /* valid for BOOT_LINUX */
};

/* Loads kernel (and initrd, may be NULL) into b's RAM and sets c's entry
 * state. append may be NULL. Returns 0, or -1 with err "FILE: problem". */
int direct_boot(struct bus *b, struct cpu *c, const char *kernel, const char *initrd,
                const char *append, struct direct_boot *out, char *err, size_t errlen);

/* Puts the CPU in the Linux 32-bit boot protocol entry state: protected
 * mode, paging off, IF clear, GDTR = the loader's GDT, CS = __BOOT_CS (0x10)
 * and DS = ES = SS = FS = GS = __BOOT_DS (0x18), with hidden parts matching
 * those descriptors, ESI = boot_params, EBX = EBP = EDI = 0 (bios/linux_entry.c). */
void linux_boot_enter(struct cpu *c, const struct linux_boot *lb);

#endif
