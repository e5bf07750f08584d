/* Linux boot protocol loader: synthetic bzImages built in memory (the
 * boot_params it fills, the entry state, a GDT the CPU can really load),
 * every malformed-input error (each names the file), the choice between
 * Multiboot and Linux by content, and, when the guest package cache holds
 * Debian's vmlinuz, that real image. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/direct_boot.h"
#include "bios/linux_boot.h"
#include "mmu/bus.h"
#include "tests/unit/harness.h"

#define MIB (1u << 20)
#define SETUP_SECTS 4
#define PROT_OFF ((SETUP_SECTS + 1) * 512)
#define PROT_SIZE 0x3000

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t ram32(struct bus *b, uint32_t pa)
{
    uint32_t v;
    memcpy(&v, b->ram + pa, 4);
    return v;
}
static uint16_t ram16(struct bus *b, uint32_t pa)
{
    uint16_t v;
    memcpy(&v, b->ram + pa, 2);
    return v;
}

static struct bus *new_bus(uint32_t ram)
{
    struct bus *b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(bus_init(b, ram), 0);
    memset(b->ram, 0xaa, ram); /* untouched RAM is visible */
    return b;
}

static void free_bus(struct bus *b)
{
    bus_free(b);
    free(b);
}

/* A bzImage of protocol 2.15 as Debian's kernel has it: 4 setup sectors,
 * relocatable, 16 MiB alignment and preferred address, init_size 2 MiB,
 * PROT_SIZE bytes of protected-mode "code" (a byte pattern). */
struct img {
    uint8_t b[PROT_OFF + PROT_SIZE];
    size_t size;
};

static void img_good(struct img *k)
{
    memset(k, 0, sizeof(*k));
    k->size = sizeof(k->b);
    k->b[0x1f1] = SETUP_SECTS;
    put32(k->b + 0x1f4, PROT_SIZE / 16);       /* syssize */
    put16(k->b + 0x1fa, 0xffff);               /* vid_mode: normal */
    put16(k->b + 0x1fe, 0xaa55);
    k->b[0x200] = 0xeb;                        /* jmp over the header */
    k->b[0x201] = 0x6a;                        /* header ends at 0x26c */
    memcpy(k->b + 0x202, "HdrS", 4);
    put16(k->b + 0x206, 0x020f);
    k->b[0x211] = 0x01;                        /* LOADED_HIGH */
    put32(k->b + 0x214, 0x100000);             /* code32_start */
    put32(k->b + 0x22c, 0x7fffffff);           /* initrd_addr_max */
    put32(k->b + 0x230, 16 * MIB);             /* kernel_alignment */
    k->b[0x234] = 1;                           /* relocatable */
    put32(k->b + 0x238, 2047);                 /* cmdline_size */
    put32(k->b + 0x258, 16 * MIB);             /* pref_address */
    put32(k->b + 0x260, 2 * MIB);              /* init_size */
    for (size_t i = 0; i < PROT_SIZE; i++)
        k->b[PROT_OFF + i] = (uint8_t)(i * 7 + 1);
}

static char err[512];

static int load(struct bus *b, const struct img *k, const uint8_t *rd, size_t rd_size,
                const char *cmdline, struct linux_boot *lb)
{
    err[0] = 0;
    return linux_load_image(b, "k.bin", k->b, k->size, "rd.img", rd, rd_size, cmdline, lb, err,
                            sizeof(err));
}

/* The load fails with "file: ...what..." and RAM at 1 MiB is untouched. */
#define EXPECT_ERROR(b, k, rd, rdsize, cmdline, file, what)                                     \
    do {                                                                                        \
        struct linux_boot lb_;                                                                  \
        ck_assert_int_eq(load(b, k, rd, rdsize, cmdline, &lb_), -1);                            \
        ck_assert_msg(!strncmp(err, file ": ", strlen(file) + 2), "message '%s' does not "      \
                      "start with '%s: '", err, file);                                         \
        ck_assert_msg(strstr(err, what), "message '%s' lacks '%s'", err, what);                 \
        ck_assert_uint_eq(ram32(b, 0x100000), 0xaaaaaaaau);                                     \
        ck_assert_uint_eq(ram32(b, LB_PARAMS_ADDR + 0x202), 0xaaaaaaaau);                       \
    } while (0)

START_TEST(good_image_fills_boot_params)
{
    struct bus *b = new_bus(64 * MIB);
    struct img k;
    img_good(&k);
    uint8_t rd[5000];
    for (size_t i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i ^ 0x5a);
    struct linux_boot lb;
    ck_assert_msg(load(b, &k, rd, sizeof(rd), "console=ttyS0 quiet", &lb) == 0, "%s", err);

    /* The protected-mode kernel at 1 MiB, byte for byte. */
    ck_assert_int_eq(memcmp(b->ram + 0x100000, k.b + PROT_OFF, PROT_SIZE), 0);
    ck_assert_uint_eq(lb.entry, 0x100000);
    ck_assert_uint_eq(lb.params, LB_PARAMS_ADDR);
    ck_assert_uint_eq(lb.version, 0x020f);
    ck_assert_uint_eq(lb.kernel_end, 0x100000 + PROT_SIZE);
    ck_assert_uint_eq(lb.kernel_need_end, 18 * MIB); /* pref 16 MiB + init_size 2 MiB */

    const uint32_t bp = LB_PARAMS_ADDR;
    /* Outside the header: zero, the sentinel included; inside: the image's. */
    ck_assert_uint_eq(b->ram[bp + 0x1ef], 0);
    ck_assert_uint_eq(ram32(b, bp + 0x100), 0);
    ck_assert_uint_eq(ram32(b, bp + 0x202), 0x53726448u); /* "HdrS" */
    ck_assert_uint_eq(ram16(b, bp + 0x206), 0x020f);
    ck_assert_uint_eq(ram16(b, bp + 0x1fe), 0xaa55);
    ck_assert_uint_eq(ram32(b, bp + 0x260), 2 * MIB);
    ck_assert_uint_eq(ram32(b, bp + 0x26c), 0); /* past the header: not copied */
    /* What the loader fills in. */
    ck_assert_uint_eq(b->ram[bp + 0x210], 0xff);         /* type_of_loader */
    ck_assert_uint_eq(b->ram[bp + 0x211], 0x81);         /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_eq(ram32(b, bp + 0x214), 0x100000);   /* code32_start */
    ck_assert_uint_eq(ram16(b, bp + 0x224), 0xfe00);     /* heap_end_ptr */
    ck_assert_uint_eq(ram32(b, bp + 0x228), LB_CMDLINE_ADDR);
    ck_assert_str_eq((char *)b->ram + LB_CMDLINE_ADDR, "console=ttyS0 quiet");
    ck_assert_uint_eq(ram16(b, bp + 0x002), 63 * 1024); /* ext_mem_k */
    ck_assert_uint_eq(ram32(b, bp + 0x1e0), 63 * 1024); /* alt_mem_k */
    /* initrd: page aligned, as high as possible, its bytes intact. */
    uint32_t rs = ram32(b, bp + 0x218);
    ck_assert_uint_eq(ram32(b, bp + 0x21c), sizeof(rd));
    ck_assert_uint_eq(rs & 0xfff, 0);
    ck_assert_uint_eq(rs, (64 * MIB - sizeof(rd)) & ~0xfffu);
    ck_assert_uint_eq(lb.initrd_start, rs);
    ck_assert_int_eq(memcmp(b->ram + rs, rd, sizeof(rd)), 0);
    /* e820 */
    static const uint32_t e820[4][3] = {
        {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2}, {MIB, 63 * MIB, 1}};
    ck_assert_uint_eq(b->ram[bp + 0x1e8], 4);
    for (unsigned i = 0; i < 4; i++) {
        uint32_t e = bp + 0x2d0 + 20 * i;
        ck_assert_uint_eq(ram32(b, e), e820[i][0]);
        ck_assert_uint_eq(ram32(b, e + 4), 0);
        ck_assert_uint_eq(ram32(b, e + 8), e820[i][1]);
        ck_assert_uint_eq(ram32(b, e + 12), 0);
        ck_assert_uint_eq(ram32(b, e + 16), e820[i][2]);
    }
    /* GDT entries 2 and 3: flat code and data; BIOS data area words. */
    ck_assert_uint_eq(ram32(b, LB_GDT_ADDR + 0x10), 0x0000ffff);
    ck_assert_uint_eq(ram32(b, LB_GDT_ADDR + 0x14), 0x00cf9b00);
    ck_assert_uint_eq(ram32(b, LB_GDT_ADDR + 0x18), 0x0000ffff);
    ck_assert_uint_eq(ram32(b, LB_GDT_ADDR + 0x1c), 0x00cf9300);
    ck_assert_uint_eq(ram16(b, 0x40e), 0x9fc0);
    ck_assert_uint_eq(ram16(b, 0x413), 639);
    free_bus(b);
}
END_TEST

START_TEST(no_initrd_no_cmdline)
{
    struct bus *b = new_bus(32 * MIB);
    struct img k;
    img_good(&k);
    struct linux_boot lb;
    ck_assert_msg(load(b, &k, NULL, 0, NULL, &lb) == 0, "%s", err);
    ck_assert_uint_eq(ram32(b, LB_PARAMS_ADDR + 0x218), 0);
    ck_assert_uint_eq(ram32(b, LB_PARAMS_ADDR + 0x21c), 0);
    ck_assert_uint_eq(b->ram[LB_CMDLINE_ADDR], 0);
    ck_assert_uint_eq(lb.initrd_size, 0);
    free_bus(b);
}
END_TEST

/* The entry state is real: the CPU reloads DS and CS from the loader's GDT
 * and reads boot_params through ESI. */
START_TEST(entry_state_and_gdt_are_real)
{
    struct tmachine *tm = tm_new(32 * 1024);
    struct img k;
    img_good(&k);
    /* At the entry point:
     *   mov ax, 0x18; mov ds, ax; jmp 0x10:next; next: mov eax, [esi+0x202]; hlt */
    static const uint8_t code[] = {0x66, 0xb8, 0x18, 0x00, 0x8e, 0xd8, 0xea, 0x0d, 0x00, 0x10,
                                   0x00, 0x10, 0x00, 0x8b, 0x86, 0x02, 0x02, 0x00, 0x00, 0xf4};
    memcpy(k.b + PROT_OFF, code, sizeof(code));
    struct linux_boot lb;
    ck_assert_msg(linux_load_image(&tm->bus, "k.bin", k.b, k.size, NULL, NULL, 0, "x", &lb, err,
                                   sizeof(err)) == 0, "%s", err);
    tm->cpu.r[R_EBX] = tm->cpu.r[R_EBP] = tm->cpu.r[R_EDI] = 0x1234;
    linux_boot_enter(&tm->cpu, &lb);
    struct cpu *c = &tm->cpu;
    ck_assert(c->cr0 & CR0_PE);
    ck_assert(!(c->cr0 & CR0_PG));
    ck_assert_uint_eq(c->eip, 0x100000);
    ck_assert_uint_eq(c->r[R_ESI], LB_PARAMS_ADDR);
    ck_assert_uint_eq(c->r[R_EBX] | c->r[R_EBP] | c->r[R_EDI], 0);
    ck_assert_uint_eq(cpu_get_eflags(c) & (F_IF | F_DF | F_VM), 0);
    ck_assert_uint_eq(c->seg[S_CS].sel, 0x10);
    ck_assert(cpu_code32(c));
    for (int s = 0; s < 6; s++) {
        if (s != S_CS)
            ck_assert_uint_eq(c->seg[s].sel, 0x18);
        ck_assert_uint_eq(c->seg[s].base, 0);
        ck_assert_uint_eq(c->seg[s].limit, 0xffffffffu);
    }
    ck_assert_uint_eq(c->gdtr.base, LB_GDT_ADDR);
    ck_assert_uint_eq(c->gdtr.limit, 31);
    ck_assert_int_eq(tm_run_to_hlt(tm, 100), CPU_EXIT_HLT);
    ck_assert_uint_eq(c->r[R_EAX], 0x53726448u);
    ck_assert_uint_eq(c->seg[S_CS].sel, 0x10);
    ck_assert_uint_eq(c->eip, 0x100000 + sizeof(code));
    tm_free(tm);
}
END_TEST

START_TEST(bad_images)
{
    struct bus *b = new_bus(32 * MIB);
    struct img k;

    img_good(&k);
    k.size = 0;
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "file is empty");

    img_good(&k);
    k.size = 100;
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "too short");

    img_good(&k);
    memcpy(k.b + 0x202, "HdrX", 4);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "not a Linux kernel");

    img_good(&k);
    put16(k.b + 0x1fe, 0x1234);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "boot flag");

    img_good(&k);
    put16(k.b + 0x206, 0x0203);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "2.03 is too old");

    img_good(&k);
    k.b[0x211] = 0;
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "LOADED_HIGH");

    img_good(&k); /* cut inside the protected-mode kernel */
    k.size = PROT_OFF + PROT_SIZE - 16;
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "truncated");

    img_good(&k); /* only the setup sectors */
    k.size = PROT_OFF;
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "truncated");

    img_good(&k);
    put32(k.b + 0x1f4, 0);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "syssize 0");

    img_good(&k); /* needs 16 MiB + 20 MiB */
    put32(k.b + 0x260, 20 * MIB);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "--memory");

    img_good(&k);
    char longcl[3000];
    memset(longcl, 'x', sizeof(longcl) - 1);
    longcl[sizeof(longcl) - 1] = 0;
    EXPECT_ERROR(b, &k, NULL, 0, longcl, "k.bin", "command line is 2999 bytes");

    img_good(&k);
    uint8_t rd[16];
    EXPECT_ERROR(b, &k, rd, 0, NULL, "rd.img", "initrd file is empty");

    /* An initrd that does not fit between the kernel (to 18 MiB) and 32 MiB. */
    uint8_t *big = calloc(1, 15 * MIB);
    ck_assert_ptr_nonnull(big);
    EXPECT_ERROR(b, &k, big, 15 * MIB, NULL, "rd.img", "does not fit");
    free(big);
    free_bus(b);
}
END_TEST

START_TEST(too_little_ram)
{
    struct bus *b = new_bus(2 * MIB);
    struct img k;
    img_good(&k);
    EXPECT_ERROR(b, &k, NULL, 0, NULL, "k.bin", "give at least 18 MiB with --memory");
    free_bus(b);
}
END_TEST

/* --- files and the choice of loader --- */

static char tmpdir[] = "/tmp/trapeze-lbXXXXXX";

static const char *write_tmp(const char *name, const void *data, size_t n)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return p;
}

static void direct_setup(void) { ck_assert_ptr_nonnull(mkdtemp(tmpdir)); }
static void direct_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(tmpdir, "/tmp/trapeze-lbXXXXXX");
}

static int boot(struct tmachine *tm, const char *kernel, const char *initrd, struct direct_boot *db)
{
    err[0] = 0;
    return direct_boot(&tm->bus, &tm->cpu, kernel, initrd, "console=ttyS0", db, err, sizeof(err));
}

#define EXPECT_BOOT_ERROR(tm, kernel, initrd, what)                                             \
    do {                                                                                        \
        struct direct_boot db_;                                                                 \
        ck_assert_int_eq(boot(tm, kernel, initrd, &db_), -1);                                   \
        ck_assert_msg(strstr(err, what), "message '%s' lacks '%s'", err, what);                 \
    } while (0)

START_TEST(direct_boot_picks_linux)
{
    struct tmachine *tm = tm_new(32 * 1024);
    struct img k;
    img_good(&k);
    const char *kp = write_tmp("bzImage", k.b, k.size);
    const char *rp = write_tmp("initrd", "0707010000", 10);
    struct direct_boot db;
    ck_assert_msg(boot(tm, kp, rp, &db) == 0, "%s", err);
    ck_assert_int_eq(db.kind, BOOT_LINUX);
    ck_assert_uint_eq(db.lx.initrd_size, 10);
    ck_assert_uint_eq(tm->cpu.eip, 0x100000);
    ck_assert_uint_eq(tm->cpu.seg[S_CS].sel, 0x10);
    /* Linux gets the append string alone, not the path. */
    ck_assert_str_eq((char *)tm->bus.ram + LB_CMDLINE_ADDR, "console=ttyS0");
    tm_free(tm);
}
END_TEST

START_TEST(direct_boot_picks_multiboot)
{
    struct tmachine *tm = tm_new(4 * 1024);
    /* a.out kludge: header at 0, 0x40 bytes at 1 MiB, entry at +0x20 */
    uint8_t img[0x40] = {0};
    uint32_t flags = 0x00010000u, magic = MULTIBOOT_HEADER_MAGIC;
    put32(img, magic);
    put32(img + 4, flags);
    put32(img + 8, -(magic + flags));
    put32(img + 12, 0x100000);
    put32(img + 16, 0x100000);
    put32(img + 20, 0x100040);
    put32(img + 24, 0x100040);
    put32(img + 28, 0x100020);
    const char *kp = write_tmp("mb.bin", img, sizeof(img));
    struct direct_boot db;
    ck_assert_msg(boot(tm, kp, NULL, &db) == 0, "%s", err);
    ck_assert_int_eq(db.kind, BOOT_MULTIBOOT);
    ck_assert_uint_eq(tm->cpu.eip, 0x100020);
    ck_assert_uint_eq(tm->cpu.r[R_EAX], MULTIBOOT_BOOT_MAGIC);
    /* An initrd is refused for a Multiboot kernel. */
    const char *rp = write_tmp("initrd", "x", 1);
    EXPECT_BOOT_ERROR(tm, kp, rp, "only for Linux kernels");
    tm_free(tm);
}
END_TEST

START_TEST(direct_boot_bad_files)
{
    struct tmachine *tm = tm_new(32 * 1024);
    struct img k;
    img_good(&k);
    const char *good = write_tmp("bzImage", k.b, k.size);

    EXPECT_BOOT_ERROR(tm, "/nonexistent/vmlinuz", NULL, "/nonexistent/vmlinuz: cannot open");
    const char *empty = write_tmp("empty", "", 0);
    EXPECT_BOOT_ERROR(tm, empty, NULL, "empty: file is empty");
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 13);
    const char *jp = write_tmp("junk", junk, sizeof(junk));
    EXPECT_BOOT_ERROR(tm, jp, NULL, "junk: not a Multiboot kernel or a Linux bzImage");
    const char *trunc = write_tmp("trunc", k.b, PROT_OFF + 100);
    EXPECT_BOOT_ERROR(tm, trunc, NULL, "trunc: file is truncated");
    EXPECT_BOOT_ERROR(tm, good, "/nonexistent/initrd", "/nonexistent/initrd: cannot open");
    EXPECT_BOOT_ERROR(tm, good, tmpdir, "not a regular file");
    tm_free(tm);
}
END_TEST

/* Debian's kernel, when scripts/fetch-guest-pkgs.sh has cached it (or
 * TRAPEZE_VMLINUZ names one). Without it this test only says so. */
START_TEST(real_vmlinuz)
{
    const char *path = getenv("TRAPEZE_VMLINUZ");
    glob_t g = {0};
    if (!path && glob("build-guest/pkgs/linux-image-*/boot/vmlinuz-*", 0, NULL, &g) == 0 &&
        g.gl_pathc > 0)
        path = g.gl_pathv[g.gl_pathc - 1];
    if (!path) {
        fprintf(stderr, "test_linux_boot: real_vmlinuz: no cached vmlinuz, skipped "
                        "(scripts/fetch-guest-pkgs.sh fetches it)\n");
        globfree(&g);
        return;
    }
    struct bus *b = new_bus(128 * MIB);
    struct linux_boot lb;
    ck_assert_msg(linux_load_files(b, path, NULL, "console=ttyS0", &lb, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_uint_ge(lb.version, 0x020a);
    ck_assert_uint_eq(lb.entry, 0x100000);
    ck_assert_uint_gt(lb.kernel_end, 0x100000 + 1000000);
    ck_assert_uint_gt(lb.kernel_need_end, lb.kernel_end);
    ck_assert_uint_eq(ram32(b, LB_PARAMS_ADDR + 0x202), 0x53726448u);
    /* Too little RAM for it is a clear error. */
    struct bus *small = new_bus(8 * MIB);
    ck_assert_int_eq(linux_load_files(small, path, NULL, NULL, &lb, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "--memory") && !strncmp(err, path, strlen(path)), "%s", err);
    free_bus(small);
    free_bus(b);
    globfree(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linux_boot");
    TCase *t = tcase_create("loader");
    tcase_add_test(t, good_image_fills_boot_params);
    tcase_add_test(t, no_initrd_no_cmdline);
    tcase_add_test(t, entry_state_and_gdt_are_real);
    tcase_add_test(t, bad_images);
    tcase_add_test(t, too_little_ram);
    tcase_add_test(t, real_vmlinuz);
    tcase_set_timeout(t, 30);
    suite_add_tcase(s, t);
    TCase *d = tcase_create("direct_boot");
    tcase_add_checked_fixture(d, direct_setup, direct_teardown);
    tcase_add_test(d, direct_boot_picks_linux);
    tcase_add_test(d, direct_boot_picks_multiboot);
    tcase_add_test(d, direct_boot_bad_files);
    suite_add_tcase(s, d);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
