/* SPDX-License-Identifier: MIT */
/*
 * vmxfuzz: a seeded VMCS fuzzer (stress test). Each iteration starts from a
 * VMCS that enters fine (a 64-bit L2 whose first instruction is VMCALL),
 * corrupts 1..4 random fields among those the capability MSRs say exist (one
 * random bit flipped, all ones, zero, or a random value; a 64-bit field
 * sometimes through its "high" encoding), sometimes injects a random event,
 * and runs VMLAUNCH. Whatever the VMCS holds, L1 must get control back with an
 * architectural outcome: VMfailValid(n), VMfailInvalid, a VM-entry failure
 * (reason 33/34 with bit 31) or a VM exit. The outcomes are counted, printed
 * as a histogram, and a few invariants are checked after each iteration.
 *
 * Where EPT is offered, about one iteration in four is an EPT iteration
 * (ept.c): "enable EPT" (sometimes with VPID, sometimes unrestricted guest) on
 * a generated EPT12 hierarchy and EPTP, valid or broken. Half of them are
 * pure (no other corruption): their EPT12 and EPTP depend only on the seed and
 * the iteration number, so their lines can be compared across VMX
 * implementations with the same EPT capabilities. Invariants there: an EPTP
 * or VPID the entry checks reject gives VMfailValid(7); an unmutated identity
 * EPT12 runs L2 to its VMCALL; and after every EPT violation whose address is
 * determinable (box pages mapped onto themselves or nowhere), the
 * guest-physical address is the one the qualification and guest-linear
 * address describe.
 *
 * Command line: seed=N (default 1), iterations=N (default 300). The same seed
 * gives the same sequence of VMCS contents; the outcomes depend on the VMX
 * implementation (nestvisor offers L1 fewer features than Bochs).
 *
 * What the fuzzer keeps valid, so that only VMX itself is under test and L1
 * survives every outcome (see sanitize()):
 *  - L2 lives in a sandbox: its own page tables map only its code, IDT, GDT and
 *    stack, every exception exits (exception bitmap all ones), unused code
 *    bytes are INT3, and every IDT gate leads to a VMCALL. A wild L2 exits,
 *    faults into an exit, or triple-faults (reason 2). Its program
 *    (l2_fuzz.asm) runs instructions that exit only if a corruption asks for
 *    it, then VMCALL.
 *  - Host-state fields are rewritten valid each iteration; a corrupted one is
 *    made one that the host-state checks must reject (VMfailValid 8), since a
 *    valid but different host state (another RIP, CR3, selector...) would
 *    resume L1 somewhere else.
 *  - Physical addresses the CPU (or L0) may write or walk at or after VM entry
 *    (MSR lists, guest CR3, EPTP, virtual-APIC, PML, posted-interrupt and #VE
 *    pages) keep their low bits and width, but a value that passes the
 *    address checks is moved onto a sandbox page. The VM-exit MSR lists land
 *    on valid entries (IA32_SYSENTER_CS) only: a VM exit that cannot store or
 *    load its MSRs is a VMX abort, which ends the machine. The VM-entry list
 *    lands on valid entries with an invalid one (IA32_FS_BASE, or reserved
 *    bits set) every 5th. Counts stay within IA32_VMX_MISC's limit.
 *  - Guest activity states the CPU supports other than "active" (HLT,
 *    shutdown, wait-for-SIPI) would leave L2 waiting forever: they become
 *    unsupported values.
 *  - Never event injection type 7 (Bochs 2.7 stops); on bare Bochs, never
 *    "entry to SMM" (Bochs does not check it and would run L2 as if in SMM).
 */
#include "vmxfuzz.h"

#define POOL_REGIONS     4
#define MAX_CORRUPTIONS  4
#define MSR_AREA_ENTRIES 1024          /* 16 KiB: any 16-byte offset in 8 KiB + 512 entries */
#define MSR_LIST_LIMIT   512u           /* counts above IA32_VMX_MISC's maximum are undefined */
#define SANITY_EVERY     100
#define NOTE_MAX         8              /* invariant violations printed in full */
#define CR4_LA57         (1u << 12)     /* SDM Vol. 3A, 2.5: 5-level paging */

/* ---- Fields ------------------------------------------------------------- */

struct field {
	const char *name;
	uint32_t enc;
	enum field_gate gate;
	enum field_access access;
};

static const struct field all_fields[] = {
#define VMCS_FIELD(name, enc, gate, access) { #name, enc, gate, access },
#include "vmcs_fields.def"
#undef VMCS_FIELD
};
#define NUM_ALL (sizeof(all_fields) / sizeof(all_fields[0]))

/* The fields written in each iteration (every RW field that exists) and,
 * among them, those the fuzzer may corrupt. */
static unsigned written[NUM_ALL], num_written;
static unsigned fuzzable[NUM_ALL], num_fuzzable;
static uint64_t base[NUM_ALL];          /* baseline value, by all_fields index */
static uint64_t cur[NUM_ALL];           /* what the current VMCS holds */
static bool touched[NUM_ALL];           /* corrupted (or sanitized) this iteration */

static unsigned width_bits(uint32_t enc)
{
	static const unsigned bits[4] = { 16, 64, 32, 64 };

	return bits[VMCS_ENC_WIDTH(enc)];
}

static uint64_t width_mask(uint32_t enc)
{
	unsigned b = width_bits(enc);

	return b == 64 ? ~0ull : (1ull << b) - 1;
}

static int field_index(uint32_t enc)
{
	for (unsigned i = 0; i < NUM_ALL; i++)
		if (all_fields[i].enc == enc)
			return (int)i;
	return -1;
}

/* ---- PRNG: xorshift64* (Marsaglia; Vigna's multiplier) --------------------- */

static uint64_t rng;

static void rng_seed(uint64_t seed)
{
	/* splitmix64 of the seed: any seed, 0 included, gives a non-zero state. */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	rng = (z ^ (z >> 31)) | 1;
}

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

/* ---- L2's sandbox ------------------------------------------------------- */

#define PTE_P  1ull
#define PTE_W  2ull
#define L2_CODE_ENTRY   0x00            /* l2_fuzz.asm's program */
#define L2_CODE_HANDLER 0x80            /* every IDT gate: VMCALL; jmp back */

extern const uint8_t l2fuzz_start[], l2fuzz_vmcall[], l2fuzz_end[];   /* l2_fuzz.asm */
#define L2_TSS_OFFSET   0x800           /* in the GDT page */
#define TSS64_LIMIT     0x67u
#define GATE_INT64      0x8E00u         /* present, DPL 0, 64-bit interrupt gate */

/* Pages L2's own page tables map (identity), all in one 64 KiB block so that
 * one page table covers them. */
static struct l2_box {
	uint64_t pml4[512], pdpt[512], pd[512], pt[512];
	uint8_t code[PAGE_SIZE];
	uint64_t idt[512];                      /* 256 16-byte gates */
	uint8_t gdt[PAGE_SIZE];                 /* L1's GDT copy, L2's TSS at L2_TSS_OFFSET */
	uint8_t stack[2 * PAGE_SIZE];
} box __attribute__((aligned(0x10000)));
_Static_assert(sizeof(struct l2_box) <= 0x10000, "one page table maps the box");

struct msr_entry {
	uint32_t index, reserved;
	uint64_t value;
};

/* Pages L2 never maps: the targets of the address fields. */
static struct aux {
	uint8_t zero[PAGE_SIZE];        /* I/O, MSR, VMREAD/VMWRITE bitmaps, APIC-access, EPTP list */
	uint8_t junk_cr3[PAGE_SIZE];    /* a GUEST_CR3 under which nothing is present */
	uint8_t ept[PAGE_SIZE];         /* EPT PML4 with nothing present */
	uint8_t vapic[PAGE_SIZE], pml[PAGE_SIZE], pi_desc[PAGE_SIZE], ve_info[PAGE_SIZE];
	struct msr_entry entry_msr[MSR_AREA_ENTRIES];   /* the VM-entry MSR-load list */
	struct msr_entry exit_msr[MSR_AREA_ENTRIES];    /* the VM-exit MSR-store and -load lists */
} aux __attribute__((aligned(PAGE_SIZE)));

static struct vmx_region pool[POOL_REGIONS];
static bool pool_used[POOL_REGIONS];
static struct l2 g;

static uint64_t pa_of(const void *p)
{
	return (uintptr_t)p;
}

static void map_page(const void *p)
{
	uint64_t a = pa_of(p);

	box.pt[(a >> 12) & 511] = a | PTE_P | PTE_W;
}

static void write_code(uint8_t *at)
{
	static const uint8_t vmcall_loop[] = { 0x0F, 0x01, 0xC1, 0xEB, 0xFB };  /* vmcall; jmp -5 */

	memcpy(at, vmcall_loop, sizeof(vmcall_loop));
}

/* Rebuilt every iteration: a previous L2 may have pushed, set accessed bits... */
static void sandbox_init(void)
{
	uint64_t handler = pa_of(box.code) + L2_CODE_HANDLER;
	uint64_t a = pa_of(&box);

	memset(&box, 0, sizeof(box));
	box.pml4[(a >> 39) & 511] = pa_of(box.pdpt) | PTE_P | PTE_W;
	box.pdpt[(a >> 30) & 511] = pa_of(box.pd) | PTE_P | PTE_W;
	box.pd[(a >> 21) & 511] = pa_of(box.pt) | PTE_P | PTE_W;
	map_page(box.code);
	map_page(box.idt);
	map_page(box.gdt);
	map_page(box.stack);
	map_page(box.stack + PAGE_SIZE);
	memset(box.code, 0xCC, sizeof(box.code));       /* INT3 everywhere else */
	memcpy(box.code + L2_CODE_ENTRY, l2fuzz_start, (size_t)(l2fuzz_end - l2fuzz_start));
	write_code(box.code + L2_CODE_HANDLER);
	/* SDM Vol. 3A, 6.14.1 "64-Bit Mode IDT" */
	for (unsigned v = 0; v < 256; v++) {
		box.idt[2 * v] = (handler & 0xFFFF) | ((uint64_t)SEL_CODE64 << 16) |
				 ((uint64_t)GATE_INT64 << 32) | ((handler >> 16 & 0xFFFF) << 48);
		box.idt[2 * v + 1] = handler >> 32;
	}
	memcpy(box.gdt, (const void *)(uintptr_t)l1_gdt_base, (size_t)l1_gdt_limit + 1);

	memset(&aux, 0, offsetof(struct aux, entry_msr));
	for (unsigned i = 0; i < MSR_AREA_ENTRIES; i++) {
		aux.exit_msr[i] = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, 0 };
		aux.entry_msr[i] = (struct msr_entry){ MSR_IA32_SYSENTER_CS, 0, i };
		if (i % 5 == 4)
			aux.entry_msr[i] = i % 10 == 4 ? (struct msr_entry){ MSR_FS_BASE, 0, 0 }
						    : (struct msr_entry){ MSR_IA32_SYSENTER_CS, 1, 0 };
	}
}

/* ---- The baseline VMCS --------------------------------------------------- */

extern char tss64[];                    /* lib/64/entry64.asm */
static uint64_t l1_cr0, l1_cr3, l1_cr4, l1_efer, l1_pat;

static uint64_t eptp_of(const void *pml4)
{
	return pa_of(pml4) | 6 | (3 << 3);      /* write-back, 4-level walk (25.6.11) */
}

/* SDM Vol. 3C, 25.4-25.8: as tests/guest/vmx's l2.c, but with L2 in its
 * sandbox, every exception exiting, and every address field on a harmless page. */
static uint64_t baseline_value(uint32_t enc)
{
	switch (enc) {
	/* Guest state */
	case VMCS_GUEST_CR0: return l1_cr0;
	case VMCS_GUEST_CR3: return pa_of(box.pml4);
	case VMCS_GUEST_CR4: return l1_cr4;
	case VMCS_GUEST_DR7: return DR7_FIXED1;
	case VMCS_GUEST_RSP: return pa_of(box.stack) + sizeof(box.stack);
	case VMCS_GUEST_RIP: return pa_of(box.code) + L2_CODE_ENTRY;
	case VMCS_GUEST_RFLAGS: return RFLAGS_FIXED1;
	case VMCS_GUEST_ES_SEL: case VMCS_GUEST_SS_SEL: case VMCS_GUEST_DS_SEL:
	case VMCS_GUEST_FS_SEL: case VMCS_GUEST_GS_SEL: return SEL_DATA32;
	case VMCS_GUEST_CS_SEL: return SEL_CODE64;
	case VMCS_GUEST_TR_SEL: return SEL_TSS64;
	case VMCS_GUEST_ES_LIMIT: case VMCS_GUEST_CS_LIMIT: case VMCS_GUEST_SS_LIMIT:
	case VMCS_GUEST_DS_LIMIT: case VMCS_GUEST_FS_LIMIT: case VMCS_GUEST_GS_LIMIT:
		return 0xFFFFFFFF;
	case VMCS_GUEST_TR_LIMIT: return TSS64_LIMIT;
	case VMCS_GUEST_ES_AR: case VMCS_GUEST_SS_AR: case VMCS_GUEST_DS_AR:
	case VMCS_GUEST_FS_AR: case VMCS_GUEST_GS_AR: return AR_DATA;
	case VMCS_GUEST_CS_AR: return AR_CODE64;
	case VMCS_GUEST_LDTR_AR: return AR_UNUSABLE;
	case VMCS_GUEST_TR_AR: return AR_TSS64_BUSY;
	case VMCS_GUEST_TR_BASE: return pa_of(box.gdt) + L2_TSS_OFFSET;
	case VMCS_GUEST_GDTR_BASE: return pa_of(box.gdt);
	case VMCS_GUEST_GDTR_LIMIT: return l1_gdt_limit;
	case VMCS_GUEST_IDTR_BASE: return pa_of(box.idt);
	case VMCS_GUEST_IDTR_LIMIT: return sizeof(box.idt) - 1;
	case VMCS_VMCS_LINK_POINTER: return ~0ull;
	case VMCS_GUEST_EFER: return l1_efer;
	case VMCS_GUEST_PAT: return l1_pat;
	case VMCS_GUEST_ACTIVITY_STATE: return ACTIVITY_ACTIVE;
	/* Controls */
	case VMCS_PIN_CONTROLS: return ctl_adjust(&caps.pin, 0);
	case VMCS_PROC_CONTROLS: return ctl_adjust(&caps.proc, 0);
	case VMCS_PROC_CONTROLS2: return ctl_adjust(&caps.proc2, 0);
	case VMCS_EXIT_CONTROLS: return ctl_adjust(&caps.exit, EXIT_HOST_ADDR_SPACE);
	case VMCS_ENTRY_CONTROLS: return ctl_adjust(&caps.entry, ENTRY_IA32E_GUEST);
	case VMCS_EXCEPTION_BITMAP: return 0xFFFFFFFF;
	case VMCS_CR0_READ_SHADOW: return l1_cr0;
	case VMCS_CR4_READ_SHADOW: return l1_cr4;
	case VMCS_IO_BITMAP_A: case VMCS_IO_BITMAP_B: case VMCS_MSR_BITMAP:
	case VMCS_APIC_ACCESS_ADDR: case VMCS_EPTP_LIST_ADDR: case VMCS_VMREAD_BITMAP:
	case VMCS_VMWRITE_BITMAP:
		return pa_of(aux.zero);
	case VMCS_EXIT_MSR_STORE_ADDR: case VMCS_EXIT_MSR_LOAD_ADDR: return pa_of(aux.exit_msr);
	case VMCS_ENTRY_MSR_LOAD_ADDR: return pa_of(aux.entry_msr);
	case VMCS_VIRTUAL_APIC_ADDR: return pa_of(aux.vapic);
	case VMCS_PML_ADDR: return pa_of(aux.pml);
	case VMCS_POSTED_INTR_DESC_ADDR: return pa_of(aux.pi_desc);
	case VMCS_VE_INFO_ADDR: return pa_of(aux.ve_info);
	case VMCS_EPT_POINTER: return eptp_of(aux.ept);
	/* Host state: L1's own (tests/guest/vmx's write_host_state). HOST_RSP
	 * is written by l2_entry.asm right before VMLAUNCH. */
	case VMCS_HOST_CR0: return l1_cr0;
	case VMCS_HOST_CR3: return l1_cr3;
	case VMCS_HOST_CR4: return l1_cr4;
	case VMCS_HOST_ES_SEL: case VMCS_HOST_SS_SEL: case VMCS_HOST_DS_SEL:
	case VMCS_HOST_FS_SEL: case VMCS_HOST_GS_SEL: return SEL_DATA32;
	case VMCS_HOST_CS_SEL: return SEL_CODE64;
	case VMCS_HOST_TR_SEL: return SEL_TSS64;
	case VMCS_HOST_FS_BASE: return rdmsr(MSR_FS_BASE);
	case VMCS_HOST_GS_BASE: return rdmsr(MSR_GS_BASE);
	case VMCS_HOST_TR_BASE: return pa_of(tss64);
	case VMCS_HOST_GDTR_BASE: return l1_gdt_base;
	case VMCS_HOST_IDTR_BASE: return l1_idt_base;
	case VMCS_HOST_SYSENTER_CS: return (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS);
	case VMCS_HOST_SYSENTER_ESP: return rdmsr(MSR_IA32_SYSENTER_ESP);
	case VMCS_HOST_SYSENTER_EIP: return rdmsr(MSR_IA32_SYSENTER_EIP);
	case VMCS_HOST_RIP: return pa_of(vmx_exit_point);
	case VMCS_HOST_PAT: return l1_pat;
	case VMCS_HOST_EFER: return l1_efer;
	}
	return 0;       /* everything else: 0 (off, none, or not used) */
}

/* Host-state fields and how a corruption of each is made one the checks of
 * SDM 26.2.2-26.2.4 reject. Fields not listed here (and not host state) are
 * fuzzed freely; host fields not listed are never corrupted. */
enum host_kind {
	HOST_NOT, HOST_FREE, HOST_CR0_K, HOST_CR4_K, HOST_CR3_K, HOST_SEL, HOST_SEL_NONZERO,
	HOST_CANON, HOST_PAT_K, HOST_EFER_K, HOST_NEVER,
};

static enum host_kind host_kind(uint32_t enc)
{
	if (VMCS_ENC_TYPE(enc) != VMCS_TYPE_HOST)
		return HOST_NOT;
	switch (enc) {
	case VMCS_HOST_CR0: return HOST_CR0_K;
	case VMCS_HOST_CR4: return HOST_CR4_K;
	case VMCS_HOST_CR3: return HOST_CR3_K;
	case VMCS_HOST_ES_SEL: case VMCS_HOST_SS_SEL: case VMCS_HOST_DS_SEL:
	case VMCS_HOST_FS_SEL: case VMCS_HOST_GS_SEL: return HOST_SEL;
	case VMCS_HOST_CS_SEL: case VMCS_HOST_TR_SEL: return HOST_SEL_NONZERO;
	case VMCS_HOST_FS_BASE: case VMCS_HOST_GS_BASE: case VMCS_HOST_TR_BASE:
	case VMCS_HOST_GDTR_BASE: case VMCS_HOST_IDTR_BASE: case VMCS_HOST_SYSENTER_ESP:
	case VMCS_HOST_SYSENTER_EIP: case VMCS_HOST_RIP: return HOST_CANON;
	case VMCS_HOST_SYSENTER_CS:     /* not checked; L1 never uses SYSENTER */
	case VMCS_HOST_RSP:             /* rewritten by l2_entry.asm */
		return HOST_FREE;
	case VMCS_HOST_PAT: return HOST_PAT_K;
	case VMCS_HOST_EFER: return HOST_EFER_K;
	}
	return HOST_NEVER;              /* PERF_GLOBAL_CTRL, PKRS, CET: no rule here */
}

/* Host fields whose check does not depend on a control: a corruption of one of
 * these alone must give VMfailValid(8). */
static bool host_always_checked(enum host_kind k)
{
	return k == HOST_CR0_K || k == HOST_CR4_K || k == HOST_CR3_K || k == HOST_SEL ||
	       k == HOST_SEL_NONZERO || k == HOST_CANON;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool pat_ok(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xFF;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* A host value that the checks reject: v itself if it is such a value (or
 * the baseline, i.e. no corruption), else v made so. */
static uint64_t host_invalid(enum host_kind k, uint64_t v, uint64_t b)
{
	uint32_t f0 = (uint32_t)caps.cr0_fixed0;

	if (v == b)
		return v;
	switch (k) {
	case HOST_CR0_K:        /* a FIXED0 bit (PE, NE, PG) clear */
		if ((v & f0) != f0)
			return v;
		return v & ~(uint64_t)(f0 & -f0);
	case HOST_CR4_K:        /* VMXE (FIXED0) or PAE (64-bit host) clear, or a bit FIXED1 forbids */
		if ((v & caps.cr4_fixed0) != caps.cr4_fixed0 || !(v & CR4_PAE) ||
		    (v & ~caps.cr4_fixed1 & 0xFFFFFFFFull))
			return v;
		return v & ~(uint64_t)CR4_VMXE;
	case HOST_CR3_K:        /* beyond the physical-address width */
		if (v >> caps.maxphyaddr)
			return v;
		return v | 1ull << (caps.maxphyaddr + rnd_below(64 - caps.maxphyaddr));
	case HOST_SEL:          /* RPL or TI set */
	case HOST_SEL_NONZERO:  /* or 0 for CS and TR */
		if ((v & 7) || (k == HOST_SEL_NONZERO && !v))
			return v;
		return v | (1 + rnd_below(7));
	case HOST_CANON:
		return canonical(v) ? v ^ (1ull << 63) : v;
	case HOST_PAT_K:        /* checked only with "load IA32_PAT" */
		return pat_ok(v) ? (v & ~0xFFull) | 2 : v;
	case HOST_EFER_K:       /* checked only with "load IA32_EFER": bits 7:1 are reserved */
		return (v & 0xFE) ? v : v | 2;
	default:
		return v;
	}
}

/* ---- Writing fields ------------------------------------------------------ */

static unsigned vmwrite_failures;

static void put(unsigned fi, uint64_t v)
{
	uint32_t enc = all_fields[fi].enc;

	v &= width_mask(enc);
	if (vmwrite(enc, v).outcome != VMX_OK)
		vmwrite_failures++;
	cur[fi] = v;
}

static void write_baseline(void)
{
	for (unsigned i = 0; i < num_written; i++) {
		unsigned fi = written[i];

		vmw(all_fields[fi].enc, base[fi]);
		cur[fi] = base[fi];
	}
}

/* ---- One iteration -------------------------------------------------------- */

static const char *const mutation_names[] = { "flip", "ones", "zero", "random" };

static char line[720];
static size_t line_len;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (line_len >= sizeof(line) - 1)
		return;
	va_start(ap, fmt);
	line_len += (size_t)nv_vsnprintf(line + line_len, sizeof(line) - line_len, fmt, ap);
	va_end(ap);
	if (line_len > sizeof(line) - 1)
		line_len = sizeof(line) - 1;
}

static void corrupt_one(void)
{
	unsigned fi = fuzzable[rnd_below(num_fuzzable)];
	const struct field *f = &all_fields[fi];
	unsigned m = rnd_below(4);
	bool high = VMCS_ENC_WIDTH(f->enc) == VMCS_WIDTH_64 && rnd_below(4) == 0;
	uint64_t old = high ? cur[fi] >> 32 : cur[fi], v = 0;
	unsigned bits = high ? 32 : width_bits(f->enc), bit = rnd_below(bits);

	switch (m) {
	case 0: v = old ^ (1ull << bit); break;
	case 1: v = ~0ull; break;
	case 2: v = 0; break;
	default: v = rnd(); break;
	}
	if (high) {
		v &= 0xFFFFFFFFull;
		if (vmwrite(f->enc | VMCS_ENC_HIGH, v).outcome != VMX_OK)
			vmwrite_failures++;
		cur[fi] = (cur[fi] & 0xFFFFFFFFull) | v << 32;
	} else {
		put(fi, v);
	}
	touched[fi] = true;
	if (m == 0)
		note(" %s%s^bit%u", f->name, high ? "_HI" : "", bit);
	else
		note(" %s%s=%s", f->name, high ? "_HI" : "", mutation_names[m]);
}

static int fi_of(uint32_t enc)
{
	int i = field_index(enc);

	return i >= 0 && touched[i] ? i : -1;
}

/* Moves an address that passes the width check onto `page`, keeping its low 12 bits. */
static void onto_page(uint32_t enc, const void *page)
{
	int i = fi_of(enc);

	if (i >= 0 && !(cur[i] >> caps.maxphyaddr))
		put((unsigned)i, pa_of(page) | (cur[i] & 0xFFF));
}

static void sanitize_msr_list(uint32_t addr_enc, uint32_t count_enc, const void *area)
{
	int ai = field_index(addr_enc), ci = field_index(count_enc);
	uint32_t max = MISC_MSR_LIST_MAX(caps.misc);
	uint64_t addr = cur[ai], count = cur[ci];

	if (!touched[ai] && !touched[ci])
		return;
	if (max > MSR_LIST_LIMIT)
		max = MSR_LIST_LIMIT;
	if (count > max)
		put((unsigned)ci, count % (max + 1));
	count = cur[ci];
	/* 26.2.1.2/3: 16-byte aligned, last byte within the width; else VMfailValid(7).
	 * Moved whenever the start is within the width, in case a CPU checks less. */
	if (count && !(addr & 15) && !(addr >> caps.maxphyaddr))
		put((unsigned)ai, pa_of(area) + (addr & 0x1FF0));
}

static void sanitize(void)
{
	int i;

	for (unsigned k = 0; k < num_written; k++) {
		unsigned fi = written[k];
		enum host_kind hk = host_kind(all_fields[fi].enc);
		uint64_t v;

		if (!touched[fi] || hk == HOST_NOT || hk == HOST_FREE)
			continue;
		v = host_invalid(hk, cur[fi], base[fi]);
		if (v != cur[fi])
			put(fi, v);
	}
	sanitize_msr_list(VMCS_ENTRY_MSR_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_COUNT, aux.entry_msr);
	sanitize_msr_list(VMCS_EXIT_MSR_STORE_ADDR, VMCS_EXIT_MSR_STORE_COUNT, aux.exit_msr);
	sanitize_msr_list(VMCS_EXIT_MSR_LOAD_ADDR, VMCS_EXIT_MSR_LOAD_COUNT, aux.exit_msr);
	onto_page(VMCS_VIRTUAL_APIC_ADDR, aux.vapic);
	onto_page(VMCS_PML_ADDR, aux.pml);
	onto_page(VMCS_POSTED_INTR_DESC_ADDR, aux.pi_desc);
	onto_page(VMCS_VE_INFO_ADDR, aux.ve_info);
	onto_page(VMCS_EPT_POINTER, aux.ept);
	/* Guest CR3: L2's own PML4 with other low bits, or a table with nothing present. */
	i = fi_of(VMCS_GUEST_CR3);
	if (i >= 0 && !(cur[i] >> caps.maxphyaddr) && (cur[i] & ~0xFFFull) != pa_of(box.pml4))
		put((unsigned)i, pa_of(aux.junk_cr3) | (cur[i] & 0xFFF));
	i = fi_of(VMCS_GUEST_ACTIVITY_STATE);
	if (i >= 0 && cur[i] >= 1 && cur[i] <= 3 && (caps.misc & (MISC_ACTIVITY_HLT << (cur[i] - 1))))
		put((unsigned)i, cur[i] + 4);
	i = fi_of(VMCS_ENTRY_INTR_INFO);
	if (i >= 0 && (cur[i] & INTR_INFO_VALID) && INTR_INFO_TYPE(cur[i]) == INTR_TYPE_OTHER)
		put((unsigned)i, (cur[i] & ~(7ull << INTR_INFO_TYPE_SHIFT)) |
				 (uint64_t)rnd_below(7) << INTR_INFO_TYPE_SHIFT);
	i = fi_of(VMCS_ENTRY_CONTROLS);
	if (bare_metal_bochs && i >= 0 && (cur[i] & ENTRY_SMM))
		put((unsigned)i, cur[i] & ~(uint64_t)ENTRY_SMM);
}

/* Exceptions that deliver an error code (26.2.1.3). */
static bool has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

/* A random event to inject (25.8.3): half of the time a deliverable one (an
 * external interrupt with RFLAGS.IF set, an NMI, a hardware exception with
 * its error code, a software interrupt or exception with a length), a quarter
 * of the time such an event with one bit flipped, else a random value with
 * the valid bit. Type 7 is never injected (sanitize()). */
static void inject(void)
{
	static const uint8_t types[] = {
		INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_HW_EXCEPTION, INTR_TYPE_SW_INTERRUPT,
		INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SW_EXCEPTION,
	};
	int ii = field_index(VMCS_ENTRY_INTR_INFO), ei = field_index(VMCS_ENTRY_EXCEPTION_ERROR);
	int li = field_index(VMCS_ENTRY_INSN_LEN), fi = field_index(VMCS_GUEST_RFLAGS);
	unsigned how = rnd_below(4), type = types[rnd_below(sizeof(types))], vector;
	uint32_t info;

	vector = type == INTR_TYPE_NMI ? 2 : type == INTR_TYPE_HW_EXCEPTION ? rnd_below(32)
									 : rnd_below(256);
	info = INTR_INFO(vector, type);
	if (type == INTR_TYPE_HW_EXCEPTION && has_error_code(vector))
		info |= INTR_INFO_ERROR_CODE;
	if (how == 0)
		info = (uint32_t)rnd() | INTR_INFO_VALID;
	else if (how == 1)
		info ^= 1u << rnd_below(32);
	put((unsigned)ii, info);
	put((unsigned)ei, rnd_below(2) ? rnd_below(0x8000) : (uint32_t)rnd());
	put((unsigned)li, how ? 1 + rnd_below(15) : rnd_below(17));
	touched[ii] = touched[ei] = touched[li] = true;
	if (how && type == INTR_TYPE_EXTERNAL) {
		put((unsigned)fi, cur[fi] | RFLAGS_IF);        /* else blocked: 26.3.1.5 */
		touched[fi] = true;
	}
	note(" inject 0x%x", (uint32_t)cur[ii]);
}

/* ---- Outcomes ----------------------------------------------------------- */

static unsigned hist_valid[32], hist_exit[80], hist_entry_fail[80];
static unsigned vmcall_at_end, vmcall_in_handler;

/* Where L2's program ends in its VMCALL. */
static uint64_t vmcall_rip(void)
{
	return pa_of(box.code) + L2_CODE_ENTRY + (uint64_t)(l2fuzz_vmcall - l2fuzz_start);
}
static unsigned n_invalid, n_odd, n_completed;
static unsigned bad_vmptrst, bad_witness, bad_l1_state, bad_host_rule, bad_setup, bad_clear;
static unsigned host_rule_cases, sanity_runs, sanity_ok, notes, bad_ept_rule;

static void violation(unsigned *counter, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(unsigned *counter, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	(*counter)++;
	if (notes++ >= NOTE_MAX)
		return;
	va_start(ap, fmt);
	nv_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("vmxfuzz:   VIOLATION: %s\n", msg);
}

static const char *outcome_str(void)
{
	static char b[160];
	size_t len;

	if (g.entry.outcome != VMX_OK)
		return res_str(g.entry);
	len = (size_t)nv_snprintf(b, sizeof(b), "%s %u (%s) qual 0x%llx",
				  (g.exit.reason & EXIT_REASON_ENTRY_FAILURE) ? "entry failure" : "exit",
				  EXIT_REASON_BASIC(g.exit.reason), exit_reason_name(g.exit.reason),
				  U64(g.exit.qual));
	/* 28.2.1: the guest-physical address (and for violations the guest-linear one). */
	if (g.exit.reason == EXIT_REASON_EPT_VIOLATION && len < sizeof(b))
		nv_snprintf(b + len, sizeof(b) - len, " gpa 0x%llx gla 0x%llx rip 0x%llx",
			    U64(vmr(VMCS_GUEST_PHYSICAL_ADDR)), U64(g.exit.guest_linear),
			    U64(g.exit.rip));
	else if (g.exit.reason == EXIT_REASON_EPT_MISCONFIG && len < sizeof(b))
		nv_snprintf(b + len, sizeof(b) - len, " gpa 0x%llx rip 0x%llx",
			    U64(vmr(VMCS_GUEST_PHYSICAL_ADDR)), U64(g.exit.rip));
	return b;
}

static void count_outcome(void)
{
	uint32_t basic = EXIT_REASON_BASIC(g.exit.reason);

	switch (g.entry.outcome) {
	case VMX_FAIL_VALID:
		hist_valid[g.entry.error < 32 ? g.entry.error : 0]++;
		break;
	case VMX_FAIL_INVALID:
		n_invalid++;
		break;
	case VMX_OK:
		if (basic >= 80)
			basic = 79;
		if (g.exit.reason & EXIT_REASON_ENTRY_FAILURE)
			hist_entry_fail[basic]++;
		else
			hist_exit[basic]++;
		if (g.exit.reason == EXIT_REASON_VMCALL && g.exit.rip == vmcall_rip())
			vmcall_at_end++;
		if (g.exit.reason == EXIT_REASON_VMCALL &&
		    g.exit.rip == pa_of(box.code) + L2_CODE_HANDLER)
			vmcall_in_handler++;
		break;
	default:
		violation(&n_odd, "VMLAUNCH ended in %s, not a VMX outcome", res_str(g.entry));
		break;
	}
}

/* L1 is intact: back in its own control registers, tables and segments. */
static bool l1_intact(char *why, size_t n)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr, idtr;
	uint16_t cs, ss, ds;
	uint64_t efer = rdmsr(MSR_IA32_EFER);

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	asm volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2" : "=r"(cs), "=r"(ss), "=r"(ds));
	/* 27.5.1: CR0.CD/NW are not loaded; 27.5.2: the GDTR/IDTR limits become 0xFFFF. */
	if (((read_cr0() ^ l1_cr0) & ~(uint64_t)(CR0_CD | CR0_NW)) || read_cr3() != l1_cr3 ||
	    read_cr4() != l1_cr4 || ((efer ^ l1_efer) & (EFER_LME | EFER_LMA)) ||
	    gdtr.base != l1_gdt_base || idtr.base != l1_idt_base || cs != SEL_CODE64 ||
	    ss != SEL_DATA32 || ds != SEL_DATA32) {
		nv_snprintf(why, n, "CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx GDT 0x%llx IDT 0x%llx "
			    "CS %x SS %x DS %x", U64(read_cr0()), U64(read_cr3()), U64(read_cr4()),
			    U64(efer), U64(gdtr.base), U64(idtr.base), cs, ss, ds);
		return false;
	}
	return true;
}

/* After a VM exit: L1's GDTR/IDTR limits (27.5.2 sets them to 0xFFFF) and the
 * MSRs a VM exit leaves as L2 had them unless the exit controls load them
 * (27.5.1: EFER bits other than LME/LMA, PAT). */
static void restore_l1(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; }
		gdtr = { l1_gdt_limit, l1_gdt_base }, idtr = { l1_idt_limit, l1_idt_base };

	asm volatile("lgdt %0; lidt %1" : : "m"(gdtr), "m"(idtr));
	wrmsr(MSR_IA32_EFER, l1_efer);
	wrmsr(MSR_IA32_PAT, l1_pat);
}

/* Any control field other than those named: for the host-state rule. */
static bool controls_changed(void)
{
	for (unsigned k = 0; k < num_written; k++) {
		unsigned fi = written[k];

		if (VMCS_ENC_TYPE(all_fields[fi].enc) == VMCS_TYPE_CONTROL && cur[fi] != base[fi])
			return true;
	}
	return false;
}

static bool host_checked_changed(void)
{
	for (unsigned k = 0; k < num_written; k++) {
		unsigned fi = written[k];

		if (host_always_checked(host_kind(all_fields[fi].enc)) && cur[fi] != base[fi])
			return true;
	}
	return false;
}

/* A control field this iteration left alone (VM exits do not write controls,
 * except the valid bit of the VM-entry interruption information). */
static int witness(void)
{
	unsigned start = rnd_below(num_written);

	for (unsigned k = 0; k < num_written; k++) {
		unsigned fi = written[(start + k) % num_written];
		uint32_t enc = all_fields[fi].enc;

		if (VMCS_ENC_TYPE(enc) == VMCS_TYPE_CONTROL && !touched[fi] &&
		    enc != VMCS_ENTRY_INTR_INFO)
			return (int)fi;
	}
	return -1;
}

/* ---- EPT iterations (ept.c) ------------------------------------------------ */

static uint32_t fuzz_seed;
static unsigned n_ept, n_ept_pure, gpa_checked, gpa_wrong, gpa_unknown;
static unsigned pristine_runs, pristine_ok, reject_runs, reject_ok;
static unsigned ept_hist_valid[32], ept_hist_exit[80], ept_hist_entry_fail[80], ept_invalid;

static void box_gpas(uint64_t gpa[BOX_PAGES])
{
	gpa[BOX_PML4] = pa_of(box.pml4);
	gpa[BOX_PDPT] = pa_of(box.pdpt);
	gpa[BOX_PD] = pa_of(box.pd);
	gpa[BOX_PT] = pa_of(box.pt);
	gpa[BOX_CODE] = pa_of(box.code);
	gpa[BOX_IDT] = pa_of(box.idt);
	gpa[BOX_GDT] = pa_of(box.gdt);
	gpa[BOX_STACK0] = pa_of(box.stack);
	gpa[BOX_STACK1] = pa_of(box.stack + PAGE_SIZE);
}

/* What the GPA oracle may read as L2's page tables: the box and the aux pages
 * (GUEST_CR3 may have been moved onto junk_cr3). */
static bool oracle_readable(uint64_t a)
{
	return (a >= pa_of(&box) && a + 8 <= pa_of(&box) + sizeof(box)) ||
	       (a >= pa_of(&aux) && a + 8 <= pa_of(&aux) + sizeof(aux));
}

/* "enable EPT" (and VPID, unrestricted guest) with the plan's EPTP. Not
 * marked touched: these are this iteration's baseline (witness() may pick them). */
static void apply_ept(const struct ept_plan *p)
{
	int pi = field_index(VMCS_PROC_CONTROLS), si = field_index(VMCS_PROC_CONTROLS2);
	int ei = field_index(VMCS_EPT_POINTER), vi = field_index(VMCS_VPID);
	uint64_t proc2 = PROC2_ENABLE_EPT | (p->vpid ? PROC2_ENABLE_VPID : 0) |
			 (p->ug ? PROC2_UNRESTRICTED_GUEST : 0);

	put((unsigned)pi, cur[pi] | PROC_SECONDARY_CONTROLS);
	put((unsigned)si, cur[si] | proc2);
	put((unsigned)ei, p->eptp);
	if (p->vpid)
		put((unsigned)vi, p->vpid_value);
}

/* The architecture's answer where a pure EPT iteration fixes it: an EPTP or
 * VPID the checks of 26.2.1.1 reject is VMfailValid(7); an unmutated identity
 * EPT12 with a valid EPTP runs L2's program to its VMCALL. */
static void ept_outcome(const struct ept_plan *p, unsigned n)
{
	uint32_t basic = EXIT_REASON_BASIC(g.exit.reason);

	n_ept++;
	if (g.entry.outcome == VMX_FAIL_VALID)
		ept_hist_valid[g.entry.error < 32 ? g.entry.error : 0]++;
	else if (g.entry.outcome != VMX_OK)
		ept_invalid++;
	else if (g.exit.reason & EXIT_REASON_ENTRY_FAILURE)
		ept_hist_entry_fail[basic < 80 ? basic : 79]++;
	else
		ept_hist_exit[basic < 80 ? basic : 79]++;
	if (!p->pure)
		return;
	n_ept_pure++;
	if (!p->eptp_valid || (p->vpid && p->vpid_value == 0)) {
		reject_runs++;
		if (res_is(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_CONTROLS)))
			reject_ok++;
		else
			violation(&bad_ept_rule, "#%u: EPTP 0x%llx%s rejected by the VM-entry checks: "
				  "VMfailValid(7) (got %s)", n, U64(p->eptp),
				  p->vpid && !p->vpid_value ? " with VPID 0" : "", outcome_str());
	} else if (p->pristine) {
		pristine_runs++;
		if (g.entry.outcome == VMX_OK && g.exit.reason == EXIT_REASON_VMCALL &&
		    g.exit.rip == vmcall_rip())
			pristine_ok++;
		else
			violation(&bad_ept_rule, "#%u: identity EPT12, EPTP 0x%llx: exit 18 (VMCALL) at "
				  "the end of L2's program (got %s, rip 0x%llx)", n, U64(p->eptp),
				  outcome_str(), U64(g.exit.rip));
	}
}

/* After any EPT violation exit (EPT iterations, and corruptions that turned
 * EPT on over the empty aux.ept): where every box page maps onto itself or
 * nowhere, and L2 pages with 4 levels, GUEST_PHYSICAL_ADDRESS must be the
 * address the exit qualification and guest-linear address describe. */
static void ept_gpa_oracle(unsigned n, const struct ept_plan *p)
{
	int ei = field_index(VMCS_EPT_POINTER);
	uint64_t cr0, cr4, entry;
	char why[200];

	if (g.entry.outcome != VMX_OK || g.exit.reason != EXIT_REASON_EPT_VIOLATION)
		return;
	cr0 = vmr(VMCS_GUEST_CR0);
	cr4 = vmr(VMCS_GUEST_CR4);
	entry = vmr(VMCS_ENTRY_CONTROLS);       /* bit 9 = IA32_EFER.LMA at the exit (28.2) */
	if ((p && !p->identity && !touched[ei]) || !(cr0 & CR0_PG) || !(cr4 & CR4_PAE) ||
	    (cr4 & CR4_LA57) || !(entry & ENTRY_IA32E_GUEST)) {
		gpa_unknown++;
		return;
	}
	switch (ept_gpa_check(vmr(VMCS_GUEST_CR3), g.exit.guest_linear, g.exit.qual,
			      vmr(VMCS_GUEST_PHYSICAL_ADDR), oracle_readable, why, sizeof(why))) {
	case GPA_RIGHT:
		gpa_checked++;
		break;
	case GPA_UNKNOWN:
		gpa_unknown++;
		break;
	case GPA_WRONG:
		gpa_checked++;
		violation(&gpa_wrong, "#%u: EPT violation qual 0x%llx: GUEST_PHYSICAL_ADDRESS is %s", n,
			  U64(g.exit.qual), why);
		break;
	}
}

/* One VMCLEAR + VMPTRLD of a pool region, the baseline, `corruptions`
 * corruptions (0: a sanity run), VMLAUNCH, the checks, VMCLEAR. An EPT
 * iteration (ept.c decides which) enables EPT on a generated EPT12 and EPTP;
 * a pure one corrupts nothing else. */
static void run_one(unsigned n, unsigned corruptions, bool may_inject)
{
	unsigned ri = rnd_below(POOL_REGIONS), nc = corruptions;
	bool fresh = !pool_used[ri] || rnd_below(2);
	uint64_t pa = region_pa(&pool[ri]), gpas[BOX_PAGES];
	struct ept_plan ep;
	bool ept;
	struct vmx_res r;
	char why[200];
	int wi;

	line_len = 0;
	note("vmxfuzz: #%u r%u%s:", n, ri, fresh ? " fresh" : "");
	if (fresh)
		region_init(&pool[ri], caps.revision);
	pool_used[ri] = true;
	if (!res_is(vmclear(pa), WANT_OK) || !res_is(vmptrld(pa), WANT_OK)) {
		violation(&bad_setup, "#%u: VMCLEAR + VMPTRLD of region 0x%llx failed", n, U64(pa));
		return;
	}
	sandbox_init();
	memset(touched, 0, sizeof(touched));
	memset(&g, 0, sizeof(g));
	g.vmcs = &pool[ri];
	write_baseline();
	box_gpas(gpas);
	ept = corruptions && ept_plan_make(fuzz_seed, n, gpas, &ep);
	if (ept) {
		apply_ept(&ep);
		note("%s", ep.desc);
		if (ep.pure) {
			nc = 0;
			may_inject = false;
		}
	}
	for (unsigned c = 0; c < nc; c++)
		corrupt_one();
	if (may_inject && rnd_below(4) == 0)
		inject();
	sanitize();

	l2_enter(&g, L2_LAUNCH);
	if (g.entry.outcome == VMX_OK)
		restore_l1();
	note(" -> %s", outcome_str());
	printf("%s\n", line);
	count_outcome();
	if (ept)
		ept_outcome(&ep, n);
	ept_gpa_oracle(n, ept ? &ep : NULL);

	if (!l1_intact(why, sizeof(why)))
		violation(&bad_l1_state, "#%u: L1's state changed: %s", n, why);
	r = vmptrst();
	if (r.outcome != VMX_OK || r.value != pa)
		violation(&bad_vmptrst, "#%u: VMPTRST -> 0x%llx (got %s, 0x%llx)", n, U64(pa),
			  res_str(r), U64(r.value));
	wi = witness();
	r = wi >= 0 ? vmread(all_fields[wi].enc) : WANT_OK;
	if (wi >= 0 && (r.outcome != VMX_OK || r.value != cur[wi]))
		violation(&bad_witness, "#%u: VMREAD %s -> 0x%llx (got %s, 0x%llx)", n,
			  all_fields[wi].name, U64(cur[wi]), res_str(r), U64(r.value));
	if (corruptions && host_checked_changed() && !controls_changed()) {
		host_rule_cases++;
		if (!res_is(g.entry, WANT_VALID(VMXERR_ENTRY_BAD_HOST_STATE)))
			violation(&bad_host_rule, "#%u: only guest and checked host fields corrupted: "
				  "VMfailValid(8) (got %s)", n, outcome_str());
	}
	if (!corruptions) {
		sanity_runs++;
		if (g.entry.outcome == VMX_OK && g.exit.reason == EXIT_REASON_VMCALL &&
		    g.exit.rip == vmcall_rip())
			sanity_ok++;
		else
			violation(&bad_setup, "#%u: the baseline VMCS: exit 18 (VMCALL) at L2's entry "
				  "(got %s, rip 0x%llx)", n, outcome_str(), U64(g.exit.rip));
	}
	if (!res_is(vmclear(pa), WANT_OK))
		violation(&bad_clear, "#%u: VMCLEAR of the current VMCS after the outcome", n);
}

/* ---- Set-up and the report ------------------------------------------------- */

static bool fuzzable_field(const struct field *f)
{
	if (host_kind(f->enc) == HOST_NEVER)
		return false;
	return f->access == RW || (caps.misc & MISC_VMWRITE_ANY);
}

static void build_field_lists(void)
{
	unsigned max_index = (unsigned)((caps.vmcs_enum >> 1) & 0x1FF);

	for (unsigned i = 0; i < NUM_ALL; i++) {
		const struct field *f = &all_fields[i];

		if (!field_exists(f->gate) || VMCS_ENC_INDEX(f->enc) > max_index)
			continue;
		if (f->access == RW)
			written[num_written++] = i;
		if (fuzzable_field(f))
			fuzzable[num_fuzzable++] = i;
	}
}

static void compute_baseline(void)
{
	for (unsigned k = 0; k < num_written; k++) {
		unsigned fi = written[k];

		base[fi] = baseline_value(all_fields[fi].enc) & width_mask(all_fields[fi].enc);
	}
}

static void histogram_line(const char *label, unsigned count)
{
	printf("vmxfuzz:   %-40s %5u\n", label, count);
}

static void print_histogram(void)
{
	char label[64];

	printf("vmxfuzz: outcome histogram (%u iterations):\n", n_completed);
	for (unsigned e = 0; e < 32; e++) {
		if (!hist_valid[e])
			continue;
		nv_snprintf(label, sizeof(label), "VMfailValid(%u)", e);
		histogram_line(label, hist_valid[e]);
	}
	if (n_invalid)
		histogram_line("VMfailInvalid", n_invalid);
	for (unsigned r = 0; r < 80; r++) {
		if (!hist_entry_fail[r])
			continue;
		nv_snprintf(label, sizeof(label), "VM-entry failure, reason %u (%s)", r,
			    exit_reason_name(r));
		histogram_line(label, hist_entry_fail[r]);
	}
	for (unsigned r = 0; r < 80; r++) {
		if (!hist_exit[r])
			continue;
		nv_snprintf(label, sizeof(label), "VM exit, reason %u (%s)", r, exit_reason_name(r));
		histogram_line(label, hist_exit[r]);
		if (r == EXIT_REASON_VMCALL) {
			histogram_line("  at the end of L2's program", vmcall_at_end);
			histogram_line("  in L2's IDT handler (an event delivered)", vmcall_in_handler);
		}
	}
	if (n_odd)
		histogram_line("no VMX outcome", n_odd);
	if (!n_ept)
		return;
	printf("vmxfuzz: of which EPT iterations (%u, %u pure):\n", n_ept, n_ept_pure);
	for (unsigned e = 0; e < 32; e++) {
		if (!ept_hist_valid[e])
			continue;
		nv_snprintf(label, sizeof(label), "EPT: VMfailValid(%u)", e);
		histogram_line(label, ept_hist_valid[e]);
	}
	if (ept_invalid)
		histogram_line("EPT: VMfailInvalid or no VMX outcome", ept_invalid);
	for (unsigned r = 0; r < 80; r++) {
		if (!ept_hist_entry_fail[r])
			continue;
		nv_snprintf(label, sizeof(label), "EPT: VM-entry failure, reason %u (%s)", r,
			    exit_reason_name(r));
		histogram_line(label, ept_hist_entry_fail[r]);
	}
	for (unsigned r = 0; r < 80; r++) {
		if (!ept_hist_exit[r])
			continue;
		nv_snprintf(label, sizeof(label), "EPT: VM exit, reason %u (%s)", r, exit_reason_name(r));
		histogram_line(label, ept_hist_exit[r]);
	}
}

int main(struct multiboot_info *mbi)
{
	const char *cmdline = mbi_cmdline(mbi);
	uint32_t seed = 1, iterations = 300;
	uint64_t t0, t1;
	unsigned failures;

	word_value(cmdline, "seed", &seed);
	word_value(cmdline, "iterations", &iterations);
	fuzz_seed = seed;
	printf("vmxfuzz: seeded VMCS fuzzer (64-bit L1): seed=%u iterations=%u\n", seed, iterations);
	detect_environment("vmxfuzz");
	quiesce_interrupts();
	read_descriptor_tables();
	enable_caches();
	if (!report(caps_read(), "the VMX capability MSRs can be read") || !vmx_ensure_on()) {
		report_summary();
		return GUEST_EXIT_FAIL;
	}
	l1_cr0 = read_cr0();
	l1_cr3 = read_cr3();
	l1_cr4 = read_cr4();
	l1_efer = rdmsr(MSR_IA32_EFER);
	l1_pat = rdmsr(MSR_IA32_PAT);
	build_field_lists();
	compute_baseline();
	printf("vmxfuzz: %u fields exist (IA32_VMX_VMCS_ENUM highest index %llu), %u may be corrupted; "
	       "L2 sandbox at 0x%llx\n", num_written, U64((caps.vmcs_enum >> 1) & 0x1FF),
	       num_fuzzable, U64(pa_of(&box)));
	if (!report(l2fuzz_end - l2fuzz_start <= L2_CODE_HANDLER, "L2's program fits before its "
		    "IDT handler (%u bytes)", (unsigned)(l2fuzz_end - l2fuzz_start))) {
		report_summary();
		return GUEST_EXIT_FAIL;
	}
	rng_seed(seed);

	run_one(0, 0, false);
	t0 = rdtsc();
	for (unsigned n = 1; n <= iterations; n++) {
		run_one(n, 1 + rnd_below(MAX_CORRUPTIONS), true);
		n_completed++;
		if (n % SANITY_EVERY == 0)
			run_one(n, 0, false);
	}
	t1 = rdtsc();
	run_one(iterations + 1, 0, false);

	print_histogram();
	printf("vmxfuzz: %u iterations in %llu TSC ticks\n", n_completed, U64(t1 - t0));
	report(n_completed == iterations, "all %u iterations completed: L1 got control back after "
	       "every VMLAUNCH (got %u)", iterations, n_completed);
	report(n_odd == 0, "every VMLAUNCH ended in VMsucceed + VM exit, VMfailValid or VMfailInvalid "
	       "(%u did not)", n_odd);
	report(sanity_ok == sanity_runs, "the unmodified baseline VMCS still enters and exits with "
	       "VMCALL (%u of %u runs)", sanity_ok, sanity_runs);
	report(bad_setup == 0, "VMCLEAR + VMPTRLD of a pool region succeeded every time (%u failures)",
	       bad_setup);
	report(vmwrite_failures == 0, "every VMWRITE of a corruption succeeded (%u failed)",
	       vmwrite_failures);
	report(bad_vmptrst == 0, "after every outcome VMPTRST returns the current VMCS (%u did not)",
	       bad_vmptrst);
	report(bad_witness == 0, "after every outcome VMREAD of an untouched control field returns "
	       "what was written (%u did not)", bad_witness);
	report(bad_l1_state == 0, "after every outcome L1's CR0/CR3/CR4, EFER.LME/LMA, GDTR/IDTR bases "
	       "and selectors are its own (%u were not)", bad_l1_state);
	report(bad_host_rule == 0, "corrupted host state with valid controls gives VMfailValid(8) "
	       "(%u cases, %u did not)", host_rule_cases, bad_host_rule);
	report(bad_clear == 0, "VMCLEAR after every outcome succeeds (%u failed)", bad_clear);
	if (ept_fuzz_offered())
		report(n_ept > 0 && n_ept_pure > 0, "EPT iterations ran: %u (%u pure, with no other "
		       "corruption)", n_ept, n_ept_pure);
	else
		report_skip("EPT iterations: \"enable EPT\" with a 4-level walk, a WB or UC EPTP and "
			    "INVEPT all-context is not offered");
	report(bad_ept_rule == 0, "pure EPT iterations: an EPTP or VPID the VM-entry checks reject "
	       "gives VMfailValid(7) (%u of %u), an unmutated identity EPT12 runs L2 to its VMCALL "
	       "(%u of %u)", reject_ok, reject_runs, pristine_ok, pristine_runs);
	report(gpa_wrong == 0, "after every EPT violation whose address is determinable, "
	       "GUEST_PHYSICAL_ADDRESS is the address L2 accessed (%u checked, %u wrong, %u not "
	       "determinable)", gpa_checked, gpa_wrong, gpa_unknown);
	if (vmxoff().outcome == VMX_OK)
		vmx_is_on = false;
	else
		report(false, "final VMXOFF");
	failures = report_summary();
	return failures ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
