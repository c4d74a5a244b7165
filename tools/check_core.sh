#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks on the linked core ELF that the linker script cannot express.
set -eu
elf="$1"
fail() { echo "check_core: $elf: $*" >&2; exit 1; }
hdr=$(readelf -h "$elf")
echo "$hdr" | grep -q "Type:.*EXEC" || fail "not ET_EXEC"
echo "$hdr" | grep -q "Machine:.*X86-64" || fail "not x86-64"
entry=$(echo "$hdr" | sed -n 's/.*Entry point address:[[:space:]]*//p')
[ "$entry" = "0xffffffff80000000" ] || fail "entry $entry is not NV_CORE_VBASE"
# No writable and executable segment; no dynamic relocations left.
readelf -lW "$elf" | awk '$1 == "LOAD" && $7 ~ /W/ && $7 ~ /E/ { bad = 1 } END { exit bad }' \
	|| fail "a LOAD segment is both writable and executable"
if readelf -rW "$elf" | grep -q "Relocation section"; then fail "has relocations"; fi
# Undefined symbols would be silently zero in a static link.
if nm -u "$elf" | grep -q .; then fail "undefined symbols: $(nm -u "$elf" | tr '\n' ' ')"; fi
exit 0
