/* `trapeze classify --report FILE` (frontend/classify_report.c). */
#ifndef TRAPEZE_FRONTEND_CLASSIFY_REPORT_H
#define TRAPEZE_FRONTEND_CLASSIFY_REPORT_H

enum report_format { RF_TEXT, RF_MARKDOWN, RF_JSON };

/* Renders the run report at path: per VM, its top most frequent sensitive
 * instruction forms. Returns the exit status: 0, or 1 with a message on
 * stderr (unreadable, not JSON, not a run report). */
int classify_report(const char *path, int top, enum report_format fmt);

#endif
