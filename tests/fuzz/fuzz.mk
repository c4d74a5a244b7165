# libFuzzer harnesses. Each entry: FUZZ_HARNESSES += NAME, and FUZZ_SRCS_NAME := the real
# sources tests/fuzz/fuzz_NAME.c compiles against; FUZZ_DEPS_NAME: sources the
# harness #includes itself (rebuild on change, not compiled apart).
# Seeds: tests/fuzz/corpus/NAME/.
FUZZ_HARNESSES += config
FUZZ_SRCS_config := boot/config.c lib/fmt.c
FUZZ_HARNESSES += l1image
FUZZ_SRCS_l1image := boot/l1image.c boot/l1pvh.c boot/l1bzimage.c lib/fmt.c
FUZZ_HARNESSES += coreimage
FUZZ_SRCS_coreimage := boot/coreimage.c lib/fmt.c
FUZZ_HARNESSES += operand
FUZZ_SRCS_operand :=
FUZZ_DEPS_operand := nested/operand.c
FUZZ_HARNESSES += vmcs12
FUZZ_SRCS_vmcs12 := nested/vmcs12.c vmx/vmcs_fields.c
FUZZ_HARNESSES += entry_checks
FUZZ_SRCS_entry_checks := ept/ept12.c nested/checks.c nested/caps.c nested/vmcs12.c vmx/caps.c \
	vmx/vmcs_fields.c
FUZZ_HARNESSES += merge
FUZZ_SRCS_merge := ept/ept12.c nested/merge.c nested/checks.c nested/caps.c nested/vmcs12.c \
	vmx/caps.c vmx/vmcs_fields.c
FUZZ_HARNESSES += reflect
FUZZ_SRCS_reflect := ept/ept12.c nested/reflect.c nested/checks.c nested/caps.c vmx/caps.c \
	vmx/vmcs_fields.c
FUZZ_HARNESSES += ept12
FUZZ_SRCS_ept12 := ept/ept12.c
FUZZ_HARNESSES += ept02
FUZZ_SRCS_ept02 := ept/ept02.c ept/ept02_pool.c ept/ept12.c ept/ept.c
FUZZ_HARNESSES += mmio_decode
FUZZ_SRCS_mmio_decode := vmx/mmio_decode.c
FUZZ_HARNESSES += task_switch
FUZZ_SRCS_task_switch :=
FUZZ_DEPS_task_switch := vmx/task_switch.c
FUZZ_HARNESSES += dmar
FUZZ_SRCS_dmar := drivers/dmar.c
