/* Firmware loading: BIOS sizes and mapping (top of 4 GiB and below 1 MiB),
 * option ROM checks, errors that name the file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/firmware.h"
#include "devices/post_code.h"

static struct bus bus;
static char err[512];
static char path[64];

static void setup(void)
{
    ck_assert_int_eq(bus_init(&bus, 2 << 20), 0);
    strcpy(path, "/tmp/trapeze-fwtest-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    err[0] = 0;
}
static void teardown(void)
{
    unlink(path);
    bus_free(&bus);
}

static void write_file(const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A BIOS image whose every 64 KiB block starts with its index and whose
 * last 16 bytes are a recognisable "reset vector". */
static uint8_t *make_bios(size_t n)
{
    uint8_t *d = calloc(1, n);
    for (size_t k = 0; k < n; k += 65536)
        d[k] = (uint8_t)(k >> 16);
    memcpy(d + n - 16, "\xea\x5b\xe0\x00\xf0RESETVEC", 14);
    return d;
}

START_TEST(bios_128k_mapped_high_and_low)
{
    uint8_t *d = make_bios(128 << 10);
    write_file(d, 128 << 10);
    ck_assert_int_eq(firmware_load_bios(&bus, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xfffffff0u, 1), 0xea);
    ck_assert_uint_eq(bus_read(&bus, 0xfffe0000u, 1), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xffff0000u, 1), 1);
    /* Low copy: 0xE0000-0xFFFFF, RAM pre-loaded with the image. */
    ck_assert_uint_eq(bus_read(&bus, 0xffff0, 1), 0xea);
    ck_assert_uint_eq(bus_read(&bus, 0xf0000, 1), 1);
    ck_assert_uint_eq(bus_read(&bus, 0xe0000, 1), 0);
    bus_write(&bus, 0xf0000, 1, 0x99); /* shadow RAM: writable */
    ck_assert_uint_eq(bus_read(&bus, 0xf0000, 1), 0x99);
    bus_write(&bus, 0xffff0000u, 1, 0x99); /* the ROM: not */
    ck_assert_uint_eq(bus_read(&bus, 0xffff0000u, 1), 1);
    /* A reset restores the low copy, whatever the A20 gate says. */
    bus_set_a20(&bus, false);
    firmware_restore_low(&bus, 128 << 10);
    bus_set_a20(&bus, true);
    ck_assert_uint_eq(bus_read(&bus, 0xf0000, 1), 1);
    free(d);
}
END_TEST

START_TEST(bios_256k_low_part_is_last_128k)
{
    uint8_t *d = make_bios(256 << 10);
    write_file(d, 256 << 10);
    ck_assert_int_eq(firmware_load_bios(&bus, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xfffc0000u, 1), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xfffd0000u, 1), 1);
    ck_assert_uint_eq(bus_read(&bus, 0xe0000, 1), 2);
    ck_assert_uint_eq(bus_read(&bus, 0xf0000, 1), 3);
    free(d);
}
END_TEST

START_TEST(bios_64k_only_below_f0000)
{
    uint8_t *d = make_bios(64 << 10);
    write_file(d, 64 << 10);
    ck_assert_int_eq(firmware_load_bios(&bus, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xffff0, 1), 0xea);
    ck_assert_uint_eq(bus_read(&bus, 0xe0000, 1), 0); /* RAM untouched */
    free(d);
}
END_TEST

START_TEST(bios_bad_sizes)
{
    uint8_t *d = make_bios(128 << 10);
    write_file(d, 100000);
    ck_assert_int_eq(firmware_load_bios(&bus, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "64 KiB"));
    write_file(d, 0);
    ck_assert_int_eq(firmware_load_bios(&bus, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    free(d);
    ck_assert_int_eq(firmware_check_bios(NULL, (16u << 20) + 65536, "x", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "at most"));
    ck_assert_int_eq(firmware_check_bios(NULL, 16u << 20, "x", err, sizeof(err)), 0);
}
END_TEST

START_TEST(missing_files)
{
    ck_assert_int_eq(firmware_load_bios(&bus, "/nonexistent/bios.bin", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--bios '/nonexistent/bios.bin'"));
    uint8_t *rom = NULL;
    uint32_t n;
    ck_assert_int_eq(firmware_read_option_rom("/nonexistent/vga.bin", &rom, &n, err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "--vga-bios '/nonexistent/vga.bin'"));
    ck_assert_int_eq(firmware_load_bios(&bus, "/tmp", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/tmp"));
}
END_TEST

START_TEST(option_rom_checks)
{
    uint8_t rom[2048] = {0x55, 0xaa, 4};
    uint8_t *out = NULL;
    uint32_t n = 0;
    write_file(rom, sizeof(rom));
    ck_assert_int_eq(firmware_read_option_rom(path, &out, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2048);
    ck_assert_uint_eq(out[2], 4);
    free(out);

    write_file(rom, 1000); /* not a multiple of 512 */
    ck_assert_int_eq(firmware_read_option_rom(path, &out, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "512"));
    ck_assert_ptr_nonnull(strstr(err, path));

    rom[2] = 5; /* claims 2560 bytes in a 2048-byte file */
    write_file(rom, sizeof(rom));
    ck_assert_int_eq(firmware_read_option_rom(path, &out, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "length"));

    rom[2] = 4;
    rom[1] = 0xab;
    write_file(rom, sizeof(rom));
    ck_assert_int_eq(firmware_read_option_rom(path, &out, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "signature"));

    static uint8_t big[(128 << 10) + 512] = {0x55, 0xaa, 1};
    write_file(big, sizeof(big));
    ck_assert_int_eq(firmware_read_option_rom(path, &out, &n, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "at most"));
}
END_TEST

/* The images the project boots by default, when the seabios package is installed. */
START_TEST(debian_seabios_images)
{
    if (access(FIRMWARE_DEFAULT_BIOS, R_OK) != 0)
        return;
    ck_assert_int_eq(firmware_load_bios(&bus, FIRMWARE_DEFAULT_BIOS, err, sizeof(err)), 0);
    ck_assert_uint_eq(bus_read(&bus, 0xfffffff0u, 1), 0xea); /* JMP FAR at the reset vector */
    ck_assert_uint_eq(bus_read(&bus, 0xffff0, 1), 0xea);
    uint8_t *out = NULL;
    uint32_t n;
    ck_assert_int_eq(
        firmware_read_option_rom(FIRMWARE_DEFAULT_VGA_BIOS, &out, &n, err, sizeof(err)), 0);
    free(out);
}
END_TEST

START_TEST(post_code_port)
{
    struct post_code pc;
    post_code_init(&pc, &bus, POST_CODE_PORT);
    ck_assert_uint_eq(pc.count, 0);
    bus_port_write(&bus, 0x80, 1, 0x12);
    bus_port_write(&bus, 0x80, 1, 0x34);
    ck_assert_uint_eq(pc.count, 2);
    ck_assert_uint_eq(pc.last, 0x34);
    ck_assert_uint_eq(bus_port_read(&bus, 0x80, 1), 0x34);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("firmware");
    TCase *t = tcase_create("firmware");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, bios_128k_mapped_high_and_low);
    tcase_add_test(t, bios_256k_low_part_is_last_128k);
    tcase_add_test(t, bios_64k_only_below_f0000);
    tcase_add_test(t, bios_bad_sizes);
    tcase_add_test(t, missing_files);
    tcase_add_test(t, option_rom_checks);
    tcase_add_test(t, debian_seabios_images);
    tcase_add_test(t, post_code_port);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
