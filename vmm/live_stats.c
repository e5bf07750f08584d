/*
 * Statistics on request while a run goes on (SIGUSR1, or Ctrl-A s on the
 * serial console): one block on stderr per VM, printed by the thread that
 * runs the VM at its next slice boundary (vm_step), never from the signal
 * handler. Costs a pass over the opcode table's counters.
 */
#include <stdio.h>

#include "machine.h"
#include "stats.h"

#define TOP_MNEMONICS 10

void vm_print_stats(struct vm *vm, FILE *f)
{
    const struct vm_stats *s = &vm->vcpu.stats;
    uint64_t cls[SC_CLASSES];
    stats_by_class(s, cls);
    flockfile(f);
    fprintf(f, "trapeze: %s: statistics (%s mode, %llu instructions, %.2f s)\n", vm->cfg.name,
            vm_mode_name(vm->vcpu.mode), (unsigned long long)vm->cpu.icount,
            vm_host_now() - vm->run_start);
    fprintf(f, "  by class:");
    for (int k = 0; k < SC_CLASSES; k++)
        fprintf(f, " %s %llu", stat_class_name((enum stat_class)k), (unsigned long long)cls[k]);
    struct mnemonic_count mc[TOP_MNEMONICS];
    int n = stats_by_mnemonic(s, mc, TOP_MNEMONICS);
    fprintf(f, "\n  top mnemonics:");
    for (int k = 0; k < n && k < TOP_MNEMONICS; k++)
        fprintf(f, " %s %llu", mc[k].mnemonic, (unsigned long long)mc[k].count);
    fprintf(f, "\n  exits: total %llu", (unsigned long long)stats_total_exits(s));
    for (int r = 0; r < VMEXIT_REASONS; r++)
        if (s->exits[r])
            fprintf(f, ", %s %llu", vmexit_name((enum vmexit_reason)r),
                    (unsigned long long)s->exits[r]);
    fprintf(f, "\n  host time: guest %.3f s, VMM %.3f s\n", s->guest_s, s->vmm_s);
    fflush(f);
    funlockfile(f);
}
