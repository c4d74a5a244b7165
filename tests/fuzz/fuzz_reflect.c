/* SPDX-License-Identifier: MIT */
/*
 * nested/reflect.c: does L1 want this exit of L2? Random VMCS12 controls,
 * bitmap addresses and contents (some unreadable), and exits. Invariants:
 *  - deterministic: the same answer and the same bitmap reads twice;
 *  - reads go through the reader only for I/O and MSR exits, one byte at a
 *    time, inside I/O bitmap A or B (I/O) or inside the quarter of the MSR
 *    bitmap the access selects (MSR): SDM Vol. 3C, 25.6.4 "I/O-Bitmap
 *    Addresses", 25.6.9 "MSR-Bitmap Address";
 *  - the exits of 25.1.2 "Instructions That Cause VM Exits Unconditionally"
 *    and the events L1 always sees are always reflected; EPT violations and
 *    misconfigurations (EPT01's) never;
 *  - everything else agrees with a reference model written here from 25.1.3
 *    "Instructions That Cause VM Exits Conditionally" and 25.2 "Other Causes
 *    of VM Exits" (exception bitmap and #PF filter, CR0/CR4 masks and
 *    shadows, CR3 targets, CLTS, LMSW, I/O and MSR bitmaps, one-bit
 *    controls), an unreadable bitmap counting as "exit".
 */
#include "fuzz.h"

#include "nested/reflect.h"
#include "nested/checks.h"
#include "vmx/exit_reasons.h"

/* L1 memory as the bitmaps see it: byte(gpa) from a pattern; some pages unreadable. */
static struct {
	uint8_t pattern[32];
	bool scrambled;               /* pattern mixed with the address, or repeated as it is */
	uint64_t unreadable[2];       /* page addresses */
	unsigned nunreadable;
	/* Where reads may go for the exit at hand: [lo, lo + 4096) ranges. */
	uint64_t allowed[2];
	unsigned nallowed;
	uint64_t log[64];             /* the gpas read, in order */
	unsigned nlog;
} mem;

static uint8_t mem_byte(uint64_t gpa)
{
	return mem.pattern[gpa % 32] ^ (mem.scrambled ? (uint8_t)((gpa >> 5) * 0x9d) : 0);
}

static bool unreadable(uint64_t gpa)
{
	for (unsigned i = 0; i < mem.nunreadable; i++)
		if ((gpa & ~0xfffull) == mem.unreadable[i])
			return true;
	return false;
}

static bool reader(uint64_t gpa, void *buf, unsigned len)
{
	bool inside = false;

	INVARIANT(len == 1, "read of %u bytes at 0x%llx", len, (unsigned long long)gpa);
	for (unsigned i = 0; i < mem.nallowed; i++)
		inside |= gpa - mem.allowed[i] < 4096;
	INVARIANT(inside, "read at 0x%llx outside the bitmap this exit may use", (unsigned long long)gpa);
	INVARIANT(mem.nlog < 64, "more than 64 bitmap reads for one exit");
	mem.log[mem.nlog++] = gpa;
	if (unreadable(gpa))
		return false;
	*(uint8_t *)buf = mem_byte(gpa);
	return true;
}

/* The reference's bitmap bit; unreadable counts as set (the safe answer). */
static bool ref_bit(uint64_t base, uint32_t bit)
{
	uint64_t gpa = base + bit / 8;

	return unreadable(gpa) || (mem_byte(gpa) >> (bit % 8) & 1);
}

/* ------------------------------------------------------------------------ */
/* The reference: 1 or 0, or -1 where it states nothing. */

static bool in_list(uint32_t reason, const uint32_t *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == reason)
			return true;
	return false;
}

/* 25.1.2 and the events of 25.2 that always exit (triple fault, INIT, SIPI,
 * task switch), plus VMREAD/VMWRITE (L1 has no VMCS shadowing). */
static const uint32_t unconditional[] = { 2, 3, 4, 9, 10, 11, 13, 18, 19, 20, 21, 22, 23, 24, 25,
					   26, 27, 50, 53, 55 };

static int ref_io(const struct vmcs12 *v, uint64_t q)
{
	unsigned size = (q & 7) + 1, port = q >> 16 & 0xffff;

	if (!(v->CPU_BASED_VM_EXEC_CONTROL >> 25 & 1))            /* use I/O bitmaps */
		return v->CPU_BASED_VM_EXEC_CONTROL >> 24 & 1;     /* unconditional I/O exiting */
	if (size != 1 && size != 2 && size != 4)
		return -1;
	for (unsigned p = port; p < port + size; p++) {
		if (p > 0xffff)                                    /* wraps around: exits */
			return 1;
		if (ref_bit(p < 0x8000 ? v->IO_BITMAP_A : v->IO_BITMAP_B, p & 0x7fff))
			return 1;
	}
	return 0;
}

static int ref_msr(const struct vmcs12 *v, uint32_t msr, bool write)
{
	uint32_t quarter;

	if (!(v->CPU_BASED_VM_EXEC_CONTROL >> 28 & 1))            /* use MSR bitmaps */
		return 1;
	if (msr <= 0x1fff)
		quarter = write ? 2 : 0;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		quarter = write ? 3 : 1;
	else
		return 1;
	return ref_bit(v->MSR_BITMAP + 1024 * quarter, msr & 0x1fff);
}

static int ref_cr(const struct vmcs12 *v, const struct l2_exit *e)
{
	uint64_t q = e->qualification;
	unsigned cr = q & 15, type = q >> 4 & 3;
	uint64_t src = q >> 16 & 0xffff, mask = v->CR0_GUEST_HOST_MASK, shadow = v->CR0_READ_SHADOW;
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;

	switch (type) {
	case 0:    /* MOV to CR */
		if (cr == 0)
			return ((e->cr_value ^ shadow) & mask) != 0;
		if (cr == 4)
			return ((e->cr_value ^ v->CR4_READ_SHADOW) & v->CR4_GUEST_HOST_MASK) != 0;
		if (cr == 3) {
			const uint64_t t[4] = { v->CR3_TARGET_VALUE0, v->CR3_TARGET_VALUE1,
						v->CR3_TARGET_VALUE2, v->CR3_TARGET_VALUE3 };

			if (v->CR3_TARGET_COUNT > 4)
				return -1;
			if (!(proc >> 15 & 1))
				return 0;
			for (unsigned i = 0; i < v->CR3_TARGET_COUNT; i++)
				if (t[i] == e->cr_value)
					return 0;
			return 1;
		}
		return cr == 8 ? (int)(proc >> 19 & 1) : -1;
	case 1:    /* MOV from CR */
		return cr == 3 ? (int)(proc >> 16 & 1) : cr == 8 ? (int)(proc >> 20 & 1) : -1;
	case 2:    /* CLTS: TS owned by L1 and set in its shadow */
		return (mask >> 3 & 1) && (shadow >> 3 & 1);
	default:   /* LMSW: a masked bit of 3:1 changes, or a masked clear PE gets set */
		return ((mask & 0xe & (src ^ shadow)) != 0) ||
		       ((mask & 1) && (src & 1) && !(shadow & 1));
	}
}

static int ref_exception(const struct vmcs12 *v, const struct l2_exit *e)
{
	unsigned type = e->intr_info >> 8 & 7, vector = e->intr_info & 0xff;

	if (type == 2)
		return v->PIN_BASED_VM_EXEC_CONTROL >> 3 & 1;       /* NMI exiting */
	if (type != 3 && type != 5 && type != 6)
		return -1;
	if (vector == 14) {
		bool match = (e->intr_error_code & v->PAGE_FAULT_ERROR_CODE_MASK) ==
			     v->PAGE_FAULT_ERROR_CODE_MATCH;

		return (v->EXCEPTION_BITMAP >> 14 & 1) ? match : !match;
	}
	return vector < 32 && (v->EXCEPTION_BITMAP >> vector & 1);
}

static int reference(const struct vmcs12 *v, const struct l2_exit *e)
{
	uint32_t pin = v->PIN_BASED_VM_EXEC_CONTROL, proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t proc2 = proc >> 31 ? v->SECONDARY_VM_EXEC_CONTROL : 0;

	if (in_list(e->reason, unconditional, sizeof(unconditional) / sizeof(unconditional[0])))
		return 1;
	switch (e->reason) {
	case 0: return ref_exception(v, e);
	case 1: return pin & 1;                      /* external-interrupt exiting */
	case 7: return proc >> 2 & 1;                /* interrupt-window exiting */
	case 8: return proc >> 22 & 1;               /* NMI-window exiting */
	case 12: return proc >> 7 & 1;               /* HLT */
	case 14: return proc >> 9 & 1;               /* INVLPG */
	case 15: return proc >> 11 & 1;              /* RDPMC */
	case 16: case 51: return proc >> 12 & 1;     /* RDTSC, RDTSCP */
	case 28: return ref_cr(v, e);
	case 29: return proc >> 23 & 1;              /* MOV DR */
	case 30: return ref_io(v, e->qualification);
	case 31: return ref_msr(v, e->msr, false);
	case 32: return ref_msr(v, e->msr, true);
	case 36: return proc >> 10 & 1;              /* MWAIT */
	case 39: return proc >> 29 & 1;              /* MONITOR */
	case 40: return proc >> 30 & 1;              /* PAUSE (no PAUSE-loop exiting offered) */
	case 46: case 47: return proc2 >> 2 & 1;     /* descriptor-table exiting */
	case 48: case 49: return 0;                  /* EPT01's */
	case 52: return pin >> 6 & 1;                /* preemption timer */
	case 54: return proc2 >> 6 & 1;              /* WBINVD */
	case 57: return proc2 >> 11 & 1;             /* RDRAND */
	case 58: return (proc >> 9 & 1) && (proc2 >> 12 & 1);  /* INVPCID */
	case 61: return proc2 >> 16 & 1;             /* RDSEED */
	default: return -1;
	}
}

/* ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmcs12 v;
	struct fuzz_in in = { data, size };
	struct l2_exit e;
	unsigned flags;

	memset(&v, 0, sizeof(v));
	memset(&mem, 0, sizeof(mem));
	flags = (unsigned)take(&in, 1);
	v.PIN_BASED_VM_EXEC_CONTROL = (uint32_t)take(&in, 1);
	v.CPU_BASED_VM_EXEC_CONTROL = (uint32_t)take(&in, 4);
	v.SECONDARY_VM_EXEC_CONTROL = (uint32_t)take(&in, 4);
	v.EXCEPTION_BITMAP = (uint32_t)take(&in, 4);
	v.PAGE_FAULT_ERROR_CODE_MASK = (uint32_t)take(&in, 1);
	v.PAGE_FAULT_ERROR_CODE_MATCH = (uint32_t)take(&in, 1);
	v.CR0_GUEST_HOST_MASK = take(&in, 8);
	v.CR0_READ_SHADOW = take(&in, 8);
	v.CR4_GUEST_HOST_MASK = take(&in, 8);
	v.CR4_READ_SHADOW = take(&in, 8);
	v.CR3_TARGET_COUNT = (uint32_t)take(&in, 1) % 6;
	v.CR3_TARGET_VALUE0 = take(&in, 2);
	v.CR3_TARGET_VALUE1 = take(&in, 2);
	v.CR3_TARGET_VALUE2 = take(&in, 2);
	v.CR3_TARGET_VALUE3 = take(&in, 2);
	/* Bitmap pages: page-aligned as the entry checks require, or (flag) anywhere. */
	v.IO_BITMAP_A = take(&in, 8);
	v.IO_BITMAP_B = take(&in, 8);
	v.MSR_BITMAP = take(&in, 8);
	if (!(flags & 1)) {
		v.IO_BITMAP_A &= ~0xfffull;
		v.IO_BITMAP_B &= ~0xfffull;
		v.MSR_BITMAP &= ~0xfffull;
	}
	for (unsigned i = 0; i < sizeof(mem.pattern); i++)
		mem.pattern[i] = (uint8_t)take(&in, 1);
	mem.scrambled = flags & 32;
	if (flags & 2)
		mem.unreadable[mem.nunreadable++] = v.IO_BITMAP_B & ~0xfffull;
	if (flags & 4)
		mem.unreadable[mem.nunreadable++] = v.MSR_BITMAP & ~0xfffull;

	e = (struct l2_exit){
		.reason = flags & 8 ? (uint32_t)take(&in, 4) : (uint32_t)take(&in, 1) % 70,
		.qualification = take(&in, 8),
		.intr_info = (uint32_t)take(&in, 4),
		.intr_error_code = (uint32_t)take(&in, 4),
		.msr = (uint32_t)take(&in, 4),
		.cr_value = take(&in, 8),
	};
	if (flags & 16)   /* an MSR in or near the two ranges the bitmap covers */
		e.msr = (e.msr & 0x80000000 ? 0xc0000000 : 0) | (e.msr & 0x3fff);

	/* Where this exit may read: nowhere, I/O bitmaps A and B, or one MSR-bitmap quarter. */
	if (e.reason == EXIT_REASON_IO_INSTRUCTION) {
		mem.allowed[mem.nallowed++] = v.IO_BITMAP_A;
		mem.allowed[mem.nallowed++] = v.IO_BITMAP_B;
	} else if (e.reason == EXIT_REASON_MSR_READ || e.reason == EXIT_REASON_MSR_WRITE) {
		mem.allowed[mem.nallowed++] = v.MSR_BITMAP;
	}

	bool wants = nested_l1_wants_exit(&v, &e, reader);
	uint64_t first[64];
	unsigned nfirst = mem.nlog;

	memcpy(first, mem.log, sizeof(first));
	mem.nlog = 0;
	INVARIANT(nested_l1_wants_exit(&v, &e, reader) == wants && mem.nlog == nfirst &&
			  memcmp(first, mem.log, nfirst * sizeof(first[0])) == 0,
		  "not deterministic");
	if (e.reason == EXIT_REASON_MSR_READ || e.reason == EXIT_REASON_MSR_WRITE) {
		/* One byte, in the quarter for this MSR range and direction. */
		for (unsigned i = 0; i < nfirst; i++) {
			uint64_t off = first[i] - v.MSR_BITMAP;
			unsigned quarter = (e.reason == EXIT_REASON_MSR_WRITE ? 2 : 0) +
					   (e.msr >= 0xc0000000 ? 1 : 0);

			INVARIANT(off / 1024 == quarter && off % 1024 == (e.msr & 0x1fff) / 8,
				  "MSR 0x%x: read at bitmap offset 0x%llx", e.msr,
				  (unsigned long long)off);
		}
	}

	int want = reference(&v, &e);

	if (want >= 0)
		INVARIANT(wants == (want == 1),
			  "exit %u (qualification 0x%llx, info 0x%x, msr 0x%x): %s, the SDM says %s",
			  e.reason, (unsigned long long)e.qualification, e.intr_info, e.msr,
			  wants ? "reflected" : "kept", want ? "reflect" : "keep");
	return 0;
}
