#!/bin/sh
# SPDX-License-Identifier: MIT
# The Linux/KVM L1 image, from Debian packages only (README, "Linux/KVM as L1"):
#   OUT/vmlinux          the decompressed ELF64 kernel (PVH entry), from linux-image-6.1*-amd64
#   OUT/vmlinuz          the same kernel as Debian ships it, a bzImage (the boot protocol path)
#   OUT/initramfs.cpio   uncompressed newc: busybox-static, /init, kvm modules (.BTF stripped), kvmtest,
#                        mbload (a Multiboot kernel as a KVM guest: make compare-kvm)
#   OUT/cmdline          the kernel command line the runs use
# Usage: guests/linux/build.sh [OUT]   (default build/linux). KVER=6.1.0-NN-amd64 picks a kernel.
# Cached: the packages and the kernel are fetched and unpacked once; a second run
# only rebuilds what changed (kvmtest, init, the cpio).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-build/linux}
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT/debs"
OUT=$(cd "$OUT" && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "linux-image: $*"; }

# Debian 12's current 6.1 kernel: what the linux-image-amd64 metapackage depends on.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -n 1
}

if [ -n "${KVER:-}" ]; then
	kpkg=linux-image-$KVER
elif [ -f "$OUT/debs/kernel-package" ]; then
	kpkg=$(cat "$OUT/debs/kernel-package")
else
	kpkg=$(kernel_package)
	if [ -z "$kpkg" ]; then
		say "no package list yet: apt-get update"
		$SUDO apt-get update -qq
		kpkg=$(kernel_package)
	fi
	[ -n "$kpkg" ] || { echo "linux-image: error: no linux-image-6.1*-amd64 found through linux-image-amd64" >&2; exit 1; }
fi
kver=${kpkg#linux-image-}

# 1. The packages (apt-get download: no install, no root needed for the files).
fetch() {  # fetch PACKAGE -> prints the .deb path
	set -- "$1" "$(ls "$OUT"/debs/"$1"_*.deb 2>/dev/null | head -n 1)"
	if [ -z "$2" ]; then
		say "downloading $1" >&2
		(cd "$OUT/debs" && apt-get download "$1" >&2 2>/dev/null) ||
			(cd "$OUT/debs" && apt-get download "$1" >&2)
		set -- "$1" "$(ls "$OUT"/debs/"$1"_*.deb | head -n 1)"
	fi
	echo "$2"
}
kdeb=$(fetch "$kpkg")
bbdeb=$(fetch busybox-static)
echo "$kpkg" > "$OUT/debs/kernel-package"

# 2. Unpack once per package.
unpack() {  # unpack DEB DIR
	if [ ! -f "$2/.unpacked" ] || [ "$1" -nt "$2/.unpacked" ]; then
		say "unpacking $(basename "$1")"
		rm -rf "$2"
		mkdir -p "$2"
		dpkg-deb -x "$1" "$2"
		touch "$2/.unpacked"
	fi
}
unpack "$kdeb" "$OUT/kernel"
unpack "$bbdeb" "$OUT/busybox"

# 3. vmlinux out of the bzImage: the compressed payload, decompressed.
bz="$OUT/kernel/boot/vmlinuz-$kver"
if [ ! -f "$OUT/vmlinux" ] || [ "$bz" -nt "$OUT/vmlinux" ] || [ "$here/extract-vmlinux.py" -nt "$OUT/vmlinux" ]; then
	say "extracting vmlinux from $(basename "$bz")"
	"$PYTHON" "$here/extract-vmlinux.py" "$bz" "$OUT/vmlinux.tmp"
	mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
fi

# The bzImage itself, under a fixed name, for L1s booted through the Linux boot protocol.
if [ ! -f "$OUT/vmlinuz" ] || [ "$bz" -nt "$OUT/vmlinuz" ]; then
	cp -p "$bz" "$OUT/vmlinuz"
fi

# 4. The modules: kvm-intel and what it depends on (modinfo's depends=), .BTF stripped.
moddir="$OUT/kernel/lib/modules/$kver/kernel"
mkdir -p "$OUT/root/lib/modules"
mod_depends() {  # the depends= of a module, comma separated
	objcopy -O binary --only-section=.modinfo "$1" /dev/stdout | tr '\0' '\n' |
		sed -n 's/^depends=//p'
}
mod_path() { find "$moddir" -name "$1.ko" | head -n 1; }
order=""
add_module() {  # dependencies first
	case " $order " in *" $1 "*) return ;; esac
	p=$(mod_path "$1")
	[ -n "$p" ] || { echo "linux-image: error: module $1 not in $kpkg" >&2; exit 1; }
	for d in $(mod_depends "$p" | tr ',' ' '); do
		add_module "$d"
	done
	p=$(mod_path "$1")    # the recursion used p too (sh has no locals)
	order="$order $1"
	if [ ! -f "$OUT/root/lib/modules/$1.ko" ] || [ "$p" -nt "$OUT/root/lib/modules/$1.ko" ]; then
		objcopy -R .BTF "$p" "$OUT/root/lib/modules/$1.ko"
	fi
}
add_module kvm-intel
echo $order > "$OUT/root/lib/modules/order"

# 5. busybox, /init, kvmtest, mbload.
mkdir -p "$OUT/root/bin" "$OUT/root/dev" "$OUT/root/proc" "$OUT/root/sys" "$OUT/root/tmp"
cp "$OUT/busybox/bin/busybox" "$OUT/root/bin/busybox"
cp "$here/init" "$OUT/root/init"
chmod 755 "$OUT/root/init"
for src in kvmtest.c kvmtest.h l2.S; do
	[ -f "$OUT/root/kvmtest" ] && [ ! "$here/$src" -nt "$OUT/root/kvmtest" ] || rm -f "$OUT/root/kvmtest"
done
if [ ! -f "$OUT/root/kvmtest" ]; then
	say "building kvmtest"
	$CC -static -O2 -Wall -Wextra -Werror -o "$OUT/root/kvmtest" "$here/kvmtest.c" "$here/l2.S"
fi
if [ ! -f "$OUT/root/mbload" ] || [ "$here/mbload.c" -nt "$OUT/root/mbload" ] ||
   [ "$here/../../vmx/multiboot.h" -nt "$OUT/root/mbload" ]; then
	say "building mbload"
	$CC -static -O2 -Wall -Wextra -Werror -I"$here/../.." -o "$OUT/root/mbload" "$here/mbload.c"
fi

# 6. The initramfs (uncompressed newc) and the command line.
"$PYTHON" "$here/mkcpio.py" "$OUT/root" "$OUT/initramfs.cpio.tmp"
mv "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"
cp "$here/cmdline" "$OUT/cmdline"
say "$kver: $OUT/vmlinux ($(wc -c < "$OUT/vmlinux") bytes), $OUT/vmlinuz ($(wc -c < "$OUT/vmlinuz") bytes), $OUT/initramfs.cpio ($(wc -c < "$OUT/initramfs.cpio") bytes), modules:$order"
