/* SPDX-License-Identifier: MIT */
/*
 * bench: the bundled L1 for `make run`, the seed of a VM-exit cost benchmark.
 * A 64-bit kernel (BITS64) using vmxlib (LIBS) for its nested measurements.
 * Times a few operations with the TSC, SAMPLES times each after WARMUP
 * untimed rounds, and prints one line per operation:
 *     bench: <name> min=<n> median=<n> mean=<n> max=<n> samples=<N>
 * Every sample includes the cost of the timestamp pair itself (rdtsc-pair,
 * the baseline): subtract it to get the operation alone.
 *
 * Timestamps: LFENCE; RDTSC; LFENCE. The first LFENCE keeps RDTSC from reading
 * the counter before earlier instructions have completed, the second keeps
 * later ones (the timed operation) from starting before it has (SDM Vol. 2B,
 * RDTSC). CPUID would serialize too but is itself a VM exit, and RDTSCP only
 * orders one side. Without SSE2 there is no LFENCE: plain RDTSC.
 *
 * Nested measurements (VMX in L1, emulated by L0): VMREAD and VMWRITE of
 * GUEST_RIP by L1, and the L1 -> L2 -> L1 round trip of an L2 CPUID or VMCALL
 * exit that L0 reflects to L1 (l2_bench.asm: VMRESUME between the two
 * timestamps, the second one taken at HOST_RIP).
 */
#include "vmxlib.h"

#define SAMPLES 1000
#define WARMUP  100

static uint32_t samples[SAMPLES];

static inline __attribute__((always_inline)) uint64_t stamp(bool fenced)
{
	uint32_t lo, hi;

	if (fenced)
		asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	else
		asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* The timed operations. */
static inline __attribute__((always_inline)) void op_rdtsc_pair(void)
{
}

static inline __attribute__((always_inline)) void op_cpuid_0(void)
{
	uint32_t a = 0, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
}

static inline __attribute__((always_inline)) void op_rdmsr_feature_control(void)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_IA32_FEATURE_CONTROL) : "memory");
}

static inline __attribute__((always_inline)) void op_add_x100(void)
{
	uint32_t x = 0;

	asm volatile(".rept 100\n\taddl $1, %0\n\t.endr" : "+r"(x));
}

/* The current VMCS is the L2's (set up by measure_nested). */
static inline __attribute__((always_inline)) void op_l1_vmread(void)
{
	uint64_t enc = VMCS_GUEST_RIP, val;

	asm volatile("vmread %1, %0" : "=r"(val) : "r"(enc) : "cc", "memory");
}

static uint64_t l2_guest_rip;

static inline __attribute__((always_inline)) void op_l1_vmwrite(void)
{
	uint64_t enc = VMCS_GUEST_RIP;

	asm volatile("vmwrite %0, %1" : : "r"(l2_guest_rip), "r"(enc) : "cc", "memory");
}

#define TIMED_LOOP(fenced, op)                                           \
	for (unsigned i = 0; i < WARMUP + SAMPLES; i++) {               \
		uint64_t t0 = stamp(fenced);                             \
		op();                                                    \
		uint64_t t1 = stamp(fenced);                             \
		if (i >= WARMUP)                                         \
			samples[i - WARMUP] = (uint32_t)(t1 - t0);       \
	}

/* One function per operation, each with both timestamp flavours inlined. */
#define DEFINE_MEASURE(op)                                               \
	static void measure_##op(bool fenced)                            \
	{                                                                \
		if (fenced) {                                            \
			TIMED_LOOP(true, op)                             \
		} else {                                                 \
			TIMED_LOOP(false, op)                            \
		}                                                        \
	}

DEFINE_MEASURE(op_rdtsc_pair)
DEFINE_MEASURE(op_cpuid_0)
DEFINE_MEASURE(op_rdmsr_feature_control)
DEFINE_MEASURE(op_add_x100)
DEFINE_MEASURE(op_l1_vmread)
DEFINE_MEASURE(op_l1_vmwrite)

static void sort(uint32_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint32_t x = v[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void print_stats(const char *name)
{
	uint64_t sum = 0;
	uint32_t median;

	sort(samples, SAMPLES);
	for (unsigned i = 0; i < SAMPLES; i++)
		sum += samples[i];
	median = SAMPLES % 2 ? samples[SAMPLES / 2]
			     : (uint32_t)(((uint64_t)samples[SAMPLES / 2 - 1] + samples[SAMPLES / 2]) / 2);
	printf("bench: %s min=%u median=%u mean=%llu max=%u samples=%u\n", name, samples[0],
	       median, (unsigned long long)(sum / SAMPLES), samples[SAMPLES - 1], SAMPLES);
}

/* l2_bench.asm */
uint64_t bench_l2_round(uint64_t *t0);
extern char bench_exit_point[], bench_l2_cpuid[], bench_l2_vmcall[];
extern uint64_t bench_host_rsp;

/*
 * A fresh L2 at `loop` (l2_init: 64-bit, L1's page tables, nothing but the
 * unconditional exits), launched once through vmxlib to check that it exits
 * with `reason`; then HOST_RIP is pointed at bench_exit_point for the timed
 * VMRESUMEs. false (with a message) if L2 does not run as expected.
 */
static bool l2_setup(struct l2 *g, const void *loop, uint32_t reason, const char *name)
{
	l2_init(g, loop);
	if (!l2_run(g) || g->exit.reason != reason || g->exit.rip != (uintptr_t)loop) {
		printf("bench: %s skipped (L2 set-up: entry %s, exit reason 0x%x at 0x%llx)\n", name,
		       res_str(g->entry), g->exit.reason, U64(g->exit.rip));
		return false;
	}
	vmw(VMCS_HOST_RIP, (uintptr_t)bench_exit_point);
	bench_host_rsp = 0;     /* vmx_launch wrote its own HOST_RSP */
	return true;
}

/* L1 VMRESUME -> L2 exits at once -> L0 reflects the exit -> L1 at HOST_RIP. */
static bool measure_l2_round(const char *name)
{
	for (unsigned i = 0; i < WARMUP + SAMPLES; i++) {
		uint64_t t0 = 0, t1 = bench_l2_round(&t0);

		if (!t1) {
			printf("bench: %s stopped: VMRESUME failed (VM-instruction error %llu)\n",
			       name, U64(vmr(VMCS_VM_INSTRUCTION_ERROR)));
			return false;
		}
		if (i >= WARMUP)
			samples[i - WARMUP] = (uint32_t)(t1 - t0);
	}
	return true;
}

static void measure_nested(bool fenced)
{
	static struct l2 g;

	if (!(cpuid(1).ecx & CPUID_1_ECX_VMX)) {
		printf("bench: nested measurements skipped (no VMX in CPUID.1:ECX)\n");
		return;
	}
	quiesce_interrupts();
	read_descriptor_tables();
	if (!caps_read() || !vmx_ensure_on()) {
		printf("bench: nested measurements skipped (VMXON failed)\n");
		return;
	}
	if (l2_setup(&g, bench_l2_cpuid, EXIT_REASON_CPUID, "l2-cpuid-reflected") &&
	    measure_l2_round("l2-cpuid-reflected"))
		print_stats("l2-cpuid-reflected");
	if (l2_setup(&g, bench_l2_vmcall, EXIT_REASON_VMCALL, "l2-vmcall-reflected") &&
	    measure_l2_round("l2-vmcall-reflected"))
		print_stats("l2-vmcall-reflected");
	/* The current VMCS is still the L2's: read and write back its RIP. */
	l2_guest_rip = vmr(VMCS_GUEST_RIP);
	measure_op_l1_vmread(fenced);
	print_stats("l1-vmread");
	measure_op_l1_vmwrite(fenced);
	print_stats("l1-vmwrite");
	if (res_is(vmxoff(), WANT_OK))
		vmx_is_on = false;
}

static void print_machine(const struct multiboot_info *mbi)
{
	struct cpuid_regs r0 = cpuid(0);
	char vendor[13];
	unsigned entries = 0;
	const struct multiboot_mmap_entry *e;

	memcpy(vendor + 0, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = '\0';
	printf("bench: cpu vendor %s\n", vendor);
	if (mbi)
		mmap_for_each(mbi, e)
			entries++;
	printf("bench: memory map %u entries (%u bytes)\n", entries,
	       mbi && (mbi->flags & MBI_FLAG_MMAP) ? mbi->mmap_length : 0);
}

int main(struct multiboot_info *mbi)
{
	bool fenced = cpuid(1).edx & CPUID_1_EDX_SSE2;

	printf("nestvisor bench L1\n");
	printf("bench: units are TSC ticks (under Bochs one tick = one retired instruction)\n");
	print_machine(mbi);
	if (!(cpuid(1).edx & CPUID_1_EDX_TSC)) {
		printf("bench: no TSC, nothing to measure\n");
		return GUEST_EXIT_FAIL;
	}
	printf("bench: timestamps by %s; every sample includes one timestamp pair\n",
	       fenced ? "lfence; rdtsc; lfence" : "rdtsc (no SSE2, no lfence)");

	measure_op_rdtsc_pair(fenced);
	print_stats("rdtsc-pair");
	measure_op_cpuid_0(fenced);
	print_stats("cpuid-0");
	if (rdmsr_checked(MSR_IA32_FEATURE_CONTROL, NULL) == NO_EXCEPTION) {
		measure_op_rdmsr_feature_control(fenced);
		print_stats("rdmsr-feature-control");
	} else {
		printf("bench: rdmsr-feature-control skipped (RDMSR 0x3a faults)\n");
	}
	measure_op_add_x100(fenced);
	print_stats("add-x100");
	measure_nested(fenced);

	printf("bench: done\n");
	guest_exit(GUEST_EXIT_PASS);
}
