#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write DIR as an uncompressed newc cpio archive (Linux initramfs), reproducibly.

The "new ASCII" format (Documentation/driver-api/early-userspace/buffer-format.rst):
per entry a 110-byte header of "070701" and 13 eight-digit hex fields, the name
with its NUL padded to 4 bytes, the data padded to 4 bytes; "TRAILER!!!" last.
Everything is owned by root with mtime 0, in sorted order, so the same tree gives
the same bytes. /dev/console (char 5:1) is added: the kernel opens it for init
before any devtmpfs exists, and creating the node needs no root this way.

Usage: mkcpio.py DIR OUT
"""
import os
import stat
import sys


def header(ino, mode, nlink, size, rdev, name):
    major, minor = rdev
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name) + 1, 0]
    return ("070701" + "".join(f"{v:08x}" for v in fields)).encode()


def pad(n):
    return b"\0" * (-n % 4)


def entry(out, ino, mode, name, data=b"", rdev=(0, 0)):
    nlink = 2 if stat.S_ISDIR(mode) else 1
    h = header(ino, mode, nlink, len(data), rdev, name) + name.encode() + b"\0"
    out.write(h + pad(len(h)) + data + pad(len(data)))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    root, outname = sys.argv[1], sys.argv[2]
    items = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            items.append((os.path.relpath(full, root), full))
    items.sort()
    ino = 1
    with open(outname, "wb") as out:
        for rel, full in items:
            st = os.lstat(full)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                entry(out, ino, stat.S_IFDIR | perm, rel)
            elif stat.S_ISLNK(st.st_mode):
                entry(out, ino, stat.S_IFLNK | 0o777, rel, os.readlink(full).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    entry(out, ino, stat.S_IFREG | perm, rel, f.read())
            else:
                sys.exit(f"mkcpio: error: {full}: not a directory, file or symlink")
            ino += 1
        if not any(rel == "dev/console" for rel, _ in items):
            if not any(rel == "dev" for rel, _ in items):
                entry(out, ino, stat.S_IFDIR | 0o755, "dev")
                ino += 1
            entry(out, ino, stat.S_IFCHR | 0o600, "dev/console", rdev=(5, 1))
            ino += 1
        entry(out, 0, 0, "TRAILER!!!")


if __name__ == "__main__":
    main()
