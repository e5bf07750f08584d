/*
 * CPUID: the identity this CPU presents (cpu/cpuid.c). The VMM uses the same
 * functions to build a guest's virtual CPUID, so what is advertised is
 * decided in exactly one place.
 */
#ifndef TRAPEZE_CPU_CPUID_H
#define TRAPEZE_CPU_CPUID_H

#include <stdint.h>

/* CPUID.1:EDX feature bits */
enum {
    CPUID_FPU = 1u << 0,
    CPUID_VME = 1u << 1,
    CPUID_DE = 1u << 2,
    CPUID_PSE = 1u << 3,
    CPUID_TSC = 1u << 4,
    CPUID_MSR = 1u << 5,
    CPUID_PAE = 1u << 6,
    CPUID_MCE = 1u << 7,
    CPUID_CX8 = 1u << 8,
    CPUID_APIC = 1u << 9,
    CPUID_SEP = 1u << 11,
    CPUID_MTRR = 1u << 12,
    CPUID_PGE = 1u << 13,
    CPUID_MCA = 1u << 14,
    CPUID_CMOV = 1u << 15,
    CPUID_PAT = 1u << 16,
    CPUID_PSE36 = 1u << 17,
    CPUID_MMX = 1u << 23,
    CPUID_FXSR = 1u << 24,
};

/* Family 6, model 3, stepping 3: a Pentium II (Klamath). */
#define CPUID_SIGNATURE 0x0633u

/* CPUID.1:EDX: exactly the features implemented. */
uint32_t cpuid_features_edx(void);

/* Executes CPUID for leaf: out[0..3] = EAX, EBX, ECX, EDX. */
void cpuid_query(uint32_t leaf, uint32_t out[4]);

#endif
