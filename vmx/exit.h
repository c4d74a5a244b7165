/* SPDX-License-Identifier: MIT */
/* VM-exit dispatch for the L1 vCPU. */
#ifndef NESTVISOR_VMX_EXIT_H
#define NESTVISOR_VMX_EXIT_H

#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "vmx/vcpu.h"

#include <stdint.h>

_Static_assert(EXIT_REASON_LOADIWKEY < EXIT_REASON_COUNT, "EXIT_REASON_COUNT too small");

/* A handler returns after arranging the guest's continuation; ending the
 * run goes through run_end_*(), which does not return. */
typedef void (*exit_handler_fn)(struct vcpu *v, const struct exit_ctx *x);

const char *exit_reason_name(uint32_t reason);

/* Whether exit reason r (basic) may happen during event delivery: only then
 * is an exit_ctx's idt_vectoring read (vmx/exit.c). */
bool exit_in_delivery(uint32_t r);

/* HOST_RIP of VMCS01, and of VMCS02 (timestamp: L1 asked for a VM-exit
 * MSR-store list, which stores IA32_TSC as of the exit). */
uint64_t vmx_exit_stub_l1_addr(void);
uint64_t vmx_exit_stub_l2_addr(bool timestamp);

/* Enter L1; from then on every exit goes to the table (the run ends from a handler). */
__attribute__((noreturn)) void vcpu_run(struct vcpu *v);

/* Helpers for handlers. */
/*
 * The instruction completed: RIP past it, and blocking by STI / MOV SS ends
 * with it (SDM Vol. 3C, 25.4.2, Table 25-3). Inline: every emulated
 * instruction's last step, on the hot paths.
 */
static inline void vcpu_skip_instruction(const struct exit_ctx *x)
{
	uint32_t intr = vmread32(VMCS_GUEST_INTERRUPTIBILITY_INFO);

	vmwritenat(VMCS_GUEST_RIP, x->rip + x->insn_len);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmwrite32(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			  intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}
/* Complete an HLT: the guest whose VMCS is current halts in it. */
void vcpu_halt(const struct exit_ctx *x);
void vcpu_inject_exception(unsigned vector, bool has_error, uint32_t error_code);
static inline void vcpu_inject_gp0(void) { vcpu_inject_exception(13, true, 0); }
static inline void vcpu_inject_ud(void) { vcpu_inject_exception(6, false, 0); }
/*
 * Re-inject the event whose delivery exit x interrupted, into the guest that
 * exited (its VMCS current), before resuming it.
 */
void vcpu_reinject_idt_vectoring(const struct exit_ctx *x);
/* Dump the VMCS and the exit history to the log. */
void vcpu_dump(const struct vcpu *v);
/* The L1 vCPU, for dumps from panic. */
extern struct vcpu *current_vcpu;

/* Handlers, one file each (vmx/exit_*.c). */
void handle_cpuid(struct vcpu *v, const struct exit_ctx *x);
void handle_rdmsr(struct vcpu *v, const struct exit_ctx *x);
void handle_wrmsr(struct vcpu *v, const struct exit_ctx *x);
void handle_io(struct vcpu *v, const struct exit_ctx *x);
void handle_cr_access(struct vcpu *v, const struct exit_ctx *x);
void handle_hlt(struct vcpu *v, const struct exit_ctx *x);
void handle_invd(struct vcpu *v, const struct exit_ctx *x);
void handle_xsetbv(struct vcpu *v, const struct exit_ctx *x);
void handle_inject_ud(struct vcpu *v, const struct exit_ctx *x);
void handle_triple_fault(struct vcpu *v, const struct exit_ctx *x);
void handle_ept_violation(struct vcpu *v, const struct exit_ctx *x);
void handle_ept_misconfig(struct vcpu *v, const struct exit_ctx *x);
void handle_fatal(struct vcpu *v, const struct exit_ctx *x);
void handle_exception_nmi(struct vcpu *v, const struct exit_ctx *x);
void handle_init_signal(struct vcpu *v, const struct exit_ctx *x);
/* L1's hardware task switches, emulated (vmx/exit_task_switch.c). */
void handle_task_switch(struct vcpu *v, const struct exit_ctx *x);
/* An INIT L1 got in VMX root operation, blocked until it leaves it (vmx/nmi.c). */
extern bool l1_init_pending;
struct io_info;
/* Ports L0 guards rather than owns: PCI configuration, APM control (vmx/exit_pci.c). */
void handle_guarded_io(struct vcpu *v, const struct exit_ctx *x, struct io_info io);
/* pci_guard_write's addr_ok: a memory BAR may point where the boot map has no RAM. */
bool pci_bar_addr_ok(uint64_t base);
/*
 * An EPT violation that is a write into a guarded ECAM window (vmx/exit_ecam.c):
 * performed after the PCI filter and the instruction skipped, or the run ended.
 * False if gpa is in no ECAM window.
 */
bool handle_ecam_write(struct vcpu *v, const struct exit_ctx *x, uint64_t gpa);
void handle_nmi_window(struct vcpu *v, const struct exit_ctx *x);
/* One latched NMI (core/nmi.h) to the guest that runs next (vmx/nmi.c). */
void vcpu_deliver_nmi(struct vcpu *v);
/* Latched NMIs and machine checks (core/mce.h) to the guest that runs next. */
void vcpu_deliver_events(struct vcpu *v);
/* A machine check during a VM entry to L1 (exit reason 41, SDM 26.8). */
void handle_mce_during_entry(struct vcpu *v, const struct exit_ctx *x);
/* Inject one latched NMI into the guest whose VMCS is current, unless it blocks
 * NMIs (STI, MOV SS, NMI blocking) or another event is being injected. */
bool vcpu_try_inject_nmi(void);

#endif
