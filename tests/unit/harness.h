/*
 * A bare machine for unit tests: RAM, a CPU, no devices. Port reads return
 * all ones unless a test installs handlers on tm->bus.
 */
#ifndef TRAPEZE_TESTS_HARNESS_H
#define TRAPEZE_TESTS_HARNESS_H

#include <stdint.h>
#include <stddef.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/mem.h"

struct tmachine {
    struct bus bus;
    struct cpu cpu;
    struct cpu_env env;
};

/* ram_kib: RAM size in KiB (multiple of 4). The CPU is reset (real mode). */
struct tmachine *tm_new(uint32_t ram_kib);
void tm_free(struct tmachine *tm);

/* Real mode with CS=DS=ES=SS=0, SP=0xfffe, code loaded at physical 'at'
 * and EIP = at (so 'at' must be < 0x10000). */
void tm_real(struct tmachine *tm, uint32_t at, const void *code, size_t n);
/* 32-bit flat protected mode (CPL 0, paging off), code at 'at', ESP = stack. */
void tm_flat32(struct tmachine *tm, uint32_t at, const void *code, size_t n, uint32_t stack);

/* Runs at most n instructions; returns the exit reason. */
enum cpu_exit tm_run(struct tmachine *tm, uint64_t n);
/* Runs until HLT (at most max instructions). */
enum cpu_exit tm_run_to_hlt(struct tmachine *tm, uint64_t max);

void tm_poke(struct tmachine *tm, uint32_t pa, const void *src, size_t n);
uint32_t tm_peek(struct tmachine *tm, uint32_t pa, int size);

/* Installs an IVT (real mode) or flat IDT (32-bit, interrupt gates) in
 * which every vector points to a stub that records the vector in the
 * returned variables and halts: tm_last_vector() is -1 when none ran. */
void tm_trap_all_vectors(struct tmachine *tm);
int tm_last_vector(struct tmachine *tm);

#endif
