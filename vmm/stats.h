/*
 * A VM's statistics as the report shows them (vmm/vcpu.h holds the
 * counters): instructions by class and by mnemonic, derived at report time
 * from the per-row counts the CPU keeps (one increment per instruction).
 */
#ifndef TRAPEZE_VMM_STATS_H
#define TRAPEZE_VMM_STATS_H

#include <stdint.h>

#include "vcpu.h"

/* Instruction classes in report order. An instruction counts in every class
 * whose bit its row has (MOV r32,CRn is privileged and behaviour-sensitive);
 * innocuous = none of PRIV, IOPL, CTRL, BEHV. */
enum stat_class {
    SC_INNOCUOUS, SC_PRIVILEGED, SC_IOPL, SC_CONTROL, SC_BEHAVIOUR, SC_CRITICAL, SC_CLASSES
};
const char *stat_class_name(enum stat_class k);
void stats_by_class(const struct vm_stats *s, uint64_t out[SC_CLASSES]);

/* Instruction counts by mnemonic, largest first: fills up to max entries,
 * returns how many mnemonics have a non-zero count. */
struct mnemonic_count {
    const char *mnemonic;
    uint64_t count;
};
int stats_by_mnemonic(const struct vm_stats *s, struct mnemonic_count *out, int max);

uint64_t stats_total_exits(const struct vm_stats *s);

#endif
