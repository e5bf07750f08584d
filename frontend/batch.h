/* `trapeze batch` (frontend/batch.c, docs/batch.md). */
#ifndef TRAPEZE_FRONTEND_BATCH_H
#define TRAPEZE_FRONTEND_BATCH_H

/* argv[0] is "batch". Returns the exit status. */
int cmd_batch(int argc, char **argv);

#endif
