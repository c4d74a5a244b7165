/* SPDX-License-Identifier: MIT */
/*
 * What runs below L1, and what it says about its own exits. exitbench never
 * assumes nestvisor: on bare hardware (or bare Bochs) CPUID reports no
 * hypervisor, under KVM the signature is "KVMKVMKVM". Only nestvisor has the
 * hypercall leaf and the exit accounting (include/nestvisor/hypercall.h);
 * without them every accounting field prints "n/a".
 */
#include "exitbench.h"

struct l0_info l0;

/* The reason names L0 prints, from the same table (tools/FORMATS.md: the
 * `exits` field uses nestvisor's names). */
static const char *const reason_names[NV_ACCT_REASONS] = {
#define EXIT_REASON(name, number) [number] = #name,
#include "../../vmx/exit_reasons.def"
#undef EXIT_REASON
};

static const char *const level_names[NV_ACCT_LEVELS] = {
	[NV_ACCT_L1] = "L1", [NV_ACCT_L1_FOR_L2] = "L1-for-L2",
	[NV_ACCT_L2_ABSORBED] = "L2-absorbed", [NV_ACCT_L2_REFLECTED] = "L2-reflected",
};

static struct nv_acct_snapshot snap;
static bool accounting;         /* L0 counts exits, and the hypercalls work */
static bool window_valid;       /* snap holds the counters of the last window */
static bool snapshot_checked;

/* Printable characters of a CPUID string, runs of spaces as one '_'. */
static void sanitize(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;
	bool gap = false;

	for (size_t i = 0; i < len && src[i] && n + 2 < size; i++) {
		char c = src[i];

		if (c == ' ') {
			gap = n > 0;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			continue;
		if (gap)
			dst[n++] = '_';
		gap = false;
		dst[n++] = c;
	}
	dst[n] = '\0';
}

static void print_cpu(void)
{
	struct cpuid_regs r = cpuid(0);
	char raw[48], vendor[16], model[64];

	memcpy(raw + 0, &r.ebx, 4);
	memcpy(raw + 4, &r.edx, 4);
	memcpy(raw + 8, &r.ecx, 4);
	sanitize(vendor, sizeof(vendor), raw, 12);
	/* SDM Vol. 2A, CPUID leaves 80000002H-80000004H: the brand string. */
	if (cpuid(0x80000000).eax >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i);
			memcpy(raw + 16 * i + 0, &r.eax, 4);
			memcpy(raw + 16 * i + 4, &r.ebx, 4);
			memcpy(raw + 16 * i + 8, &r.ecx, 4);
			memcpy(raw + 16 * i + 12, &r.edx, 4);
		}
		sanitize(model, sizeof(model), raw, sizeof(raw));
	} else {
		model[0] = '\0';
	}
	printf("exitbench: cpu vendor=%s model=%s\n", vendor[0] ? vendor : "unknown",
	       model[0] ? model : "unknown");
}

/* CPUID.1:ECX[31] says a hypervisor is present; its leaf 0x40000000 names it
 * (the range the SDM leaves to software: it returns nothing on hardware). */
static void identify(void)
{
	struct cpuid_regs r;
	char sig[12];

	nv_strlcpy(l0.name, "none", sizeof(l0.name));
	if (!(cpuid(1).ecx & CPUID_1_ECX_HYPERVISOR))
		return;
	r = cpuid(NV_CPUID_BASE);
	memcpy(sig + 0, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sanitize(l0.name, sizeof(l0.name), sig, sizeof(sig));
	if (!l0.name[0])
		nv_strlcpy(l0.name, "unknown", sizeof(l0.name));
	l0.nestvisor = memcmp(sig, "nestvisor\0\0\0", 12) == 0;
	if (!l0.nestvisor || r.eax < NV_CPUID_INFO)
		return;
	l0.hypercall = r.eax >= NV_CPUID_HYPERCALL;
	r = cpuid(NV_CPUID_INFO);
	l0.interface = r.eax;
	/* Interface 1 had no flags word (EBX was 0, not "everything off"). */
	l0.flags_known = l0.interface >= 2;
	l0.flags = l0.flags_known ? r.ebx : 0;
}

static const char *flag_str(uint32_t flag)
{
	if (!l0.flags_known)
		return "n/a";
	return l0.flags & flag ? "on" : "off";
}

void l0_detect(void)
{
	print_cpu();
	identify();
	accounting = l0.hypercall && l0.flags_known && (l0.flags & NV_INFO_ACCOUNTING);
	printf("exitbench: l0 name=%s interface=%u accounting=%s shadowing=%s\n", l0.name,
	       l0.interface, l0.hypercall ? flag_str(NV_INFO_ACCOUNTING) : "n/a",
	       flag_str(NV_INFO_VMCS_SHADOW));
}

bool l0_shadowing(void)
{
	return l0.flags_known && (l0.flags & NV_INFO_VMCS_SHADOW);
}

uint32_t nv_hypercall(uint32_t fn, uint64_t rbx, uint64_t rdx, uint64_t rsi, uint32_t *ebx)
{
	uint64_t rax = NV_CPUID_HYPERCALL, rcx = fn;

	asm volatile("cpuid" : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx) : "S"(rsi) : "memory");
	if (ebx)
		*ebx = (uint32_t)rbx;
	return (uint32_t)rax;
}

/* ---- The accounting window ---------------------------------------------- */

/* trace=1: Bochs' magic breakpoint (options.c). */
static void magic_break(void)
{
	if (opt.trace)
		asm volatile("xchg %%bx, %%bx" ::: "memory");
}

void acct_begin(void)
{
	uint32_t status;

	window_valid = false;
	if (!accounting) {
		magic_break();
		return;
	}
	/* The reset's own exit is not counted (hypercall.h). */
	status = nv_hypercall(NV_HC_ACCT_RESET, 0, 0, 0, NULL);
	if (status != NV_HC_OK) {
		check(NULL, "l0.acct-reset", false, "NV_HC_ACCT_RESET_returned_%u", status);
		accounting = false;
	}
	magic_break();
}

void acct_end(void)
{
	uint32_t status, bytes = 0;
	bool ok;

	magic_break();
	if (!accounting)
		return;
	/* Identity-mapped: the buffer's address is its guest-physical address. */
	status = nv_hypercall(NV_HC_ACCT_READ, (uintptr_t)&snap, sizeof(snap), 0, &bytes);
	ok = status == NV_HC_OK && bytes == sizeof(snap) && snap.version == NV_ACCT_VERSION &&
	     snap.size == sizeof(snap) && snap.levels == NV_ACCT_LEVELS &&
	     snap.reasons == NV_ACCT_REASONS;
	if (!ok || !snapshot_checked)
		check(NULL, "l0.acct-snapshot", ok,
		      "status=%u bytes=%u/%u version=%u size=%u levels=%u reasons=%u", status, bytes,
		      (unsigned)sizeof(snap), snap.version, snap.size, snap.levels, snap.reasons);
	snapshot_checked = true;
	accounting = ok;
	window_valid = ok;
}

bool acct_valid(void)
{
	return window_valid;
}

uint64_t acct_count(enum nv_acct_level level, uint32_t reason)
{
	return window_valid ? snap.cell[level][reason].count : 0;
}

void acct_drop(enum nv_acct_level level, uint32_t reason)
{
	snap.cell[level][reason] = (struct nv_acct_cell){ 0, 0 };
}

static const char *reason_name(uint32_t reason)
{
	static char buf[16];

	if (reason_names[reason])
		return reason_names[reason];
	nv_snprintf(buf, sizeof(buf), "REASON_%u", reason);
	return buf;
}

void acct_format(char *buf, size_t size, uint32_t n)
{
	uint64_t exits = 0, ticks = 0;
	size_t len;
	char a[32], b[32];
	bool any = false;

	if (!window_valid) {
		nv_strlcpy(buf, "l0_exits=n/a l0_ticks=n/a exits=n/a", size);
		return;
	}
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++) {
		for (unsigned r = 0; r < NV_ACCT_REASONS; r++) {
			exits += snap.cell[l][r].count;
			ticks += snap.cell[l][r].ticks;
		}
	}
	fmt_per_op(a, sizeof(a), exits, n);
	fmt_per_op(b, sizeof(b), ticks, n);
	len = (size_t)nv_snprintf(buf, size, "l0_exits=%s l0_ticks=%s exits=", a, b);
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++) {
		for (unsigned r = 0; r < NV_ACCT_REASONS && len < size; r++) {
			if (!snap.cell[l][r].count)
				continue;
			fmt_per_op(a, sizeof(a), snap.cell[l][r].count, n);
			len += (size_t)nv_snprintf(buf + len, size - len, "%s%s.%s:%s", any ? "," : "",
						   level_names[l], reason_name(r), a);
			any = true;
		}
	}
	if (!any && len < size)
		nv_strlcpy(buf + len, "none", size - len);     /* tools/report.py reads it */
}

void acct_expect(const struct meas *m, enum nv_acct_level level, uint32_t reason,
		 uint32_t per_op, uint32_t n)
{
	char what[64];
	uint64_t got = acct_count(level, reason), want = (uint64_t)per_op * n;

	if (!window_valid)
		return;
	nv_snprintf(what, sizeof(what), "exits.%s.%s", level_names[level], reason_name(reason));
	check(m, what, got == want, "count=%llu want=%llu", U64(got), U64(want));
}

void acct_expect_none(const struct meas *m)
{
	uint64_t total = 0;

	if (!window_valid)
		return;
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++)
		for (unsigned r = 0; r < NV_ACCT_REASONS; r++)
			total += snap.cell[l][r].count;
	check(m, "no-l0-exits", total == 0, "L0_exits=%llu want=0 (shadow_VMCS_on)", U64(total));
}

uint64_t acct_total(void)
{
	uint64_t total = 0;

	if (!window_valid)
		return 0;
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++)
		for (unsigned r = 0; r < NV_ACCT_REASONS; r++)
			total += snap.cell[l][r].count;
	return total;
}

/* ---- A window made of one window per sample ------------------------------ */

static struct nv_acct_snapshot sum;     /* only its cells are used */
static bool sum_valid;

static void add_cell(struct nv_acct_cell *to, const struct nv_acct_cell *from)
{
	to->count += from->count;
	to->ticks += from->ticks;
}

void acct_sum_begin(void)
{
	memset(sum.cell, 0, sizeof(sum.cell));
	memset(sum.for_l2, 0, sizeof(sum.for_l2));
	sum_valid = accounting;
	window_valid = false;
}

void acct_sum_add(void)
{
	if (!window_valid) {
		sum_valid = false;
		return;
	}
	for (unsigned l = 0; l < NV_ACCT_LEVELS; l++)
		for (unsigned r = 0; r < NV_ACCT_REASONS; r++)
			add_cell(&sum.cell[l][r], &snap.cell[l][r]);
	for (unsigned r = 0; r < NV_ACCT_REASONS; r++)
		add_cell(&sum.for_l2[r], &snap.for_l2[r]);
}

void acct_sum_end(void)
{
	window_valid = sum_valid && accounting;
	if (!window_valid)
		return;
	memcpy(snap.cell, sum.cell, sizeof(snap.cell));
	memcpy(snap.for_l2, sum.for_l2, sizeof(snap.for_l2));
}
