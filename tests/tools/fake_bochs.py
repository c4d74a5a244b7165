#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for `bochs -q -f BOCHSRC -rc CONT` in the tools tests: no emulation.

Reads the bochsrc the runner wrote, then writes the fixture file named by
FAKE_BOCHS_COM1 line by line into the com1 file it names (and FAKE_BOCHS_COM2
into com2's, after COM1's), as an emulator would while it runs. Then it exits
with status 1, as Bochs does after an ACPI power-off (FAKE_BOCHS_END=exit), or
never exits (FAKE_BOCHS_END=hang) so the runner must kill it. FAKE_BOCHS_CALLED
names a file it creates, so a test can tell that it was started at all.
"""

import os
import re
import sys
import time

LINE_DELAY_S = 0.002


def port_files(bochsrc):
    """{'com1': path, 'com2': path} from the bochsrc's comN lines."""
    with open(bochsrc) as f:
        return {m.group(1): m.group(2)
                for m in re.finditer(r"^(com[12]): enabled=1, mode=file, dev=(\S+)$", f.read(), re.M)}


def play(fixture, dest):
    """Append the fixture's lines to dest one at a time."""
    with open(fixture, "rb") as src, open(dest, "ab") as out:
        for line in src:
            out.write(line)
            out.flush()
            time.sleep(LINE_DELAY_S)


def main():
    open(os.environ["FAKE_BOCHS_CALLED"], "w").close()
    ports = port_files(sys.argv[sys.argv.index("-f") + 1])
    for port in ("com1", "com2"):
        fixture = os.environ.get("FAKE_BOCHS_" + port.upper())
        if fixture:
            play(fixture, ports[port])
    if os.environ.get("FAKE_BOCHS_END") == "hang":
        while True:
            time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
