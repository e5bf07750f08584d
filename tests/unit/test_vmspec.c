/*
 * VM specifications (frontend/vmspec.c): key=value parsing, QEMU's ",,"
 * escape, defaults, usage errors that name the key, config files, and the
 * checks across VMs (unique names, distinct output files). The frontend is
 * not in the library, so its source is compiled in here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/vmspec.c"

static char err[512];

/* Parses text, expecting an error containing want. */
static void expect_error(const char *text, const char *want)
{
    struct vm_spec s;
    err[0] = '\0';
    ck_assert_int_eq(vmspec_parse(text, "--vm #1", 0, &s, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, want), "'%s': error '%s' lacks '%s'", text, err, want);
    ck_assert_msg(strstr(err, "--vm #1"), "error '%s' does not say where", err);
    ck_assert_ptr_null(s.buf);
}

START_TEST(defaults)
{
    struct vm_spec s;
    ck_assert_int_eq(vmspec_parse("kernel=k.bin", "--vm #3", 2, &s, err, sizeof(err)), 0);
    ck_assert_str_eq(s.cfg.name, "vm2");
    ck_assert_str_eq(s.cfg.kernel, "k.bin");
    ck_assert_uint_eq(s.cfg.memory_mib, VM_DEFAULT_MEMORY_MIB);
    ck_assert_int_eq(s.cfg.mode, VM_MODE_EMULATE);
    ck_assert_str_eq(s.cfg.serial, "stdio");
    ck_assert_str_eq(s.cfg.debugcon, "stdio");
    ck_assert_ptr_null(s.cfg.append);
    ck_assert_ptr_null(s.cfg.hda);
    vmspec_free(&s);
}
END_TEST

START_TEST(every_key)
{
    struct vm_spec s;
    ck_assert_int_eq(vmspec_parse("name=web-1,mode=vmm,memory=64,kernel=/k,initrd=/i,"
                                  "append=console=ttyS0,hda=/d.img,cdrom=/c.iso,boot=dc,"
                                  "serial=file:/tmp/s.log,debugcon=none",
                                  "x", 0, &s, err, sizeof(err)),
                     0);
    ck_assert_str_eq(s.cfg.name, "web-1");
    ck_assert_int_eq(s.cfg.mode, VM_MODE_VMM);
    ck_assert_uint_eq(s.cfg.memory_mib, 64);
    ck_assert_str_eq(s.cfg.kernel, "/k");
    ck_assert_str_eq(s.cfg.initrd, "/i");
    ck_assert_str_eq(s.cfg.append, "console=ttyS0"); /* '=' inside a value is kept */
    ck_assert_str_eq(s.cfg.hda, "/d.img");
    ck_assert_str_eq(s.cfg.cdrom, "/c.iso");
    ck_assert_str_eq(s.cfg.boot, "dc");
    ck_assert_str_eq(s.cfg.serial, "file:/tmp/s.log");
    ck_assert_str_eq(s.cfg.debugcon, "none");
    vmspec_free(&s);
    ck_assert_int_eq(vmspec_parse("bios=/b.bin", "x", 0, &s, err, sizeof(err)), 0);
    ck_assert_str_eq(s.cfg.bios, "/b.bin");
    vmspec_free(&s);
}
END_TEST

START_TEST(comma_escape)
{
    struct vm_spec s;
    ck_assert_int_eq(
        vmspec_parse("kernel=a,,b.bin,append=x,,y,,,,z,name=n", "x", 0, &s, err, sizeof(err)), 0);
    ck_assert_str_eq(s.cfg.kernel, "a,b.bin");
    ck_assert_str_eq(s.cfg.append, "x,y,,z");
    ck_assert_str_eq(s.cfg.name, "n");
    vmspec_free(&s);
    /* A value ending in a comma: ",," then the separator. */
    ck_assert_int_eq(vmspec_parse("append=a,,,name=m", "x", 0, &s, err, sizeof(err)), 0);
    ck_assert_str_eq(s.cfg.append, "a,");
    ck_assert_str_eq(s.cfg.name, "m");
    vmspec_free(&s);
    /* An empty append is allowed (an empty command line). */
    ck_assert_int_eq(vmspec_parse("kernel=k,append=", "x", 0, &s, err, sizeof(err)), 0);
    ck_assert_str_eq(s.cfg.append, "");
    vmspec_free(&s);
}
END_TEST

START_TEST(errors_name_the_key)
{
    expect_error("kernel=k,colour=red", "unknown key 'colour'");
    expect_error("kernel=k,memory=1", "memory '1'");
    expect_error("kernel=k,memory=64k", "memory '64k': expected a whole number of MiB");
    expect_error("kernel=k,memory=-5", "memory '-5'");
    expect_error("kernel=k,memory=99999", "memory '99999'");
    expect_error("kernel=k,mode=fast", "mode 'fast': expected emulate, trap, vmm");
    expect_error("boot=x", "boot 'x': expected c (hard disk)");
    expect_error("kernel=k,serial=tty", "serial 'tty': expected stdio, file:PATH or none");
    expect_error("kernel=k,debugcon=file:", "debugcon 'file:'");
    expect_error("kernel=k,name=a b", "name 'a b'");
    expect_error("kernel=k,name=", "name ''");
    expect_error("kernel=", "kernel '': expected a file name");
    expect_error("kernel=k,kernel=j", "kernel given twice");
    expect_error("kernel=k,bios=b", "bios:");
    expect_error("initrd=i", "initrd: given without kernel=");
    expect_error("kernel", "'kernel': expected key=value");
    expect_error("kernel=k,", "trailing comma");
    expect_error("", "empty VM specification");
}
END_TEST

static void add(struct vm_spec *v, int k, const char *text)
{
    ck_assert_int_eq(vmspec_parse(text, "x", k, &v[k], err, sizeof(err)), 0);
}

START_TEST(across_vms)
{
    struct vm_spec v[3];
    add(v, 0, "kernel=k");
    add(v, 1, "kernel=k,serial=file:a.log");
    add(v, 2, "kernel=k,debugcon=file:b.log");
    ck_assert_int_eq(vmspec_check(v, 3, err, sizeof(err)), 0);
    vmspec_free(&v[2]);
    add(v, 2, "kernel=k,name=vm0");
    ck_assert_int_eq(vmspec_check(v, 3, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "name: two VMs are called 'vm0'"), "%s", err);
    vmspec_free(&v[2]);
    add(v, 2, "kernel=k,debugcon=file:a.log");
    ck_assert_int_eq(vmspec_check(v, 3, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "name the same file 'a.log'"), "%s", err);
    vmspec_free(&v[2]);
    /* One VM's serial and debugcon on one file. */
    add(v, 2, "kernel=k,serial=file:c.log,debugcon=file:c.log,name=z");
    ck_assert_int_eq(vmspec_check(v, 3, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "'c.log'"), "%s", err);
    for (int k = 0; k < 3; k++)
        vmspec_free(&v[k]);
}
END_TEST

START_TEST(config_file)
{
    char path[] = "/tmp/test_vmspec_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# two VMs\n\n  name=one,kernel=a.bin  \n   # indented comment\n"
          "name=two,kernel=b.bin,append=p,,q\n",
          f);
    fclose(f);
    struct vm_spec *v = NULL;
    int n = 0;
    ck_assert_int_eq(vmspec_read_file(path, &v, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(v[0].cfg.name, "one");
    ck_assert_str_eq(v[0].cfg.kernel, "a.bin");
    ck_assert_str_eq(v[1].cfg.append, "p,q");
    /* A bad line names the file and the line. */
    f = fopen(path, "w");
    fputs("kernel=a\n# c\nkernel=b,memory=0\n", f);
    fclose(f);
    ck_assert_int_eq(vmspec_read_file(path, &v, &n, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":3: memory '0'"), "%s", err);
    ck_assert_int_eq(n, 3); /* the good first line was appended */
    for (int k = 0; k < n; k++)
        vmspec_free(&v[k]);
    free(v);
    unlink(path);
    ck_assert_int_eq(vmspec_read_file("/nonexistent/vms.conf", &v, &n, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "--config: cannot open '/nonexistent/vms.conf'"), "%s", err);
}
END_TEST

/* Prefixed sinks (devices/sink.c): whole lines, each with the prefix; an
 * unfinished last line is completed at close. */
START_TEST(prefixed_sink)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    struct sink s;
    sink_init_stream(&s, f, false);
    sink_set_prefix(&s, "web");
    for (const char *p = "one\ntwo\nthr"; *p; p++)
        sink_put(&s, (uint8_t)*p);
    fflush(f);
    ck_assert_str_eq(mem, "[web] one\n[web] two\n"); /* "thr" waits for its newline */
    sink_put(&s, 'e');
    ck_assert_int_eq(sink_close(&s), 0);
    fclose(f);
    ck_assert_str_eq(mem, "[web] one\n[web] two\n[web] thre\n");
    free(mem);
}
END_TEST

START_TEST(gdb_key)
{
    struct vm_spec s;
    ck_assert_int_eq(vmspec_parse("kernel=k.elf,gdb=tcp::1234", "--vm #1", 0, &s, err, sizeof(err)),
                     0);
    ck_assert_str_eq(s.gdb, "tcp::1234");
    ck_assert_str_eq(s.cfg.kernel, "k.elf");
    vmspec_free(&s);
    ck_assert_int_eq(vmspec_parse("kernel=k.elf", "--vm #1", 0, &s, err, sizeof(err)), 0);
    ck_assert_ptr_null(s.gdb);
    vmspec_free(&s);
    expect_error("kernel=k.elf,gdb=udp:1", "gdb 'udp:1': expected tcp::PORT");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmspec");
    TCase *t = tcase_create("vmspec");
    tcase_add_test(t, defaults);
    tcase_add_test(t, every_key);
    tcase_add_test(t, comma_escape);
    tcase_add_test(t, errors_name_the_key);
    tcase_add_test(t, across_vms);
    tcase_add_test(t, config_file);
    tcase_add_test(t, prefixed_sink);
    tcase_add_test(t, gdb_key);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
