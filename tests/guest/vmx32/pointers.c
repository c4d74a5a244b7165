/* SPDX-License-Identifier: MIT */
/*
 * VMXON, VMCLEAR, VMPTRLD and VMPTRST from 32-bit protected mode: their m64
 * operand (SDM Vol. 3C, 31.3) in every addressing form, through segments
 * (Vol. 3A, 5.3 "Limit Checking", 5.4 "Type Checking": #GP(0), #SS(0) for SS)
 * and through PAE page tables (Vol. 3A, 4.4, 4.7 "Page-Fault Exceptions"),
 * including the PDPTE registers (4.4.1) that MOV to CR3 loads.
 */
#include "vmx32.h"

#define GUARD 0x67676767u
#define POINTER_INVALID (~0ull)

struct vmx_region vmxon_region, vmcs_a, vmcs_b, bad_region;
bool vmx_on;

void region_init(struct vmx_region *r, uint32_t revision)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->bytes, &revision, sizeof(revision));
}

static void put64(uint32_t *w, uint64_t v)
{
	w[0] = (uint32_t)v;
	w[1] = (uint32_t)(v >> 32);
}

static uint64_t get64(const volatile uint32_t *w)
{
	return w[0] | ((uint64_t)w[1] << 32);
}

static void fill_guards(uint32_t *area, unsigned words)
{
	for (unsigned i = 0; i < words; i++)
		area[i] = GUARD;
}

/* The current-VMCS pointer, read with VMPTRST [ecx]. */
static uint64_t current_ptr(void)
{
	uint64_t p = 0;
	struct vres r = vmptrst_get(&p);

	if (r.outcome != VMX_OK)
		report(false, "set-up: VMPTRST -> VMsucceed (got %s)", res_str(r));
	return p;
}

static void make_current(struct vmx_region *r)
{
	struct vres v = vmptrld_pa(pa_of(r));

	if (v.outcome != VMX_OK)
		report(false, "set-up: VMPTRLD 0x%llx -> VMsucceed (got %s)", U64(pa_of(r)), res_str(v));
}

/* ---- Before paging: VMXE, IA32_FEATURE_CONTROL, and CR0.PG = 0 ------------ */

void test_before_paging(void)
{
	uint64_t fc = 0, pa = pa_of(&vmxon_region);
	uint32_t want = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	int v;

	printf("vmx32: --- before paging: CR4.VMXE, IA32_FEATURE_CONTROL, CR0.PG (SDM 24.7, 31.3) ---\n");
	region_init(&vmxon_region, caps.revision);
	if (!(read_cr4() & CR4_VMXE))
		check_res(vmxon_pa(pa), WANT_EXC(VEC_UD, 0), "VMXON with CR4.VMXE = 0");
	v = write_cr4_checked((uint32_t)read_cr4() | CR4_VMXE);
	report(v == NO_EXCEPTION && (read_cr4() & CR4_VMXE),
	       "MOV to CR4 setting VMXE with paging off succeeds (got %s, CR4 0x%x)",
	       exception_name(v), read_cr4());

	rdmsr_checked(MSR_IA32_FEATURE_CONTROL, &fc);
	printf("vmx32: IA32_FEATURE_CONTROL 0x%llx\n", U64(fc));
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		check_res(vmxon_pa(pa), WANT_EXC(VEC_GP, 0),
			  "VMXON with IA32_FEATURE_CONTROL unlocked (0x%llx)", U64(fc));
		v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc | want);
		report(v == NO_EXCEPTION, "WRMSR IA32_FEATURE_CONTROL = lock | VMX outside SMX "
		       "succeeds (got %s)", exception_name(v));
		v = wrmsr_checked(MSR_IA32_FEATURE_CONTROL, fc | want);
		report(v == VEC_GP, "a second WRMSR to the locked IA32_FEATURE_CONTROL -> #GP (got %s)",
		       exception_name(v));
	} else {
		report(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX,
		       "IA32_FEATURE_CONTROL is locked with VMX outside SMX enabled (0x%llx)", U64(fc));
	}

	/* 31.3 VMXON: #GP(0) if CR0 is not supported in VMX operation; PG is in
	 * IA32_VMX_CR0_FIXED0 (and this kernel has no unrestricted guest to use). */
	if (!(caps.cr0_fixed0 & CR0_PG))
		report_skip("VMXON with CR0.PG = 0: IA32_VMX_CR0_FIXED0 (0x%llx) does not require PG",
			    U64(caps.cr0_fixed0));
	else if (bare_bochs)
		report_skip("VMXON with CR0.PG = 0 -> #GP(0): bare Bochs checks only CR0.PE and NE "
			    "in VMXON, not the rest of IA32_VMX_CR0_FIXED0 (its VMXON would succeed)");
	else
		check_res(vmxon_pa(pa), WANT_EXC(VEC_GP, 0),
			  "VMXON in protected mode with CR0.PG = 0 (CR0 0x%x, FIXED0 0x%llx)",
			  read_cr0(), U64(caps.cr0_fixed0));
}

/* ---- VMXON with paging on --------------------------------------------------- */

bool test_vmxon(void)
{
	uint64_t pa = pa_of(&vmxon_region), beyond = 1ull << caps.maxphyaddr;
	uint32_t cr0 = (uint32_t)read_cr0(), cr4 = (uint32_t)read_cr4();
	struct vres r;

	printf("vmx32: --- VMXON with PAE paging (31.3) ---\n");
	report((cr0 & caps.cr0_fixed0) == caps.cr0_fixed0 && !(cr0 & ~caps.cr0_fixed1) &&
	       (cr4 & caps.cr4_fixed0) == caps.cr4_fixed0 && !(cr4 & ~caps.cr4_fixed1),
	       "CR0 0x%x and CR4 0x%x satisfy the VMX fixed bits", cr0, cr4);
	region_init(&vmxon_region, caps.revision);
	region_init(&vmcs_a, caps.revision);
	region_init(&vmcs_b, caps.revision);

	/* The operand is read only after the mode, CPL and fixed-bit checks pass. */
	check_pf(vmx_mem(OP_VMXON, mem_at(M_BASE, NP_LA + 0x40), 0), 0, NP_LA + 0x40,
		 "VMXON [ecx] with the operand on a page whose PDE is not present");
	check_res(vmx_mem(OP_VMXON, seg_off(M_FS, SEL_SMALL, SMALL_LIMIT - 3), 0),
		  WANT_EXC(VEC_GP, 0), "VMXON fs:[0x%x] with FS.limit 0x%x (m64 beyond the limit)",
		  SMALL_LIMIT - 3, SMALL_LIMIT);
	check_res(vmx_mem(OP_VMXON, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT - 3), 0),
		  WANT_EXC(VEC_SS, 0), "VMXON ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT - 3,
		  STACK16M_LIMIT);
	check_res(vmxon_pa(pa + 0x800), WANT_INVALID, "VMXON with a pointer not 4-KiB aligned");
	check_res(vmxon_pa(pa | beyond), WANT_INVALID,
		  "VMXON with pointer 0x%llx (bit %u: the operand's high dword counts)",
		  U64(pa | beyond), caps.maxphyaddr);
	region_init(&bad_region, caps.revision ^ 1);
	check_res(vmxon_pa(pa_of(&bad_region)), WANT_INVALID,
		  "VMXON of a region with a wrong revision identifier");
	check_res(vmxoff(), WANT_EXC(VEC_UD, 0), "VMXOFF after the failed VMXONs (outside VMX operation)");

	/* Through the GiB-1 alias: linear ALIAS_LA + x holds the pointer at physical x. */
	put64(&form_area[2], pa);
	r = vmx_mem(OP_VMXON, mem_at(M_BASE, alias(&form_area[2])), 0);
	vmx_on = check_res(r, WANT_OK, "VMXON [ecx] with the operand at linear 0x%x (physical 0x%x)",
			   alias(&form_area[2]), (uint32_t)(uintptr_t)&form_area[2]);
	if (!vmx_on)
		return false;
	report(current_ptr() == POINTER_INVALID,
	       "VMPTRST right after VMXON stores 0xFFFFFFFFFFFFFFFF (no current VMCS)");
	put64(&form_area[2], pa);
	check_res(vmx_mem(OP_VMXON, mem_at(M_SIB, (uint32_t)(uintptr_t)&form_area[2]), 0),
		  WANT_INVALID, "VMXON in VMX root operation without a current VMCS");
	make_current(&vmcs_a);
	put64(&abs_area[2], pa);
	check_res(vmx_mem(OP_VMXON, mem_at(M_ABS, (uint32_t)(uintptr_t)&abs_area[2]), 0),
		  WANT_VALID(VMXERR_VMXON_IN_ROOT), "VMXON [disp32] in VMX root operation with a current VMCS");
	check_res(vmclear_pa(pa_of(&vmcs_a)), WANT_OK, "VMCLEAR of the current VMCS");
	return true;
}

/* ---- Every addressing form, on VMCLEAR, VMPTRLD and VMPTRST ---------------- */

struct form {
	enum mem_mode mode;
	bool via_alias;         /* the operand's linear address is in the GiB-1 alias */
};

static const struct form forms[] = {
	{ M_BASE, false }, { M_BASE, true }, { M_SIB, false }, { M_ABS, false }, { M_A16, false },
	{ M_FS, false }, { M_GS, false }, { M_SS, false }, { M_EBP, false }, { M_CS, false },
	{ M_SIB, true }, { M_FS, true },
};

void test_pointer_forms(void)
{
	printf("vmx32: --- VMCLEAR / VMPTRLD / VMPTRST: m64 in every addressing form ---\n");
	for (unsigned i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct form *f = &forms[i];
		uint32_t *buf = f->mode == M_ABS ? abs_area : form_area;
		uint32_t la = f->via_alias ? alias(&buf[2]) : (uint32_t)(uintptr_t)&buf[2];
		struct mem m = mem_at(f->mode, la);
		struct vmx_region *x = (i & 1) ? &vmcs_b : &vmcs_a;
		uint64_t px = pa_of(x), cur;
		struct vres r;
		char name[96];

		nv_snprintf(name, sizeof(name), "%s, offset 0x%x, linear 0x%x", mode_name(f->mode),
			    m.off, la);
		make_current(x);
		put64(&buf[2], px);
		check_res(vmx_mem(OP_VMCLEAR, m, 0), WANT_OK, "VMCLEAR %s of the current VMCS", name);
		cur = current_ptr();
		report(cur == POINTER_INVALID, "after VMCLEAR %s of 0x%llx: no current VMCS (VMPTRST "
		       "got 0x%llx)", mode_name(f->mode), U64(px), U64(cur));
		put64(&buf[2], px);
		check_res(vmx_mem(OP_VMPTRLD, m, 0), WANT_OK, "VMPTRLD %s", name);
		cur = current_ptr();
		report(cur == px, "after VMPTRLD %s of 0x%llx: VMPTRST gives it (got 0x%llx)",
		       mode_name(f->mode), U64(px), U64(cur));
		fill_guards(buf, 6);
		r = vmx_mem(OP_VMPTRST, m, 0);
		if (f->mode == M_CS) {
			check_res(r, WANT_EXC(VEC_GP, 0), "VMPTRST %s (a write to a code segment)", name);
			report(get64(&buf[2]) == ((uint64_t)GUARD << 32 | GUARD),
			       "the faulting VMPTRST cs: wrote nothing (0x%llx)", U64(get64(&buf[2])));
		} else {
			check_res(r, WANT_OK, "VMPTRST %s", name);
			report(get64(&buf[2]) == px, "VMPTRST %s stored 0x%llx (got 0x%llx)",
			       mode_name(f->mode), U64(px), U64(get64(&buf[2])));
		}
		report(buf[0] == GUARD && buf[1] == GUARD && buf[4] == GUARD && buf[5] == GUARD,
		       "VMPTRST %s wrote 8 bytes only (guards 0x%x 0x%x | 0x%x 0x%x)",
		       mode_name(f->mode), buf[0], buf[1], buf[4], buf[5]);
	}

	/* The pointers are 64 bits even in 32-bit mode: a high dword that makes them
	 * invalid must be seen (31.3 VMCLEAR/VMPTRLD: VMfailValid 2 and 9). */
	make_current(&vmcs_a);
	put64(&form_area[2], pa_of(&vmcs_b) | (1ull << caps.maxphyaddr));
	check_res(vmx_mem(OP_VMPTRLD, mem_at(M_SIB, (uint32_t)(uintptr_t)&form_area[2]), 0),
		  WANT_VALID(VMXERR_VMPTRLD_BAD_ADDR), "VMPTRLD of 0x%llx (beyond MAXPHYADDR)",
		  U64(get64(&form_area[2])));
	put64(&form_area[2], pa_of(&vmcs_b) | (1ull << 63));
	check_res(vmx_mem(OP_VMCLEAR, mem_at(M_A16, (uint32_t)(uintptr_t)&form_area[2]), 0),
		  WANT_VALID(VMXERR_VMCLEAR_BAD_ADDR), "VMCLEAR addr16 of 0x%llx (bit 63 set)",
		  U64(get64(&form_area[2])));
	report(current_ptr() == pa_of(&vmcs_a), "the failed VMPTRLD/VMCLEAR left VMCS A current");
	check_res(vmclear_pa(pa_of(&vmcs_b)), WANT_OK, "VMCLEAR of VMCS B (not current)");
}

/* ---- Segment limits and access rights --------------------------------------- */

void test_segmentation(void)
{
	uint32_t a = (uint32_t)(uintptr_t)&form_area[2], fill;
	uint64_t pa = pa_of(&vmcs_a);
	bool untouched = true;

	printf("vmx32: --- segmentation: limits, SS, read-only, expand-down (Vol. 3A 5.3, 5.4) ---\n");
	make_current(&vmcs_a);
	vmw(F_GUEST_ES_LIMIT, 0x600DF00Du);

	/* A data segment with byte limit 0xFFF, base small_page. */
	put64((uint32_t *)(small_page + 0xFF8), pa);
	make_current(&vmcs_b);
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_FS, SEL_SMALL, 0xFF8), 0), WANT_OK,
		  "VMPTRLD fs:[0xFF8] with FS.limit 0xFFF (last 8 bytes)");
	report(current_ptr() == pa, "VMPTRLD through FS read base + 0xFF8 (current 0x%llx)",
	       U64(current_ptr()));
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_FS, SEL_SMALL, 0xFF9), 0), WANT_EXC(VEC_GP, 0),
		  "VMPTRLD fs:[0xFF9] with FS.limit 0xFFF (one byte beyond)");
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_FS, SEL_SMALL, 0x1000), 0), WANT_EXC(VEC_GP, 0),
		  "VMPTRLD fs:[0x1000] with FS.limit 0xFFF");
	check_res(vmx_mem(OP_VMCLEAR, seg_off(M_FS, SEL_SMALL, 0xFFC), 0), WANT_EXC(VEC_GP, 0),
		  "VMCLEAR fs:[0xFFC] with FS.limit 0xFFF");
	memset(small_page + 0xFF0, 0x5A, 16);
	check_res(vmx_mem(OP_VMPTRST, seg_off(M_FS, SEL_SMALL, 0xFF9), 0), WANT_EXC(VEC_GP, 0),
		  "VMPTRST fs:[0xFF9] with FS.limit 0xFFF");
	for (unsigned i = 0xFF0; i < 0x1000; i++)
		untouched &= small_page[i] == 0x5A;
	report(untouched, "the faulting VMPTRST wrote nothing within the limit");
	check_res(vmx_mem(OP_VMPTRST, seg_off(M_FS, SEL_SMALL, 0xFF8), 0), WANT_OK,
		  "VMPTRST fs:[0xFF8] with FS.limit 0xFFF");
	report(get64((uint32_t *)(small_page + 0xFF8)) == pa && small_page[0xFF7] == 0x5A,
	       "VMPTRST fs:[0xFF8] stored 0x%llx at base + 0xFF8 (got 0x%llx)", U64(pa),
	       U64(get64((uint32_t *)(small_page + 0xFF8))));
	/* VMREAD/VMWRITE have a 32-bit operand here: 4 bytes must fit. */
	check_res(vmx_mem(OP_VMREAD, seg_off(M_FS, SEL_SMALL, 0xFFC), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMREAD to fs:[0xFFC] with FS.limit 0xFFF (4 bytes fit)");
	memcpy(&fill, small_page + 0xFFC, 4);
	report(fill == 0x600DF00Du, "VMREAD to fs:[0xFFC] stored 0x600DF00D (got 0x%x)", fill);
	check_res(vmx_mem(OP_VMREAD, seg_off(M_FS, SEL_SMALL, 0xFFD), F_GUEST_ES_LIMIT),
		  WANT_EXC(VEC_GP, 0), "VMREAD to fs:[0xFFD] with FS.limit 0xFFF");
	fill = 0x0BADCAFEu;
	memcpy(small_page + 0xFFC, &fill, 4);
	check_res(vmx_mem(OP_VMWRITE, seg_off(M_FS, SEL_SMALL, 0xFFC), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMWRITE from fs:[0xFFC] with FS.limit 0xFFF (4 bytes fit)");
	report(vmr(F_GUEST_ES_LIMIT) == 0x0BADCAFEu, "VMWRITE from fs:[0xFFC] wrote 0x0BADCAFE "
	       "(got 0x%x)", vmr(F_GUEST_ES_LIMIT));
	check_res(vmx_mem(OP_VMWRITE, seg_off(M_FS, SEL_SMALL, 0xFFD), F_GUEST_ES_LIMIT),
		  WANT_EXC(VEC_GP, 0), "VMWRITE from fs:[0xFFD] with FS.limit 0xFFF");

	/* SS with limit 16 MiB - 1: violations are #SS(0), explicit or by default (EBP). */
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT - 3), 0),
		  WANT_EXC(VEC_SS, 0), "VMPTRLD ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT - 3,
		  STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT + 1), 0),
		  WANT_EXC(VEC_SS, 0), "VMPTRLD ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT + 1,
		  STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_EBP, SEL_STACK16M, STACK16M_LIMIT - 2), 0),
		  WANT_EXC(VEC_SS, 0), "VMPTRLD [ebp = 0x%x] (SS by default) with SS.limit 0x%x",
		  STACK16M_LIMIT - 2, STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMCLEAR, seg_off(M_EBP, SEL_STACK16M, STACK16M_LIMIT), 0),
		  WANT_EXC(VEC_SS, 0), "VMCLEAR [ebp = 0x%x] (SS by default) with SS.limit 0x%x",
		  STACK16M_LIMIT, STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMPTRST, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT - 6), 0),
		  WANT_EXC(VEC_SS, 0), "VMPTRST ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT - 6,
		  STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMREAD, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT - 2), F_GUEST_ES_LIMIT),
		  WANT_EXC(VEC_SS, 0), "VMREAD to ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT - 2,
		  STACK16M_LIMIT);
	check_res(vmx_mem(OP_VMWRITE, seg_off(M_SS, SEL_STACK16M, STACK16M_LIMIT - 1), F_GUEST_ES_LIMIT),
		  WANT_EXC(VEC_SS, 0), "VMWRITE from ss:[0x%x] with SS.limit 0x%x", STACK16M_LIMIT - 1,
		  STACK16M_LIMIT);
	put64(&form_area[2], pa);
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_EBP, SEL_STACK16M, a), 0), WANT_OK,
		  "VMPTRLD [ebp = 0x%x] (SS by default) within SS.limit 0x%x", a, STACK16M_LIMIT);

	/* A read-only data segment: reads succeed, writes are #GP(0). */
	put64(&form_area[2], pa);
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_GS, SEL_RO, a), 0), WANT_OK,
		  "VMPTRLD gs:[ecx] with GS read-only (a read)");
	check_res(vmx_mem(OP_VMCLEAR, seg_off(M_GS, SEL_RO, a), 0), WANT_OK,
		  "VMCLEAR gs:[ecx] with GS read-only (a read)");
	make_current(&vmcs_a);
	fill_guards(form_area, 6);
	check_res(vmx_mem(OP_VMPTRST, seg_off(M_GS, SEL_RO, a), 0), WANT_EXC(VEC_GP, 0),
		  "VMPTRST gs:[ecx] with GS read-only (a write)");
	check_res(vmx_mem(OP_VMREAD, seg_off(M_GS, SEL_RO, a), F_GUEST_ES_LIMIT), WANT_EXC(VEC_GP, 0),
		  "VMREAD to gs:[ecx] with GS read-only (a write)");
	report(form_area[2] == GUARD && form_area[3] == GUARD,
	       "the faulting stores through the read-only segment wrote nothing");
	form_area[2] = 0x1234ABCDu;
	check_res(vmx_mem(OP_VMWRITE, seg_off(M_GS, SEL_RO, a), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMWRITE from gs:[ecx] with GS read-only (a read)");
	check_res(vmx_mem(OP_VMREAD, seg_off(M_CS, 0, a), F_GUEST_ES_LIMIT), WANT_EXC(VEC_GP, 0),
		  "VMREAD to cs:[ecx] (a write to a code segment)");
	check_res(vmx_mem(OP_VMWRITE, seg_off(M_CS, 0, a), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMWRITE from cs:[ecx] (a read of a readable code segment)");
	report(vmr(F_GUEST_ES_LIMIT) == 0x1234ABCDu, "VMWRITE through GS/CS wrote 0x1234ABCD (got 0x%x)",
	       vmr(F_GUEST_ES_LIMIT));

	/* An expand-down data segment (B = 1, limit 0xFFFFF): offsets 0x100000..4 GiB - 1. */
	put64(&form_area[2], pa_of(&vmcs_b));
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_FS, SEL_EXPDOWN, a), 0), WANT_OK,
		  "VMPTRLD fs:[0x%x] with FS expand-down, limit 0x%x", a, EXPDOWN_LIMIT);
	report(current_ptr() == pa_of(&vmcs_b), "VMPTRLD through the expand-down segment loaded B");
	check_res(vmx_mem(OP_VMPTRLD, seg_off(M_FS, SEL_EXPDOWN, EXPDOWN_LIMIT - 7), 0),
		  WANT_EXC(VEC_GP, 0), "VMPTRLD fs:[0x%x] with FS expand-down, limit 0x%x (below)",
		  EXPDOWN_LIMIT - 7, EXPDOWN_LIMIT);
	check_res(vmx_mem(OP_VMPTRST, seg_off(M_FS, SEL_EXPDOWN, EXPDOWN_LIMIT - 3), 0),
		  WANT_EXC(VEC_GP, 0), "VMPTRST fs:[0x%x] with FS expand-down, limit 0x%x (straddles)",
		  EXPDOWN_LIMIT - 3, EXPDOWN_LIMIT);
	make_current(&vmcs_a);
}

/* ---- PAE paging: not present, reserved bits, R/W, A/D, PDPTE registers ------- */

static struct vres vmptrld_la(uint32_t la, uint64_t pa)
{
	return vmx_mem(OP_VMPTRLD, mem_at(M_BASE, la), (uint32_t)pa);
}

void test_paging(void)
{
	uint32_t a = (uint32_t)(uintptr_t)&form_area[2], v;
	uint64_t pa = pa_of(&vmcs_a), pb = pa_of(&vmcs_b), *pde;
	uint32_t cross = PT_LA + PAGE_SIZE - 4;
	struct vres r;
	int vec;

	printf("vmx32: --- PAE paging of the memory operand (Vol. 3A 4.4, 4.7, 4.8) ---\n");
	make_current(&vmcs_a);
	check_pf(vmx_mem(OP_VMPTRLD, mem_at(M_BASE, NP_LA + 0x40), 0), 0, NP_LA + 0x40,
		 "VMPTRLD [0x%x] (PDE not present: a read)", NP_LA + 0x40);
	check_pf(vmx_mem(OP_VMCLEAR, mem_at(M_SIB, NP_LA + 0x48), 0), 0, NP_LA + 0x48,
		 "VMCLEAR [ebx+esi*4+disp32] at 0x%x (PDE not present)", NP_LA + 0x48);
	check_pf(vmx_mem(OP_VMPTRST, mem_at(M_BASE, NP_LA + 0x50), 0), PF_ERR_W, NP_LA + 0x50,
		 "VMPTRST [0x%x] (PDE not present: a write)", NP_LA + 0x50);
	check_pf(vmx_mem(OP_VMREAD, mem_at(M_BASE, NP_LA + 0x58), F_GUEST_ES_LIMIT), PF_ERR_W,
		 NP_LA + 0x58, "VMREAD to [0x%x] (PDE not present: a write)", NP_LA + 0x58);
	check_pf(vmx_mem(OP_VMWRITE, mem_at(M_BASE, NP_LA + 0x5C), F_GUEST_ES_LIMIT), 0,
		 NP_LA + 0x5C, "VMWRITE from [0x%x] (PDE not present: a read)", NP_LA + 0x5C);
	check_pf(vmx_mem(OP_VMPTRLD, mem_at(M_FS, NP_LA + 0x60), 0), 0, NP_LA + 0x60,
		 "VMPTRLD fs:[0x%x] (FS.base 0x1000): CR2 is the linear address 0x%x",
		 NP_LA + 0x60 - BASE1000, NP_LA + 0x60);
	check_pf(vmx_mem(OP_VMPTRST, mem_at(M_GS, NP_LA + 0x68), 0), PF_ERR_W, NP_LA + 0x68,
		 "VMPTRST gs:[0x%x] (GS.base 0xFFFFF000, wraps): CR2 is the linear address 0x%x",
		 NP_LA + 0x68 - WRAP_BASE, NP_LA + 0x68);

	check_pf(vmptrld_la(RSVD_LA + 0x40, 0), PF_ERR_P | PF_ERR_RSVD, RSVD_LA + 0x40,
		 "VMPTRLD [0x%x] (2-MiB PDE with reserved bit 13 set)", RSVD_LA + 0x40);
	check_pf(vmx_mem(OP_VMPTRST, mem_at(M_BASE, RSVD_LA + 0x48), 0),
		 PF_ERR_P | PF_ERR_W | PF_ERR_RSVD, RSVD_LA + 0x48,
		 "VMPTRST [0x%x] (2-MiB PDE with reserved bit 13 set)", RSVD_LA + 0x48);

	/* 4-KiB pages: PT_LA -> pt_page, PT_LA + 4 KiB not present. */
	put64((uint32_t *)(pt_page + 0x100), pb);
	check_res(vmptrld_la(PT_LA + 0x100, 0), WANT_OK, "VMPTRLD [0x%x] (a 4-KiB page)", PT_LA + 0x100);
	report(current_ptr() == pb, "VMPTRLD through the 4-KiB PTE read pt_page + 0x100 (current 0x%llx)",
	       U64(current_ptr()));
	check_pf(vmptrld_la(PT_NP_LA + 0x10, 0), 0, PT_NP_LA + 0x10,
		 "VMPTRLD [0x%x] (PTE not present)", PT_NP_LA + 0x10);
	r = vmptrld_la(cross, 0);
	report(r.outcome == VMX_EXCEPTION && r.vector == VEC_PF && r.error_code == 0 &&
	       r.cr2 >= PT_NP_LA && r.cr2 < PT_NP_LA + 4,
	       "VMPTRLD [0x%x] (m64 across into a not-present page) -> #PF(0x0) with CR2 in "
	       "[0x%x, 0x%x] (got %s)", cross, PT_NP_LA, PT_NP_LA + 3, res_str(r));
	r = vmx_mem(OP_VMPTRST, mem_at(M_BASE, cross), 0);
	report(r.outcome == VMX_EXCEPTION && r.vector == VEC_PF && r.error_code == PF_ERR_W &&
	       r.cr2 >= PT_NP_LA && r.cr2 < PT_NP_LA + 4,
	       "VMPTRST [0x%x] (m64 across into a not-present page) -> #PF(0x2) with CR2 in "
	       "[0x%x, 0x%x] (got %s)", cross, PT_NP_LA, PT_NP_LA + 3, res_str(r));
	/* A 32-bit VMREAD/VMWRITE operand in the last 4 bytes of the present page. */
	v = 0xFEEDBEEFu;
	memcpy(pt_page + PAGE_SIZE - 4, &v, 4);
	check_res(vmx_mem(OP_VMWRITE, mem_at(M_BASE, cross), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMWRITE from [0x%x] (4 bytes before a not-present page: reads 4 bytes)", cross);
	report(vmr(F_GUEST_ES_LIMIT) == 0xFEEDBEEFu, "VMWRITE from the page end wrote 0xFEEDBEEF (got 0x%x)",
	       vmr(F_GUEST_ES_LIMIT));
	vmw(F_GUEST_ES_LIMIT, 0x0DDBA11u);
	check_res(vmx_mem(OP_VMREAD, mem_at(M_BASE, cross), F_GUEST_ES_LIMIT), WANT_OK,
		  "VMREAD to [0x%x] (4 bytes before a not-present page: writes 4 bytes)", cross);
	memcpy(&v, pt_page + PAGE_SIZE - 4, 4);
	report(v == 0x0DDBA11u, "VMREAD to the page end stored 0x0DDBA11 (got 0x%x)", v);

	/* Read-only pages: a supervisor write faults only with CR0.WP = 1 (4.6). */
	make_current(&vmcs_a);
	put64(&form_area[2], pb);
	check_res(vmptrld_la(RO_LA + a, 0), WANT_OK, "VMPTRLD [0x%x] (read-only page, a read)", RO_LA + a);
	report(current_ptr() == pb, "VMPTRLD through the read-only alias loaded B");
	check_pf(vmx_mem(OP_VMPTRST, mem_at(M_BASE, RO_LA + a), 0), PF_ERR_P | PF_ERR_W, RO_LA + a,
		 "VMPTRST [0x%x] (read-only page, CR0.WP = 1)", RO_LA + a);
	check_pf(vmx_mem(OP_VMREAD, mem_at(M_BASE, RO_LA + a), F_GUEST_ES_LIMIT), PF_ERR_P | PF_ERR_W,
		 RO_LA + a, "VMREAD to [0x%x] (read-only page, CR0.WP = 1)", RO_LA + a);
	write_cr0(read_cr0() & ~(ureg_t)CR0_WP);
	fill_guards(form_area, 6);
	r = vmx_mem(OP_VMPTRST, mem_at(M_BASE, RO_LA + a), 0);
	write_cr0(read_cr0() | CR0_WP);
	check_res(r, WANT_OK, "VMPTRST [0x%x] (read-only page, CR0.WP = 0)", RO_LA + a);
	report(get64(&form_area[2]) == pb, "VMPTRST with CR0.WP = 0 stored 0x%llx at physical 0x%x "
	       "(got 0x%llx)", U64(pb), a, U64(get64(&form_area[2])));

	/* Accessed and dirty flags of the 2-MiB PDE that maps the operand (4.8). */
	pde = &pae_pd[1][a >> 21];
	*pde &= ~(PDE_A | PDE_D);
	reload_cr3();
	put64(&form_area[2], pa);
	check_res(vmptrld_la(alias(&form_area[2]), 0), WANT_OK, "VMPTRLD [0x%x] (PDE A = D = 0)",
		  alias(&form_area[2]));
	report((*pde & PDE_A) && !(*pde & PDE_D), "VMPTRLD set the PDE's accessed flag, not its dirty "
	       "flag (PDE 0x%llx)", U64(*pde));
	check_res(vmx_mem(OP_VMPTRST, mem_at(M_BASE, alias(&form_area[2])), 0), WANT_OK,
		  "VMPTRST [0x%x]", alias(&form_area[2]));
	report((*pde & PDE_A) && (*pde & PDE_D), "VMPTRST set the PDE's dirty flag (PDE 0x%llx)",
	       U64(*pde));

	/* PDPTE registers (4.4.1): loaded by MOV to CR3, not re-read from memory. */
	pae_pdpt[1] = 0;
	put64(&form_area[2], pb);
	check_res(vmptrld_la(alias(&form_area[2]), 0), WANT_OK,
		  "VMPTRLD [0x%x] after PDPTE 1 was cleared in memory, CR3 not reloaded (the "
		  "PDPTE register still maps GiB 1)", alias(&form_area[2]));
	report(current_ptr() == pb, "... and it loaded B (current 0x%llx)", U64(current_ptr()));
	reload_cr3();
	check_pf(vmptrld_la(alias(&form_area[2]), 0), 0, alias(&form_area[2]),
		 "VMPTRLD [0x%x] after MOV to CR3 loaded the not-present PDPTE 1", alias(&form_area[2]));
	pae_pdpt[1] = (uint32_t)(uintptr_t)pae_pd[1] | PDE_P;
	reload_cr3();
	put64(&form_area[2], pa);
	check_res(vmptrld_la(alias(&form_area[2]), 0), WANT_OK,
		  "VMPTRLD [0x%x] after PDPTE 1 was restored and CR3 reloaded", alias(&form_area[2]));
	vec = write_cr3_checked((uint32_t)(uintptr_t)pae_bad_pdpt);
	if (vec == NO_EXCEPTION)
		write_cr3((uint32_t)(uintptr_t)pae_pdpt);
	report(vec == VEC_GP && read_cr3() == (uint32_t)(uintptr_t)pae_pdpt,
	       "MOV to CR3 of a PDPT whose PDPTE 3 has reserved bits 2:1 set -> #GP (got %s)",
	       exception_name(vec));
	report(current_ptr() == pa, "VMCS A is current after the paging cases");
}
