/*
 * Services of the protection layer that other instruction families call.
 * Implemented in cpu/segment.c and cpu/io.c; cpu/scaffold.c holds weak
 * real-mode fallbacks until those land.
 */
#ifndef TRAPEZE_CPU_PROTECT_H
#define TRAPEZE_CPU_PROTECT_H

#include "cpu.h"

/* Loads data/stack segment register s (not CS) as MOV Sreg / POP Sreg /
 * LDS... do: real and V86 mode set base = sel << 4; protected mode performs
 * every descriptor, type and privilege check (#GP(sel), #SS(sel), #NP(sel)),
 * sets the accessed bit and loads the cache. Loading SS also sets the
 * interrupt shadow (the caller does it: MOV/POP SS only). */
void cpu_load_seg(struct cpu *c, int s, uint16_t sel);

/* Port permission for IN/OUT/INS/OUTS of size bytes at port: when CPL > IOPL
 * or in V86 mode, every byte's bit in the TSS I/O bitmap must be clear;
 * #GP(0) otherwise. */
void cpu_io_check(struct cpu *c, uint16_t port, int size);

/* Port access after the permission check (bus dispatch, tracing). */
uint32_t cpu_port_in(struct cpu *c, uint16_t port, int size);
void cpu_port_out(struct cpu *c, uint16_t port, int size, uint32_t v);

#endif
