/* Loading the system BIOS and the VGA BIOS (see firmware.h). */
#include "firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole regular file of at most max bytes. Returns 0 or -1. */
static int read_file(const char *path, size_t max, const char *opt, uint8_t **data,
                     size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s '%s': cannot open: %s", opt, path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "%s '%s': out of memory", opt, path);
        return -1;
    }
    /* Read one byte beyond the limit to tell "too big" from "just fits". */
    size_t n = fread(buf, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s '%s': read error (is it a directory?)", opt, path);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

int firmware_check_bios(const uint8_t *data, size_t size, const char *what, char *err,
                        size_t errlen)
{
    (void)data;
    if (size == 0) {
        snprintf(err, errlen, "%s: the file is empty", what);
        return -1;
    }
    if (size > FIRMWARE_BIOS_MAX) {
        snprintf(err, errlen, "%s: a BIOS image is at most %u MiB", what, FIRMWARE_BIOS_MAX >> 20);
        return -1;
    }
    if (size % FIRMWARE_BIOS_MIN) {
        snprintf(err, errlen,
                 "%s: %zu bytes is not a whole number of 64 KiB: a BIOS image must be "
                 "(e.g. 128 KiB or 256 KiB)",
                 what, size);
        return -1;
    }
    return 0;
}

int firmware_check_option_rom(const uint8_t *data, size_t size, const char *what, char *err,
                              size_t errlen)
{
    if (size == 0) {
        snprintf(err, errlen, "%s: the file is empty", what);
        return -1;
    }
    if (size > FIRMWARE_OPTROM_MAX) {
        snprintf(err, errlen, "%s: an option ROM is at most %u KiB", what,
                 FIRMWARE_OPTROM_MAX >> 10);
        return -1;
    }
    if (size % 512) {
        snprintf(err, errlen, "%s: %zu bytes is not a whole number of 512-byte blocks", what,
                 size);
        return -1;
    }
    if (data[0] != 0x55 || data[1] != 0xaa) {
        snprintf(err, errlen,
                 "%s: no option ROM signature (starts with %02x %02x, expected 55 aa)", what,
                 data[0], data[1]);
        return -1;
    }
    if (data[2] == 0 || data[2] * 512u > size) {
        snprintf(err, errlen, "%s: header length %u x 512 bytes does not fit the %zu-byte file",
                 what, data[2], size);
        return -1;
    }
    return 0;
}

int firmware_map_bios(struct bus *b, const uint8_t *data, uint32_t size, char *err,
                      size_t errlen)
{
    uint32_t low = size < FIRMWARE_LOW_MAX ? size : FIRMWARE_LOW_MAX;
    if (b->ram_size < 0x100000) {
        snprintf(err, errlen, "the BIOS needs at least 1 MiB of RAM");
        return -1;
    }
    if (bus_add_rom(b, (uint32_t)(0x100000000ull - size), data, size) < 0) {
        snprintf(err, errlen, "cannot map the BIOS ROM (no free ROM slot)");
        return -1;
    }
    memcpy(b->ram + 0x100000 - low, data + size - low, low);
    return 0;
}

void firmware_restore_low(struct bus *b, uint32_t bios_size)
{
    uint32_t low = bios_size < FIRMWARE_LOW_MAX ? bios_size : FIRMWARE_LOW_MAX;
    if (!low || b->ram_size < 0x100000)
        return;
    /* From the ROM region itself, not through bus_read: that would apply
     * the A20 mask. */
    for (int k = 0; k < b->nroms; k++) {
        const struct rom_region *r = &b->roms[k];
        if ((uint64_t)r->base + r->size == 0x100000000ull && r->size == bios_size)
            memcpy(b->ram + 0x100000 - low, r->data + r->size - low, low);
    }
}

int firmware_load_bios(struct bus *b, const char *path, char *err, size_t errlen)
{
    uint8_t *data;
    size_t size;
    char what[300];
    snprintf(what, sizeof(what), "--bios '%s'", path);
    if (read_file(path, FIRMWARE_BIOS_MAX, "--bios", &data, &size, err, errlen) < 0)
        return -1;
    int r = firmware_check_bios(data, size, what, err, errlen);
    if (r == 0)
        r = firmware_map_bios(b, data, (uint32_t)size, err, errlen);
    free(data);
    return r;
}

int firmware_read_option_rom(const char *path, uint8_t **data, uint32_t *size, char *err,
                             size_t errlen)
{
    size_t n;
    char what[300];
    snprintf(what, sizeof(what), "--vga-bios '%s'", path);
    if (read_file(path, FIRMWARE_OPTROM_MAX, "--vga-bios", data, &n, err, errlen) < 0)
        return -1;
    if (firmware_check_option_rom(*data, n, what, err, errlen) < 0) {
        free(*data);
        *data = NULL;
        return -1;
    }
    *size = (uint32_t)n;
    return 0;
}
