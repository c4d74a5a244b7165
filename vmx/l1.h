/* SPDX-License-Identifier: MIT */
/* The L1 guest: its memory, its boot, its vCPU. */
#ifndef NESTVISOR_VMX_L1_H
#define NESTVISOR_VMX_L1_H

#include "ept/ept.h"
#include "vmx/caps.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_bits.h"
#include "core/pmm.h"
#include "core/x86.h"

#include <nestvisor/bootinfo.h>

struct l1_env {
	const struct nv_bootinfo *bi;
	uint64_t ram_end;      /* free RAM at or above this is not L1's (l1_memory) */
	uint64_t mbi;          /* Multiboot information, PVH start info or Linux zero page, L1 physical */
	struct ept ept01;
	uint64_t msr_bitmap, io_bitmap_a, io_bitmap_b;  /* L0's intercepts for L1 */
	size_t pool_free_at_start;  /* L0 pool pages free when L1 started */
	bool isa_dma_off;      /* ISA DMA could reach memory not L1's: its ports are L0's */
	struct vcpu vcpu;
};

/* The only I/O port L0 intercepts: the test exit port (QEMU isa-debug-exit). */
#define TEST_EXIT_PORT 0xf4

extern struct l1_env l1;

/* Does L0 intercept this I/O port for itself (its I/O bitmap for L1)? */
static inline bool l1_io_port_is_l0s(uint16_t port)
{
	const uint8_t *page = phys_to_virt(port < 0x8000 ? l1.io_bitmap_a : l1.io_bitmap_b);
	unsigned bit = port & 0x7fff;

	return page[bit / 8] >> (bit % 8) & 1;
}

/* The 8237 DMA controllers' registers: DMA1 0x00-0x0F, DMA2 0xC0-0xDF. */
static inline bool isa_dma_port(uint16_t port)
{
	return port <= 0x0f || (port >= 0xc0 && port <= 0xdf);
}

/* Ports L0 performs for L1 after its checks (vmx/exit_pci.c). */
static inline bool l1_io_port_is_guarded(uint16_t port)
{
	return (port >= 0xcf8 && port <= 0xcff) || port == 0xb2 ||
	       (l1.isa_dma_off && isa_dma_port(port));
}

/* Place L1's image and modules, build its boot information and EPT01, start it. */
__attribute__((noreturn)) void l1_start(const struct nv_bootinfo *bi);

/* vmx/l1_multiboot.c: copy the planned pieces; build the Multiboot info. Return the MBI address. */
void l1_place_image(const struct nv_bootinfo *bi);
uint64_t l1_build_multiboot_info(const struct nv_bootinfo *bi, uint64_t ram_end);

/*
 * L1's first state besides what every protocol shares (32-bit protected mode,
 * paging off, flat 4 GiB segments, IF = 0; the other registers 0).
 */
struct l1_entry_state {
	uint64_t rip;
	uint64_t rax, rbx, rsi;
	uint16_t cs, ds;        /* selectors; DS is also ES, SS, FS and GS */
	uint64_t gdt_base;      /* GDTR; 0/0 where the protocol leaves it undefined */
	uint16_t gdt_limit;
};

/* Multiboot (and PVH): CS 0x08, data 0x10, no GDT; EAX = the magic, EBX = the info. */
#define L1_MULTIBOOT_CS 0x08
#define L1_MULTIBOOT_DS 0x10
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u

/* vmx/vmcs01.c: a VMCS01 that starts L1 in that state. */
void vmcs01_setup(struct vcpu *v, uint64_t eptp, const struct l1_entry_state *st);
/* L0's host-state area (the same in VMCS01 and VMCS02), into the current VMCS. */
void vmcs_write_host_state(struct vcpu *v);

/* L0's guest/host masks for L1: the CR0/CR4 bits fixed in VMX operation. */
uint64_t vmcs01_cr0_mask(void);
uint64_t vmcs01_cr4_mask(void);
/* L1 entered or left VMX operation (VMCS01 current): adjust L0's CR0 mask. */
void l1_vmx_operation_changed(bool in_vmx_operation);
/* The CR0 L1's guest really runs with, for a CR0 value it wants (inline: every
 * reflected exit loads L1's host CR0 through it). */
static inline uint64_t l1_real_cr0(uint64_t visible)
{
	return (visible | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
}
/* Load the PAE PDPTEs for guest CR3 into the current VMCS; false if invalid. */
bool l1_load_pdptes(uint64_t cr3);

/* Is the guest of the current VMCS in IA-32e mode (long mode) right now? */
static inline bool l1_long_mode(void)
{
	return vmread32(VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
}

/* The boot-map type at a physical address (0 if in no range). */
uint32_t l1_mem_type_at(uint64_t pa);

#endif
