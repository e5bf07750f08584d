/* Shadow paging for the deprivileged modes (vmm/shadow.c explains the
 * design, its invariants and costs). */
#ifndef TRAPEZE_VMM_SHADOW_H
#define TRAPEZE_VMM_SHADOW_H

#include "vcpu.h"

/* What a #PF taken while the guest ran natively was. */
enum shadow_pf {
    SPF_FIXED,    /* a shadow miss: the shadow now maps the page; retry natively */
    SPF_GUEST,    /* the guest's own tables refuse the access: reflect #PF */
    SPF_EMULATE,  /* the guest allows it but the shadow cannot (a write to a
                   * write-protected page-table page, or CR0.WP = 0 rights):
                   * execute the instruction in the guest's view */
    SPF_FATAL,    /* the guest mapped the VMM's region (v->fatal says so) */
};

/* Allocates the shadow's bookkeeping (after the VMM memory exists). */
int shadow_init(struct vcpu *v);
void shadow_free(struct vcpu *v);

/* Drops every shadow translation and rebuilds the empty shadow page
 * directory for the guest's current paging state (v->cr0, v->cr4): empty
 * when the guest pages, 4 MiB identity pages when it does not. Forgets the
 * write-protected page-table pages. */
void shadow_flush(struct vcpu *v);

/* Real #PF at lin with error code err, outside the view. For SPF_GUEST,
 * *guest_err is the error code the guest's tables give. For SPF_EMULATE,
 * *pt_write tells whether the target page is a write-protected page-table
 * page (the shadow must be flushed after the emulated write). */
enum shadow_pf shadow_page_fault(struct vcpu *v, uint32_t lin, uint32_t err, uint32_t *guest_err,
                                 bool *pt_write);

/* Reads n bytes of the guest's linear space through the guest's own
 * tables (no accessed bits set); unmapped bytes read as zero. */
void shadow_read_guest(struct vcpu *v, uint32_t lin, void *dst, uint32_t n);

/* The value of the real CR3 while the guest runs. */
uint32_t shadow_root(void);

#endif
