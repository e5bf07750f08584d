/*
 * Several VMs in one process, on a pool of host threads.
 *
 * Each thread takes a runnable VM, runs it for a time slice of host time
 * (vm_step until now + slice), and puts it back. A VM halted until a timer
 * deadline (VM_STEP_IDLE) is not taken again before its idle_until; a VM
 * whose run ended (triple fault, exit device, limit...) leaves the pool and
 * the others run on. The scheduler returns when every VM has ended.
 *
 * Invariant: a VM is stepped by at most one thread at a time (its 'busy'
 * flag, under the pool's lock); VMs share nothing but the process's stdout
 * (see devices/sink.h, prefixed sinks) and the stop flag, which is only read.
 */
#ifndef TRAPEZE_VMM_SCHEDULER_H
#define TRAPEZE_VMM_SCHEDULER_H

#include <signal.h>

#include "machine.h"

#define SCHED_SLICE_S 0.010 /* host time a VM runs before the thread takes another */

/* Runs vms[0..n) to their ends on 'threads' host threads (0: one per online
 * CPU; never more than n). Returns 0, or -1 if no thread could be started. */
int sched_run(struct vm **vms, int n, int threads, volatile sig_atomic_t *stop);

/* The default thread count: online CPUs (at least 1). */
int sched_default_threads(void);

#endif
