/* SPDX-License-Identifier: MIT */
/* The state dump printed on every fatal L1 exit and on an L0 panic. */
#include "vmx/exit.h"
#include "vmx/vmcs.h"
#include "core/log.h"

void vcpu_dump(const struct vcpu *v)
{
	uint32_t reason = vmread32(VMCS_VM_EXIT_REASON);
	const uint64_t *r = v->frame.regs.r;

	log_line("L1 state: exit reason %u (%s%s), qualification 0x%lx",
		 reason & 0xffff, exit_reason_name(reason & 0xffff),
		 (reason >> 31) ? ", VM-entry failure" : "", vmreadnat(VMCS_EXIT_QUALIFICATION));
	log_line("  rip=0x%lx rsp=0x%lx rflags=0x%lx cs=0x%x (ar 0x%x) efer=0x%lx",
		 vmreadnat(VMCS_GUEST_RIP), vmreadnat(VMCS_GUEST_RSP),
		 vmreadnat(VMCS_GUEST_RFLAGS), vmread16(VMCS_GUEST_CS_SELECTOR),
		 vmread32(VMCS_GUEST_CS_AR_BYTES), vmread64(VMCS_GUEST_IA32_EFER));
	log_line("  cr0=0x%lx (shadow 0x%lx) cr3=0x%lx cr4=0x%lx (shadow 0x%lx)",
		 vmreadnat(VMCS_GUEST_CR0), vmreadnat(VMCS_CR0_READ_SHADOW),
		 vmreadnat(VMCS_GUEST_CR3), vmreadnat(VMCS_GUEST_CR4),
		 vmreadnat(VMCS_CR4_READ_SHADOW));
	log_line("  rax=0x%lx rbx=0x%lx rcx=0x%lx rdx=0x%lx rsi=0x%lx rdi=0x%lx rbp=0x%lx",
		 r[GPR_RAX], r[GPR_RBX], r[GPR_RCX], r[GPR_RDX], r[GPR_RSI], r[GPR_RDI],
		 r[GPR_RBP]);
	log_line("  exit intr info 0x%x, idt-vectoring 0x%x, entry intr info 0x%x, "
		 "interruptibility 0x%x, activity %u, vm-instruction error %u",
		 vmread32(VMCS_VM_EXIT_INTR_INFO), vmread32(VMCS_IDT_VECTORING_INFO),
		 vmread32(VMCS_VM_ENTRY_INTR_INFO), vmread32(VMCS_GUEST_INTERRUPTIBILITY_INFO),
		 vmread32(VMCS_GUEST_ACTIVITY_STATE), vmread32(VMCS_VM_INSTRUCTION_ERROR));
	log_line("  guest-physical 0x%lx, guest-linear 0x%lx",
		 vmread64(VMCS_GUEST_PHYSICAL_ADDRESS), vmreadnat(VMCS_GUEST_LINEAR_ADDRESS));

	uint64_t total = vcpu_exits(v), n = total < EXIT_HISTORY ? total : EXIT_HISTORY;

	log_line("last %lu of %lu exits (oldest first):", n, total);
	for (uint64_t i = total - n; i < total; i++) {
		const struct exit_ctx *e = &v->history[i % EXIT_HISTORY];

		log_line("  #%lu %s rip=0x%lx qual=0x%lx idt-vectoring=0x%x", i,
			 exit_reason_name(e->reason), e->rip, e->qualification,
			 exit_in_delivery(e->reason) ? e->idt_vectoring : 0);
	}
}
