/* Snapshots of a whole VM (vmm/snapshot.c, docs/snapshots.md). */
#ifndef TRAPEZE_VMM_SNAPSHOT_H
#define TRAPEZE_VMM_SNAPSHOT_H

#include <stddef.h>

#include "machine.h"

/* Writes vm's complete state to path (through path.tmp, renamed when
 * complete). Call it between steps of the run (at its end, or from a
 * console key). Returns 0, or -1 with a message naming the file. */
int vm_save_state(struct vm *vm, const char *path, char *err, size_t errlen);

/* Replaces the state of vm, freshly created from the same configuration,
 * with the snapshot at path. The file is checked whole (magic, version,
 * build layout, checksums, sections, configuration) before anything
 * changes: on -1 (message in err) vm is untouched. */
int vm_load_state(struct vm *vm, const char *path, char *err, size_t errlen);

#endif
