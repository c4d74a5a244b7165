/* SPDX-License-Identifier: MIT */
/* Inline wrappers for the x86 instructions the guests use. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

/* Control registers and RFLAGS are as wide as the mode: uint32_t in the 32-bit
 * kernels (unchanged API), uint64_t in the 64-bit ones (BITS64). */
#ifdef __x86_64__
typedef uint64_t ureg_t;
#else
typedef uint32_t ureg_t;
#endif

/* SDM Vol. 3A, 2.5 "Control Registers" */
#define CR0_PE   (1u << 0)
#define CR0_PG   (1u << 31)
#define CR4_PAE  (1u << 5)
#define CR4_VMXE (1u << 13)

/* SDM Vol. 4, 2.1 "Architectural MSRs" */
#define MSR_IA32_FEATURE_CONTROL 0x3Au
#define MSR_IA32_APIC_BASE       0x1Bu
#define MSR_IA32_VMX_BASIC       0x480u
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48cu
#define MSR_IA32_EFER            0xC0000080u
#define FEATURE_CONTROL_LOCKED   (1u << 0)
#define EFER_LME                 (1u << 8)
#define EFER_LMA                 (1u << 10)

/* SDM Vol. 2A, CPUID: Table 3-8 "Information Returned by CPUID Instruction" */
#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)  /* reserved for hypervisors to set */
#define CPUID_1_EDX_TSC        (1u << 4)
#define CPUID_1_EDX_SSE2       (1u << 26)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define CPUID_80000001_EDX_LM     (1u << 29)
#define CPUID_HV_BASE          0x40000000u

/* SDM Vol. 3A, Table 6-1 "Protected-Mode Exceptions and Interrupts". */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
	VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19,
	VEC_VE = 20, VEC_CP = 21,
	NUM_EXCEPTIONS = 32
};

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline ureg_t read_cr0(void)
{
	ureg_t v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline ureg_t read_cr2(void)
{
	ureg_t v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline ureg_t read_cr3(void)
{
	ureg_t v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline ureg_t read_cr4(void)
{
	ureg_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(ureg_t v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr4(ureg_t v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline ureg_t read_eflags(void)
{
	ureg_t v;

#ifdef __x86_64__
	asm volatile("pushfq; popq %0" : "=r"(v));
#else
	asm volatile("pushfl; popl %0" : "=r"(v));
#endif
	return v;
}

static inline uint8_t mmio_read8(uintptr_t addr)
{
	return *(volatile uint8_t *)addr;
}

static inline uint16_t mmio_read16(uintptr_t addr)
{
	return *(volatile uint16_t *)addr;
}

static inline void mmio_write16(uintptr_t addr, uint16_t v)
{
	*(volatile uint16_t *)addr = v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void cli_hlt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

#endif
