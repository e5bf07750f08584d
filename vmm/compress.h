/* Ring compression: shadow descriptor tables and segment compression
 * (vmm/compress.c explains the layout and the choices). */
#ifndef TRAPEZE_VMM_COMPRESS_H
#define TRAPEZE_VMM_COMPRESS_H

#include "vcpu.h"

#define VMM_BASE 0xffc00000u  /* the VMM's region: the top 4 MiB of the linear space */
#define VMM_FENCE 0xffbfffffu /* last linear address a guest segment may reach */
#define VMM_GDT_OFF 0x00000u
#define VMM_IDT_OFF 0x10000u
#define VMM_TSS_OFF 0x11000u
#define VMM_LDT_OFF 0x20000u
#define VMM_LDT_MAX 0x10000u
/* Shadow paging (vmm/shadow.c): the shadow page directory, the page table
 * that maps the VMM's region in every shadow, and the pool of shadow page
 * tables. */
#define VMM_SPD_OFF 0x30000u
#define VMM_VPT_OFF 0x31000u
#define VMM_SPT_OFF 0x32000u
#define VMM_SPT_POOL 128u
#define VMM_MEM_SIZE (VMM_SPT_OFF + VMM_SPT_POOL * 0x1000u) /* what is backed (bus_add_host_mem) */
#define VMM_SEL_LDT 0xfff0u   /* GDT slots the VMM owns */
#define VMM_SEL_TSS 0xfff8u

/* Clears VMM memory and builds the fixed parts (TSS and its descriptor). */
void compress_init(struct vcpu *v);
/* Rebuilds the shadow GDT/LDT from the guest's tables (v->gdtr, v->ldtr)
 * and points the real GDTR, IDTR, LDTR and TR at the VMM's tables. */
void compress_install(struct vcpu *v);
/* Segment register s: DPL 0 -> 1, CS/SS RPL 0 -> 1 (guest CPL 0), limit
 * truncated at VMM_FENCE. decompress_seg undoes the DPL/RPL part (the
 * truncation stays: the guest's view never reaches the VMM's region). */
void compress_seg(struct vcpu *v, int s);
void decompress_seg(struct vcpu *v, int s);

#endif
