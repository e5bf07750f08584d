/* The VGA BIOS (Debian's vgabios-stdvga.bin under SeaBIOS) driving the
 * stdvga: boot SeaBIOS until it gives up ("No bootable device"), then run
 * small real-mode programs at 0000:7C00, as a boot sector would, that call
 * INT 10h to set mode 13h, mode 12h, a VBE mode and text mode, and check
 * the device's state and picture. Skipped without the seabios package. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/protect.h"
#include "vmm/machine.h"

static struct vm *vm;
static uint32_t *pix;
static char screen[(132 + 1) * 60 + 1];

static bool have_seabios(void)
{
    return access(FIRMWARE_DEFAULT_BIOS, R_OK) == 0 &&
           access(FIRMWARE_DEFAULT_VGA_BIOS, R_OK) == 0;
}

static void setup(void)
{
    if (!have_seabios())
        return;
    struct vm_config cfg = {.name = "vm0", .memory_mib = 32, .serial = "none",
                            .debugcon = "none", .deterministic = true, .no_reboot = true};
    char err[256];
    vm = vm_create(&cfg, err, sizeof(err));
    ck_assert_msg(vm != NULL, "%s", err);
    pix = malloc(sizeof(uint32_t) * VGA_MAX_WIDTH * VGA_MAX_HEIGHT);
    /* Run until the text screen says SeaBIOS gave up booting. */
    for (int k = 0; k < 400; k++) {
        vm->cfg.max_insns = vm->steps + 100000;
        ck_assert_int_eq(vm_run(vm, NULL), VM_END_INSN_LIMIT);
        if (vga_text_dump(&vm->vga, screen, sizeof(screen)) > 0 &&
            strstr(screen, "No bootable device"))
            return;
    }
    ck_abort_msg("SeaBIOS never printed 'No bootable device'");
}

static void teardown(void)
{
    char err[64];
    if (vm)
        vm_destroy(vm, err, sizeof(err));
    vm = NULL;
    free(pix);
    pix = NULL;
}

/* Runs code at 0000:7C00 in real mode with the BIOS's IVT and data intact;
 * the code ends with CLI; HLT. */
static void run_real(const uint8_t *code, size_t n)
{
    struct cpu *c = &vm->cpu;
    bus_write_bytes(&vm->bus, 0x7c00, code, n);
    cpu_reset(c);
    cpu_load_seg(c, S_CS, 0);
    c->eip = 0x7c00;
    vm->cfg.max_insns = vm->steps + 5000000;
    ck_assert_int_eq(vm_run(vm, NULL), VM_END_HALTED);
}

#define PROLOGUE 0x31, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x70, 0xfb /* ss:sp = 0:7000, sti */
#define EPILOGUE 0xfa, 0xf4                                     /* cli; hlt */

START_TEST(mode13h_by_int10)
{
    if (!vm)
        return;
    static const uint8_t code[] = {
        PROLOGUE,
        0xb8, 0x13, 0x00, 0xcd, 0x10,                   /* mov ax,0x13; int 10h */
        0xb8, 0x00, 0xa0, 0x8e, 0xc0,                   /* mov ax,0xa000; mov es,ax */
        0x26, 0xc6, 0x06, 0x41, 0x01, 0x04,             /* mov byte [es:321],4 */
        EPILOGUE};
    run_real(code, sizeof(code));
    ck_assert(!vga_text_mode(&vm->vga));
    int w, h;
    vga_render(&vm->vga, pix, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(pix[321], VGA_RGB(0xaa, 0, 0)); /* colour 4: red */
    ck_assert_uint_eq(pix[320], VGA_RGB(0, 0, 0));
}
END_TEST

START_TEST(mode12h_pixel_by_int10)
{
    if (!vm)
        return;
    static const uint8_t code[] = {
        PROLOGUE,
        0xb8, 0x12, 0x00, 0xcd, 0x10,       /* mov ax,0x12; int 10h */
        0xb8, 0x0e, 0x0c,                   /* mov ax,0x0c0e: write pixel, colour 14 */
        0x31, 0xdb,                         /* xor bx,bx */
        0xb9, 0x05, 0x00, 0xba, 0x03, 0x00, /* mov cx,5; mov dx,3 */
        0xcd, 0x10, EPILOGUE};
    run_real(code, sizeof(code));
    int w, h;
    vga_render(&vm->vga, pix, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(pix[3 * 640 + 5], VGA_RGB(0xff, 0xff, 0x55)); /* yellow */
    ck_assert_uint_eq(pix[3 * 640 + 4], VGA_RGB(0, 0, 0));
}
END_TEST

START_TEST(vbe_mode_by_int10)
{
    if (!vm)
        return;
    static const uint8_t code[] = {
        PROLOGUE,
        0xb8, 0x02, 0x4f,       /* mov ax,0x4f02 */
        0xbb, 0x11, 0x41,       /* mov bx,0x4111: 640x480x16, linear framebuffer */
        0xcd, 0x10, EPILOGUE};
    run_real(code, sizeof(code));
    ck_assert_uint_eq(vm->cpu.r[R_EAX] & 0xffff, 0x004f);
    ck_assert(vm->vga.vbe[VBE_INDEX_ENABLE] & VBE_ENABLED);
    ck_assert_uint_eq(vm->vga.vbe[VBE_INDEX_XRES], 640);
    ck_assert_uint_eq(vm->vga.vbe[VBE_INDEX_BPP], 16);
    /* The LFB where SeaBIOS put BAR0: a white pixel at (2,1). */
    uint32_t lfb = pci_get32(&vm->vga.pci, 0x10) & ~15u;
    bus_write(&vm->bus, lfb + (640 + 2) * 2, 2, 0xffff);
    int w, h;
    vga_render(&vm->vga, pix, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(pix[640 + 2], VGA_RGB(0xff, 0xff, 0xff));
}
END_TEST

START_TEST(text_mode_teletype)
{
    if (!vm)
        return;
    static const uint8_t code[] = {
        PROLOGUE,
        0xb8, 0x03, 0x00, 0xcd, 0x10,       /* mov ax,3; int 10h */
        0xb8, 0x58, 0x0e, 0xcd, 0x10,       /* mov ax,0x0e58; int 10h: 'X' */
        0xb8, 0x59, 0x0e, 0xcd, 0x10,       /* 'Y' */
        EPILOGUE};
    run_real(code, sizeof(code));
    ck_assert(vga_text_mode(&vm->vga));
    ck_assert_int_gt(vga_text_dump(&vm->vga, screen, sizeof(screen)), 0);
    ck_assert_msg(!strncmp(screen, "XY ", 3), "screen starts with '%.10s'", screen);
    /* The glyph for 'X' came from the font the BIOS loaded into plane 2. */
    int w, h;
    vga_render(&vm->vga, pix, &w, &h);
    ck_assert_int_eq(w, 720);
    int lit = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 9; x++)
            lit += pix[y * w + x] != VGA_RGB(0, 0, 0);
    ck_assert_int_gt(lit, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vga_bios");
    TCase *t = tcase_create("vga_bios");
    tcase_set_timeout(t, 120);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, mode13h_by_int10);
    tcase_add_test(t, mode12h_pixel_by_int10);
    tcase_add_test(t, vbe_mode_by_int10);
    tcase_add_test(t, text_mode_teletype);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
