#!/usr/bin/env bash
# Lists, one per line and sorted, the handler names in the opcode table.
set -euo pipefail
def=${1:-cpu/opcodes.def}
printf '#define OP(opc, ext, mn, ops, fn, cls, attr) HANDLER fn\n#include "%s"\n' "$(realpath "$def")" |
  gcc -E -P -x c - | awk '$1 == "HANDLER" {print $2}' | sort -u
