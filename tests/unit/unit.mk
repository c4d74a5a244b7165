# Host unit tests. Each entry: UNIT_TESTS += NAME, and UNIT_SRCS_NAME := the real
# sources tests/unit/test_NAME.c compiles against (besides tests/unit/unit.c).
UNIT_TESTS += memmap
UNIT_SRCS_memmap := lib/memmap.c lib/fmt.c
UNIT_TESTS += config
UNIT_SRCS_config := boot/config.c lib/fmt.c
UNIT_TESTS += coreimage
UNIT_SRCS_coreimage := boot/coreimage.c lib/fmt.c
UNIT_TESTS += l1image
UNIT_SRCS_l1image := boot/l1image.c lib/fmt.c
UNIT_TESTS += l1plan
UNIT_SRCS_l1plan := boot/l1plan.c lib/memmap.c lib/fmt.c
UNIT_TESTS += efimap
UNIT_SRCS_efimap := boot/efimap.c lib/memmap.c lib/fmt.c
UNIT_TESTS += pagetable
UNIT_SRCS_pagetable := boot/pagetable.c lib/fmt.c
UNIT_TESTS += vmcs_fields
UNIT_SRCS_vmcs_fields := vmx/vmcs_fields.c
UNIT_TESTS += ept
UNIT_SRCS_ept := ept/ept.c ept/ept01.c lib/memmap.c
UNIT_TESTS += pmm
UNIT_SRCS_pmm := core/pmm.c
