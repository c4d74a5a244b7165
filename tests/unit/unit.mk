# Host unit tests. Each entry: UNIT_TESTS += NAME, and UNIT_SRCS_NAME := the real
# sources tests/unit/test_NAME.c compiles against (besides tests/unit/unit.c).
UNIT_TESTS += memmap
UNIT_SRCS_memmap := lib/memmap.c lib/fmt.c
