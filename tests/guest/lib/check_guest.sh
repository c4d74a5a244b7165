#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks a linked guest kernel the way a Multiboot v1 loader will see it:
# ELF32 i386, and a valid header (magic, flags, checksum) in the first 8 KiB,
# 4-byte aligned (Multiboot 0.6.96, 3.1.1 "The layout of Multiboot header").
set -eu
elf=$1
fail() { echo "check_guest: $elf: $*" >&2; exit 1; }

class=$(od -An -tx1 -j4 -N1 "$elf" | tr -d ' ')
machine=$(od -An -tu2 -j18 -N2 "$elf" | tr -d ' ')
[ "$class" = 01 ] || fail "not ELFCLASS32"
[ "$machine" = 3 ] || fail "not EM_386 (e_machine=$machine)"

# Scan the first 8192 bytes as little-endian 32-bit words.
od -An -v -tu4 -w4 -N8192 "$elf" | awk -v elf="$elf" '
	{ w[NR - 1] = $1 }
	END {
		for (i = 0; i < NR - 2; i++) {
			if (w[i] != 464367618) continue          # 0x1BADB002
			if ((w[i] + w[i + 1] + w[i + 2]) % 4294967296 != 0) {
				printf "check_guest: %s: bad Multiboot checksum at offset %d\n", elf, i * 4 > "/dev/stderr"
				exit 1
			}
			if (int(w[i + 1] / 65536) % 2) {
				printf "check_guest: %s: unexpected a.out kludge flag\n", elf > "/dev/stderr"
				exit 1
			}
			exit 0
		}
		printf "check_guest: %s: no Multiboot header in the first 8 KiB\n", elf > "/dev/stderr"
		exit 1
	}'
