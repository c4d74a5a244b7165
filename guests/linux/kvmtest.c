// SPDX-License-Identifier: MIT
/*
 * kvmtest: the userspace of the Linux/KVM L1. It drives /dev/kvm (the KVM API,
 * Documentation/virt/kvm/api.rst) to run small L2 guests and prints what it saw:
 *
 *   l1 cpuid   CPUID in this process (Linux userspace in L1): L1's own round trip
 *              through L0, the reference for the L2 figure
 *   realmode   a real-mode L2 doing port I/O both ways, then HLT
 *   cpuid      a 32-bit protected-mode L2 timing CPUID round trips with RDTSC
 *              (lfence; rdtsc; lfence on both sides, the empty pair subtracted),
 *              each an L2 exit reflected to KVM (L1's handler) and back
 *   vmx        an L2 that uses VMX itself (KVM's nested VMX, CPUID from
 *              KVM_GET_SUPPORTED_CPUID): VMXON, VMCLEAR, VMPTRLD, VMWRITE and
 *              VMREAD checked, then VMREAD round trips timed; then an L3
 *              (VMLAUNCH) timing CPUID, each exit handled by L2 (3 VMREADs,
 *              1 VMWRITE, VMRESUME, all emulated by KVM), HLT, VMXOFF
 * The figures are printed in exitbench's style (tools/FORMATS.md):
 *   kvmtest: result kind=<l1|l2-reflected> op=<cpuid|vmread> handler=<-|kvm> samples= min= median= mean= max=
 *
 * Usage: kvmtest run [n=SAMPLES] [warmup=N]    0 all passed, 1 a check failed,
 *                                              2 no /dev/kvm (nothing to test)
 *        kvmtest exit STATUS                   write STATUS to port 0xf4: the
 *                                              exit port ends the run with (STATUS << 1) | 1
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "kvmtest.h"

#define EXIT_PORT      0xf4
#define MAX_SAMPLES    ((SAMPLES3_ADDR - SAMPLES_ADDR) / 4)
#define KVM_TSS_ADDR   0xfffbd000u  /* KVM_SET_TSS_ADDR: three pages below 4 GiB, outside RAM */
#define IN8_VALUE      0x5a         /* what the real-mode L2 reads from PORT_IN8 */
#define VF(off)        ((off) / 4)  /* a VMX_FLAGS word as an index */
#define RFLAGS_CF      (1u << 0)
#define RFLAGS_ZF      (1u << 6)

/* The L2 programs (l2.S), copied to CODE_ADDR. */
extern const uint8_t l2_realmode[], l2_realmode_end[], l2_timed[], l2_timed_end[];
extern const uint8_t l2_vmx[], l2_vmx_stubs[], l2_vmx_end[], l2_exit[], l3_code[];

static int kvm_fd;
static long vcpu_mmap_size;
static int failed, passed;

static void check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("kvmtest: check name=%s result=%s detail=", name, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

struct vm {
	int fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
};

/* A VM with GUEST_MEM bytes of RAM at 0 and one vCPU. Returns 0 or -1 (printed). */
static int vm_create(struct vm *vm)
{
	struct kvm_userspace_memory_region region;

	vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		printf("kvmtest: error: KVM_CREATE_VM: %s\n", strerror(errno));
		return -1;
	}
	/* Intel needs it for real mode without unrestricted guest; harmless otherwise. */
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		printf("kvmtest: error: KVM_SET_TSS_ADDR: %s\n", strerror(errno));
		return -1;
	}
	vm->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED) {
		printf("kvmtest: error: mmap guest memory: %s\n", strerror(errno));
		return -1;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		printf("kvmtest: error: KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno));
		return -1;
	}
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0) {
		printf("kvmtest: error: KVM_CREATE_VCPU: %s\n", strerror(errno));
		return -1;
	}
	vm->run = mmap(NULL, vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		printf("kvmtest: error: mmap kvm_run: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void vm_destroy(struct vm *vm)
{
	munmap(vm->run, vcpu_mmap_size);
	munmap(vm->mem, GUEST_MEM);
	close(vm->vcpu);
	close(vm->fd);
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail-entry";
	case KVM_EXIT_INTERNAL_ERROR: return "internal-error";
	default: return "other";
	}
}

/* One KVM_RUN; returns the exit reason, or -1 if the ioctl failed (printed). */
static int vm_run(struct vm *vm)
{
	if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
		printf("kvmtest: error: KVM_RUN: %s\n", strerror(errno));
		return -1;
	}
	return (int)vm->run->exit_reason;
}

static void print_unexpected(struct vm *vm, const char *test)
{
	struct kvm_run *r = vm->run;

	printf("kvmtest: %s: unexpected exit %u (%s)", test, r->exit_reason, exit_name(r->exit_reason));
	if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
		printf(" hardware_entry_failure_reason=0x%llx",
		       (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
	if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		printf(" suberror=%u", r->internal.suberror);
	if (r->exit_reason == KVM_EXIT_IO)
		printf(" port=0x%x dir=%u size=%u", r->io.port, r->io.direction, r->io.size);
	printf("\n");
}

/* (a) Real mode: OUT 'h', 'i' (8-bit), 0x1234 (16-bit), IN 8-bit, echo it + 1, HLT. */
static void test_realmode(void)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 2 };
	char text[3] = { 0 };
	unsigned out16 = 0, echo = 0, ios = 0;
	struct vm vm;
	int reason, halted = 0;

	if (vm_create(&vm)) {
		check(0, "realmode", "vm_create_failed");
		return;
	}
	memcpy(vm.mem + CODE_ADDR, l2_realmode, l2_realmode_end - l2_realmode);
	ioctl(vm.vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vm.vcpu, KVM_SET_SREGS, &sregs);
	ioctl(vm.vcpu, KVM_SET_REGS, &regs);
	while (!halted && ios < 16 && (reason = vm_run(&vm)) >= 0) {
		struct kvm_run *r = vm.run;
		uint8_t *data = (uint8_t *)r + r->io.data_offset;

		if (reason == KVM_EXIT_HLT) {
			halted = 1;
		} else if (reason == KVM_EXIT_IO) {
			ios++;
			if (r->io.direction == KVM_EXIT_IO_OUT && r->io.port == PORT_OUT8 && ios <= 2)
				text[ios - 1] = (char)data[0];
			else if (r->io.direction == KVM_EXIT_IO_OUT && r->io.port == PORT_OUT16 && r->io.size == 2)
				out16 = data[0] | data[1] << 8;
			else if (r->io.direction == KVM_EXIT_IO_IN && r->io.port == PORT_IN8)
				data[0] = IN8_VALUE;
			else if (r->io.direction == KVM_EXIT_IO_OUT && r->io.port == PORT_ECHO)
				echo = data[0];
			else
				print_unexpected(&vm, "realmode");
		} else {
			print_unexpected(&vm, "realmode");
			break;
		}
	}
	ioctl(vm.vcpu, KVM_GET_REGS, &regs);
	check(halted && !strcmp(text, "hi") && out16 == 0x1234 && echo == IN8_VALUE + 1 && ios == 5,
	      "realmode", "out8=%s,out16=0x%x,in8_echo=0x%x,io_exits=%u,hlt=%d,rip=0x%llx", text, out16,
	      echo, ios, halted, (unsigned long long)regs.rip);
	vm_destroy(&vm);
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	uint32_t min, median, max;
	double mean;
};

/* Sorts s[0..n). */
static void stats_of(uint32_t *s, uint32_t n, struct stats *st)
{
	double sum = 0;

	for (uint32_t i = 0; i < n; i++)
		sum += s[i];
	qsort(s, n, sizeof(*s), cmp_u32);
	*st = (struct stats){ s[0], s[n / 2], s[n - 1], sum / n };
}

/* One "kvmtest: result" line, the timestamp pair's median subtracted. */
static void print_result_op(const char *kind, const char *op, const char *handler, uint32_t n,
			    const struct stats *st, uint32_t pair)
{
	printf("kvmtest: result kind=%s op=%s handler=%s samples=%u min=%u median=%u mean=%.1f max=%u\n",
	       kind, op, handler, n, st->min - pair, st->median - pair, st->mean - pair,
	       st->max - pair);
}

static void print_result(const char *kind, const char *handler, uint32_t n,
			 const struct stats *st, uint32_t pair)
{
	print_result_op(kind, "cpuid", handler, n, st, pair);
}

/*
 * Run the timed L2 once: `count` samples after `warmup`, of CPUID (with_cpuid)
 * or of the empty timestamp pair. Returns 0 with the statistics, or -1.
 */
static int set_supported_cpuid(struct vm *vm);

/* L3's VMCS, as the VMX L2 writes it (the CRs it adds itself). SDM Vol. 3C, appendix B "Field Encoding in VMCS". */
static void setup_l3_vmcs(struct vm *vm)
{
	const uint32_t host_rip = CODE_ADDR + (uint32_t)(l2_exit - l2_vmx);
	const uint32_t guest_rip = CODE_ADDR + (uint32_t)(l3_code - l2_vmx);
	const uint32_t t[][3] = {
		/* controls, adjusted by the TRUE capability MSRs; HLT exiting (bit 7) */
		{ 0x4000, 0, 0x48d }, { 0x4002, 1u << 7, 0x48e }, { 0x400c, 0, 0x48f },
		{ 0x4012, 0, 0x490 },
		{ 0x4004, 0, 0 }, { 0x4006, 0, 0 }, { 0x4008, 0, 0 }, { 0x400a, 0, 0 },
		{ 0x400e, 0, 0 }, { 0x4010, 0, 0 }, { 0x4014, 0, 0 }, { 0x4016, 0, 0 },
		{ 0x6000, 0, 0 }, { 0x6002, 0, 0 },
		{ 0x2800, ~0u, 0 }, { 0x2801, ~0u, 0 },          /* VMCS link pointer */
		{ 0x2802, 0, 0 }, { 0x2803, 0, 0 },              /* guest IA32_DEBUGCTL */
		/* host state: L2's flat segments, its TSS, GDT, IDT, stack and exit handler */
		{ 0x0c00, SEL_DATA, 0 }, { 0x0c02, SEL_CODE, 0 }, { 0x0c04, SEL_DATA, 0 },
		{ 0x0c06, SEL_DATA, 0 }, { 0x0c08, SEL_DATA, 0 }, { 0x0c0a, SEL_DATA, 0 },
		{ 0x0c0c, SEL_TSS, 0 },
		{ 0x6c06, 0, 0 }, { 0x6c08, 0, 0 }, { 0x6c0a, TSS_ADDR, 0 }, { 0x6c0c, GDT_ADDR, 0 },
		{ 0x6c0e, IDT_ADDR, 0 }, { 0x6c10, 0, 0 }, { 0x6c12, 0, 0 }, { 0x4c00, 0, 0 },
		{ 0x6c14, L2_STACK, 0 }, { 0x6c16, host_rip, 0 },
		/* guest state: the same flat 32-bit protected mode */
		{ 0x0800, SEL_DATA, 0 }, { 0x0802, SEL_CODE, 0 }, { 0x0804, SEL_DATA, 0 },
		{ 0x0806, SEL_DATA, 0 }, { 0x0808, SEL_DATA, 0 }, { 0x080a, SEL_DATA, 0 },
		{ 0x080c, 0, 0 }, { 0x080e, SEL_TSS, 0 },
		{ 0x4800, ~0u, 0 }, { 0x4802, ~0u, 0 }, { 0x4804, ~0u, 0 }, { 0x4806, ~0u, 0 },
		{ 0x4808, ~0u, 0 }, { 0x480a, ~0u, 0 }, { 0x480c, 0, 0 }, { 0x480e, 0x67, 0 },
		{ 0x4810, 31, 0 }, { 0x4812, IDT_VECTORS * 8 - 1, 0 },
		{ 0x4814, 0xc093, 0 }, { 0x4816, 0xc09b, 0 }, { 0x4818, 0xc093, 0 },
		{ 0x481a, 0xc093, 0 }, { 0x481c, 0xc093, 0 }, { 0x481e, 0xc093, 0 },
		{ 0x4820, 0x10000, 0 }, { 0x4822, 0x8b, 0 },      /* LDTR unusable, TR busy TSS */
		{ 0x6806, 0, 0 }, { 0x6808, 0, 0 }, { 0x680a, 0, 0 }, { 0x680c, 0, 0 },
		{ 0x680e, 0, 0 }, { 0x6810, 0, 0 }, { 0x6812, 0, 0 }, { 0x6814, TSS_ADDR, 0 },
		{ 0x6816, GDT_ADDR, 0 }, { 0x6818, IDT_ADDR, 0 },
		{ 0x4824, 0, 0 }, { 0x4826, 0, 0 }, { 0x482a, 0, 0 }, { 0x6824, 0, 0 },
		{ 0x6826, 0, 0 }, { 0x681a, 0x400, 0 }, { 0x681c, L3_STACK, 0 },
		{ 0x681e, guest_rip, 0 }, { 0x6820, 2, 0 }, { 0x6822, 0, 0 },
		{ ~0u, 0, 0 },
	};

	memcpy(vm->mem + VMCS_TABLE, t, sizeof(t));
}

/* The VMX L2's GDT and IDT (after its KVM_SET_SREGS, which setup_idt redoes). */
static void setup_idt(struct vm *vm)
{
	const uint64_t gdt[4] = { 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
				  /* 32-bit available TSS (type 9), present, limit 0x67 */
				  0x67 | (uint64_t)(TSS_ADDR & 0xffffff) << 16 | 0x89ull << 40 |
					  (uint64_t)(TSS_ADDR >> 24) << 56 };

	memcpy(vm->mem + GDT_ADDR, gdt, sizeof(gdt));
	for (uint32_t v = 0; v < IDT_VECTORS; v++) {
		uint32_t handler = CODE_ADDR + (uint32_t)(l2_vmx_stubs - l2_vmx) + 8 * v;
		uint64_t gate = (handler & 0xffff) | (uint32_t)SEL_CODE << 16 |
				(uint64_t)(0x8e00u | (handler & 0xffff0000u)) << 32;

		memcpy(vm->mem + IDT_ADDR + 8 * v, &gate, 8);
	}
}

/*
 * Run a timed L2 once: `count` samples after `warmup`. prog 0: the empty
 * timestamp pair, 1: CPUID (both l2_timed), 2: VMREAD (l2_vmx). Returns 0 with
 * the statistics, or -1. vmx_flags: the VMX L2's VF_SIZE bytes of results.
 */
static int timed_run(int prog, uint32_t count, uint32_t warmup, struct stats *st,
		     uint32_t *vmx_flags, struct stats *l3)
{
	int with_cpuid = prog == 1;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 2, .rbx = (uint64_t)with_cpuid };
	uint32_t *samples, total = count + warmup;
	struct vm vm;
	int reason, ok = 0;

	if (vm_create(&vm))
		return -1;
	if (prog == 2) {
		uint32_t pde = 0x83;             /* present, writable, 4 MiB */
		uint64_t vmxon = VMXON_ADDR, vmcs = VMCS_ADDR;

		if (set_supported_cpuid(&vm)) {
			vm_destroy(&vm);
			return -1;
		}
		memcpy(vm.mem + CODE_ADDR, l2_vmx, l2_vmx_end - l2_vmx);
		memcpy(vm.mem + PD_ADDR, &pde, sizeof(pde));
		memset(vm.mem + VMX_FLAGS, 0xff, VF_SIZE);
		memcpy(vm.mem + VMX_PTRS, &vmxon, 8);
		memcpy(vm.mem + VMX_PTRS + 8, &vmcs, 8);
		setup_idt(&vm);
		setup_l3_vmcs(&vm);
	} else {
		memcpy(vm.mem + CODE_ADDR, l2_timed, l2_timed_end - l2_timed);
	}
	memcpy(vm.mem + PARAM_ADDR, &total, sizeof(total));
	memcpy(vm.mem + PARAM_ADDR + 4, &total, sizeof(total));
	ioctl(vm.vcpu, KVM_GET_SREGS, &sregs);
	flat_segment(&sregs.cs, SEL_CODE, 0xb);   /* execute/read, accessed */
	flat_segment(&sregs.ds, SEL_DATA, 0x3);   /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 |= 1;                       /* CR0.PE, paging off */
	sregs.gdt.base = GDT_ADDR;            /* used by the VMX L2 only */
	sregs.gdt.limit = 31;
	sregs.idt.base = IDT_ADDR;
	sregs.idt.limit = IDT_VECTORS * 8 - 1;
	regs.rsp = L2_STACK;
	ioctl(vm.vcpu, KVM_SET_SREGS, &sregs);
	ioctl(vm.vcpu, KVM_SET_REGS, &regs);
	for (;;) {
		reason = vm_run(&vm);
		if (reason == KVM_EXIT_IO && vm.run->io.port == PORT_DONE)
			continue;               /* then HLT */
		if (reason == KVM_EXIT_IO && vm.run->io.port == PORT_FAULT) {
			uint32_t f[5];

			memcpy(f, vm.mem + VMX_FAULT, sizeof(f));
			printf("kvmtest: vmx: L2 exception vector %u, stack 0x%x 0x%x 0x%x 0x%x (error code if any, eip, cs, eflags)\n",
			       f[0], f[1], f[2], f[3], f[4]);
			break;
		}
		if (reason == KVM_EXIT_HLT)
			ok = 1;
		else if (reason >= 0)
			print_unexpected(&vm, prog == 2 ? "vmx" : with_cpuid ? "cpuid" : "timestamp");
		break;
	}
	if (vmx_flags)
		memcpy(vmx_flags, vm.mem + VMX_FLAGS, VF_SIZE);
	if (ok) {
		samples = (uint32_t *)(vm.mem + SAMPLES_ADDR) + warmup;
		stats_of(samples, count, st);
	}
	if (ok && l3 && vmx_flags && vmx_flags[VF(VF_L3_EXIT)] == EXIT_REASON_HLT)
		stats_of((uint32_t *)(vm.mem + SAMPLES3_ADDR) + warmup, count, l3);
	vm_destroy(&vm);
	return ok ? 0 : -1;
}

/* (b) CPUID round trips of a protected-mode L2, exitbench's way of printing them. */
static uint32_t test_cpuid(uint32_t n, uint32_t warmup)
{
	struct stats pair, cpuid;

	if (timed_run(0, n, warmup, &pair, NULL, NULL)) {
		check(0, "cpuid", "timestamp_pair_run_failed");
		return 0;
	}
	printf("kvmtest: timestamp method=lfence-rdtsc-lfence pair=%u\n", pair.median);
	if (timed_run(1, n, warmup, &cpuid, NULL, NULL)) {
		check(0, "cpuid", "cpuid_run_failed");
		return pair.median;
	}
	print_result("l2-reflected", "kvm", n, &cpuid, pair.median);
	check(cpuid.min > pair.median, "cpuid", "median=%u,pair=%u", cpuid.median - pair.median,
	      pair.median);
	return pair.median;
}

/* KVM's supported CPUID (with VMX when kvm_intel has nested=1) as the vCPU's. */
static int set_supported_cpuid(struct vm *vm)
{
	enum { MAX_ENTRIES = 256 };
	static struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 entries[MAX_ENTRIES];
	} c;

	c.head.nent = MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, &c) < 0) {
		printf("kvmtest: error: KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vcpu, KVM_SET_CPUID2, &c) < 0) {
		printf("kvmtest: error: KVM_SET_CPUID2: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int vmx_ok(uint32_t rflags)
{
	return !(rflags & (RFLAGS_CF | RFLAGS_ZF));
}

/* (c) An L2 using VMX: KVM in L1 emulates it (nested=1); its VMREAD round trip timed. */
static void test_vmx(uint32_t n, uint32_t warmup, uint32_t pair)
{
	uint32_t f[VF(VF_SIZE)];
	struct stats vmread, l3;
	int ran = !timed_run(2, n, warmup, &vmread, f, &l3);

	check(ran && vmx_ok(f[VF(VF_VMXON)]) && vmx_ok(f[VF(VF_VMCLEAR)]) && vmx_ok(f[VF(VF_VMPTRLD)]) &&
		      vmx_ok(f[VF(VF_VMWRITE)]) && vmx_ok(f[VF(VF_VMREAD)]) && f[VF(VF_VALUE)] == 0x12345678 &&
		      vmx_ok(f[VF(VF_VMXOFF)]),
	      "vmx", "ran=%d,revision=0x%x,rflags=vmxon:0x%x/vmclear:0x%x/vmptrld:0x%x/vmwrite:0x%x/vmread:0x%x/vmxoff:0x%x,vmread_value=0x%x",
	      ran, f[VF(VF_REVISION)], f[VF(VF_VMXON)], f[VF(VF_VMCLEAR)], f[VF(VF_VMPTRLD)], f[VF(VF_VMWRITE)],
	      f[VF(VF_VMREAD)], f[VF(VF_VMXOFF)], f[VF(VF_VALUE)]);
	if (ran)
		print_result_op("l2-reflected", "vmread", "kvm", n, &vmread, pair);
	/* L3's CPUID exits to L2's handler: through L0, KVM in L1 and L2's emulated VMX. */
	check(ran && f[VF(VF_LAUNCH)] == 0 && f[VF(VF_L3_EXIT)] == EXIT_REASON_HLT, "l3",
	      "vmlaunch_rflags=0x%x,vm_instruction_error=%d,l3_exit_reason=%d,qualification=0x%x",
	      f[VF(VF_LAUNCH)], (int)f[VF(VF_INSN_ERROR)], (int)f[VF(VF_L3_EXIT)], f[VF(VF_L3_QUAL)]);
	if (ran && f[VF(VF_LAUNCH)] == 0 && f[VF(VF_L3_EXIT)] == EXIT_REASON_HLT)
		print_result_op("l3-reflected", "cpuid", "l2", n, &l3, pair);
}

static inline uint32_t stamp(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return lo;
}

/* CPUID leaf 0 here, in L1: its round trip through L0 (the same timing as the L2's). */
static void test_l1_cpuid(uint32_t n, uint32_t warmup)
{
	static uint32_t pair_s[MAX_SAMPLES], cpuid_s[MAX_SAMPLES];
	struct stats pair, cpuid;

	for (uint32_t i = 0; i < n + warmup; i++) {
		uint32_t t0 = stamp(), t1 = stamp();

		pair_s[i] = t1 - t0;
	}
	for (uint32_t i = 0; i < n + warmup; i++) {
		uint32_t a = 0, b, c = 0, d, t0, t1;

		t0 = stamp();
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		t1 = stamp();
		cpuid_s[i] = t1 - t0;
	}
	stats_of(pair_s + warmup, n, &pair);
	stats_of(cpuid_s + warmup, n, &cpuid);
	print_result("l1", "-", n, &cpuid, pair.median);
}

/* CPUID 0x40000000 as this L1 (Linux's userspace) sees it: who runs below, if anyone. */
static void print_l0(void)
{
	uint32_t a, b, c, d;
	char name[13];

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0));
	if (!(c & (1u << 31))) {   /* CPUID.1:ECX.hypervisor: no hypervisor leaves */
		printf("kvmtest: l0 name=none\n");
		return;
	}
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000u), "c"(0));
	memcpy(name, &b, 4);
	memcpy(name + 4, &c, 4);
	memcpy(name + 8, &d, 4);
	name[12] = 0;
	for (int i = 0; i < 12; i++)
		if (name[i] && (name[i] < '!' || name[i] > '~'))
			name[i] = '_';
	printf("kvmtest: l0 name=%s\n", name[0] ? name : "none");
}

static uint32_t option(int argc, char **argv, const char *key, uint32_t def)
{
	size_t len = strlen(key);

	for (int i = 2; i < argc; i++)
		if (!strncmp(argv[i], key, len) && argv[i][len] == '=')
			return (uint32_t)strtoul(argv[i] + len + 1, NULL, 0);
	return def;
}

static int cmd_run(int argc, char **argv)
{
	uint32_t n = option(argc, argv, "n", 1000);
	uint32_t warmup = option(argc, argv, "warmup", n / 10 > 10 ? n / 10 : 10);
	int version;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (n == 0 || n + warmup > MAX_SAMPLES) {
		printf("kvmtest: error: n=%u warmup=%u: at most %u samples in all\n", n, warmup,
		       (unsigned)MAX_SAMPLES);
		return 1;
	}
	printf("kvmtest: start version=1 n=%u warmup=%u\n", n, warmup);
	print_l0();
	test_l1_cpuid(n, warmup);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("kvmtest: no /dev/kvm (%s): no VMX here, or kvm_intel did not load; nothing to test\n",
		       strerror(errno));
		printf("kvmtest: done passed=0 failed=0 kvm=missing\n");
		return 2;
	}
	version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	vcpu_mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	printf("kvmtest: kvm api=%d vcpu_mmap_size=%ld nested=%s\n", version, vcpu_mmap_size,
	       ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NESTED_STATE) > 0 ? "yes" : "no");
	if (version != KVM_API_VERSION || vcpu_mmap_size <= 0) {
		check(0, "api", "version=%d", version);
	} else {
		test_realmode();
		test_vmx(n, warmup, test_cpuid(n, warmup));
	}
	printf("kvmtest: done passed=%d failed=%d\n", passed, failed);
	return failed ? 1 : 0;
}

/* The exit port: QEMU's isa-debug-exit, and nestvisor's port 0xf4. */
static int cmd_exit(int argc, char **argv)
{
	unsigned status = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 0;

	fflush(stdout);
	sync();
	/* The serial console transmits what was written after write() returns: let it finish. */
	tcdrain(STDOUT_FILENO);
	if (ioperm(EXIT_PORT, 1, 1)) {
		printf("kvmtest: ioperm(0x%x): %s\n", EXIT_PORT, strerror(errno));
		return 1;
	}
	outb((uint8_t)status, EXIT_PORT);
	return 1;   /* still here: no exit device on this machine */
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "exit"))
		return cmd_exit(argc, argv);
	fprintf(stderr, "usage: kvmtest run [n=SAMPLES] [warmup=N] | kvmtest exit STATUS\n");
	return 64;
}
