/* SPDX-License-Identifier: MIT */
/*
 * vmx32: VMX from a 32-bit L1 with PAE paging. What the case files share: VMCS
 * field encodings and control bits (SDM Vol. 3C, chapter 25 and Appendix B), the
 * capabilities (main.c), the GDT this kernel owns (main.c), the PAE page tables
 * (paging.c), the instruction runner (insn.c, stubs.asm) and the L2 guest (l2.c).
 */
#ifndef VMX32_H
#define VMX32_H

#include <guest.h>
#include <stddef.h>

#define PAGE_SIZE 4096u
#define U64(v) ((unsigned long long)(v))

/* ---- VMCS field encodings: SDM Vol. 3C, Appendix B ------------------------ */
enum {
	/* B.1 16-bit fields */
	F_GUEST_ES_SEL = 0x0800, F_GUEST_CS_SEL = 0x0802, F_GUEST_SS_SEL = 0x0804,
	F_GUEST_DS_SEL = 0x0806, F_GUEST_FS_SEL = 0x0808, F_GUEST_GS_SEL = 0x080A,
	F_GUEST_LDTR_SEL = 0x080C, F_GUEST_TR_SEL = 0x080E,
	F_HOST_ES_SEL = 0x0C00, F_HOST_CS_SEL = 0x0C02, F_HOST_SS_SEL = 0x0C04,
	F_HOST_DS_SEL = 0x0C06, F_HOST_FS_SEL = 0x0C08, F_HOST_GS_SEL = 0x0C0A,
	F_HOST_TR_SEL = 0x0C0C,
	/* B.2 64-bit fields (full; | 1 = high) */
	F_TSC_OFFSET = 0x2010, F_LINK_POINTER = 0x2800, F_GUEST_DEBUGCTL = 0x2802,
	/* B.3 32-bit fields */
	F_PIN_CTLS = 0x4000, F_PROC_CTLS = 0x4002, F_EXCEPTION_BITMAP = 0x4004,
	F_PF_MASK = 0x4006, F_PF_MATCH = 0x4008, F_CR3_TARGET_COUNT = 0x400A,
	F_EXIT_CTLS = 0x400C, F_EXIT_MSR_STORE_COUNT = 0x400E, F_EXIT_MSR_LOAD_COUNT = 0x4010,
	F_ENTRY_CTLS = 0x4012, F_ENTRY_MSR_LOAD_COUNT = 0x4014, F_ENTRY_INTR_INFO = 0x4016,
	F_ENTRY_EXC_ERROR = 0x4018, F_ENTRY_INSN_LEN = 0x401A, F_PROC_CTLS2 = 0x401E,
	F_VM_INSN_ERROR = 0x4400, F_EXIT_REASON = 0x4402, F_EXIT_INTR_INFO = 0x4404,
	F_EXIT_INTR_ERROR = 0x4406, F_IDT_VECTORING_INFO = 0x4408, F_EXIT_INSN_LEN = 0x440C,
	F_EXIT_INSN_INFO = 0x440E,
	F_GUEST_ES_LIMIT = 0x4800, F_GUEST_GDTR_LIMIT = 0x4810, F_GUEST_IDTR_LIMIT = 0x4812,
	F_GUEST_ES_AR = 0x4814, F_GUEST_INTERRUPTIBILITY = 0x4824, F_GUEST_ACTIVITY = 0x4826,
	F_GUEST_SYSENTER_CS = 0x482A, F_HOST_SYSENTER_CS = 0x4C00,
	/* B.4 natural-width fields */
	F_CR0_MASK = 0x6000, F_CR4_MASK = 0x6002, F_CR0_SHADOW = 0x6004, F_CR4_SHADOW = 0x6006,
	F_EXIT_QUAL = 0x6400, F_GUEST_LINEAR = 0x640A,
	F_GUEST_CR0 = 0x6800, F_GUEST_CR3 = 0x6802, F_GUEST_CR4 = 0x6804,
	F_GUEST_ES_BASE = 0x6806, F_GUEST_GDTR_BASE = 0x6816, F_GUEST_IDTR_BASE = 0x6818,
	F_GUEST_DR7 = 0x681A, F_GUEST_RSP = 0x681C, F_GUEST_RIP = 0x681E,
	F_GUEST_RFLAGS = 0x6820, F_GUEST_PENDING_DBG = 0x6822,
	F_GUEST_SYSENTER_ESP = 0x6824, F_GUEST_SYSENTER_EIP = 0x6826,
	F_HOST_CR0 = 0x6C00, F_HOST_CR3 = 0x6C02, F_HOST_CR4 = 0x6C04, F_HOST_FS_BASE = 0x6C06,
	F_HOST_GS_BASE = 0x6C08, F_HOST_TR_BASE = 0x6C0A, F_HOST_GDTR_BASE = 0x6C0C,
	F_HOST_IDTR_BASE = 0x6C0E, F_HOST_SYSENTER_ESP = 0x6C10, F_HOST_SYSENTER_EIP = 0x6C12,
	F_HOST_RSP = 0x6C14, F_HOST_RIP = 0x6C16,
};
/* The guest segment fields are at fixed distances from ES's (B.1, B.3, B.4). */
#define SEG_FIELD(f, seg) ((f) + 2 * (seg))
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* ---- Controls (25.6-25.8) and capability MSRs (Appendix A) ---------------- */
#define PROC_SECONDARY_CONTROLS (1u << 31)
#define EXIT_HOST_ADDR_SPACE    (1u << 9)
#define ENTRY_IA32E_GUEST       (1u << 9)
#define MSR_IA32_VMX_PINBASED_CTLS       0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS      0x482u
#define MSR_IA32_VMX_EXIT_CTLS           0x483u
#define MSR_IA32_VMX_ENTRY_CTLS          0x484u
#define MSR_IA32_VMX_MISC                0x485u
#define MSR_IA32_VMX_CR0_FIXED0          0x486u
#define MSR_IA32_VMX_CR0_FIXED1          0x487u
#define MSR_IA32_VMX_CR4_FIXED0          0x488u
#define MSR_IA32_VMX_CR4_FIXED1          0x489u
#define MSR_IA32_VMX_VMCS_ENUM           0x48Au
#define MSR_IA32_VMX_PROCBASED_CTLS2     0x48Bu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48Du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48Fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490u
#define BASIC_TRUE_CTLS          (1ull << 55)
#define MISC_VMWRITE_ANY         (1ull << 29)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR4_PCIDE (1u << 17)
#define MSR_IA32_SYSENTER_CS  0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u

struct ctl_cap {
	uint32_t allowed0, allowed1;    /* A.3: must-be-1 bits, may-be-1 bits */
};

struct caps {
	uint64_t basic, misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum;
	struct ctl_cap pin, proc, proc2, exit, entry;   /* TRUE_* when BASIC[55] */
	uint32_t revision;
	unsigned maxphyaddr;
};
extern struct caps caps;
extern bool bare_bochs;         /* no nestvisor CPUID signature: Bochs' own VMX */

static inline bool can_set(const struct ctl_cap *c, uint32_t bits)
{
	return (c->allowed1 & bits) == bits;
}

/* ---- Exit reasons (Appendix C), VM-instruction errors (31.4) -------------- */
#define EXIT_REASON_EXCEPTION   0
#define EXIT_REASON_CPUID       10
#define EXIT_REASON_VMCALL      18
#define EXIT_REASON_INVALID_GUEST 33
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)
#define ENTRY_FAIL_QUAL_PDPTE   2
enum {
	VMXERR_VMCLEAR_BAD_ADDR = 2, VMXERR_VMLAUNCH_NOT_CLEAR = 4,
	VMXERR_ENTRY_BAD_HOST_STATE = 8, VMXERR_VMPTRLD_BAD_ADDR = 9,
	VMXERR_UNSUPPORTED_FIELD = 12, VMXERR_VMWRITE_READ_ONLY = 13,
	VMXERR_VMXON_IN_ROOT = 15,
};

/* ---- The GDT this kernel owns (main.c) ------------------------------------ */
/* Selectors 0x08 and 0x10 are the library's (guest.h); the rest are the segments
 * the memory-operand cases go through. */
#define SEL_BASE1000  0x20      /* data, base 0x1000, limit 4 GiB */
#define SEL_WRAP      0x28      /* data, base 0xFFFFF000, limit 4 GiB: linear wraps at 4 GiB */
#define SEL_SMALL     0x30      /* data, base small_page, byte limit 0xFFF */
#define SEL_STACK16M  0x38      /* data (SS), base 0, limit 16 MiB - 1 (G = 1) */
#define SEL_RO        0x40      /* read-only data, base 0, limit 4 GiB */
#define SEL_SEG16     0x48      /* data, base seg16_base, byte limit 0xFFFF (16-bit addressing) */
#define SEL_EXPDOWN   0x50      /* expand-down data, base 0, limit 0xFFFFF, B = 1 */
#define SEL_TSS       0x58      /* 32-bit TSS */
#define BASE1000      0x1000u
#define WRAP_BASE     0xFFFFF000u
#define SMALL_LIMIT   0xFFFu
#define STACK16M_LIMIT 0x00FFFFFFu
#define EXPDOWN_LIMIT 0x000FFFFFu
extern uint8_t small_page[PAGE_SIZE];
extern uint32_t form_area[8];           /* the addressing-form operand: [2..3] */
extern uint32_t seg16_base;
extern uint32_t l1_gdt_base, l1_idt_base;
extern uint16_t l1_gdt_limit, l1_idt_limit;
extern uint8_t tss32[104];

/* ---- PAE paging (paging.c) ------------------------------------------------- */
/*
 * GiB 0, 2 and 3 are identity-mapped with 2-MiB pages. GiB 1 is the test window:
 *   ALIAS_LA + x   -> x        (x < 8 MiB, read/write)
 *   RO_LA + x      -> x        (x < 8 MiB, read-only)
 *   NP_LA          PDE not present
 *   RSVD_LA        PDE with reserved bit 13 set (2-MiB page)
 *   PT_LA          a page table: page 0 -> pt_page, page 1 not present
 * and the rest of GiB 1 is identity-mapped.
 */
#define ALIAS_LA  0x40000000u
#define RO_LA     0x40800000u
#define NP_LA     0x41000000u
#define RSVD_LA   0x41200000u
#define PT_LA     0x41400000u
#define PT_NP_LA  (PT_LA + PAGE_SIZE)
#define PDE_P     (1ull << 0)
#define PDE_RW    (1ull << 1)
#define PDE_A     (1ull << 5)
#define PDE_D     (1ull << 6)
#define PDE_PS    (1ull << 7)
#define PF_ERR_P  (1u << 0)
#define PF_ERR_W  (1u << 1)
#define PF_ERR_RSVD (1u << 3)
extern uint64_t pae_pdpt[4];            /* CR3 */
extern uint64_t pae_alt_pdpt[4];        /* GiB 1 through pd_alt: MARK_LA -> mark_page2 */
extern uint64_t pae_bad_pdpt[4];        /* PDPTE 3 with a reserved bit set */
extern uint64_t pae_pd[4][512];
extern uint8_t pt_page[PAGE_SIZE];
extern volatile uint32_t mark_page1[1024], mark_page2[1024];
#define MARK1 0x11111111u
#define MARK2 0x22222222u
#define MARK_LA (ALIAS_LA + (uint32_t)(uintptr_t)&mark_page1[4])
void paging_build(void);
void paging_enable(void);
static inline uint32_t alias(const volatile void *p) { return ALIAS_LA + (uint32_t)(uintptr_t)p; }
static inline void write_cr3(uint32_t v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void reload_cr3(void) { write_cr3((uint32_t)read_cr3()); }
int write_cr3_checked(uint32_t v);

/* ---- Instructions (insn.c, stubs.asm) ------------------------------------- */
enum vmx_outcome { VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID, VMX_EXCEPTION, VMX_BAD_FLAGS };

struct vres {
	enum vmx_outcome outcome;
	uint32_t error;         /* VMfailValid: the VM-instruction error */
	int vector;             /* exception */
	uint32_t error_code;
	uint32_t cr2;           /* after a #PF */
	uint32_t value;         /* VMREAD (register forms): the destination register */
};
#define WANT_OK         ((struct vres){ .outcome = VMX_OK })
#define WANT_INVALID    ((struct vres){ .outcome = VMX_FAIL_INVALID })
#define WANT_VALID(e)   ((struct vres){ .outcome = VMX_FAIL_VALID, .error = (e) })
#define WANT_EXC(v, ec) ((struct vres){ .outcome = VMX_EXCEPTION, .vector = (v), .error_code = (ec) })

enum vmx_op { OP_VMXON, OP_VMCLEAR, OP_VMPTRLD, OP_VMPTRST, OP_VMREAD, OP_VMWRITE, NUM_OPS };
/*
 * Memory-operand forms (stubs.asm), the offset in ECX unless said otherwise:
 *   M_BASE [ecx]; M_SIB [ebx + esi*4 + 0x12345678] (32-bit wraparound);
 *   M_ABS [abs_operand] (disp32 only); M_A16 gs:[bx + si + 0x1010] with the 0x67
 *   prefix (16-bit wraparound, garbage in bits 31:16 of EBX and ESI);
 *   M_FS fs:[ecx]; M_GS gs:[ecx]; M_SS ss:[ecx]; M_EBP [ebp] (SS by default);
 *   M_CS cs:[ecx]. VMREAD/VMWRITE take the encoding in EAX.
 */
enum mem_mode { M_BASE, M_SIB, M_ABS, M_A16, M_FS, M_GS, M_SS, M_EBP, M_CS, NUM_MODES };

/* One memory operand: mode, the selector it loads (FS/GS/SS; 0 = keep), offset. */
struct mem {
	enum mem_mode mode;
	uint16_t sel;
	uint32_t off;
};
/* The operand at linear address la through mode (selectors of main.c's forms). */
struct mem mem_at(enum mem_mode mode, uint32_t la);
static inline struct mem seg_off(enum mem_mode mode, uint16_t sel, uint32_t off)
{
	return (struct mem){ mode, sel, off };
}
const char *mode_name(enum mem_mode m);
/* M_ABS's operand: abs_area[2..3]; the words around are guards. */
extern uint32_t abs_area[6];

/* VMXON/VMCLEAR/VMPTRLD/VMPTRST m64 at m; VMREAD (to m) and VMWRITE (from m) of enc. */
struct vres vmx_mem(enum vmx_op op, struct mem m, uint32_t enc);
/* Register forms: variant 0..3 picks the registers (stubs.asm). */
#define VMREAD_REG_VARIANTS 4
#define VMWRITE_REG_VARIANTS 3
const char *vmread_reg_name(unsigned variant);
const char *vmwrite_reg_name(unsigned variant);
struct vres vmread_reg(unsigned variant, uint32_t enc, uint32_t prefill);
struct vres vmwrite_reg(unsigned variant, uint32_t enc, uint32_t val);
struct vres vmxoff(void);

/* Convenience: the m64 operand in a DS-flat buffer holding pa (operand[] of insn.c). */
struct vres vmxon_pa(uint64_t pa);
struct vres vmclear_pa(uint64_t pa);
struct vres vmptrld_pa(uint64_t pa);
struct vres vmptrst_get(uint64_t *pa);
struct vres vmread(uint32_t enc);               /* .value */
struct vres vmwrite(uint32_t enc, uint32_t val);
/* Set-up accessors: a FAIL line naming the field if they do not succeed. */
uint32_t vmr(uint32_t enc);
void vmw(uint32_t enc, uint32_t val);
void vmw64(uint32_t enc, uint64_t val);         /* full, then high */

const char *res_str(struct vres r);
bool res_is(struct vres got, struct vres want);
bool check_res(struct vres got, struct vres want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* check_res for a #PF that also wants CR2 = cr2. */
bool check_pf(struct vres got, uint32_t error_code, uint32_t cr2, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The general registers of stubs.asm (struct insn_ctx there). */
struct regs32 {
	uint32_t eax, ecx, edx, ebx, ebp, esi, edi;
};

/* ---- VMX regions and L2 (l2.c) -------------------------------------------- */
struct vmx_region {
	uint8_t bytes[PAGE_SIZE];
} __attribute__((aligned(PAGE_SIZE)));
extern struct vmx_region vmxon_region, vmcs_a, vmcs_b, vmcs_l2, bad_region;
static inline uint64_t pa_of(const void *p) { return (uint32_t)(uintptr_t)p; }
void region_init(struct vmx_region *r, uint32_t revision);
extern bool vmx_on;

struct exit_info {
	uint32_t reason, qual, insn_len, insn_info, intr_info, intr_error, idt_info, rip;
};
struct l2 {
	struct regs32 regs;
	struct exit_info exit;
	struct vres entry;      /* how VMLAUNCH/VMRESUME ended when no VM exit happened */
	bool exited;
};
/* A fresh VMCS (vmcs_l2: VMCLEAR, VMPTRLD, every field) for a 32-bit L2 at entry
 * with the given guest and host CR3; host state = this kernel's. */
void l2_setup(struct l2 *g, const void *entry, uint32_t guest_cr3, uint32_t host_cr3);
bool l2_launch(struct l2 *g);
bool l2_resume(struct l2 *g);
bool check_exit(struct l2 *g, uint32_t reason, const void *rip, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* stubs.asm */
uint32_t vmx_enter(struct regs32 *regs, uint32_t resume);
extern char vmx_exit_point[];
extern char l2_main[], l2_cpuid_insn[], l2_vmcall_insn[];
extern char l2_load[], l2_load_insn[], l2_load_vmcall[];
extern volatile uint32_t l2_marker;

/* ---- Case groups ---------------------------------------------------------- */
void test_before_paging(void);
bool test_vmxon(void);
void test_pointer_forms(void);
void test_segmentation(void);
void test_paging(void);
void test_vmread_write(void);
void test_l2(void);
void test_vmxoff(void);

#endif
