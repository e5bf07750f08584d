/* `trapeze classify` (frontend/classify.c). */
#ifndef TRAPEZE_FRONTEND_CLASSIFY_H
#define TRAPEZE_FRONTEND_CLASSIFY_H

/* argv[0] is "classify". Returns the exit status (0, or 2 on bad usage). */
int cmd_classify(int argc, char **argv);

#endif
