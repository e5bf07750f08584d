/* Multiboot v1 loader: a.out-kludge and ELF32 images built in memory, the
 * information structure, and every malformed-input error (each must name
 * the file and the problem, and leave no partial load behind). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/multiboot.h"
#include "mmu/bus.h"

#define RAM (4u << 20)
#define MAGIC MULTIBOOT_HEADER_MAGIC
#define AOUT 0x00010000u

static struct bus *new_bus(void)
{
    struct bus *b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(bus_init(b, RAM), 0);
    memset(b->ram, 0xaa, RAM); /* so BSS zeroing and untouched RAM are visible */
    return b;
}

static void free_bus(struct bus *b)
{
    bus_free(b);
    free(b);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t ram32(struct bus *b, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, b->ram + pa, 4);
    return v;
}

/* An a.out-kludge image: header at file offset 'hoff', loaded at 1 MiB,
 * 'len' bytes of file, bss to 'bss' bytes past the start. */
struct aout {
    uint8_t img[16384];
    size_t size;
};

static void aout_header(struct aout *a, size_t hoff, uint32_t flags, uint32_t header_addr,
                        uint32_t load_addr, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    uint8_t *h = a->img + hoff;
    put32(h, MAGIC);
    put32(h + 4, flags);
    put32(h + 8, -(MAGIC + flags));
    put32(h + 12, header_addr);
    put32(h + 16, load_addr);
    put32(h + 20, load_end);
    put32(h + 24, bss_end);
    put32(h + 28, entry);
}

/* The standard good image: 0x100 bytes of code at 1 MiB, BSS to 0x1000. */
static void aout_good(struct aout *a)
{
    memset(a, 0, sizeof(*a));
    a->size = 0x100;
    for (size_t k = 32; k < a->size; k++)
        a->img[k] = (uint8_t)k;
    aout_header(a, 0, AOUT, 0x100000, 0x100000, 0x100100, 0x101000, 0x100020);
}

static int load(struct bus *b, const void *img, size_t size, char *err)
{
    struct multiboot_boot mb;
    return multiboot_load_image(b, "k.bin", img, size, "k.bin arg=1", &mb, err, 256);
}

/* Asserts that loading fails with a message naming the file and containing
 * 'what', and that RAM at 1 MiB is untouched. */
#define EXPECT_ERROR(img, size, what)                                                           \
    do {                                                                                        \
        struct bus *b_ = new_bus();                                                             \
        char err_[256] = "";                                                                    \
        ck_assert_int_eq(load(b_, (img), (size), err_), -1);                                    \
        ck_assert_msg(!strncmp(err_, "k.bin: ", 7), "message '%s' does not name the file",     \
                      err_);                                                                    \
        ck_assert_msg(strstr(err_, (what)) != NULL, "message '%s' lacks '%s'", err_, (what));   \
        ck_assert_uint_eq(ram32(b_, 0x100000), 0xaaaaaaaau);                                    \
        ck_assert_uint_eq(ram32(b_, MB_INFO_ADDR), 0xaaaaaaaau);                                \
        free_bus(b_);                                                                           \
    } while (0)

START_TEST(aout_loads_and_builds_info)
{
    struct aout a;
    aout_good(&a);
    struct bus *b = new_bus();
    struct multiboot_boot mb;
    char err[256];
    ck_assert_int_eq(multiboot_load_image(b, "k.bin", a.img, a.size, "k.bin arg=1", &mb, err,
                                          sizeof(err)),
                     0);
    ck_assert_uint_eq(mb.entry, 0x100020);
    ck_assert_uint_eq(mb.info_addr, MB_INFO_ADDR);
    ck_assert(!mb.elf);
    ck_assert_uint_eq(mb.load_start, 0x100000);
    ck_assert_uint_eq(mb.load_end, 0x101000);
    ck_assert_int_eq(memcmp(b->ram + 0x100000, a.img, a.size), 0);
    for (uint32_t pa = 0x100100; pa < 0x101000; pa++)
        ck_assert_uint_eq(b->ram[pa], 0);
    ck_assert_uint_eq(b->ram[0x101000], 0xaa); /* nothing beyond the BSS */

    uint32_t i = MB_INFO_ADDR;
    uint32_t flags = ram32(b, i);
    ck_assert_uint_eq(flags & 1, 1);          /* mem_lower/upper */
    ck_assert_uint_eq(flags & (1 << 2), 1 << 2); /* cmdline */
    ck_assert_uint_eq(flags & (1 << 6), 1 << 6); /* mmap */
    ck_assert_uint_eq(flags & (1 << 9), 1 << 9); /* boot loader name */
    ck_assert_uint_eq(ram32(b, i + 4), 640);
    ck_assert_uint_eq(ram32(b, i + 8), (RAM - 0x100000) / 1024);
    ck_assert_str_eq((char *)b->ram + ram32(b, i + 16), "k.bin arg=1");
    ck_assert_str_eq((char *)b->ram + ram32(b, i + 64), "trapeze");

    /* Memory map: 0-640K usable, 640K-1M reserved, 1M-end usable. */
    uint32_t len = ram32(b, i + 44), at = ram32(b, i + 48);
    ck_assert_uint_eq(len, 3 * 24);
    static const uint32_t want[3][3] = {
        {0, 0xa0000, 1}, {0xa0000, 0x60000, 2}, {0x100000, RAM - 0x100000, 1}};
    for (int k = 0; k < 3; k++, at += 24) {
        ck_assert_uint_eq(ram32(b, at), 20);
        ck_assert_uint_eq(ram32(b, at + 4), want[k][0]);
        ck_assert_uint_eq(ram32(b, at + 8), 0);
        ck_assert_uint_eq(ram32(b, at + 12), want[k][1]);
        ck_assert_uint_eq(ram32(b, at + 16), 0);
        ck_assert_uint_eq(ram32(b, at + 20), want[k][2]);
    }
    free_bus(b);
}
END_TEST

START_TEST(aout_header_not_at_start)
{
    /* Header at file offset 0x40, load_end 0: the whole file is loaded. */
    struct aout a;
    memset(&a, 0, sizeof(a));
    a.size = 0x200;
    a.img[0] = 0xe9;
    aout_header(&a, 0x40, AOUT | 3, 0x200040, 0x200000, 0, 0, 0x200000);
    struct bus *b = new_bus();
    struct multiboot_boot mb;
    char err[256];
    ck_assert_int_eq(multiboot_load_image(b, "k.bin", a.img, a.size, NULL, &mb, err, 256), 0);
    ck_assert_uint_eq(mb.entry, 0x200000);
    ck_assert_uint_eq(mb.load_end, 0x200200);
    ck_assert_uint_eq(b->ram[0x200000], 0xe9);
    ck_assert_uint_eq(ram32(b, 0x200040), MAGIC);
    ck_assert_uint_eq(b->ram[0x200200], 0xaa);
    ck_assert_uint_eq(ram32(b, MB_INFO_ADDR) & (1 << 2), 0); /* no command line */
    free_bus(b);
}
END_TEST

/* A minimal ELF32 executable: 'nph' program headers after the ELF header,
 * segment data from offset 0x100. */
struct elf {
    uint8_t img[8192];
    size_t size;
};

static void elf_init(struct elf *e, uint32_t entry, int nph)
{
    memset(e, 0, sizeof(*e));
    memcpy(e->img, "\177ELF", 4);
    e->img[4] = 1; /* ELFCLASS32 */
    e->img[5] = 1; /* little-endian */
    e->img[6] = 1;
    put16(e->img + 16, 2); /* ET_EXEC */
    put16(e->img + 18, 3); /* EM_386 */
    put32(e->img + 20, 1);
    put32(e->img + 24, entry);
    put32(e->img + 28, 52); /* phoff */
    put16(e->img + 40, 52);
    put16(e->img + 42, 32);
    put16(e->img + 44, (uint16_t)nph);
    e->size = 0x400;
    /* the Multiboot header (no address fields) in the data, at 0x100 */
    put32(e->img + 0x100, MAGIC);
    put32(e->img + 0x104, 0);
    put32(e->img + 0x108, -MAGIC);
}

static void elf_ph(struct elf *e, int k, uint32_t type, uint32_t off, uint32_t vaddr,
                   uint32_t paddr, uint32_t filesz, uint32_t memsz)
{
    uint8_t *p = e->img + 52 + 32 * k;
    put32(p, type);
    put32(p + 4, off);
    put32(p + 8, vaddr);
    put32(p + 12, paddr);
    put32(p + 16, filesz);
    put32(p + 20, memsz);
    put32(p + 24, 5);
}

static void elf_good(struct elf *e)
{
    /* Linked at 0xC0100000, loaded at 1 MiB; a second segment with BSS. */
    elf_init(e, 0xc0100010, 3);
    elf_ph(e, 0, 1, 0x100, 0xc0100000, 0x100000, 0x100, 0x100);
    elf_ph(e, 1, 4, 0, 0, 0, 0, 0); /* PT_NOTE: ignored */
    elf_ph(e, 2, 1, 0x200, 0xc0200000, 0x200000, 0x80, 0x2000);
    for (int k = 0; k < 0x80; k++)
        e->img[0x200 + k] = 0x55;
}

START_TEST(elf_loads_segments)
{
    struct elf e;
    elf_good(&e);
    struct bus *b = new_bus();
    struct multiboot_boot mb;
    char err[256];
    ck_assert_int_eq(multiboot_load_image(b, "k.elf", e.img, e.size, "k.elf", &mb, err, 256), 0);
    ck_assert(mb.elf);
    ck_assert_uint_eq(mb.entry, 0x100010); /* translated through the segment */
    ck_assert_uint_eq(mb.load_start, 0x100000);
    ck_assert_uint_eq(mb.load_end, 0x202000);
    ck_assert_uint_eq(ram32(b, 0x100000), MAGIC);
    ck_assert_uint_eq(b->ram[0x100100], 0xaa); /* between segments: untouched */
    ck_assert_uint_eq(b->ram[0x20007f], 0x55);
    ck_assert_uint_eq(b->ram[0x200080], 0);
    ck_assert_uint_eq(b->ram[0x201fff], 0);
    ck_assert_uint_eq(b->ram[0x202000], 0xaa);
    free_bus(b);
}
END_TEST

START_TEST(errors_header)
{
    static const uint8_t empty[1];
    EXPECT_ERROR(empty, 0, "file is empty");

    uint8_t junk[9000];
    memset(junk, 0x90, sizeof(junk));
    EXPECT_ERROR(junk, sizeof(junk), "no Multiboot header");
    /* A header beyond the first 8192 bytes does not count. */
    put32(junk + 8192, MAGIC);
    put32(junk + 8196, AOUT);
    put32(junk + 8200, -(MAGIC + AOUT));
    EXPECT_ERROR(junk, sizeof(junk), "no Multiboot header");

    struct aout a;
    aout_good(&a);
    put32(a.img + 8, 0x12345678);
    EXPECT_ERROR(a.img, a.size, "bad checksum");

    aout_good(&a);
    aout_header(&a, 0, AOUT | 0x8, 0x100000, 0x100000, 0x100100, 0x101000, 0x100020);
    EXPECT_ERROR(a.img, a.size, "does not support (flags 0x8)");

    /* Header found but its address fields run past the end of the file. */
    aout_good(&a);
    EXPECT_ERROR(a.img, 16, "truncated Multiboot header");

    /* No address fields and not ELF. */
    aout_good(&a);
    aout_header(&a, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_ERROR(a.img, a.size, "not ELF");
}
END_TEST

START_TEST(errors_aout)
{
    struct aout a;
    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100000, 0x100200, 0x101000, 0x100020);
    EXPECT_ERROR(a.img, a.size, "file is truncated"); /* load_end beyond the file */

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100010, 0x100100, 0x101000, 0x100020);
    EXPECT_ERROR(a.img, a.size, "above header_addr");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100040, 0x100000, 0x100100, 0x101000, 0x100020);
    EXPECT_ERROR(a.img, a.size, "exceeds the header's file offset");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100000, 0x100000, 0, 0x100020);
    EXPECT_ERROR(a.img, a.size, "load_end_addr");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100000, 0x100100, 0x100080, 0x100020);
    EXPECT_ERROR(a.img, a.size, "bss_end_addr");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100000, 0x100100, 0x101000, 0x100100);
    EXPECT_ERROR(a.img, a.size, "entry point 0x100100 is outside");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x100000, 0x100000, 0x100100, 0x4000000, 0x100020);
    EXPECT_ERROR(a.img, a.size, "beyond the end of RAM");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0xfffffff0, 0xfffffff0, 0, 0, 0xfffffff0);
    EXPECT_ERROR(a.img, a.size, "beyond the end of RAM"); /* wraps 4 GiB */

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0x8f00, 0x8f00, 0x9000, 0x9100, 0x8f20);
    EXPECT_ERROR(a.img, a.size, "overlaps the Multiboot information area");

    aout_good(&a);
    aout_header(&a, 0, AOUT, 0xb8000, 0xb8000, 0xb8100, 0, 0xb8020);
    EXPECT_ERROR(a.img, a.size, "overlaps the reserved region");
}
END_TEST

START_TEST(errors_elf)
{
    struct elf e;
    elf_good(&e);
    e.img[4] = 2;
    EXPECT_ERROR(e.img, e.size, "ELFCLASS32");
    elf_good(&e);
    e.img[5] = 2;
    EXPECT_ERROR(e.img, e.size, "little-endian");
    elf_good(&e);
    put16(e.img + 16, 3);
    EXPECT_ERROR(e.img, e.size, "not an executable");
    elf_good(&e);
    put16(e.img + 18, 62);
    EXPECT_ERROR(e.img, e.size, "not i386");
    elf_good(&e);
    put32(e.img + 28, 0x3f0);
    EXPECT_ERROR(e.img, e.size, "program headers");
    elf_good(&e);
    put16(e.img + 44, 0);
    EXPECT_ERROR(e.img, e.size, "no program headers");
    elf_good(&e);
    put16(e.img + 42, 16);
    EXPECT_ERROR(e.img, e.size, "too small");
    elf_good(&e);
    elf_ph(&e, 2, 1, 0x3c0, 0xc0200000, 0x200000, 0x80, 0x2000);
    EXPECT_ERROR(e.img, e.size, "truncated ELF file: segment 2");
    elf_good(&e);
    elf_ph(&e, 2, 1, 0x200, 0xc0200000, 0x200000, 0x80, 0x40);
    EXPECT_ERROR(e.img, e.size, "exceeds memory size");
    elf_good(&e);
    elf_ph(&e, 0, 4, 0, 0, 0, 0, 0);
    elf_ph(&e, 2, 4, 0, 0, 0, 0, 0);
    EXPECT_ERROR(e.img, e.size, "no loadable");
    elf_good(&e);
    put32(e.img + 24, 0xc0300000);
    EXPECT_ERROR(e.img, e.size, "entry point 0xc0300000 is outside");
    elf_good(&e);
    elf_ph(&e, 2, 1, 0x200, 0xc0200000, RAM - 0x1000, 0x80, 0x2000);
    EXPECT_ERROR(e.img, e.size, "ELF segment 2 ");
    elf_good(&e);
    elf_ph(&e, 2, 1, 0x200, 0x9800, 0x9800, 0x80, 0x80);
    EXPECT_ERROR(e.img, e.size, "information area");
    /* The ELF header itself cut short (the Multiboot header is elsewhere). */
    uint8_t shortelf[40] = {0x7f, 'E', 'L', 'F'};
    put32(shortelf + 12, MAGIC);
    put32(shortelf + 16, 0);
    put32(shortelf + 20, -MAGIC);
    EXPECT_ERROR(shortelf, sizeof(shortelf), "truncated ELF header");
}
END_TEST

START_TEST(error_cmdline_too_long)
{
    struct aout a;
    aout_good(&a);
    struct bus *b = new_bus();
    struct multiboot_boot mb;
    char err[256];
    size_t n = MB_INFO_SIZE;
    char *cl = malloc(n + 1);
    memset(cl, 'x', n);
    cl[n] = 0;
    ck_assert_int_eq(multiboot_load_image(b, "k.bin", a.img, a.size, cl, &mb, err, 256), -1);
    ck_assert_ptr_nonnull(strstr(err, "command line too long"));
    free(cl);
    free_bus(b);
}
END_TEST

START_TEST(errors_files)
{
    struct bus *b = new_bus();
    struct multiboot_boot mb;
    char err[256];
    ck_assert_int_eq(multiboot_load_file(b, "/nonexistent/k.bin", NULL, &mb, err, 256), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/k.bin: cannot open"));
    ck_assert_int_eq(multiboot_load_file(b, "/tmp", NULL, &mb, err, 256), -1);
    ck_assert_ptr_nonnull(strstr(err, "/tmp: not a regular file"));

    char path[] = "/tmp/trapeze-mb-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(multiboot_load_file(b, path, NULL, &mb, err, 256), -1);
    ck_assert_ptr_nonnull(strstr(err, "file is empty"));
    ck_assert_ptr_nonnull(strstr(err, path));

    /* A good file: the command line is the path, a space, the append string. */
    struct aout a;
    aout_good(&a);
    ck_assert_int_eq(write(fd, a.img, a.size), (ssize_t)a.size);
    close(fd);
    ck_assert_int_eq(multiboot_load_file(b, path, "console=ttyS0 x", &mb, err, 256), 0);
    char want[96];
    snprintf(want, sizeof(want), "%s console=ttyS0 x", path);
    ck_assert_str_eq((char *)b->ram + ram32(b, MB_INFO_ADDR + 16), want);
    unlink(path);
    free_bus(b);
}
END_TEST

/* Random corruption of good images never crashes the loader (ASan/UBSan
 * watch every access) and either loads or explains. */
START_TEST(corrupted_images_never_crash)
{
    struct bus *b = new_bus();
    srand(1234);
    for (int n = 0; n < 3000; n++) {
        uint8_t img[0x400];
        size_t size;
        if (n & 1) {
            struct elf e;
            elf_good(&e);
            memcpy(img, e.img, sizeof(img));
            size = sizeof(img);
        } else {
            struct aout a;
            aout_good(&a);
            memcpy(img, a.img, sizeof(img));
            size = a.size;
        }
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)rand() % 0x120;
            img[at] = (uint8_t)rand();
        }
        if (rand() % 4 == 0)
            size = (size_t)rand() % size;
        struct multiboot_boot mb;
        char err[256] = "";
        int r = multiboot_load_image(b, "fuzz", img, size, "fuzz", &mb, err, sizeof(err));
        if (r < 0)
            ck_assert(!strncmp(err, "fuzz: ", 6));
        else
            ck_assert(mb.entry >= mb.load_start && mb.entry < mb.load_end);
    }
    free_bus(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("multiboot");
    TCase *t = tcase_create("load");
    tcase_add_test(t, aout_loads_and_builds_info);
    tcase_add_test(t, aout_header_not_at_start);
    tcase_add_test(t, elf_loads_segments);
    suite_add_tcase(s, t);
    t = tcase_create("errors");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, errors_header);
    tcase_add_test(t, errors_aout);
    tcase_add_test(t, errors_elf);
    tcase_add_test(t, error_cmdline_too_long);
    tcase_add_test(t, errors_files);
    tcase_add_test(t, corrupted_images_never_crash);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
