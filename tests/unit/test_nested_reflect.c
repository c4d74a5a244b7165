/* SPDX-License-Identifier: MIT */
/* nested/reflect.c: which L2 exits go to L1, by VMCS12's controls (SDM Vol. 3C, 25.1-25.2). */
#include "unit.h"

#include "nested/reflect.h"
#include "nested_fixture.h"
#include "vmx/exit_reasons.h"

static struct nested_caps caps;
static struct vmcs12 v;
static uint8_t l1_mem[3 * 4096];  /* I/O bitmap A at 0x1000, B at 0x2000, MSR bitmap at 0 */

static bool read_mem(uint64_t gpa, void *buf, unsigned len)
{
	if (gpa + len > sizeof(l1_mem))
		return false;
	memcpy(buf, l1_mem + gpa, len);
	return true;
}

static void setup(void)
{
	struct vmx_caps hw = fixture_hw_caps();

	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
	memset(l1_mem, 0, sizeof(l1_mem));
	v.MSR_BITMAP = 0;
	v.IO_BITMAP_A = 0x1000;
	v.IO_BITMAP_B = 0x2000;
}

static bool wants(uint32_t reason, uint64_t qual)
{
	struct l2_exit e = { .reason = reason, .qualification = qual };

	return nested_l1_wants_exit(&v, &e, read_mem);
}

TEST(unconditional_exits_always_reflected)
{
	setup();
	CHECK(wants(EXIT_REASON_CPUID, 0));
	CHECK(wants(EXIT_REASON_VMCALL, 0));
	CHECK(wants(EXIT_REASON_TRIPLE_FAULT, 0));
	CHECK(wants(EXIT_REASON_XSETBV, 0));
	CHECK(wants(EXIT_REASON_VMXON, 0));
	CHECK(!wants(EXIT_REASON_EPT_VIOLATION, 0));  /* EPT01 is L0's */
}

TEST(hlt_rdtsc_invlpg_follow_controls)
{
	setup();
	v.CPU_BASED_VM_EXEC_CONTROL &= ~PROC_HLT_EXITING;
	CHECK(!wants(EXIT_REASON_HLT, 0));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_HLT_EXITING;
	CHECK(wants(EXIT_REASON_HLT, 0));
	CHECK(!wants(EXIT_REASON_RDTSC, 0));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_RDTSC_EXITING;
	CHECK(wants(EXIT_REASON_RDTSC, 0));
	CHECK(!wants(EXIT_REASON_DR_ACCESS, 0));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_MOV_DR_EXITING;
	CHECK(wants(EXIT_REASON_DR_ACCESS, 0));
}

/* Table 28-5: size-1 in bits 2:0, IN in bit 3, port in 31:16. */
#define IO_QUAL(port, size, in) ((uint64_t)(port) << 16 | ((size) - 1) | ((in) ? 8 : 0))

TEST(io_by_bitmaps_and_unconditional_exiting)
{
	setup();
	CHECK(!wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3ff, 1, true)));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_UNCOND_IO_EXITING;
	CHECK(wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3ff, 1, true)));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_IO_BITMAPS;  /* bitmaps win */
	CHECK(!wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3ff, 1, true)));
	l1_mem[0x1000 + 0x3ff / 8] |= 1 << (0x3ff % 8);
	CHECK(wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3ff, 1, true)));
	CHECK(wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3fc, 4, false)));  /* covers 0x3ff */
	CHECK(!wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x3f8, 4, false)));
	l1_mem[0x2000 + (0x8004 & 0x7fff) / 8] |= 1 << (0x8004 % 8);
	CHECK(wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0x8004, 1, false)));  /* bitmap B */
	CHECK(wants(EXIT_REASON_IO_INSTRUCTION, IO_QUAL(0xfffe, 4, false)));  /* wraps */
}

TEST(msr_by_bitmap)
{
	struct l2_exit e = { .reason = EXIT_REASON_MSR_READ, .msr = 0x174 };

	setup();
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));  /* no MSR bitmaps: every access */
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_MSR_BITMAPS;
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	l1_mem[0x174 / 8] |= 1 << (0x174 % 8);          /* read-low */
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.reason = EXIT_REASON_MSR_WRITE;
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	l1_mem[2048 + 0x174 / 8] |= 1 << (0x174 % 8);   /* write-low */
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.msr = 0xc0000080;
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	l1_mem[2048 + 1024 + 0x80 / 8] |= 1 << (0x80 % 8);  /* write-high */
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.msr = 0x40000000;                              /* outside both ranges */
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
}

TEST(cr_access_by_mask_and_shadow)
{
	struct l2_exit e = { .reason = EXIT_REASON_CR_ACCESS, .qualification = 0 /* MOV to CR0 */ };

	setup();
	v.CR0_GUEST_HOST_MASK = CR0_TS;
	v.CR0_READ_SHADOW = 0;
	e.cr_value = CR0_PE | CR0_NE;          /* TS unchanged: L1 does not get it */
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	e.cr_value |= CR0_TS;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.qualification = 4;                   /* MOV to CR4 */
	v.CR4_GUEST_HOST_MASK = CR4_PGE;
	e.cr_value = CR4_PGE;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.qualification = 3;                   /* MOV to CR3 */
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_CR3_LOAD_EXITING;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	v.CR3_TARGET_COUNT = 1;
	v.CR3_TARGET_VALUE0 = e.cr_value;      /* a CR3 target does not exit */
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	e.qualification = 2 << 4;              /* CLTS */
	v.CR0_READ_SHADOW = CR0_TS;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
}

TEST(exceptions_by_bitmap_and_pf_filter)
{
	struct l2_exit e = { .reason = EXIT_REASON_EXCEPTION_NMI,
			     .intr_info = INTR_INFO_VALID | (3u << 8) | 6 };

	setup();
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	v.EXCEPTION_BITMAP = 1u << 6;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
	e.intr_info = INTR_INFO_VALID | (3u << 8) | 14;
	e.intr_error_code = 2;
	v.EXCEPTION_BITMAP = 1u << 14;
	v.PAGE_FAULT_ERROR_CODE_MASK = 2;
	v.PAGE_FAULT_ERROR_CODE_MATCH = 2;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));   /* bit 1 and match */
	e.intr_error_code = 0;
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));  /* bit 1 and no match */
	v.EXCEPTION_BITMAP = 0;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));   /* bit 0 and no match */
	e.intr_info = INTR_INFO_VALID | (2u << 8) | 2;   /* NMI */
	CHECK(!nested_l1_wants_exit(&v, &e, read_mem));
	v.PIN_BASED_VM_EXEC_CONTROL |= PIN_NMI_EXITING;
	CHECK(nested_l1_wants_exit(&v, &e, read_mem));
}
