/*
 * Firmware images: the system BIOS and the VGA BIOS, loaded from files and
 * mapped where a PC's chipset decodes them.
 *
 * System BIOS (SeaBIOS's bios.bin, or any image whose size is a multiple of
 * 64 KiB, from 64 KiB to 16 MiB): ROM at the top of the 4 GiB space, ending
 * at 0xFFFFFFFF, so the reset vector 0xFFFFFFF0 lies in its last 16 bytes.
 * Its last 128 KiB (all of it when smaller) also appear just below 1 MiB,
 * ending at 0xFFFFF, where real-mode code runs them. On an i440FX that low
 * copy is the same ROM aliased through the PAM registers, which the BIOS
 * later switches to shadow RAM; here the PAMs are not modelled, so the low
 * copy is guest RAM pre-loaded with the image (writable from the start,
 * which is what SeaBIOS makes it anyway).
 *
 * VGA BIOS (vgabios-stdvga.bin, or any option ROM): a multiple of 512 bytes,
 * at most 128 KiB, starting with the 0x55 0xAA signature and a length byte
 * (in 512-byte blocks) no larger than the file. It is served through the VGA
 * device's PCI expansion ROM BAR; the BIOS copies it to 0xC0000 and runs it.
 */
#ifndef TRAPEZE_BIOS_FIRMWARE_H
#define TRAPEZE_BIOS_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#include "../mmu/bus.h"

#define FIRMWARE_DEFAULT_BIOS "/usr/share/seabios/bios.bin"
#define FIRMWARE_DEFAULT_VGA_BIOS "/usr/share/seabios/vgabios-stdvga.bin"

#define FIRMWARE_BIOS_MIN (64u << 10)
#define FIRMWARE_BIOS_MAX (16u << 20)
#define FIRMWARE_LOW_MAX (128u << 10) /* the part also mapped below 1 MiB */
#define FIRMWARE_OPTROM_MAX (128u << 10)

/* Checks a system BIOS image of size bytes; what names it in messages
 * ("--bios 'x.bin'"). Returns 0, or -1 with a message in err. */
int firmware_check_bios(const uint8_t *data, size_t size, const char *what, char *err,
                        size_t errlen);
/* Checks an option ROM image likewise. */
int firmware_check_option_rom(const uint8_t *data, size_t size, const char *what, char *err,
                              size_t errlen);

/* Maps a checked BIOS image (see above). RAM must cover 1 MiB. */
int firmware_map_bios(struct bus *b, const uint8_t *data, uint32_t size, char *err,
                      size_t errlen);

/* Copies the low part of the mapped BIOS (bios_size bytes at the top of
 * 4 GiB) below 1 MiB again: what a RESET does to the PAM-shadowed copy. */
void firmware_restore_low(struct bus *b, uint32_t bios_size);

/* Reads path, checks it and maps it. Errors name the option and the file. */
int firmware_load_bios(struct bus *b, const char *path, char *err, size_t errlen);
/* Reads and checks an option ROM; *data is malloc'ed (the caller frees). */
int firmware_read_option_rom(const char *path, uint8_t **data, uint32_t *size, char *err,
                             size_t errlen);

#endif
