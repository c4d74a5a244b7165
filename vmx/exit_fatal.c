/* SPDX-License-Identifier: MIT */
/* Exits that end the run: L1 broke itself, touched what is not its own, or L0 did not expect them. */
#include "nested/nested.h"
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "drivers/vtd.h"
#include "core/log.h"
#include "core/run.h"

#include <nestvisor/memmap.h>

void handle_triple_fault(struct vcpu *v, const struct exit_ctx *x)
{
	vcpu_dump(v);
	run_end_failure("L1 triple fault (shutdown) at rip 0x%lx", x->rip);
}

static const char *access_kind(const struct ept_violation_info *e)
{
	return e->fetch ? "instruction fetch" : e->write ? "write" : "read";
}

void handle_ept_violation(struct vcpu *v, const struct exit_ctx *x)
{
	struct ept_violation_info e = decode_ept_violation(x->qualification);
	uint64_t gpa = vmread64(VMCS_GUEST_PHYSICAL_ADDRESS);

	/* A page L0 write-protects to see changes: noted; the access is retried. */
	if (e.write && nested_bitmap_write_fault(gpa))
		return;
	/* A write to PCI Express ECAM: filtered and performed (vmx/exit_ecam.c). */
	if (e.write && handle_ecam_write(v, x, gpa))
		return;
	uint32_t type = l1_mem_type_at(gpa);
	/* A VT-d unit's registers are L0's: an access ends the run as one to L0's RAM. */
	bool l0 = nv_mem_is_l0(type) || vtd_owns(gpa);
	const char *what = l0 ? "L0 memory" : type ? nv_mem_type_name(type) : "unmapped memory";

	log_line("EPT violation: L1 %s at guest-physical 0x%lx (%s%s) from rip 0x%lx",
		 access_kind(&e), gpa, what,
		 type && !l0 ? ", not granted to L1" : "", x->rip);
	if (vtd_owns(gpa))
		log_line("  (the registers of a VT-d unit, which L0 programs)");
	if (e.linear_valid)
		log_line("  guest-linear address 0x%lx", vmreadnat(VMCS_GUEST_LINEAR_ADDRESS));
	vcpu_dump(v);
	run_end_failure("EPT violation: L1 %s of %s at 0x%lx (rip 0x%lx)", access_kind(&e), what,
			gpa, x->rip);
}

void handle_ept_misconfig(struct vcpu *v, const struct exit_ctx *x)
{
	vcpu_dump(v);
	run_end_failure("EPT misconfiguration at guest-physical 0x%lx (L0 bug in EPT01)",
			vmread64(VMCS_GUEST_PHYSICAL_ADDRESS));
}

void handle_fatal(struct vcpu *v, const struct exit_ctx *x)
{
	if (x->reason == EXIT_REASON_MCE_DURING_VMENTRY &&
	    (x->raw_reason & EXIT_REASON_ENTRY_FAILURE)) {
		handle_mce_during_entry(v, x);
		return;
	}
	vcpu_dump(v);
	if (x->raw_reason & EXIT_REASON_ENTRY_FAILURE)
		run_end_failure("VM entry to L1 failed: %s (reason %u)", exit_reason_name(x->reason),
				x->reason);
	run_end_failure("unexpected VM exit %s (reason %u) at rip 0x%lx",
			exit_reason_name(x->reason), x->reason, x->rip);
}
