/* SPDX-License-Identifier: MIT */
/*
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, INVEPT,
 * INVVPID and VMCALL executed by L1, emulated with the checks of their
 * pseudocode in SDM Vol. 3C, 31.3 "VMX Instructions", in that order.
 */
#include "nested/internal.h"
#include "nested/ept.h"
#include "nested/operand.h"
#include "vmx/guest_mem.h"
#include "vmx/guest_regs.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/log.h"
#include "core/run.h"
#include "core/x86.h"

#include <nestvisor/string.h>

static inline void set_arith_flags(uint64_t set)
{
	uint64_t rflags = vmreadnat(VMCS_GUEST_RFLAGS);

	vmwritenat(VMCS_GUEST_RFLAGS, (rflags & ~RFLAGS_ARITH) | set);
}

void vm_succeed(void)
{
	set_arith_flags(0);
}

void vm_fail_invalid(void)
{
	set_arith_flags(RFLAGS_CF);
}

void vm_fail_valid(enum vm_insn_error e)
{
	set_arith_flags(RFLAGS_ZF);
	nested.vmcs12->VM_INSTRUCTION_ERROR = e;
}

void vm_fail(enum vm_insn_error e)
{
	if (nested.current_ptr != VMPTR_INVALID)
		vm_fail_valid(e);
	else
		vm_fail_invalid();
}

/* Finish an emulated instruction that completed (succeeded or VMfailed). */
static void done(const struct exit_ctx *x)
{
	vcpu_skip_instruction(x);
}

void nested_no_current_vmcs(const struct exit_ctx *x)
{
	vm_fail_invalid();
	done(x);
}

/*
 * VMX instructions other than VMXON: #UD outside VMX operation, #GP(0) at
 * CPL > 0; false if a fault was injected. The pseudocode's other #UD checks
 * (CR0.PE = 0, RFLAGS.VM = 1, compatibility mode) come before the VM exit
 * (SDM Vol. 3C, 26.1.1 "Relative Priority of Faults and VM Exits"; 31.3's
 * pseudocode of each instruction): the CPU made them, and an exit means
 * they passed. So IA-32e mode here is 64-bit mode, and *operand_bits,
 * VMREAD/VMWRITE's operand size, is 64 there, else 32 (31.3).
 */
static inline __attribute__((always_inline)) bool vmx_root_checks(unsigned *operand_bits)
{
	if (!nested.vmxon) {
		vcpu_inject_ud();
		return false;
	}
	if (guest_cpl() > 0) {
		vcpu_inject_gp0();
		return false;
	}
	*operand_bits = l1_long_mode() ? 64 : 32;
	return true;
}

bool nested_check_vmx_root(void)
{
	unsigned bits;

	return vmx_root_checks(&bits);
}

bool nested_check_vmx_root_mode(bool *long_mode)
{
	unsigned bits;

	if (!vmx_root_checks(&bits))
		return false;
	*long_mode = bits == 64;
	return true;
}

static struct vmx_insn_info insn_info(void)
{
	return decode_vmx_insn_info(vmread32(VMCS_VMX_INSTRUCTION_INFO));
}

/* A 64-bit memory operand holding a physical address. */
static bool read_pointer(struct vcpu *v, const struct exit_ctx *x, uint64_t *ptr)
{
	struct vmx_insn_info ii = insn_info();

	return vmx_operand_read(v, &ii, x->qualification, ptr, 8, x->rip);
}

/* 4-KiB aligned and within the physical-address width. */
static bool pointer_valid(uint64_t p)
{
	return !(p & 0xfff) && !(p >> l1_maxphyaddr());
}

/* Write the cached VMCS12 back to L1's VMCS region. */
static void flush_current(void)
{
	if (nested.current_ptr == VMPTR_INVALID)
		return;
	nested_shadow_detach();
	nested_sync_cold();
	nested.vmcs02_owner = VMPTR_INVALID;
	nested.checked = VMPTR_INVALID;
	if (l1_write_phys(nested.current_ptr, nested.vmcs12, sizeof(*nested.vmcs12)))
		pr_info("nested: VMCS12 at 0x%lx is no longer L1 memory; not written back",
			nested.current_ptr);
}

/*
 * VMXON's #UD checks (first lines of its pseudocode). L0 makes them against
 * the CR0 and CR4 L1 sees (read shadows): the CPU checked the real ones,
 * whose VMX bits L0 owns.
 */
static bool mode_allows_vmx(void)
{
	return (guest_visible_cr0() & CR0_PE) && !(vmreadnat(VMCS_GUEST_RFLAGS) & RFLAGS_VM) &&
	       !guest_compat_mode();
}

void handle_vmxon(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t cr0 = guest_visible_cr0(), cr4 = guest_visible_cr4(), ptr;
	const struct vmx_caps *c = &nested.caps.l1;
	uint32_t rev;

	if (!(cr4 & CR4_VMXE) || !mode_allows_vmx()) {
		vcpu_inject_ud();
		return;
	}
	if (nested.vmxon) {
		if (guest_cpl() > 0)
			vcpu_inject_gp0();
		else {
			vm_fail(VMERR_VMXON_IN_ROOT);
			done(x);
		}
		return;
	}
	if (guest_cpl() > 0 || (cr0 & c->cr0_fixed0) != c->cr0_fixed0 || (cr0 & ~c->cr0_fixed1) ||
	    (cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (cr4 & ~c->cr4_fixed1) ||
	    !(nested.feature_control & FEATURE_CONTROL_LOCK) ||
	    !(nested.feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		vcpu_inject_gp0();
		return;
	}
	if (!read_pointer(v, x, &ptr))
		return;
	if (!pointer_valid(ptr) || !l1_is_ram(ptr, 4096) || l1_read_phys(ptr, &rev, 4) ||
	    rev != NV_VMCS12_REVISION) {
		vm_fail_invalid();
		done(x);
		return;
	}
	nested.vmxon = true;
	l1_vmx_operation_changed(true);
	nested_shadow_vmx_operation(true);
	nested.vmxon_ptr = ptr;
	nested.current_ptr = VMPTR_INVALID;
	pr_debug("nested: L1 VMXON (region 0x%lx)", ptr);
	vm_succeed();
	done(x);
}

void handle_vmxoff(struct vcpu *v, const struct exit_ctx *x)
{
	if (!nested_check_vmx_root())
		return;
	flush_current();
	nested.vmxon = false;
	l1_vmx_operation_changed(false);
	nested_shadow_vmx_operation(false);
	nested.current_ptr = VMPTR_INVALID;
	pr_debug("nested: L1 VMXOFF");
	vm_succeed();
	done(x);
	if (l1_init_pending) {
		vcpu_dump(v);
		run_end_failure("L1 left VMX operation with an INIT pending since VMX root "
				"operation: its only CPU would wait for a SIPI forever");
	}
}

void handle_vmclear(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t ptr;
	uint32_t clear = VMCS12_CLEAR;

	if (!nested_check_vmx_root() || !read_pointer(v, x, &ptr))
		return;
	if (!pointer_valid(ptr) || !l1_is_ram(ptr, 4096))
		vm_fail(VMERR_VMCLEAR_INVALID_ADDR);
	else if (ptr == nested.vmxon_ptr)
		vm_fail(VMERR_VMCLEAR_VMXON_PTR);
	else {
		if (ptr == nested.current_ptr) {
			nested.vmcs12->launch_state = VMCS12_CLEAR;
			flush_current();
			nested.current_ptr = VMPTR_INVALID;
		} else {
			l1_write_phys(ptr + offsetof(struct vmcs12, launch_state), &clear, 4);
		}
		vm_succeed();
	}
	done(x);
}

void handle_vmptrld(struct vcpu *v, const struct exit_ctx *x)
{
	uint64_t ptr;

	if (!nested_check_vmx_root() || !read_pointer(v, x, &ptr))
		return;
	if (!pointer_valid(ptr) || !l1_is_ram(ptr, 4096)) {
		vm_fail(VMERR_VMPTRLD_INVALID_ADDR);
	} else if (ptr == nested.vmxon_ptr) {
		vm_fail(VMERR_VMPTRLD_VMXON_PTR);
	} else if (ptr == nested.current_ptr) {
		vm_succeed();
	} else {
		struct vmcs12 *t;

		/* Read once into L0 memory, check there, use only that copy. */
		l1_read_phys(ptr, nested.staging, sizeof(*nested.staging));
		if (nested.staging->revision_id != NV_VMCS12_REVISION) {
			vm_fail(VMERR_VMPTRLD_BAD_REVISION);
		} else {
			flush_current();
			t = nested.vmcs12;
			nested.vmcs12 = nested.staging;
			nested.staging = t;
			nested.current_ptr = ptr;
			nested.vmcs02_owner = VMPTR_INVALID;
			nested.checked = VMPTR_INVALID;
			nested_clear_dirty();
			nested_shadow_attach();
			vm_succeed();
		}
	}
	done(x);
}

void handle_vmptrst(struct vcpu *v, const struct exit_ctx *x)
{
	struct vmx_insn_info ii = insn_info();

	if (!nested_check_vmx_root())
		return;
	if (!vmx_operand_write(v, &ii, x->qualification, &nested.current_ptr, 8, x->rip))
		return;
	vm_succeed();
	done(x);
}

/* The field an encoding register names, if it exists for L1. */
static inline __attribute__((always_inline)) const struct vmcs12_field *
field_for(struct vcpu *v, unsigned reg, unsigned bits, int *high)
{
	uint64_t enc = gpr_read(v, reg);
	const struct vmcs12_field *f;

	if (bits == 32)
		enc &= 0xffffffffu;
	f = vmcs12_field(enc, high);
	if (f && !nested.caps.feature[f->feature])
		f = NULL;
	return f;
}

/* Every case of VMREAD (31.3 "VMREAD"). */
static __attribute__((noinline)) void vmread_general(struct vcpu *v, const struct exit_ctx *x,
						     uint32_t info)
{
	struct vmx_insn_info ii;
	unsigned bits;
	const struct vmcs12_field *f;
	uint64_t value;
	int high;

	if (!vmx_root_checks(&bits))
		return;
	if (!nested_require_current_vmcs(x))
		return;
	f = field_for(v, vmx_info_reg2(info), bits, &high);
	if (!f) {
		vm_fail_valid(VMERR_UNSUPPORTED_FIELD);
		done(x);
		return;
	}
	nested.trapped_reads[f->index]++;
	if (!(f->fast & V12_FAST_READ))
		nested_sync_cold();
	value = vmcs12_read(nested.vmcs12, f, high);
	if (bits == 32)
		value &= 0xffffffffu;
	if (vmx_info_reg_form(info)) {
		gpr_write(v, vmx_info_reg1(info), value);
	} else {
		ii = decode_vmx_insn_info(info);
		if (!vmx_operand_write(v, &ii, x->qualification, &value, bits / 8, x->rip))
			return;
	}
	vm_succeed();
	done(x);
}

static const uint64_t width_mask[4] = {
	[W16] = 0xffff, [W32] = 0xffffffff, [W64] = ~0ull, [WNAT] = ~0ull,
};

void nested_fast_slots_init(void)
{
	for (unsigned i = 0; i < V12_FIELDS; i++) {
		const struct vmcs12_field *f = &vmcs12_fields[i];
		struct vmcs12_fast_slot *s = &nested.fast_slots[VMCS12_SLOT(f->encoding)];

		if (!nested.caps.feature[f->feature])
			continue;
		s->mask = width_mask[f->width];
		s->rd_off = f->fast & V12_FAST_READ ? f->offset : 0;
		s->wr_off = f->fast & V12_FAST_WRITE ? f->offset : 0;
		s->index = f->index;
		s->dirty_group = nested_masks.group[f->index];
	}
}

/*
 * The case a hypervisor's exit handler makes, when no shadow VMCS serves it:
 * register operands in 64-bit mode at CPL 0, a current VMCS12, the full
 * access of a field L1 has, whose value VMCS12 holds (VMREAD) or which L1
 * may write (VMWRITE). The trapped-VMREAD/VMWRITE figures of the benchmark
 * are these paths; everything else takes the general ones. A current VMCS12
 * implies VMX operation (nested.h).
 */
static inline __attribute__((always_inline)) const struct vmcs12_fast_slot *
fast_slot(struct vcpu *v, uint32_t info)
{
	uint64_t enc;

	if (nested.current_ptr == VMPTR_INVALID || !vmx_info_reg_form(info) || guest_cpl() != 0 ||
	    !l1_long_mode())
		return NULL;
	/* The frame's RSP slot holds ~0, which the test below refuses: an
	 * encoding in RSP takes the general path, which reads RSP. */
	enc = v->frame.regs.r[vmx_info_reg2(info)];
	/* vmcs12_field()'s test, and the high access type (bit 0) too. */
	if (enc & (0xffffffff00000000ull | VMCS_ENC_RESERVED | (0x1e0u << 1) | VMCS_ENC_HIGH))
		return NULL;
	return (const struct vmcs12_fast_slot *)((const char *)nested.fast_slots +
						 VMCS12_SLOT2(enc) * 8);
}

void handle_vmread(struct vcpu *v, const struct exit_ctx *x)
{
	uint32_t info = vmread32(VMCS_VMX_INSTRUCTION_INFO);
	const struct vmcs12_fast_slot *s = fast_slot(v, info);
	uint64_t value;

	if (!s || !s->rd_off) {
		vmread_general(v, x, info);
		return;
	}
	nested.trapped_reads[s->index]++;
	__builtin_memcpy(&value, (const char *)nested.vmcs12 + s->rd_off, 8);  /* one load */
	gpr_write(v, vmx_info_reg1(info), value & s->mask);
	set_arith_flags(0);  /* VMsucceed */
	vcpu_skip_instruction(x);
}

/* Every case of VMWRITE (31.3 "VMWRITE"). */
static __attribute__((noinline)) void vmwrite_general(struct vcpu *v, const struct exit_ctx *x,
						      uint32_t info)
{
	struct vmx_insn_info ii;
	unsigned bits;
	const struct vmcs12_field *f;
	uint64_t value = 0;
	int high;

	if (!vmx_root_checks(&bits))
		return;
	if (!nested_require_current_vmcs(x))
		return;
	if (vmx_info_reg_form(info)) {
		value = gpr_read(v, vmx_info_reg1(info));
	} else {
		ii = decode_vmx_insn_info(info);
		if (!vmx_operand_read(v, &ii, x->qualification, &value, bits / 8, x->rip))
			return;
	}
	f = field_for(v, vmx_info_reg2(info), bits, &high);
	if (!f)
		vm_fail_valid(VMERR_UNSUPPORTED_FIELD);
	else if (f->group == EXIT && !(nested.caps.l1.misc & BIT64(29)))
		vm_fail_valid(VMERR_VMWRITE_READ_ONLY);
	else {
		vmcs12_write(nested.vmcs12, f, high, value, bits);
		nested_mark_dirty(f->index);
		nested.trapped_writes[f->index]++;
		vm_succeed();
	}
	done(x);
}

/* fast_slot()'s case of VMWRITE: a 64-bit operand, truncated to the field's width. */
void handle_vmwrite(struct vcpu *v, const struct exit_ctx *x)
{
	uint32_t info = vmread32(VMCS_VMX_INSTRUCTION_INFO);
	const struct vmcs12_fast_slot *s = fast_slot(v, info);
	uint64_t old, value;
	unsigned index;
	char *p;

	if (!s || !s->wr_off) {
		vmwrite_general(v, x, info);
		return;
	}
	p = (char *)nested.vmcs12 + s->wr_off;
	value = gpr_read(v, vmx_info_reg1(info));
	__builtin_memcpy(&old, p, 8);  /* one load, one store */
	old = (old & ~s->mask) | (value & s->mask);
	__builtin_memcpy(p, &old, 8);
	index = s->index;
	nested_mark_dirty_as(index, s->dirty_group);
	nested.trapped_writes[index]++;
	set_arith_flags(0);  /* VMsucceed */
	vcpu_skip_instruction(x);
}

/* Bits 63:47 all equal (a 48-bit linear-address width). */
static bool canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* The INVVPID descriptor checks (31.3 "INVVPID"): false = VMfail. */
static bool invvpid_desc_ok(uint64_t type, uint64_t lo, uint64_t address)
{
	uint16_t vpid = (uint16_t)lo;

	if (lo >> 16)
		return false;  /* bits 63:16 reserved */
	if (type == 0)
		return vpid && canonical(address);
	return type == 2 || vpid;
}

/*
 * INVEPT and INVVPID (SDM Vol. 3C, 31.3): #UD where L1 was not offered the
 * instruction, the shared #UD/#GP checks, VMfail 28 for a type L1's
 * IA32_VMX_EPT_VPID_CAP does not report, the descriptor's own checks, then
 * the invalidation (nested/ept.c).
 */
void handle_invept_invvpid(struct vcpu *v, const struct exit_ctx *x)
{
	bool invept = x->reason == EXIT_REASON_INVEPT;
	uint64_t caps = nested.caps.l1.ept_vpid, type;
	struct vmx_insn_info ii = insn_info();
	struct { uint64_t lo, hi; } desc;
	unsigned bits;
	bool ok;

	if (!(caps & (invept ? EPT_CAP_INVEPT : VPID_CAP_INVVPID))) {
		vcpu_inject_ud();
		return;
	}
	if (!vmx_root_checks(&bits))
		return;
	type = gpr_read(v, ii.reg2);
	if (bits == 32)
		type &= 0xffffffffu;
	/* INVEPT types 1-2 are EPT_VPID_CAP bits 25-26; INVVPID types 0-3 bits 40-43. */
	if (type > 3 || !(caps >> ((invept ? 24 : 40) + type) & 1)) {
		vm_fail(VMERR_INVALID_INVEPT_INVVPID);
		done(x);
		return;
	}
	if (!vmx_operand_read(v, &ii, x->qualification, &desc, sizeof(desc), x->rip))
		return;
	if (invept)
		ok = type == 2 || !nested_ept_check_eptp(desc.lo);
	else
		ok = invvpid_desc_ok(type, desc.lo, desc.hi);
	if (!ok) {
		vm_fail(VMERR_INVALID_INVEPT_INVVPID);
		done(x);
		return;
	}
	if (invept)
		nested_invept(type == 2, desc.lo);
	else
		nested_invvpid();
	vm_succeed();
	done(x);
}

void handle_vmcall(struct vcpu *v, const struct exit_ctx *x)
{
	/* VMCALL in VMX root operation without the dual-monitor treatment: VMfail (31.3). */
	if (!nested_check_vmx_root())
		return;
	vm_fail(VMERR_VMCALL_IN_ROOT);
	done(x);
}

/* The fields L1's VMREADs / VMWRITEs trapped on most (those a shadow VMCS did not cover). */
static void print_top(const char *what, const uint32_t *count)
{
	char line[200];
	int len = 0;
	bool taken[V12_FIELDS] = { false };

	for (unsigned n = 0; n < 8; n++) {
		unsigned best = V12_FIELDS;

		for (unsigned i = 0; i < V12_FIELDS; i++)
			if (!taken[i] && count[i] && (best == V12_FIELDS || count[i] > count[best]))
				best = i;
		if (best == V12_FIELDS)
			break;
		taken[best] = true;
		len += nv_snprintf(line + len, sizeof(line) - (size_t)len, " 0x%04x=%u",
				   vmcs12_fields[best].encoding, count[best]);
		if (len >= (int)sizeof(line) - 20)
			break;
	}
	if (len)
		log_line("nested: trapped %s by field (encoding=count, most first):%s", what, line);
}

void nested_print_trapped_fields(void)
{
	print_top("VMREADs", nested.trapped_reads);
	print_top("VMWRITEs", nested.trapped_writes);
}
