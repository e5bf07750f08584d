/*
 * VM specifications for `trapeze run --vm SPEC` and `--config FILE`.
 *
 * SPEC is key=value pairs separated by commas; a comma inside a value is
 * written twice (QEMU's convention: "append=a,,b" is the value "a,b"). The
 * keys mean what the single-VM flags of the same name mean:
 *   name mode memory kernel initrd append hda cdrom boot bios serial debugcon
 * A config file holds one SPEC per line; blank lines and lines whose first
 * non-blank character is '#' are skipped, and leading/trailing blanks go.
 *
 * Every error is a usage error whose message names the key at fault and
 * where the spec came from ("--vm #2", "vms.conf:3").
 */
#ifndef TRAPEZE_FRONTEND_VMSPEC_H
#define TRAPEZE_FRONTEND_VMSPEC_H

#include <stddef.h>

#include "../vmm/machine.h"

struct vm_spec {
    struct vm_config cfg; /* its strings point into buf */
    char *buf;            /* owned */
    const char *gdb;      /* gdb=tcp::PORT: debug this VM with gdb (frontend/gdbstub.c), or NULL */
};

/*
 * Parses text into out; index (0-based) gives the default name "vmINDEX".
 * Defaults as the single-VM run: 128 MiB, mode emulate, serial and debugcon
 * on stdio. Returns 0, or -1 with a message in err (out then owns nothing).
 */
int vmspec_parse(const char *text, const char *origin, int index, struct vm_spec *out, char *err,
                 size_t errlen);

/* Appends the specs of a config file to *specs (realloc'd; *n counts). */
int vmspec_read_file(const char *path, struct vm_spec **specs, int *n, char *err, size_t errlen);

/* Checks a set of VMs: names are unique, no two outputs name the same file.
 * Returns 0 or -1 with a message. */
int vmspec_check(const struct vm_spec *specs, int n, char *err, size_t errlen);

void vmspec_free(struct vm_spec *s);

#endif
