/* SPDX-License-Identifier: MIT */
/*
 * VMCS01: L0's controls for running L1, L0's host state, and L1's initial
 * state: 32-bit protected mode, paging off, flat segments, interrupts off.
 * That is the Multiboot machine state (Multiboot 0.6.96, 3.2 "Machine
 * state"; PVH's too), and with other selectors, a GDT and other registers,
 * the Linux boot protocol's 32-bit entry (vmx/l1_linux.c): struct
 * l1_entry_state says which.
 */
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs01_controls.h"
#include "vmx/guest_regs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_bits.h"
#include "drivers/uart16550.h"
#include "core/desc.h"
#include "core/panic.h"
#include "core/pmm.h"
#include "core/run.h"
#include "core/x86.h"

#define L1_VPID 1
#define AR_CODE32 (AR_G | AR_DB | AR_P | AR_S | 0xb)  /* exec/read, accessed */
#define AR_DATA32 (AR_G | AR_DB | AR_P | AR_S | 0x3)  /* read/write, accessed */
#define AR_TSS32_BUSY (AR_P | 0xb)
#define PAT_POWER_ON 0x0007040600070406ull  /* SDM Vol. 3A, 13.12.4 "Programming the PAT" */

static uint32_t settle(const char *name, struct vmx_ctl_caps caps, uint32_t want, uint32_t required)
{
	uint32_t v;

	if (!vmx_ctl_adjust(caps, want, required, &v))
		run_end_failure("the CPU cannot set %s controls 0x%x (allowed 0x%x)", name,
				required & ~caps.may1, caps.may1);
	return v;
}

/* MSR bitmap: read-low, read-high, write-low, write-high kB (SDM 25.6.9 "MSR-Bitmap Address"). */
static void msr_intercept(uint8_t *bitmap, uint32_t msr)
{
	unsigned base = msr >= 0xc0000000u ? 1024 : 0;
	unsigned bit = msr & 0x1fff;

	bitmap[base + bit / 8] |= (uint8_t)(1u << (bit % 8));          /* reads */
	bitmap[2048 + base + bit / 8] |= (uint8_t)(1u << (bit % 8));   /* writes */
}

/* CR0.NE and CR4.VMXE are fixed in VMX operation: owned by L0, shadowed for L1
 * (unrestricted guest frees PE and PG). Bits the CPU cannot set are L0's too. */
uint64_t vmcs01_cr0_mask(void)
{
	return (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG)) | (~vmx_caps.cr0_fixed1 & 0xffffffffu);
}

void l1_vmx_operation_changed(bool in_vmx_operation)
{
	/* In VMX operation CR0.PE and PG are fixed for L1 too (its CR0_FIXED0, SDM
	 * 24.8): own them so that a change exits to L0's check. The read shadow
	 * must hold their current values first. */
	vmwritenat(VMCS_CR0_READ_SHADOW, guest_visible_cr0());
	vmwritenat(VMCS_CR0_GUEST_HOST_MASK,
		   vmcs01_cr0_mask() | (in_vmx_operation ? CR0_PE | CR0_PG : 0));
}

uint64_t vmcs01_cr4_mask(void)
{
	return vmx_caps.cr4_fixed0 | (~vmx_caps.cr4_fixed1 & 0xffffffffu);
}


static void setup_controls(uint64_t eptp)
{
	const struct vmx_caps *c = &vmx_caps;
	uint32_t proc2_want = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID |
			      PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES;
	uint32_t proc2 = settle("secondary processor-based", c->proc2, proc2_want, VMCS01_PROC2);
	uint64_t msr_bitmap = pmm_alloc_page_or_panic("VMCS01"),
		 io_a = pmm_alloc_page_or_panic("VMCS01"), io_b = pmm_alloc_page_or_panic("VMCS01");
	uint8_t *io = phys_to_virt(io_a);

	/* Each wanted as it is required (vmx/vmcs01_controls.h). */
	vmwrite32(VMCS_PIN_BASED_VM_EXEC_CONTROL,
		  settle("pin-based", c->pin, VMCS01_PIN, VMCS01_PIN));
	vmwrite32(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		  settle("processor-based", c->proc, VMCS01_PROC, VMCS01_PROC));
	vmwrite32(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmwrite32(VMCS_VM_EXIT_CONTROLS, settle("VM-exit", c->exit, VMCS01_EXIT, VMCS01_EXIT));
	vmwrite32(VMCS_VM_ENTRY_CONTROLS,
		  settle("VM-entry", c->entry, VMCS01_ENTRY, VMCS01_ENTRY));
	vmwrite32(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite32(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite32(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite32(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite32(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite32(VMCS_VM_ENTRY_INTR_INFO, 0);
	vmwrite64(VMCS_EPT_POINTER, eptp);
	if (proc2 & PROC2_ENABLE_VPID)
		vmwrite16(VMCS_VIRTUAL_PROCESSOR_ID, L1_VPID);

	/* L0 owns FEATURE_CONTROL and the VMX capability MSRs; all else passes through. */
	msr_intercept(phys_to_virt(msr_bitmap), MSR_IA32_FEATURE_CONTROL);
	/* IA32_APIC_BASE is guarded (vmx/msr_policy.h): its writes exit. */
	msr_intercept(phys_to_virt(msr_bitmap), MSR_IA32_APIC_BASE);
	for (uint32_t m = MSR_IA32_VMX_FIRST; m <= MSR_IA32_VMX_LAST; m++)
		msr_intercept(phys_to_virt(msr_bitmap), m);
	vmwrite64(VMCS_MSR_BITMAP, msr_bitmap);
	l1.msr_bitmap = msr_bitmap;
	l1.io_bitmap_a = io_a;
	l1.io_bitmap_b = io_b;
	/* The only port L0 needs: the test exit port (SDM 25.6.4 "I/O-Bitmap Addresses"). */
	io[TEST_EXIT_PORT / 8] |= (uint8_t)(1u << (TEST_EXIT_PORT % 8));
	/* The ports L0 guards: PCI configuration, APM control (vmx/exit_pci.c). */
	for (unsigned p = 0; p < 0x1000; p++)
		if (l1_io_port_is_guarded((uint16_t)p))
			io[p / 8] |= (uint8_t)(1u << (p % 8));
	/* With log_port = com2 the UART there is L0's: L1 finds no device. */
	if (l1.bi->log_port == NV_LOG_PORT_COM2)
		for (unsigned p = COM2_PORT; p < COM2_PORT + UART_PORTS; p++)
			io[p / 8] |= (uint8_t)(1u << (p % 8));
	vmwrite64(VMCS_IO_BITMAP_A, io_a);
	vmwrite64(VMCS_IO_BITMAP_B, io_b);

	vmwritenat(VMCS_CR0_GUEST_HOST_MASK, vmcs01_cr0_mask());
	vmwritenat(VMCS_CR4_GUEST_HOST_MASK, vmcs01_cr4_mask());
}

void vmcs_write_host_state(struct vcpu *v)
{
	vmwritenat(VMCS_HOST_CR0, read_cr0());
	vmwritenat(VMCS_HOST_CR3, read_cr3());
	vmwritenat(VMCS_HOST_CR4, read_cr4());
	vmwrite16(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	vmwrite16(VMCS_HOST_SS_SELECTOR, SEL_DATA);
	vmwrite16(VMCS_HOST_DS_SELECTOR, SEL_DATA);
	vmwrite16(VMCS_HOST_ES_SELECTOR, SEL_DATA);
	vmwrite16(VMCS_HOST_FS_SELECTOR, 0);
	vmwrite16(VMCS_HOST_GS_SELECTOR, 0);
	vmwrite16(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vmwritenat(VMCS_HOST_FS_BASE, 0);
	vmwritenat(VMCS_HOST_GS_BASE, 0);
	vmwritenat(VMCS_HOST_TR_BASE, desc_tss_base());
	vmwritenat(VMCS_HOST_GDTR_BASE, read_gdtr().base);
	vmwritenat(VMCS_HOST_IDTR_BASE, read_idtr().base);
	vmwrite32(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmwritenat(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmwritenat(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmwrite64(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmwrite64(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwritenat(VMCS_HOST_RSP, (uint64_t)&v->frame.exit_tsc);  /* just past frame.regs */
	vmwritenat(VMCS_HOST_RIP, vmx_exit_stub_l1_addr());  /* VMCS02: nested/vmcs02.c */
}

#define SET_SEGMENT(seg, sel, base, limit, ar)                  \
	do {                                                    \
		vmwrite16(VMCS_GUEST_##seg##_SELECTOR, sel);    \
		vmwritenat(VMCS_GUEST_##seg##_BASE, base);      \
		vmwrite32(VMCS_GUEST_##seg##_LIMIT, limit);     \
		vmwrite32(VMCS_GUEST_##seg##_AR_BYTES, ar);     \
	} while (0)

static void setup_guest_state(struct vcpu *v, const struct l1_entry_state *st)
{
	const struct vmx_caps *c = &vmx_caps;
	uint64_t cr0 = CR0_PE | CR0_ET;

	SET_SEGMENT(CS, st->cs, 0, 0xffffffffu, AR_CODE32);
	SET_SEGMENT(DS, st->ds, 0, 0xffffffffu, AR_DATA32);
	SET_SEGMENT(ES, st->ds, 0, 0xffffffffu, AR_DATA32);
	SET_SEGMENT(SS, st->ds, 0, 0xffffffffu, AR_DATA32);
	SET_SEGMENT(FS, st->ds, 0, 0xffffffffu, AR_DATA32);
	SET_SEGMENT(GS, st->ds, 0, 0xffffffffu, AR_DATA32);
	SET_SEGMENT(TR, 0, 0, 0xff, AR_TSS32_BUSY);
	SET_SEGMENT(LDTR, 0, 0, 0, AR_UNUSABLE);
	vmwritenat(VMCS_GUEST_GDTR_BASE, st->gdt_base);
	vmwrite32(VMCS_GUEST_GDTR_LIMIT, st->gdt_limit);
	vmwritenat(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite32(VMCS_GUEST_IDTR_LIMIT, 0);

	vmwritenat(VMCS_CR0_READ_SHADOW, cr0);
	vmwritenat(VMCS_GUEST_CR0, l1_real_cr0(cr0));
	vmwritenat(VMCS_GUEST_CR3, 0);
	vmwritenat(VMCS_CR4_READ_SHADOW, 0);
	vmwritenat(VMCS_GUEST_CR4, c->cr4_fixed0);
	vmwritenat(VMCS_GUEST_DR7, 0x400);
	vmwritenat(VMCS_GUEST_RSP, 0);
	vmwritenat(VMCS_GUEST_RIP, st->rip);
	vmwritenat(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	vmwrite64(VMCS_GUEST_IA32_EFER, 0);
	vmwrite64(VMCS_GUEST_IA32_PAT, PAT_POWER_ON);
	vmwrite64(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite32(VMCS_GUEST_SYSENTER_CS, 0);
	vmwritenat(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwritenat(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwritenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite32(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite32(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmwrite64(VMCS_VMCS_LINK_POINTER, ~0ull);

	v->frame.regs.r[GPR_RAX] = st->rax;
	v->frame.regs.r[GPR_RBX] = st->rbx;
	v->frame.regs.r[GPR_RSI] = st->rsi;
}

void vmcs01_setup(struct vcpu *v, uint64_t eptp, const struct l1_entry_state *st)
{
	v->vmcs_phys = vmx_new_vmcs();
	v->frame.launch = 1;  /* a new VMCS is clear */
	v->frame.restore_all = 1;  /* the first entry loads every register */
	setup_controls(eptp);
	vmcs_write_host_state(v);
	setup_guest_state(v, st);
}
