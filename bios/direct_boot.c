/* Direct boot: choose the loader by content (see direct_boot.h). */
#include "direct_boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Multiboot v1 header: magic, flags, checksum summing to zero, 4-byte
 * aligned within the first 8 KiB (multiboot.c repeats the search with its
 * own diagnostics). bad_sum: a magic with a wrong checksum was seen. */
static bool has_multiboot_header(const uint8_t *img, size_t size, bool *bad_sum)
{
    size_t lim = size < MULTIBOOT_SEARCH ? size : MULTIBOOT_SEARCH;
    *bad_sum = false;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t m, f, s;
        memcpy(&m, img + off, 4);
        if (m != MULTIBOOT_HEADER_MAGIC)
            continue;
        memcpy(&f, img + off + 4, 4);
        memcpy(&s, img + off + 8, 4);
        if ((uint32_t)(m + f + s) == 0)
            return true;
        *bad_sum = true;
    }
    return false;
}

static int boot_multiboot(struct bus *b, struct cpu *c, const char *kernel, const uint8_t *img,
                          size_t size, const char *append, struct direct_boot *out, char *err,
                          size_t errlen)
{
    /* GRUB and QEMU pass "PATH ARGS"; kernels commonly skip the first word. */
    size_t n = strlen(kernel) + (append ? strlen(append) : 0) + 2;
    char *cmdline = malloc(n);
    if (!cmdline) {
        snprintf(err, errlen, "%s: out of memory", kernel);
        return -1;
    }
    if (append && *append)
        snprintf(cmdline, n, "%s %s", kernel, append);
    else
        snprintf(cmdline, n, "%s", kernel);
    int r = multiboot_load_image(b, kernel, img, size, cmdline, &out->mb, err, errlen);
    free(cmdline);
    if (r < 0)
        return -1;
    out->kind = BOOT_MULTIBOOT;
    /* The Multiboot machine state (spec 3.2): flat 32-bit protected mode,
     * paging off, IF clear, EAX = magic, EBX = info. */
    cpu_set_flat32(c, out->mb.entry);
    c->r[R_EAX] = MULTIBOOT_BOOT_MAGIC;
    c->r[R_EBX] = out->mb.info_addr;
    return 0;
}

int direct_boot(struct bus *b, struct cpu *c, const char *kernel, const char *initrd,
                const char *append, struct direct_boot *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    size_t size;
    uint8_t *img = boot_read_file(kernel, LB_MAX_FILE, &size, err, errlen);
    if (!img)
        return -1;
    int r = -1;
    bool bad_sum;
    if (size == 0) {
        snprintf(err, errlen, "%s: file is empty", kernel);
    } else if (has_multiboot_header(img, size, &bad_sum)) {
        if (initrd)
            snprintf(err, errlen,
                     "%s: --initrd %s: an initrd is only for Linux kernels, and this is a "
                     "Multiboot kernel (Multiboot modules are not supported)",
                     kernel, initrd);
        else
            r = boot_multiboot(b, c, kernel, img, size, append, out, err, errlen);
    } else if (linux_is_bzimage(img, size)) {
        size_t rsize = 0;
        uint8_t *rd = NULL;
        if (!initrd || (rd = boot_read_file(initrd, LB_MAX_FILE, &rsize, err, errlen))) {
            r = linux_load_image(b, kernel, img, size, initrd, rd, rsize, append, &out->lx, err,
                                 errlen);
            free(rd);
        }
        if (r == 0) {
            out->kind = BOOT_LINUX;
            linux_boot_enter(c, &out->lx);
        }
    } else if (bad_sum) {
        r = boot_multiboot(b, c, kernel, img, size, append, out, err, errlen); /* its message */
    } else {
        snprintf(err, errlen,
                 "%s: not a Multiboot kernel or a Linux bzImage: no Multiboot header (magic 0x%08x) "
                 "in the first %d bytes, no Linux setup header (\"HdrS\" at 0x202)",
                 kernel, MULTIBOOT_HEADER_MAGIC, MULTIBOOT_SEARCH);
    }
    free(img);
    return r;
}
