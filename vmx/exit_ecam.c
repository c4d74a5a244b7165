/* SPDX-License-Identifier: MIT */
/*
 * L1's writes to PCI Express ECAM (memory-mapped configuration space). EPT01
 * maps every ECAM window read-only (vmx/l1.c), so L1 reads configuration space
 * at full speed and each write is an EPT violation that comes here. L0 fetches
 * the instruction through L1's page tables, decodes it (vmx/mmio_decode.c),
 * checks that it stores exactly where the CPU says it did, filters each dword
 * it touches with pci_guard_write (the rules of ports 0xCF8-0xCFF), performs
 * the filtered write through its own mapping, and skips the instruction.
 *
 * A store form L0 does not decode (string stores, read-modify-writes, SSE/AVX,
 * LOCK or REP prefixes...) ends the run with a report naming the bytes: real
 * hardware would perform it, so injecting a fault would be a behaviour L1 can
 * never see on a machine, and ending the run says plainly what L0 lacks.
 */
#include "vmx/exit.h"
#include "vmx/ecam.h"
#include "vmx/exit_info.h"
#include "vmx/guest_mem.h"
#include "vmx/guest_regs.h"
#include "vmx/mmio_decode.h"
#include "vmx/pci_guard.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "drivers/pci.h"
#include "core/log.h"
#include "core/run.h"

#include <nestvisor/string.h>

#define PAGE_SIZE_4K 4096u
#define PCI_HEADER_TYPE_DWORD 0x0c   /* header type: bits 23:16 */

struct insn {
	uint8_t b[MMIO_MAX_INSN_LEN];
	unsigned n;
};

static enum mmio_mode code_mode(void)
{
	if (guest_64bit_mode())
		return MMIO_MODE_64;
	return vmread32(VMCS_GUEST_CS_AR_BYTES) & AR_DB ? MMIO_MODE_32 : MMIO_MODE_16;
}

static uint64_t rip_linear(enum mmio_mode mode, uint64_t rip)
{
	uint64_t la = vmreadnat(VMCS_GUEST_CS_BASE) + rip;

	return mode == MMIO_MODE_64 ? rip : la & 0xffffffffu;
}

static const char *insn_text(const struct insn *in, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < in->n && at + 4 < len; i++)
		at += (size_t)nv_snprintf(buf + at, len - at, "%s%02x", i ? " " : "", in->b[i]);
	return buf;
}

__attribute__((noreturn)) static void give_up(struct vcpu *v, const struct exit_ctx *x,
					      uint64_t gpa, const struct insn *in,
					      const char *what)
{
	char bytes[3 * MMIO_MAX_INSN_LEN + 1];

	log_line("pci: L1's write to ECAM at 0x%lx from rip 0x%lx: %s (instruction bytes: %s)", gpa,
		 x->rip, what, in ? insn_text(in, bytes, sizeof(bytes)) : "not read");
	vcpu_dump(v);
	run_end_failure("L1 wrote to PCI Express ECAM at 0x%lx (rip 0x%lx) with %s; L0 emulates "
			"only MOV stores there (README, \"What L1 sees\")", gpa, x->rip, what);
}

/* The instruction at rip, decoded; fetches the next page only if the decoder needs it. */
static struct mmio_store fetch_and_decode(struct vcpu *v, const struct exit_ctx *x, uint64_t gpa,
					  enum mmio_mode mode, struct insn *in)
{
	uint64_t la = rip_linear(mode, x->rip);
	unsigned first = PAGE_SIZE_4K - (la & (PAGE_SIZE_4K - 1));
	struct mmio_store s;
	struct gm_error err;
	enum mmio_status st;
	const char *why;

	in->n = first < MMIO_MAX_INSN_LEN ? first : MMIO_MAX_INSN_LEN;
	if (l1_read_linear(la, in->b, in->n, &err))
		give_up(v, x, gpa, 0, "an instruction L0 cannot read through the guest's paging");
	st = mmio_decode_store(in->b, in->n, mode, &s, &why);
	if (st == MMIO_TRUNCATED && in->n < MMIO_MAX_INSN_LEN) {
		if (l1_read_linear(la + in->n, in->b + in->n, MMIO_MAX_INSN_LEN - in->n, &err))
			give_up(v, x, gpa, in, "an instruction across a page L0 cannot read");
		in->n = MMIO_MAX_INSN_LEN;
		st = mmio_decode_store(in->b, in->n, mode, &s, &why);
	}
	if (st != MMIO_OK)
		give_up(v, x, gpa, in, why);
	in->n = s.len;
	return s;
}

static uint64_t reg_value(void *ctx, unsigned n)
{
	return gpr_read(ctx, n);
}

/* The linear address the decoded store writes (SDM Vol. 3A, 3.4 "Logical and Linear Addresses"). */
static uint64_t store_linear(struct vcpu *v, const struct mmio_store *s, enum mmio_mode mode,
			     uint64_t rip)
{
	uint64_t ea = mmio_effective_address(s, rip, reg_value, v);
	uint64_t base = 0;

	/* In 64-bit mode only FS and GS have bases (SDM Vol. 3A, 3.4.4). */
	switch (s->seg) {
	case MMIO_SEG_FS: base = vmreadnat(VMCS_GUEST_FS_BASE); break;
	case MMIO_SEG_GS: base = vmreadnat(VMCS_GUEST_GS_BASE); break;
	case MMIO_SEG_ES: base = mode == MMIO_MODE_64 ? 0 : vmreadnat(VMCS_GUEST_ES_BASE); break;
	case MMIO_SEG_CS: base = mode == MMIO_MODE_64 ? 0 : vmreadnat(VMCS_GUEST_CS_BASE); break;
	case MMIO_SEG_SS: base = mode == MMIO_MODE_64 ? 0 : vmreadnat(VMCS_GUEST_SS_BASE); break;
	case MMIO_SEG_DS: base = mode == MMIO_MODE_64 ? 0 : vmreadnat(VMCS_GUEST_DS_BASE); break;
	}
	return mode == MMIO_MODE_64 ? base + ea : (base + ea) & 0xffffffffu;
}

static struct pci_dev_id device_at(const struct ecam_addr *a)
{
	const volatile uint32_t *cfg = (const volatile uint32_t *)(uintptr_t)a->fn_base;
	uint32_t id = cfg[0], hdr = cfg[PCI_HEADER_TYPE_DWORD / 4];

	return (struct pci_dev_id){ a->bus, a->dev, a->fn, (uint16_t)id, (uint16_t)(id >> 16),
				    (uint8_t)(hdr >> 16) };
}

/* Write bytes [reg, reg+size) of dword out; aligned words and dwords as one access. */
static void write_bytes(uint64_t fn_base, unsigned reg, unsigned size, uint32_t out)
{
	uintptr_t p = (uintptr_t)(fn_base + reg);

	if (size == 4) {
		*(volatile uint32_t *)p = out;
	} else if (size == 2 && !(reg & 1)) {
		*(volatile uint16_t *)p = (uint16_t)(out >> 8 * (reg & 3));
	} else {
		for (unsigned i = 0; i < size; i++)
			*(volatile uint8_t *)(p + i) = (uint8_t)(out >> 8 * ((reg + i) & 3));
	}
}

bool handle_ecam_write(struct vcpu *v, const struct exit_ctx *x, uint64_t gpa)
{
	int wi = ecam_find(pci_ecam.w, pci_ecam.n, gpa);
	struct ept_violation_info e = decode_ept_violation(x->qualification);
	struct ecam_piece piece[ECAM_MAX_PIECES];
	struct exit_ctx done = *x;
	struct mmio_store s;
	struct ecam_addr a;
	struct pci_dev_id d;
	enum mmio_mode mode;
	struct insn in;
	uint64_t la, value;
	unsigned n;

	if (wi < 0 || !e.write)
		return false;
	if (x->idt_vectoring & INTR_INFO_VALID)
		give_up(v, x, gpa, 0, "a write during event delivery (a stack or IDT in ECAM)");
	if (e.linear_valid && !e.translation)
		give_up(v, x, gpa, 0, "a paging-structure update (page tables in ECAM)");
	mode = code_mode();
	s = fetch_and_decode(v, x, gpa, mode, &in);
	/* The CPU reported this access: the decoded store must be it (not a page-crossing
	 * store that only ends in ECAM, nor code that changed since). */
	la = store_linear(v, &s, mode, x->rip);
	if ((e.linear_valid && la != vmreadnat(VMCS_GUEST_LINEAR_ADDRESS)) ||
	    ((la ^ gpa) & (PAGE_SIZE_4K - 1)))
		give_up(v, x, gpa, &in, "a store whose address is not the one that faulted");
	a = ecam_decode(&pci_ecam.w[wi], gpa);
	value = mmio_store_value(&s, s.is_imm ? 0 : gpr_read(v, s.src));
	n = ecam_split(a.reg, s.size, value, piece);
	if (!n)
		give_up(v, x, gpa, &in, "a store across two functions' configuration space");
	d = device_at(&a);
	for (unsigned i = 0; i < n; i++) {
		unsigned dword = piece[i].reg & ~3u;
		uint32_t old = *(volatile uint32_t *)(uintptr_t)(a.fn_base + dword), out;
		bool refused;

		out = pci_guard_write(&d, piece[i].reg, piece[i].size, piece[i].value, old,
				      pci_bar_addr_ok, &refused);
		if (refused)
			pr_info("pci: %04x:%02x:%02x.%x register 0x%03x: L1's ECAM write of 0x%x kept "
				"from what it would open (README, \"What L1 sees\")", a.segment, d.bus,
				d.dev, d.fn, piece[i].reg, piece[i].value);
		write_bytes(a.fn_base, piece[i].reg, piece[i].size, out);
	}
	pr_trace("pci: ECAM write %04x:%02x:%02x.%x reg 0x%03x size %u value 0x%lx", a.segment, a.bus,
		 a.dev, a.fn, a.reg, s.size, value);
	done.insn_len = s.len;
	vcpu_skip_instruction(&done);
	return true;
}
