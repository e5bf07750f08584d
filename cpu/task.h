/*
 * Hardware task switching (SDM vol. 3, chapter 7), cpu/task.c.
 */
#ifndef TRAPEZE_CPU_TASK_H
#define TRAPEZE_CPU_TASK_H

#include "descriptor.h"

enum task_reason { TS_JMP, TS_CALL, TS_INT, TS_IRET };

/*
 * Switches to the task whose TSS descriptor is d (selector sel, from the
 * GDT). The caller has made the privilege, type, busy and present checks of
 * its instruction. ext is the EXT bit for error codes. For TS_INT with
 * has_err, err is pushed on the new task's stack.
 *
 * Faults raised before the old state is saved are taken in the old task;
 * faults while loading the new task's segment registers (#TS, #NP, #SS)
 * and the final EIP check are taken in the new task: this function sets
 * prev_eip/prev_esp to the new task's values so the run loop's restart
 * logic does not undo the switch.
 */
void task_switch(struct cpu *c, uint16_t sel, struct desc *d, enum task_reason why,
                 bool has_err, uint32_t err, uint32_t ext);

#endif
