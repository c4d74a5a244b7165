/* SPDX-License-Identifier: MIT */
/*
 * A 32-bit L2 under a 32-bit host (SDM Vol. 3C, 25.4, 25.5, 26.2, 26.3, 28.5):
 * neither "IA-32e mode guest" nor "host address-space size"; L2 runs in protected
 * mode with PAE paging through a guest CR3, with L1's flat segments; the host
 * state is this kernel's own. Then VMXOFF.
 */
#include "vmx32.h"

#define AR_CODE32   0xC09Bu     /* G, D, P, S, type 11 (execute/read, accessed) */
#define AR_DATA32   0xC093u     /* G, B, P, S, type 3 (read/write, accessed) */
#define AR_TSS32_BUSY 0x8Bu     /* P, type 11 (busy 32-bit TSS) */
#define AR_UNUSABLE (1u << 16)
#define DR7_INIT    0x400u
#define EFLAGS_FIXED 0x2u
#define INTR_INFO_PF 0x80000B0Eu /* valid, hardware exception (3), error code, vector 14 */

struct vmx_region vmcs_l2;
static uint8_t l2_stack[8192] __attribute__((aligned(16)));

static void guest_segment(unsigned seg, uint16_t sel, uint32_t base, uint32_t limit, uint32_t ar)
{
	vmw(SEG_FIELD(F_GUEST_ES_SEL, seg), sel);
	vmw(SEG_FIELD(F_GUEST_ES_BASE, seg), base);
	vmw(SEG_FIELD(F_GUEST_ES_LIMIT, seg), limit);
	vmw(SEG_FIELD(F_GUEST_ES_AR, seg), ar);
}

void l2_setup(struct l2 *g, const void *entry, uint32_t guest_cr3, uint32_t host_cr3)
{
	uint64_t pa = pa_of(&vmcs_l2);

	memset(g, 0, sizeof(*g));
	vmclear_pa(pa);                 /* it may still be active from a previous case */
	region_init(&vmcs_l2, caps.revision);
	if (vmclear_pa(pa).outcome != VMX_OK || vmptrld_pa(pa).outcome != VMX_OK)
		report(false, "set-up: VMCLEAR + VMPTRLD of the L2 VMCS at 0x%llx", U64(pa));

	/* Controls (25.6-25.8): the must-be-1 bits only; every exception exits. */
	vmw(F_PIN_CTLS, caps.pin.allowed0);
	vmw(F_PROC_CTLS, caps.proc.allowed0);
	if (can_set(&caps.proc, PROC_SECONDARY_CONTROLS))
		vmw(F_PROC_CTLS2, caps.proc2.allowed0);
	vmw(F_EXIT_CTLS, caps.exit.allowed0);
	vmw(F_ENTRY_CTLS, caps.entry.allowed0);
	vmw(F_EXCEPTION_BITMAP, 0xFFFFFFFFu);
	vmw(F_PF_MASK, 0);
	vmw(F_PF_MATCH, 0);
	vmw(F_CR3_TARGET_COUNT, 0);
	vmw(F_CR0_MASK, 0);
	vmw(F_CR4_MASK, 0);
	vmw(F_CR0_SHADOW, (uint32_t)read_cr0());
	vmw(F_CR4_SHADOW, (uint32_t)read_cr4());
	vmw(F_EXIT_MSR_STORE_COUNT, 0);
	vmw(F_EXIT_MSR_LOAD_COUNT, 0);
	vmw(F_ENTRY_MSR_LOAD_COUNT, 0);
	vmw(F_ENTRY_INTR_INFO, 0);
	vmw(F_ENTRY_EXC_ERROR, 0);
	vmw(F_ENTRY_INSN_LEN, 0);
	vmw64(F_TSC_OFFSET, 0);

	/* Host state (25.5): this kernel, 32-bit; HOST_RIP below 4 GiB, CR4.PCIDE 0. */
	vmw(F_HOST_CR0, (uint32_t)read_cr0());
	vmw(F_HOST_CR3, host_cr3);
	vmw(F_HOST_CR4, (uint32_t)read_cr4());
	vmw(F_HOST_ES_SEL, SEL_DATA32);
	vmw(F_HOST_CS_SEL, SEL_CODE32);
	vmw(F_HOST_SS_SEL, SEL_DATA32);
	vmw(F_HOST_DS_SEL, SEL_DATA32);
	vmw(F_HOST_FS_SEL, SEL_DATA32);
	vmw(F_HOST_GS_SEL, SEL_DATA32);
	vmw(F_HOST_TR_SEL, SEL_TSS);
	vmw(F_HOST_FS_BASE, 0);
	vmw(F_HOST_GS_BASE, 0);
	vmw(F_HOST_TR_BASE, (uint32_t)(uintptr_t)tss32);
	vmw(F_HOST_GDTR_BASE, l1_gdt_base);
	vmw(F_HOST_IDTR_BASE, l1_idt_base);
	vmw(F_HOST_SYSENTER_CS, (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS));
	vmw(F_HOST_SYSENTER_ESP, (uint32_t)rdmsr(MSR_IA32_SYSENTER_ESP));
	vmw(F_HOST_SYSENTER_EIP, (uint32_t)rdmsr(MSR_IA32_SYSENTER_EIP));
	vmw(F_HOST_RIP, (uint32_t)(uintptr_t)vmx_exit_point);
	vmw(F_HOST_RSP, 0);             /* vmx_enter writes the real one */

	/* Guest state (25.4, 26.3.1): 32-bit protected mode, PAE paging. */
	vmw(F_GUEST_CR0, (uint32_t)read_cr0());
	vmw(F_GUEST_CR3, guest_cr3);
	vmw(F_GUEST_CR4, (uint32_t)read_cr4());
	vmw(F_GUEST_DR7, DR7_INIT);
	vmw(F_GUEST_RSP, (uint32_t)(uintptr_t)(l2_stack + sizeof(l2_stack)));
	vmw(F_GUEST_RIP, (uint32_t)(uintptr_t)entry);
	vmw(F_GUEST_RFLAGS, EFLAGS_FIXED);
	guest_segment(SEG_ES, SEL_DATA32, 0, 0xFFFFFFFFu, AR_DATA32);
	guest_segment(SEG_CS, SEL_CODE32, 0, 0xFFFFFFFFu, AR_CODE32);
	guest_segment(SEG_SS, SEL_DATA32, 0, 0xFFFFFFFFu, AR_DATA32);
	guest_segment(SEG_DS, SEL_DATA32, 0, 0xFFFFFFFFu, AR_DATA32);
	guest_segment(SEG_FS, SEL_DATA32, 0, 0xFFFFFFFFu, AR_DATA32);
	guest_segment(SEG_GS, SEL_DATA32, 0, 0xFFFFFFFFu, AR_DATA32);
	guest_segment(SEG_LDTR, 0, 0, 0, AR_UNUSABLE);
	guest_segment(SEG_TR, SEL_TSS, (uint32_t)(uintptr_t)tss32, sizeof(tss32) - 1, AR_TSS32_BUSY);
	vmw(F_GUEST_GDTR_BASE, l1_gdt_base);
	vmw(F_GUEST_GDTR_LIMIT, l1_gdt_limit);
	vmw(F_GUEST_IDTR_BASE, l1_idt_base);
	vmw(F_GUEST_IDTR_LIMIT, l1_idt_limit);
	vmw64(F_GUEST_DEBUGCTL, 0);
	vmw(F_GUEST_SYSENTER_CS, 0);
	vmw(F_GUEST_SYSENTER_ESP, 0);
	vmw(F_GUEST_SYSENTER_EIP, 0);
	vmw(F_GUEST_INTERRUPTIBILITY, 0);
	vmw(F_GUEST_ACTIVITY, 0);
	vmw(F_GUEST_PENDING_DBG, 0);
	/* A 64-bit field written in two halves: the full write clears bits 63:32. */
	vmw64(F_LINK_POINTER, ~0ull);
}

struct enter_ctx {
	struct l2 *g;
	uint32_t resume, flags;
};

static void do_enter(void *p)
{
	struct enter_ctx *c = p;

	c->flags = vmx_enter(&c->g->regs, c->resume);
}

static bool enter(struct l2 *g, uint32_t resume)
{
	struct enter_ctx c = { g, resume, 0 };
	int v = catch_exception(do_enter, &c);
	struct exit_info *e = &g->exit;

	memset(e, 0, sizeof(*e));
	g->exited = v == NO_EXCEPTION && c.flags == 0;
	if (!g->exited) {
		g->entry = (struct vres){ .outcome = VMX_EXCEPTION, .vector = v,
					  .error_code = caught_error_code() };
		if (v == NO_EXCEPTION) {
			/* Decode the flags the way insn.c does, via a VMREAD of the error. */
			uint32_t arith = c.flags & 0x8D5u;

			g->entry.outcome = arith == 0x1 ? VMX_FAIL_INVALID :
					   arith == 0x40 ? VMX_FAIL_VALID : VMX_BAD_FLAGS;
			g->entry.value = c.flags;
			if (g->entry.outcome == VMX_FAIL_VALID)
				g->entry.error = vmr(F_VM_INSN_ERROR);
		}
		return false;
	}
	g->entry = WANT_OK;
	e->reason = vmr(F_EXIT_REASON);
	e->qual = vmr(F_EXIT_QUAL);
	e->insn_len = vmr(F_EXIT_INSN_LEN);
	e->intr_info = vmr(F_EXIT_INTR_INFO);
	e->intr_error = vmr(F_EXIT_INTR_ERROR);
	e->idt_info = vmr(F_IDT_VECTORING_INFO);
	e->rip = vmr(F_GUEST_RIP);
	return true;
}

bool l2_launch(struct l2 *g) { return enter(g, 0); }
bool l2_resume(struct l2 *g) { return enter(g, 1); }

bool check_exit(struct l2 *g, uint32_t reason, const void *rip, const char *fmt, ...)
{
	char name[200];
	va_list ap;
	const struct exit_info *e = &g->exit;
	bool ok = g->exited && e->reason == reason && (!rip || e->rip == (uint32_t)(uintptr_t)rip);

	va_start(ap, fmt);
	nv_vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (ok)
		return report(true, "%s -> exit reason 0x%x%s", name, reason,
			      rip ? " at the expected EIP" : "");
	if (!g->exited)
		return report(false, "%s -> exit reason 0x%x (got: the entry ended in %s)", name,
			      reason, res_str(g->entry));
	return report(false, "%s -> exit reason 0x%x at 0x%x (got reason 0x%x rip 0x%x qual 0x%x "
		      "len %u intr 0x%x/0x%x idt 0x%x)", name, reason, (uint32_t)(uintptr_t)rip,
		      e->reason, e->rip, e->qual, e->insn_len, e->intr_info, e->intr_error,
		      e->idt_info);
}

/* After a VM exit, L1 is back in its own 32-bit state (28.5). */
static void check_host_state(const char *when, uint32_t host_cr3)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr;
	uint16_t tr, cs, ss;

	asm volatile("sgdt %0; str %1; mov %%cs, %2; mov %%ss, %3"
		     : "=m"(gdtr), "=r"(tr), "=r"(cs), "=r"(ss));
	report(read_cr3() == host_cr3 && read_cr4() == (uint32_t)vmr(F_HOST_CR4) &&
	       cs == SEL_CODE32 && ss == SEL_DATA32 && tr == SEL_TSS && gdtr.base == l1_gdt_base,
	       "%s: L1 runs with the host state (CR3 0x%x, CR4 0x%x, CS 0x%x SS 0x%x TR 0x%x GDT 0x%x)",
	       when, read_cr3(), read_cr4(), cs, ss, tr, gdtr.base);
}

static void test_entry_failures(void)
{
	uint32_t cr3 = (uint32_t)read_cr3();
	struct l2 g;

	/* 26.2.4: outside IA-32e mode, "host address-space size" and "IA-32e mode
	 * guest" must be 0: VMfailValid(8), VM entry with invalid host-state field. */
	l2_setup(&g, l2_main, cr3, cr3);
	if (can_set(&caps.exit, EXIT_HOST_ADDR_SPACE)) {
		vmw(F_EXIT_CTLS, caps.exit.allowed0 | EXIT_HOST_ADDR_SPACE);
		l2_launch(&g);
		check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_HOST_STATE),
			  "VMLAUNCH with \"host address-space size\" = 1 from a 32-bit L1");
		vmw(F_EXIT_CTLS, caps.exit.allowed0);
	} else {
		report_skip("VMLAUNCH with \"host address-space size\" = 1: the control may not be 1");
	}
	if (can_set(&caps.entry, ENTRY_IA32E_GUEST)) {
		vmw(F_ENTRY_CTLS, caps.entry.allowed0 | ENTRY_IA32E_GUEST);
		l2_launch(&g);
		check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_HOST_STATE),
			  "VMLAUNCH with \"IA-32e mode guest\" = 1 from a 32-bit L1");
		vmw(F_ENTRY_CTLS, caps.entry.allowed0);
	} else {
		report_skip("VMLAUNCH with \"IA-32e mode guest\" = 1: the control may not be 1");
	}
	/* 26.2.2: with "host address-space size" 0, host CR4.PCIDE must be 0. */
	vmw(F_HOST_CR4, (uint32_t)read_cr4() | CR4_PCIDE);
	l2_launch(&g);
	check_res(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_HOST_STATE),
		  "VMLAUNCH with HOST_CR4.PCIDE = 1 and a 32-bit host");
	vmw(F_HOST_CR4, (uint32_t)read_cr4());

	/* 26.3.1.6: with PAE paging and no EPT, VM entry loads the PDPTEs from guest
	 * CR3; a reserved bit in a present one fails the entry (reason 33, qual 2). */
	vmw(F_GUEST_CR3, (uint32_t)(uintptr_t)pae_bad_pdpt);
	l2_launch(&g);
	if (check_exit(&g, EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST, NULL,
		       "VMLAUNCH with guest CR3 -> a PDPT whose PDPTE 3 has reserved bits 2:1 set"))
		report(g.exit.qual == ENTRY_FAIL_QUAL_PDPTE,
		       "the VM-entry failure's exit qualification is 2 (PDPTE loading; got %u)",
		       g.exit.qual);
	check_host_state("after the VM-entry failure", cr3);
}

void test_l2(void)
{
	uint32_t cr3 = (uint32_t)read_cr3(), alt = (uint32_t)(uintptr_t)pae_alt_pdpt;
	struct l2 g;

	printf("vmx32: --- a 32-bit L2 guest (26.2, 26.3, 27, 28.5) ---\n");
	test_entry_failures();

	/* CPUID (exit 10), VMRESUME, VMCALL (exit 18). */
	l2_setup(&g, l2_main, cr3, cr3);
	l2_marker = 0;
	l2_launch(&g);
	if (check_exit(&g, EXIT_REASON_CPUID, l2_cpuid_insn, "VMLAUNCH of a 32-bit L2 running CPUID")) {
		report(g.exit.insn_len == 2, "CPUID exit: instruction length 2 (got %u)", g.exit.insn_len);
		report(l2_marker == 0xC0FFEE32u && g.regs.eax == 0 && g.regs.ecx == 0,
		       "L2 wrote its marker through L1's PAE paging and exited with EAX = ECX = 0 "
		       "(marker 0x%x, EAX 0x%x, ECX 0x%x)", l2_marker, g.regs.eax, g.regs.ecx);
		report(g.exit.idt_info == 0, "CPUID exit: no IDT-vectoring information (0x%x)",
		       g.exit.idt_info);
		report(vmr(F_GUEST_CR3) == cr3 && (vmr(F_GUEST_CR4) & CR4_PAE) &&
		       vmr(F_GUEST_CS_SEL) == SEL_CODE32,
		       "the exit saved L2's CR3 0x%x, CR4 0x%x, CS 0x%x", vmr(F_GUEST_CR3),
		       vmr(F_GUEST_CR4), vmr(F_GUEST_CS_SEL));
		check_host_state("after the CPUID exit", cr3);
		vmw(F_GUEST_RIP, g.exit.rip + g.exit.insn_len);
		l2_resume(&g);
		if (check_exit(&g, EXIT_REASON_VMCALL, l2_vmcall_insn, "VMRESUME into L2 after CPUID, "
			       "then VMCALL"))
			report(g.exit.insn_len == 3, "VMCALL exit: instruction length 3 (got %u)",
			       g.exit.insn_len);
		l2_launch(&g);
		check_res(g.entry, WANT_VALID(VMXERR_VMLAUNCH_NOT_CLEAR), "VMLAUNCH of the launched VMCS");
	}

	/* L2 with its own guest CR3 (its PDPTEs come from that PDPT), then L1 with its own. */
	l2_setup(&g, l2_load, alt, cr3);
	g.regs.ecx = MARK_LA;
	l2_launch(&g);
	if (check_exit(&g, EXIT_REASON_VMCALL, l2_load_vmcall,
		       "L2 with guest CR3 = the alternative PDPT reads [0x%x]", MARK_LA))
		report(g.regs.ebx == MARK2, "L2 read 0x%x through its PDPTE 1 (got 0x%x)", MARK2,
		       g.regs.ebx);
	report(*(volatile uint32_t *)MARK_LA == MARK1,
	       "after the exit, L1 reads 0x%x at 0x%x through its own PDPTEs (got 0x%x)", MARK1,
	       MARK_LA, *(volatile uint32_t *)MARK_LA);

	/* Host CR3 = the alternative PDPT: the VM exit loads its PDPTEs (28.5.4). */
	l2_setup(&g, l2_load, cr3, alt);
	g.regs.ecx = MARK_LA;
	l2_launch(&g);
	if (check_exit(&g, EXIT_REASON_VMCALL, l2_load_vmcall,
		       "L2 with L1's CR3, host CR3 = the alternative PDPT, reads [0x%x]", MARK_LA)) {
		uint32_t now = (uint32_t)read_cr3(), seen = *(volatile uint32_t *)MARK_LA;

		write_cr3(cr3);
		report(g.regs.ebx == MARK1, "L2 read 0x%x (got 0x%x)", MARK1, g.regs.ebx);
		report(now == alt && seen == MARK2,
		       "after the exit L1 runs on host CR3 0x%x and reads 0x%x at 0x%x (CR3 0x%x, got 0x%x)",
		       alt, MARK2, MARK_LA, now, seen);
	}
	write_cr3(cr3);

	/* An L2 page fault through its PAE tables, reflected by the exception bitmap. */
	l2_setup(&g, l2_load, cr3, cr3);
	g.regs.ecx = NP_LA + 0x44;
	l2_launch(&g);
	if (check_exit(&g, EXIT_REASON_EXCEPTION, l2_load_insn,
		       "L2 reading [0x%x] (PDE not present), #PF in the exception bitmap", NP_LA + 0x44))
		report(g.exit.intr_info == INTR_INFO_PF && g.exit.intr_error == 0 &&
		       g.exit.qual == NP_LA + 0x44,
		       "#PF exit: interruption info 0x%x, error code 0, qualification = 0x%x (got "
		       "0x%x, 0x%x, 0x%x)", INTR_INFO_PF, NP_LA + 0x44, g.exit.intr_info,
		       g.exit.intr_error, g.exit.qual);
	check_res(vmclear_pa(pa_of(&vmcs_l2)), WANT_OK, "VMCLEAR of the L2 VMCS");
}

void test_vmxoff(void)
{
	uint32_t cr0 = (uint32_t)read_cr0();
	uint64_t p;
	int v;

	printf("vmx32: --- leaving VMX operation (24.8, 31.3) ---\n");
	/* 24.8: in VMX operation CR0 must keep its FIXED0 bits (PG among them). */
	v = write_cr0_checked(cr0 & ~CR0_PG);
	if (v == NO_EXCEPTION)
		write_cr0(cr0);
	report(v == VEC_GP && read_cr0() == cr0,
	       "MOV to CR0 clearing PG in VMX operation -> #GP (got %s)", exception_name(v));
	v = write_cr4_checked((uint32_t)read_cr4() & ~CR4_VMXE);
	if (v == NO_EXCEPTION)
		write_cr4(read_cr4() | CR4_VMXE);
	report(v == VEC_GP, "MOV to CR4 clearing VMXE in VMX operation -> #GP (got %s)",
	       exception_name(v));
	check_res(vmxoff(), WANT_OK, "VMXOFF");
	vmx_on = false;
	check_res(vmxoff(), WANT_EXC(VEC_UD, 0), "VMXOFF outside VMX operation");
	check_res(vmptrst_get(&p), WANT_EXC(VEC_UD, 0), "VMPTRST outside VMX operation");
	v = write_cr4_checked((uint32_t)read_cr4() & ~CR4_VMXE);
	report(v == NO_EXCEPTION && !(read_cr4() & CR4_VMXE),
	       "MOV to CR4 clearing VMXE after VMXOFF succeeds (got %s)", exception_name(v));
}
