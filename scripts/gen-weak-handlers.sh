#!/usr/bin/env bash
# Emits a C file with a weak #UD definition of every handler named in the
# opcode table (cpu/opcodes.def). Real definitions override them at link time.
set -euo pipefail
def=${1:-cpu/opcodes.def}
echo '/* Generated from cpu/opcodes.def by scripts/gen-weak-handlers.sh. */'
echo '#include "cpu/cpu.h"'
echo '#include "cpu/insn.h"'
bash "$(dirname "$0")/list-handlers.sh" "$def" |
while read -r fn; do
  printf '__attribute__((weak)) void %s(struct cpu *c, const struct insn *i) { (void)i; cpu_fault(c, EX_UD, 0); }\n' "$fn"
done
