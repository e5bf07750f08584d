/*
 * The run in steps (vm_start/vm_step) and the scheduler (vmm/scheduler.c) on
 * tiny Multiboot kernels written here: a step ends at its host-time limit, a
 * stop request ends a step, and several VMs on fewer threads each reach
 * their own end (exit device, instruction limit, triple fault).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/scheduler.h"

/* Writes a flat Multiboot kernel (a.out kludge, loaded at 1 MiB, entered
 * after the 32-byte header) with the given code; returns its path. */
static char *kernel(const uint8_t *code, size_t n)
{
    static const uint32_t base = 0x100000;
    uint32_t hdr[8] = {0x1BADB002,
                       0x00010000,
                       (uint32_t) - (0x1BADB002 + 0x00010000),
                       base,
                       base,
                       base + 32 + (uint32_t)n,
                       base + 32 + (uint32_t)n,
                       base + 32};
    char *path = strdup("/tmp/test_scheduler_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
    ck_assert_int_eq(write(fd, code, n), (ssize_t)n);
    close(fd);
    return path;
}

static const uint8_t pass_code[] = {0xB0, 0x10, 0xE6, 0xF4, 0xEB, 0xFE}; /* out 0xF4, 0x10 */
static const uint8_t loop_code[] = {0xEB, 0xFE};                         /* jmp $ */
static const uint8_t triple_code[] = {0x0F, 0x0B};                       /* ud2, no IDT */

static struct vm *make(const char *name, const char *path, uint64_t max_insns)
{
    struct vm_config cfg = {.name = name,
                            .kernel = path,
                            .memory_mib = 2,
                            .serial = "none",
                            .debugcon = "none",
                            .max_insns = max_insns};
    char err[256];
    struct vm *vm = vm_create(&cfg, err, sizeof(err));
    ck_assert_msg(vm, "%s", err);
    return vm;
}

static void destroy(struct vm *vm)
{
    char err[256];
    ck_assert_int_eq(vm_destroy(vm, err, sizeof(err)), 0);
}

START_TEST(step_until_and_stop)
{
    char *loop = kernel(loop_code, sizeof(loop_code));
    struct vm *vm = make("loop", loop, 0);
    volatile sig_atomic_t stop = 0;
    vm_start(vm);
    ck_assert_int_eq(vm_step(vm, &stop, vm_host_now() + 0.005), VM_STEP_RUN);
    uint64_t first = vm->steps;
    ck_assert_uint_gt(first, 0);
    ck_assert_int_eq(vm->end, VM_END_NONE);
    ck_assert_int_eq(vm_step(vm, &stop, vm_host_now() + 0.005), VM_STEP_RUN);
    ck_assert_uint_gt(vm->steps, first); /* the second slice went on from the first */
    stop = 1;
    ck_assert_int_eq(vm_step(vm, &stop, vm_host_now() + 0.005), VM_STEP_END);
    ck_assert_int_eq(vm->end, VM_END_INTERRUPTED);
    ck_assert_int_eq(vm->exit_status, VM_STATUS_INTERRUPTED);
    destroy(vm);
    unlink(loop);
    free(loop);
}
END_TEST

START_TEST(pool_each_vm_to_its_end)
{
    char *pass = kernel(pass_code, sizeof(pass_code));
    char *loop = kernel(loop_code, sizeof(loop_code));
    char *triple = kernel(triple_code, sizeof(triple_code));
    struct vm *vms[4] = {make("loop", loop, 3000000), make("pass", pass, 0),
                         make("triple", triple, 0), make("pass2", pass, 0)};
    volatile sig_atomic_t stop = 0;
    ck_assert_int_eq(sched_run(vms, 4, 2, &stop), 0);
    ck_assert_int_eq(vms[0]->end, VM_END_INSN_LIMIT);
    ck_assert_uint_eq(vms[0]->steps, 3000000);
    ck_assert_int_eq(vms[1]->end, VM_END_EXIT_DEVICE);
    ck_assert_int_eq(vms[1]->exit_status, 33);
    ck_assert_int_eq(vms[2]->end, VM_END_SHUTDOWN);
    ck_assert_int_eq(vms[2]->exit_status, VM_STATUS_SHUTDOWN);
    ck_assert_int_eq(vms[3]->exit_status, 33);
    for (int k = 0; k < 4; k++)
        destroy(vms[k]);
    unlink(pass), unlink(loop), unlink(triple);
    free(pass), free(loop), free(triple);
}
END_TEST

START_TEST(more_threads_than_vms)
{
    char *pass = kernel(pass_code, sizeof(pass_code));
    struct vm *vm = make("pass", pass, 0);
    ck_assert_int_eq(sched_run(&vm, 1, 8, NULL), 0);
    ck_assert_int_eq(vm->exit_status, 33);
    destroy(vm);
    unlink(pass);
    free(pass);
    ck_assert_int_ge(sched_default_threads(), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scheduler");
    TCase *t = tcase_create("scheduler");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, step_until_and_stop);
    tcase_add_test(t, pool_each_vm_to_its_end);
    tcase_add_test(t, more_threads_than_vms);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
