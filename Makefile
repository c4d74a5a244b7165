# SPDX-License-Identifier: MIT
# nestvisor: `make run` boots the bundled L1 in Bochs + OVMF; `make test` runs every test.
# Both install what is missing first (make deps).

BUILD   ?= build
CC      ?= gcc
HOSTCC  ?= gcc
NASM    ?= nasm
LLD     ?= ld.lld
OBJCOPY ?= objcopy
# Debian's interpreter: the Debian Python packages below (python3-jsonschema) are its.
PYTHON  ?= $(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3)
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

# Debian packages the build, the runs and the tests need (make deps installs them).
DEPS_PKGS := gcc make binutils nasm lld gnu-efi mtools dosfstools python3 \
	bochs bochs-term bochsbios vgabios ovmf qemu-system-x86 \
	grub-pc-bin grub-common xorriso \
	python3-jsonschema gnuplot-nox clang
# The Linux/KVM L1 (make linux-image): the kernel and busybox come as .debs
# (apt-get download), kvmtest is linked statically.
DEPS_PKGS += libc6-dev linux-libc-dev xz-utils dpkg

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter

# ---------------------------------------------------------------------------
# The L0 core: core/ vmx/ ept/ nested/ drivers/ + lib/, one static ELF.
CORE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -I.
CORE_CFLAGS += -ffreestanding               # no hosted libc: we bring our own string/printf
CORE_CFLAGS += -fno-pic -fno-pie            # linked at a fixed address (linker.ld)
CORE_CFLAGS += -mcmodel=kernel              # that address is in the top 2 GiB
CORE_CFLAGS += -mno-red-zone                # exceptions push onto the current stack
CORE_CFLAGS += -mgeneral-regs-only          # L0 never touches FPU/SSE state: it stays L1's
CORE_CFLAGS += -fno-stack-protector         # no TLS canary in a bare kernel
CORE_CFLAGS += -fno-common                  # every global has exactly one definition
CORE_CFLAGS += -fno-asynchronous-unwind-tables # no .eh_frame: nothing unwinds
CORE_CFLAGS += -ffunction-sections -fdata-sections # lets --gc-sections drop dead code
CORE_CFLAGS += -fno-omit-frame-pointer      # panic walks the frame-pointer chain
CORE_CFLAGS += -Wframe-larger-than=1024     # L0 stacks are small and fixed
CORE_CFLAGS += -MMD -MP
# PROBES=1: instruction-count probes of the exit paths (core/probe.h), for profiling
CORE_CFLAGS += $(if $(filter 1,$(PROBES)),-DNV_PROBES)
CORE_LDFLAGS := -T linker.ld --gc-sections -nostdlib -static -z max-page-size=4096 \
	-z noexecstack --no-dynamic-linker
CORE_NASMFLAGS := -f elf64 -g -Ivmx/ -I$(BUILD)/gen/

CORE_DIRS := core vmx ept nested drivers lib
CORE_C    := $(sort $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
CORE_ASM  := $(sort $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.asm)))
CORE_OBJS := $(patsubst %.c,$(BUILD)/core-obj/%.o,$(CORE_C)) \
	     $(patsubst %.asm,$(BUILD)/core-obj/%.asm.o,$(CORE_ASM))
CORE_ELF  := $(BUILD)/core.elf

# Offsets of C structures that assembly uses, generated from C (never typed by hand).
ASM_OFFSETS := $(BUILD)/gen/asm_offsets.inc

# Objects are rebuilt when the flags change (PROBES=1 and back).
CORE_FLAGS_STAMP := $(BUILD)/gen/core-cflags
$(shell mkdir -p $(BUILD)/gen; echo '$(CORE_CFLAGS)' | cmp -s - $(CORE_FLAGS_STAMP) || \
	echo '$(CORE_CFLAGS)' > $(CORE_FLAGS_STAMP))

$(BUILD)/core-obj/%.o: %.c $(CORE_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/core-obj/%.asm.o: %.asm $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(CORE_NASMFLAGS) -MD $@.d -MP $< -o $@

$(ASM_OFFSETS): vmx/asm_offsets.c $(wildcard vmx/*.h core/*.h include/nestvisor/*.h)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(CC) $(CORE_CFLAGS) -MF /dev/null -S $< -o $@.s
	$(Q)sed -n 's/.*@@OFFSET@@ \([A-Za-z0-9_]*\) \$$\{0,1\}\([0-9-]*\).*/%define \1 \2/p' $@.s > $@.tmp
	$(Q)test -s $@.tmp && mv $@.tmp $@ && rm -f $@.s

$(CORE_ELF): $(filter-out $(BUILD)/core-obj/vmx/asm_offsets.o,$(CORE_OBJS)) linker.ld tools/check_core.sh
	@echo "  LD      $@"
	$(Q)$(LLD) $(CORE_LDFLAGS) $(filter %.o,$^) -o $@
	$(Q)sh tools/check_core.sh $@

# ---------------------------------------------------------------------------
# The UEFI loader: boot/ + lib/ with gnu-efi, its own flag set.
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
BOOT_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Iboot
BOOT_CFLAGS += -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -DEFI_FUNCTION_WRAPPER # gnu-efi headers: not our warnings
BOOT_CFLAGS += -fpic                        # the firmware relocates the image
BOOT_CFLAGS += -fshort-wchar                # UEFI strings are UCS-2
BOOT_CFLAGS += -mno-red-zone                # firmware interrupts use our stack
BOOT_CFLAGS += -ffreestanding -fno-stack-protector -fno-strict-aliasing
BOOT_CFLAGS += -MMD -MP
BOOT_C    := $(sort $(wildcard boot/*.c)) lib/string.c lib/fmt.c lib/memmap.c
BOOT_OBJS := $(patsubst %.c,$(BUILD)/boot-obj/%.o,$(BOOT_C))
BOOT_EFI  := $(BUILD)/BOOTX64.EFI

$(BUILD)/boot-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-EFI  $<"
	$(Q)$(CC) $(BOOT_CFLAGS) -c $< -o $@

$(BUILD)/loader.so: $(BOOT_OBJS)
	@echo "  LD-EFI  $@"
	$(Q)ld -nostdlib -znocombreloc -shared -Bsymbolic -T $(EFI_LIB)/elf_x86_64_efi.lds \
		$(EFI_LIB)/crt0-efi-x86_64.o $^ -o $@ -L$(EFI_LIB) -lefi -lgnuefi

$(BOOT_EFI): $(BUILD)/loader.so
	@echo "  EFI     $@"
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
		-j .rela -j '.rel.*' -j '.rela.*' -j .reloc \
		--target efi-app-x86_64 --subsystem=10 $< $@

# ---------------------------------------------------------------------------
# Guest kernels (Multiboot ELF32): tests/guest/*/ and guests/*/, see tests/guest/guest.mk.
GUEST_ELFS :=
include tests/guest/guest.mk

# ---------------------------------------------------------------------------
# Host unit tests: each compiles the real sources it tests (tests/unit/unit.mk).
UNIT_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-missing-prototypes -Iinclude -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all -DNV_HOST_TEST
UNIT_TESTS :=
include tests/unit/unit.mk
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))

.SECONDEXPANSION:
# UNIT_DEPS_NAME: sources a test #includes itself (rebuild on change, not compiled apart).
# The headers every source includes are in $@.d (one -MM rule per source).
$(BUILD)/unit/test_%: tests/unit/test_%.c tests/unit/unit.c tests/unit/unit.h $$(UNIT_SRCS_$$*) \
		$$(UNIT_DEPS_$$*) $(wildcard include/nestvisor/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $< tests/unit/unit.c $(UNIT_SRCS_$*) -o $@
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MM -MP -MT $@ $< tests/unit/unit.c $(UNIT_SRCS_$*) > $@.d

# ---------------------------------------------------------------------------
# libFuzzer harnesses (tests/fuzz/fuzz.mk): each compiles the real sources it fuzzes,
# with clang's libFuzzer, ASan and UBSan, and aborts when an invariant breaks.
# `make fuzz` runs each for FUZZ_TIME seconds (FUZZ_JOBS at once), keeping a corpus
# in $(BUILD)/fuzz/corpus/; `make fuzz-smoke` runs each on a fixed number of inputs
# (FUZZ_RUNS, default tools/fuzz.py's SMOKE_RUNS, as make test does).
# FUZZ_TARGETS="config ept02" picks some.
FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
FUZZ_JOBS ?= 2
FUZZ_RUNS ?=
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-missing-prototypes -Iinclude -I. -Itests/fuzz \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -DNV_HOST_TEST
FUZZ_HARNESSES :=
include tests/fuzz/fuzz.mk
FUZZ_TARGETS ?= $(FUZZ_HARNESSES)
fuzz_bins = $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(1))
FUZZ_BINS := $(call fuzz_bins,$(FUZZ_HARNESSES))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $$(FUZZ_SRCS_$$*) $$(FUZZ_DEPS_$$*) \
		$(wildcard include/nestvisor/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS_$*) -o $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MM -MP -MT $@ $< $(FUZZ_SRCS_$*) > $@.d

# ---------------------------------------------------------------------------
# make run: the benchmark L1 under nestvisor in Bochs + OVMF, then its report
# (tools/report.py: a table, and JSON/CSV/SVG in $(RESULTS)). Every variable is
# optional (README, "make run"):
#   SHADOW=on|off ACCT=on|off    nestvisor.cfg vmcs_shadowing / accounting
#   SHADOW_SET=hot|wide          nestvisor.cfg vmcs_shadow_set
#   CPU=<Bochs model>  CPUOPTS="KEY=VALUE ..."  EMU=bochs|kvm|qemu|auto
#   L1=<image>  OPS=<op,...>  KINDS=<kind,...>  HANDLERS=<handler,...>  N=<samples per op>
#   L1=linux: Debian's Linux with KVM as L1 (make linux-image), kvmtest's figures, no report
#   L0LOG=com1|com2
#   RESULTS=<dir>  TIMEOUT=<seconds>  VERBOSE=1  RUNFLAGS=<more tools/nvrun.py options>
L1      ?= $(BUILD)/guests/exitbench.elf
RESULTS ?= results
RUN_WORKDIR ?= $(BUILD)/run
check_on_off = $(if $(filter-out on off,$($(1))),$(error $(1) must be on or off, not '$($(1))'))
ifneq ($(filter run compare-kvm trace,$(MAKECMDGOALS)),)
$(call check_on_off,SHADOW)
$(call check_on_off,ACCT)
$(if $(filter-out hot wide,$(SHADOW_SET)),$(error SHADOW_SET must be hot or wide, not '$(SHADOW_SET)'))
endif
ifeq ($(L1),linux)
# The kernel's command line (guests/linux/cmdline), kvmtest's options as kvmtest.<key>=.
RUN_L1_CMDLINE = $(strip $(shell cat guests/linux/cmdline) $(if $(N),kvmtest.n=$(N)))
RUN_L1_ARGS = --l1 $(BUILD)/linux/vmlinux --module $(BUILD)/linux/initramfs.cpio --megs 1024 \
	--cfg l1_memory=512M --workdir $(RUN_WORKDIR) $(if $(TIMEOUT),,--timeout 300)
else
RUN_L1_CMDLINE = $(strip $(if $(OPS),ops=$(OPS)) $(if $(KINDS),kinds=$(KINDS)) \
	$(if $(HANDLERS),handlers=$(HANDLERS)) $(if $(N),n=$(N)))
RUN_L1_ARGS = --l1 $(L1) --workdir $(RUN_WORKDIR) --report $(RESULTS)
endif
# The runner options of the variables above but L1's (make compare-kvm uses them too).
RUN_OPT_ARGS = $(if $(EMU),--emulator $(EMU)) $(if $(CPU),--cpu $(CPU)) \
	$(foreach o,$(CPUOPTS),--cpu-option $(o)) \
	$(if $(SHADOW),--cfg vmcs_shadowing=$(SHADOW)) $(if $(SHADOW_SET),--cfg vmcs_shadow_set=$(SHADOW_SET)) \
	$(if $(ACCT),--cfg accounting=$(ACCT)) \
	$(if $(L0LOG),--l0-log-port $(L0LOG)) $(if $(TIMEOUT),--timeout $(TIMEOUT))
RUN_ARGS = --build $(BUILD) $(RUN_L1_ARGS) $(RUN_OPT_ARGS) \
	$(if $(RUN_L1_CMDLINE),--cmdline '$(RUN_L1_CMDLINE)') $(if $(filter 1,$(VERBOSE)),--verbose)

# ---------------------------------------------------------------------------
# make trace: where one benchmark operation's instructions go, from Bochs'
# instruction trace (tools/trace_exit.py; README, "Where the instructions go").
#   OP=<op> KIND=l1|l2-reflected|l2-absorbed HANDLER=realistic|minimal
#   LISTING=<file>: every traced instruction; SHADOW, SHADOW_SET, ACCT, CPU as for make run
TRACE_ARGS = --build $(BUILD) --op $(or $(OP),cpuid) --kind $(or $(KIND),l1) \
	--handler $(or $(HANDLER),realistic) $(if $(CPU),--cpu $(CPU)) \
	$(if $(SHADOW),--cfg vmcs_shadowing=$(SHADOW)) $(if $(SHADOW_SET),--cfg vmcs_shadow_set=$(SHADOW_SET)) \
	$(if $(ACCT),--cfg accounting=$(ACCT)) $(if $(LISTING),--listing $(LISTING))
trace: deps
	@$(MAKE) --no-print-directory all
	@$(PYTHON) tools/trace_exit.py $(strip $(TRACE_ARGS))

# ---------------------------------------------------------------------------
# make compare-kvm: the same benchmark with Linux's KVM as L0 (Debian's kernel on bare
# Bochs, exitbench under guests/linux/mbload.c), then nestvisor's make run with the
# same options, then one table of both (tools/compare_kvm.py; README, "Compared with
# KVM"). NESTVISOR=results/<file>.json compares with that file instead of running
# nestvisor again. Long (a few minutes): not part of make test.
COMPARE_ARGS = --build $(BUILD) --results $(RESULTS) \
	$(if $(RUN_L1_CMDLINE),--cmdline '$(RUN_L1_CMDLINE)') $(if $(NESTVISOR),--nestvisor $(NESTVISOR)) \
	$(if $(CPU),--cpu $(CPU)) $(if $(filter 1,$(VERBOSE)),--verbose)

.PHONY: all deps run run-only test unit fuzz fuzz-build fuzz-smoke clean linux-image compare-kvm trace
.DEFAULT_GOAL := all

all: $(CORE_ELF) $(BOOT_EFI) $(GUEST_ELFS) $(UNIT_BINS)

deps:
	@sh tools/deps.sh $(DEPS_PKGS)

# The main job: the benchmark L1 (guests/exitbench) and its report, see above.
run: deps
	@$(MAKE) --no-print-directory all $(if $(filter linux,$(L1)),linux-image)
	@$(MAKE) --no-print-directory run-only

# The same run on what is built already (make test runs the main job this way).
run-only:
	@$(PYTHON) tools/nvrun.py $(strip $(RUN_ARGS)) $(RUNFLAGS)

# Every test: host unit tests, short fuzz runs, tools tests, loader checks in QEMU,
# guest tests in Bochs.
test: deps
	@$(MAKE) --no-print-directory all fuzz-build linux-image
	@$(PYTHON) tools/testsuite.py --build $(BUILD) $(TESTFLAGS)

# KVM as L0 beside nestvisor, see above; the nestvisor run gets make run's options.
compare-kvm: deps
	@$(MAKE) --no-print-directory all linux-image
	@$(PYTHON) tools/compare_kvm.py $(strip $(COMPARE_ARGS)) -- $(strip $(RUN_OPT_ARGS)) $(RUNFLAGS)

# The Linux/KVM L1 from Debian packages (guests/linux/build.sh): $(BUILD)/linux/vmlinux,
# $(BUILD)/linux/vmlinuz (the bzImage), $(BUILD)/linux/initramfs.cpio,
# $(BUILD)/linux/cmdline. Cached: a second run is fast.
linux-image: deps
	@sh guests/linux/build.sh $(BUILD)/linux

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

fuzz-build: $(FUZZ_BINS)

fuzz: $(call fuzz_bins,$(FUZZ_TARGETS))
	@$(PYTHON) tools/fuzz.py --build $(BUILD) --time $(FUZZ_TIME) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-smoke: $(call fuzz_bins,$(FUZZ_TARGETS))
	@$(PYTHON) tools/fuzz.py --build $(BUILD) $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS),--smoke) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
