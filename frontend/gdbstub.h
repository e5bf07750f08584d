/* --gdb: the GDB remote stub (frontend/gdbstub.c, docs/gdb.md). */
#ifndef TRAPEZE_FRONTEND_GDBSTUB_H
#define TRAPEZE_FRONTEND_GDBSTUB_H

#include <signal.h>
#include <stddef.h>

#include "../vmm/machine.h"

/* Listens on 127.0.0.1 for spec "tcp::PORT" (0: a free port). Returns 0
 * with the socket and the port, or -1 with a message. */
int gdb_listen(const char *spec, int *fd, int *port, char *err, size_t errlen);

/* Runs vm under gdb's control on the listening socket lfd (closed on
 * return): waits for gdb before the first instruction, serves it until it
 * detaches, kills the VM or goes away (then the VM runs on to its end).
 * Returns how the run ended. */
enum vm_end gdb_serve(struct vm *vm, int lfd, volatile sig_atomic_t *stop);

/* A --vm spec's gdb=tcp::PORT: listens (printing the "waiting for gdb"
 * line) and runs gdb_serve for vm on a thread of its own, outside the
 * scheduler. Returns the session, or NULL with a message. */
struct gdb_thread;
struct gdb_thread *gdb_serve_thread(struct vm *vm, const char *spec, volatile sig_atomic_t *stop,
                                    char *err, size_t errlen);

/* Waits for that VM's end and frees the session. */
void gdb_thread_join(struct gdb_thread *t);

#endif
