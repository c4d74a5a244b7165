/* SPDX-License-Identifier: MIT */
/*
 * VMCS field encodings (generated from vmcs_fields.def) and width-checked
 * accessors: vmread32(VMCS_GUEST_RIP) does not compile, because GUEST_RIP is
 * natural-width (encoding bits 14:13, SDM Vol. 3C, 25.11.2 "VMREAD, VMWRITE,
 * and Encodings of VMCS Fields").
 */
#ifndef NESTVISOR_VMX_VMCS_H
#define NESTVISOR_VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>

enum vmcs_width { W16 = 0, W64 = 1, W32 = 2, WNAT = 3 };
enum vmcs_group { CTRL = 0, EXIT = 1, GUEST = 2, HOST = 3 };

/* The VMX feature a field belongs to (the feature column of vmcs_fields.def). */
enum vmcs_feature {
	F_BASE, F_VPID, F_EPT, F_EPT_VE, F_POSTED_INTR, F_VIRT_INTR_DELIVERY, F_PML,
	F_TPR_SHADOW, F_VIRT_APIC_ACCESS, F_VMFUNC, F_VMCS_SHADOWING, F_XSAVES, F_ENCLS,
	F_ENCLV, F_SPP, F_TSC_SCALING, F_TERTIARY, F_PERF_GLOBAL, F_MPX, F_PT, F_LBR, F_PKS,
	F_PLE, F_PREEMPTION_TIMER, F_CET,
	F_COUNT
};

/* How nested/ keeps a field between VMCS12 and VMCS02 (the nested column of vmcs_fields.def). */
enum vmcs_nested_class {
	NC_COLD,    /* guest state: into VMCS12 when needed; others: L0 reads VMCS12 */
	NC_HOT,     /* guest state copied into VMCS12 at every reflected exit; shadowed */
	NC_SHADOW,  /* a control L1 writes on its hot path; shadowed */
	NC_EXIT,    /* exit information copied at every reflected exit; shadowed read-only */
	NC_WIDE,    /* as NC_COLD with vmcs_shadow_set = hot; with wide, shadowed, and guest
		     * state is copied into VMCS12 at every reflected exit (nested/shadow.c) */
};

enum vmcs_field {
#define VMCS_FIELD(name, enc, width, group, feature, nested) VMCS_##name = (enc),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

#define VMCS_ENC_WIDTH(enc)  (((enc) >> 13) & 3)
#define VMCS_ENC_GROUP(enc)  (((enc) >> 10) & 3)
#define VMCS_ENC_INDEX(enc)  (((enc) >> 1) & 0x1ff)
#define VMCS_ENC_HIGH        1u   /* access type: high 32 bits of a 64-bit field */
/* Encoding bits that must be zero (bits 31:15 and bit 12). */
#define VMCS_ENC_RESERVED    0xffff9000u

struct vmcs_field_info {
	uint32_t encoding;
	uint8_t width;  /* enum vmcs_width */
	uint8_t group;  /* enum vmcs_group */
	uint8_t feature; /* enum vmcs_feature */
	uint8_t nested;  /* enum vmcs_nested_class */
	const char *name;
};

extern const struct vmcs_field_info vmcs_field_table[];
extern const unsigned vmcs_field_count;

/* The table row for an encoding (full encoding of 64-bit fields), or NULL. */
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding);
const char *vmcs_field_name(uint32_t encoding);

/* The feature column again, by name: VMCS_FEATURE_OF_VMCS_GUEST_RIP = F_BASE. */
enum vmcs_field_feature {
#define VMCS_FIELD(name, enc, width, group, feature, nested) VMCS_FEATURE_OF_VMCS_##name = (feature),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/*
 * Whether a VMREAD/VMWRITE of L0's own can fail at all. With a current VMCS
 * (an L0 invariant from VMXON on), only an unsupported field (VMfailValid 12)
 * or a VMWRITE to a read-only one (13) fails: SDM Vol. 3C, 31.3 "VMREAD" and
 * "VMWRITE". Fields of F_BASE exist on every CPU L0 runs on (it requires the
 * EFER and PAT load/save controls, whose fields are F_BASE too), and the
 * EXIT group is what VMWRITE may refuse. Every other access is checked.
 * Build with -DNV_VMCS_CHECK_ALL to check them all.
 */
#ifdef NV_VMCS_CHECK_ALL
#define VMCS_MAY_FAIL(feature, group, write) 1
#else
#define VMCS_MAY_FAIL(feature, group, write) \
	((int)(feature) != (int)F_BASE || ((write) && (int)(group) == (int)EXIT))
#endif

#ifndef NV_HOST_TEST
/* A failed VMREAD/VMWRITE of L0's own is an L0 bug: panic (vmcs.c). */
__attribute__((noreturn, cold)) void vmcs_fail(const char *insn, uint32_t encoding);

/*
 * Raw VMREAD/VMWRITE on the current VMCS, inline: the exit path runs a few
 * dozen of these. A checked one costs one instruction plus a never-taken
 * branch (VMfail sets CF or ZF: "jna"); one that cannot fail costs the
 * instruction alone (VMCS_MAY_FAIL). Both are volatile: the current VMCS is
 * state the compiler does not see.
 */
static inline __attribute__((always_inline)) uint64_t vmcs_read_raw(uint32_t encoding)
{
	uint64_t v;

	__asm__ goto("vmread %1, %0\n\tjna %l[fail]"
		     : "=r"(v)
		     : "r"((uint64_t)encoding)
		     : "cc"
		     : fail);
	return v;
fail:
	vmcs_fail("VMREAD", encoding);
}

static inline __attribute__((always_inline)) void vmcs_write_raw(uint32_t encoding,
								 uint64_t value)
{
	__asm__ goto("vmwrite %0, %1\n\tjna %l[fail]"
		     :
		     : "r"(value), "r"((uint64_t)encoding)
		     : "cc", "memory"
		     : fail);
	return;
fail:
	vmcs_fail("VMWRITE", encoding);
}

static inline __attribute__((always_inline)) uint64_t vmcs_read_unchecked(uint32_t encoding)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((uint64_t)encoding) : "cc", "memory");
	return v;
}

static inline __attribute__((always_inline)) void vmcs_write_unchecked(uint32_t encoding,
								       uint64_t value)
{
	__asm__ volatile("vmwrite %0, %1" : : "r"(value), "r"((uint64_t)encoding) : "cc", "memory");
}

/*
 * VMREAD straight into memory: one instruction, which stores 64 bits in
 * 64-bit mode (a narrower field zero-extended). A read that may fail
 * (VMCS_MAY_FAIL) goes through a register and the check instead.
 */
static inline __attribute__((always_inline)) void vmcs_read_to_mem(uint32_t encoding, uint64_t *dst)
{
	__asm__ volatile("vmread %1, %0" : "=m"(*dst) : "r"((uint64_t)encoding) : "cc");
}
#define vmread_to(f, dst)                                                              \
	do {                                                                           \
		if (VMCS_MAY_FAIL(VMCS_FEATURE_OF_##f, VMCS_ENC_GROUP(f), 0))          \
			*(dst) = vmcs_read_raw(f);                                     \
		else                                                                   \
			vmcs_read_to_mem(f, (dst));                                    \
	} while (0)

/* A field of the table by its columns (the X-macro copies of nested/). */
#define vmcs_read_field(enc, feature, group) \
	(VMCS_MAY_FAIL(feature, group, 0) ? vmcs_read_raw(enc) : vmcs_read_unchecked(enc))
#define vmcs_write_field(enc, feature, group, value)                                  \
	do {                                                                          \
		if (VMCS_MAY_FAIL(feature, group, 1))                                 \
			vmcs_write_raw(enc, value);                                   \
		else                                                                  \
			vmcs_write_unchecked(enc, value);                             \
	} while (0)

#define VMCS_CHECK_WIDTH(f, w) \
	_Static_assert(VMCS_ENC_WIDTH(f) == (w), #f " accessed with the wrong width")

#define VMCS_READ_(f)     vmcs_read_field(f, VMCS_FEATURE_OF_##f, VMCS_ENC_GROUP(f))
#define VMCS_WRITE_(f, v) vmcs_write_field(f, VMCS_FEATURE_OF_##f, VMCS_ENC_GROUP(f), v)

#define vmread16(f)  ({ VMCS_CHECK_WIDTH(f, W16);  (uint16_t)VMCS_READ_(f); })
#define vmread32(f)  ({ VMCS_CHECK_WIDTH(f, W32);  (uint32_t)VMCS_READ_(f); })
#define vmread64(f)  ({ VMCS_CHECK_WIDTH(f, W64);  (uint64_t)VMCS_READ_(f); })
#define vmreadnat(f) ({ VMCS_CHECK_WIDTH(f, WNAT); (uint64_t)VMCS_READ_(f); })

#define vmwrite16(f, v)  do { VMCS_CHECK_WIDTH(f, W16);  VMCS_WRITE_(f, (uint16_t)(v)); } while (0)
#define vmwrite32(f, v)  do { VMCS_CHECK_WIDTH(f, W32);  VMCS_WRITE_(f, (uint32_t)(v)); } while (0)
#define vmwrite64(f, v)  do { VMCS_CHECK_WIDTH(f, W64);  VMCS_WRITE_(f, (uint64_t)(v)); } while (0)
#define vmwritenat(f, v) do { VMCS_CHECK_WIDTH(f, WNAT); VMCS_WRITE_(f, (uint64_t)(v)); } while (0)
#endif

#endif
