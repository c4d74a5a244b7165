# SPDX-License-Identifier: MIT
# Guest kernels: every directory under tests/guest/ (except lib/) and under guests/
# is one Multiboot v1 ELF32 kernel made of its *.c and *.asm plus the guest library
# (tests/guest/lib/ and the shared lib/string.c, lib/fmt.c built for -m32).
#   tests/guest/<name>/ -> $(BUILD)/guest/<name>.elf   (test kernels)
#   guests/<name>/      -> $(BUILD)/guests/<name>.elf  (bundled L1s, e.g. bench)

GUEST_LIBDIR := tests/guest/lib

GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -I$(GUEST_LIBDIR)
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
$(2): $(call guest_objs,$(sort $(wildcard $(1)/*.c $(1)/*.asm))) $(GUEST_LIB_OBJS) \
		$(GUEST_LIBDIR)/guest.ld $(GUEST_LIBDIR)/check_guest.sh
	@mkdir -p $$(dir $$@)
	@echo "  LD-M32  $$@"
	$(Q)$(LLD) $(GUEST_LDFLAGS) $$(filter %.o,$$^) -o $$@
	$(Q)sh $(GUEST_LIBDIR)/check_guest.sh $$@
GUEST_ELFS += $(2)
endef

GUEST_TEST_DIRS := $(filter-out $(GUEST_LIBDIR),$(patsubst %/,%,$(sort $(wildcard tests/guest/*/))))
GUEST_L1_DIRS   := $(patsubst %/,%,$(sort $(wildcard guests/*/)))

$(foreach d,$(GUEST_TEST_DIRS),$(eval $(call guest_kernel,$(d),$(BUILD)/guest/$(notdir $(d)).elf)))
$(foreach d,$(GUEST_L1_DIRS),$(eval $(call guest_kernel,$(d),$(BUILD)/guests/$(notdir $(d)).elf)))

.PHONY: guests
guests: $(GUEST_ELFS)
