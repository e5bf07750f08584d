/*
 * CPUID for a GenuineIntel Pentium II (family 6, model 3, stepping 3),
 * advertising only what this emulator implements. Guests (Linux above all)
 * pick code paths from these bits, so a bit set here for something that is
 * not implemented is a bug that shows up far from its cause.
 */
#include "cpuid.h"
#include "handlers.h"
#include "cpu.h"

/*
 * The x87 FPU: 0 until cpu/x87*.c implements the instruction set; the FPU
 * engineer flips this one constant when it lands. (Without it Linux needs
 * math emulation, which Debian's kernel lacks.)
 */
#define CPUID_HAS_FPU 1 /* x87: cpu/x87*.c, opcodes in cpu/x87_insns.c */

uint32_t cpuid_features_edx(void)
{
    uint32_t f = CPUID_DE     /* CR4.DE: DR4/DR5 #UD and I/O breakpoints (system.c, io.c) */
                 | CPUID_PSE  /* 4 MiB pages (mmu/) */
                 | CPUID_TSC  /* RDTSC, CR4.TSD (msr.c) */
                 | CPUID_MSR  /* RDMSR/WRMSR (msr.c) */
                 | CPUID_CX8  /* CMPXCHG8B */
                 | CPUID_SEP  /* SYSENTER/SYSEXIT (sysenter.c) */
                 | CPUID_PGE  /* global pages, CR4.PGE (mmu/) */
                 | CPUID_CMOV; /* CMOVcc */
    /* Not implemented, so not advertised: VME, PAE, MCE, APIC, MTRR, MCA,
     * PAT, PSE36, MMX, FXSR. */
    if (CPUID_HAS_FPU)
        f |= CPUID_FPU;
    return f;
}

#define CPUID_MAX_LEAF 2u

void cpuid_query(uint32_t leaf, uint32_t out[4])
{
    /* Intel: a leaf above the maximum (basic or extended; this CPU has no
     * extended leaves) returns the highest basic leaf's data. */
    if (leaf > CPUID_MAX_LEAF)
        leaf = CPUID_MAX_LEAF;
    switch (leaf) {
    case 0:
        out[0] = CPUID_MAX_LEAF;
        out[1] = 0x756e6547u; /* "Genu" */
        out[3] = 0x49656e69u; /* "ineI" */
        out[2] = 0x6c65746eu; /* "ntel" */
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[1] = 0; /* no brand index, CLFLUSH size or APIC ID on a P6 */
        out[2] = 0;
        out[3] = cpuid_features_edx();
        break;
    default:
        /* Leaf 2, cache and TLB descriptors of a Pentium II with 512 KiB
         * L2, as the real part reports: AL = 1 (one CPUID 2 call needed),
         * 01 ITLB 4K, 02 ITLB 4M, 03 DTLB 4K, 43 L2 512K 4-way 32B,
         * 08 L1I 16K, 04 DTLB 4M, 0C L1D 16K. */
        out[0] = 0x03020101u;
        out[1] = 0;
        out[2] = 0;
        out[3] = 0x0c040843u;
        break;
    }
}

/* CPUID: not privileged and not faulting on a P6; CPUID is classified
 * behaviour-sensitive (a VMM presents its own identity). */
void cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint32_t out[4];
    cpuid_query(c->r[R_EAX], out);
    c->r[R_EAX] = out[0];
    c->r[R_EBX] = out[1];
    c->r[R_ECX] = out[2];
    c->r[R_EDX] = out[3];
}
