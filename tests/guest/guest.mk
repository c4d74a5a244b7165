# SPDX-License-Identifier: MIT
# Guest kernels: every directory under tests/guest/ (except lib/) and under guests/
# is one Multiboot v1 ELF32 kernel made of its *.c and *.asm plus the guest library
# (tests/guest/lib/ and the shared lib/string.c, lib/fmt.c built for -m32).
#   tests/guest/<name>/ -> $(BUILD)/guest/<name>.elf   (test kernels)
#   guests/<name>/      -> $(BUILD)/guests/<name>.elf  (bundled L1s, e.g. bench)
# A directory holding a file BITS64 is a 64-bit kernel: its sources and the
# library (without the 32-bit entry, exception and libgcc files, with lib/64/)
# are built for -m64 under $(BUILD)/guest-obj64/, linked as ELF64 and converted
# to ELF32 (Multiboot v1 loads ELF32 only; the loader uses p_paddr).
# A directory holding a file LIBRARY (e.g. vmxlib/) is not a kernel but shared
# sources: a kernel whose file LIBS names it (one name a word) is built with its
# *.c and *.asm, and every library directory is on the include path.

GUEST_LIBDIR := tests/guest/lib

# Shared source directories (a file LIBRARY) and the sources a kernel takes from
# them: $(1) = kernel source directory.
GUEST_SUBLIB_DIRS := $(patsubst %/LIBRARY,%,$(wildcard tests/guest/*/LIBRARY))
guest_srcs = $(sort $(wildcard $(1)/*.c $(1)/*.asm)) \
	$(foreach l,$(if $(wildcard $(1)/LIBS),$(shell cat $(1)/LIBS)),\
		$(sort $(wildcard tests/guest/$(l)/*.c tests/guest/$(l)/*.asm)))

GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -I$(GUEST_LIBDIR) $(addprefix -I,$(GUEST_SUBLIB_DIRS))
GUEST_CFLAGS += -m32 -march=i686            # Multiboot enters in 32-bit protected mode
GUEST_CFLAGS += -ffreestanding              # no hosted libc: lib/ brings string/printf
GUEST_CFLAGS += -fno-pic -fno-pie           # linked at a fixed address (guest.ld)
GUEST_CFLAGS += -fno-stack-protector        # no TLS canary in a bare kernel
GUEST_CFLAGS += -fno-common                 # every global has exactly one definition
GUEST_CFLAGS += -fno-asynchronous-unwind-tables # no .eh_frame: nothing unwinds
GUEST_CFLAGS += -mgeneral-regs-only         # never touch FPU/SSE state (nobody enables it)
GUEST_CFLAGS += -ffunction-sections -fdata-sections # lets --gc-sections drop dead code
GUEST_CFLAGS += -MMD -MP
GUEST_NASMFLAGS := -f elf32 -g -I$(GUEST_LIBDIR)/
GUEST_LDFLAGS := -m elf_i386 -T $(GUEST_LIBDIR)/guest.ld --gc-sections -nostdlib -static \
	-z max-page-size=4096 -z noexecstack --no-dynamic-linker

# Object files of a list of sources, under $(BUILD)/guest-obj/.
guest_objs = $(patsubst %.c,$(BUILD)/guest-obj/%.o,$(filter %.c,$(1))) \
	$(patsubst %.asm,$(BUILD)/guest-obj/%.asm.o,$(filter %.asm,$(1)))

GUEST_LIB_SRCS := $(sort $(wildcard $(GUEST_LIBDIR)/*.c $(GUEST_LIBDIR)/*.asm)) \
	lib/string.c lib/fmt.c
GUEST_LIB_OBJS := $(call guest_objs,$(GUEST_LIB_SRCS))

$(BUILD)/guest-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-M32  $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest-obj/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM32  $<"
	$(Q)$(NASM) $(GUEST_NASMFLAGS) -MD $@.d -MP $< -o $@

# $(1) = kernel source directory, $(2) = output ELF.
define guest_kernel
$(2): $(call guest_objs,$(call guest_srcs,$(1))) $(GUEST_LIB_OBJS) \
		$(GUEST_LIBDIR)/guest.ld $(GUEST_LIBDIR)/check_guest.sh
	@mkdir -p $$(dir $$@)
	@echo "  LD-M32  $$@"
	$(Q)$(LLD) $(GUEST_LDFLAGS) $$(filter %.o,$$^) -o $$@
	$(Q)sh $(GUEST_LIBDIR)/check_guest.sh $$@
GUEST_ELFS += $(2)
endef

GUEST_TEST_DIRS := $(filter-out $(GUEST_LIBDIR) $(GUEST_SUBLIB_DIRS),$(patsubst %/,%,$(sort $(wildcard tests/guest/*/))))
# guests/linux is no Multiboot kernel: make linux-image builds it (guests/linux/build.sh).
GUEST_L1_DIRS   := $(filter-out guests/linux,$(patsubst %/,%,$(sort $(wildcard guests/*/))))

# ---- 64-bit kernels ---------------------------------------------------------
GUEST64_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -I$(GUEST_LIBDIR) $(addprefix -I,$(GUEST_SUBLIB_DIRS))
GUEST64_CFLAGS += -m64 -mcmodel=small       # linked below 2 GiB: 32-bit absolute addresses
GUEST64_CFLAGS += -mno-red-zone             # exceptions push onto the current stack
GUEST64_CFLAGS += -ffreestanding            # no hosted libc: lib/ brings string/printf
GUEST64_CFLAGS += -fno-pic -fno-pie         # linked at a fixed address (64/guest64.ld)
GUEST64_CFLAGS += -fno-stack-protector      # no TLS canary in a bare kernel
GUEST64_CFLAGS += -fno-common               # every global has exactly one definition
GUEST64_CFLAGS += -fno-asynchronous-unwind-tables # no .eh_frame: nothing unwinds
GUEST64_CFLAGS += -mgeneral-regs-only       # never touch FPU/SSE state (nobody enables it)
GUEST64_CFLAGS += -ffunction-sections -fdata-sections # lets --gc-sections drop dead code
GUEST64_CFLAGS += -MMD -MP
GUEST64_NASMFLAGS := -f elf64 -g -I$(GUEST_LIBDIR)/
GUEST64_LDFLAGS := -m elf_x86_64 -T $(GUEST_LIBDIR)/64/guest64.ld --gc-sections -nostdlib \
	-static -z max-page-size=4096 -z noexecstack --no-dynamic-linker

guest64_objs = $(patsubst %.c,$(BUILD)/guest-obj64/%.o,$(filter %.c,$(1))) \
	$(patsubst %.asm,$(BUILD)/guest-obj64/%.asm.o,$(filter %.asm,$(1)))

# The library for 64-bit kernels: everything width-neutral, plus lib/64/.
GUEST_LIB32_ONLY := $(addprefix $(GUEST_LIBDIR)/,entry.asm exception.c libgcc.c)
GUEST_LIB64_SRCS := $(filter-out $(GUEST_LIB32_ONLY),$(GUEST_LIB_SRCS)) \
	$(sort $(wildcard $(GUEST_LIBDIR)/64/*.c $(GUEST_LIBDIR)/64/*.asm))
GUEST_LIB64_OBJS := $(call guest64_objs,$(GUEST_LIB64_SRCS))

$(BUILD)/guest-obj64/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-M64  $<"
	$(Q)$(CC) $(GUEST64_CFLAGS) -c $< -o $@

$(BUILD)/guest-obj64/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM64  $<"
	$(Q)$(NASM) $(GUEST64_NASMFLAGS) -MD $@.d -MP $< -o $@

# $(1) = kernel source directory, $(2) = output ELF32; the ELF64 (with its
# debug information, for gdb/objdump) stays next to the objects.
define guest_kernel64
$(BUILD)/guest-obj64/$(1).elf64: $(call guest64_objs,$(call guest_srcs,$(1))) \
		$(GUEST_LIB64_OBJS) $(GUEST_LIBDIR)/64/guest64.ld
	@mkdir -p $$(dir $$@)
	@echo "  LD-M64  $$@"
	$(Q)$(LLD) $(GUEST64_LDFLAGS) $$(filter %.o,$$^) -o $$@
$(2): $(BUILD)/guest-obj64/$(1).elf64 $(GUEST_LIBDIR)/check_guest.sh
	@mkdir -p $$(dir $$@)
	@echo "  ELF32   $$@"
	$(Q)$(OBJCOPY) -O elf32-i386 $$< $$@
	$(Q)sh $(GUEST_LIBDIR)/check_guest.sh $$@
GUEST_ELFS += $(2)
endef

# One kernel of either width: $(1) = source directory, $(2) = output ELF32.
guest_any = $(if $(wildcard $(1)/BITS64),$(call guest_kernel64,$(1),$(2)),$(call guest_kernel,$(1),$(2)))

$(foreach d,$(GUEST_TEST_DIRS),$(eval $(call guest_any,$(d),$(BUILD)/guest/$(notdir $(d)).elf)))
$(foreach d,$(GUEST_L1_DIRS),$(eval $(call guest_any,$(d),$(BUILD)/guests/$(notdir $(d)).elf)))

.PHONY: guests
guests: $(GUEST_ELFS)
