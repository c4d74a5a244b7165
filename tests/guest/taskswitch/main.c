/* SPDX-License-Identifier: MIT */
/*
 * taskswitch: hardware task switches of a 32-bit kernel, which nestvisor
 * emulates (TASK_SWITCH exits, vmx/exit_task_switch.c) and the CPU performs on
 * bare Bochs: the expectations are the SDM's. SDM Vol. 3A, 7.3 "Task
 * Switching", 7.4 "Task Linking", 6.12.2 "Interrupt Tasks".
 *   - JMP to a TSS and back: registers from the TSS, busy flags, no NT, CR0.TS;
 *   - CALL to a TSS, IRET back: NT, the back link, both tasks busy until IRET;
 *   - JMP through a task gate in the GDT; the LDT of a task;
 *   - INT 0x80 through a task gate in the IDT (no error code);
 *   - a double fault through a task gate, its error code on the new stack;
 *   - faults the CPU gives before the switch (#NP, #GP) and one after the
 *     commit point (#TS for a bad GS in the new TSS, in the new task).
 */
#include <guest.h>

#define SEL_MAIN  0x20
#define SEL_TASK1 0x28
#define SEL_DFT   0x30
#define SEL_INTT  0x38
#define SEL_GATE1 0x40   /* task gate -> SEL_TASK1 */
#define SEL_LDT   0x48
#define SEL_BAD   0x50   /* a task with GS = 0xfff8 */
#define SEL_NP    0x58   /* a TSS descriptor not present */
#define SEL_LDT_DATA 0x04  /* the LDT's entry 0, TI = 1 */
#define GDT_ENTRIES 12

#define EFLAGS_NT (1u << 14)
#define CR0_TS    (1u << 3)
#define TYPE_TSS_AVAIL 0x9
#define TYPE_TSS_BUSY  0xb

struct __attribute__((packed)) tss32 {
	uint16_t link, r0;
	uint32_t esp0;
	uint16_t ss0, r1;
	uint32_t esp1;
	uint16_t ss1, r2;
	uint32_t esp2;
	uint16_t ss2, r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, t, iomap;
};
_Static_assert(sizeof(struct tss32) == 104, "SDM Figure 7-2: 104 bytes");

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t ldt[1] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
static struct tss32 tss_main, tss_task1, tss_df, tss_int, tss_bad;
static uint8_t stack_task1[4096], stack_df[4096], stack_int[4096], stack_bad[4096]
	__attribute__((aligned(16)));

/* tasks.asm */
extern void task1_entry(void), task1_after_jmp(void), int_task_entry(void),
	df_task_entry(void), bad_task_entry(void), trigger_df(void), df_fault(void),
	df_resume(void);
extern uint32_t t1_entry_regs[8], t1_return_mode, int_entry_esp, df_entry_esp;

/* What the tasks saw. */
static volatile unsigned t1_runs, int_runs, df_runs;
static volatile uint32_t t1_eflags, t1_tr, t1_ldtr, t1_fs, t1_cr0, t1_link;
static volatile uint8_t t1_main_type, t1_self_type;
static volatile uint32_t int_eflags, int_tr, int_link;
static volatile uint32_t df_eflags, df_tr, df_link, df_error, df_saved_eip;

/* SDM Vol. 3A, 3.4.5 "Segment Descriptors", 7.2.2 "TSS Descriptor", 7.2.5 "Task-Gate Descriptor". */
static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
	       (uint64_t)(limit >> 16 & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
	       (uint64_t)(base >> 24) << 56;
}

static uint64_t task_gate(uint16_t tss_sel)
{
	return (uint64_t)tss_sel << 16 | (uint64_t)0x85 << 40;  /* present, DPL 0, type 5 */
}

static uint8_t gdt_type(uint16_t sel)
{
	return (uint8_t)(gdt[sel >> 3] >> 40) & 0xf;
}

static uint16_t str(void)
{
	uint16_t v;

	asm volatile("str %0" : "=r"(v));
	return v;
}

static uint16_t sldt(void)
{
	uint16_t v;

	asm volatile("sldt %0" : "=r"(v));
	return v;
}

static uint16_t read_fs(void)
{
	uint16_t v;

	asm volatile("mov %%fs, %0" : "=r"(v));
	return v;
}

static void init_task(struct tss32 *t, void (*entry)(void), uint8_t *stack, size_t size,
		      uint32_t reg_base)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)(uintptr_t)entry;
	t->eflags = 0x2;                          /* interrupts off */
	t->esp = (uint32_t)(uintptr_t)(stack + size);
	t->eax = reg_base + 0, t->ecx = reg_base + 1, t->edx = reg_base + 2, t->ebx = reg_base + 3;
	t->ebp = reg_base + 5, t->esi = reg_base + 6, t->edi = reg_base + 7;
	t->cs = SEL_CODE32;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA32;
	t->cr3 = (uint32_t)read_cr3();
	t->iomap = sizeof(*t);                    /* no I/O bitmap */
}

/* ---- The tasks' C bodies (called from tasks.asm). */
void task1_body(void);
void int_task_body(void);
void df_task_body(void);

void task1_body(void)
{
	t1_runs++;
	t1_eflags = (uint32_t)read_eflags();
	t1_tr = str();
	t1_ldtr = sldt();
	t1_fs = read_fs();
	t1_cr0 = (uint32_t)read_cr0();
	t1_link = tss_task1.link;
	t1_main_type = gdt_type(SEL_MAIN);
	t1_self_type = gdt_type(SEL_TASK1);
}

void int_task_body(void)
{
	int_runs++;
	int_eflags = (uint32_t)read_eflags();
	int_tr = str();
	int_link = tss_int.link;
}

void df_task_body(void)
{
	df_runs++;
	df_eflags = (uint32_t)read_eflags();
	df_tr = str();
	df_link = tss_df.link;
	df_error = *(volatile uint32_t *)(uintptr_t)df_entry_esp;
	df_saved_eip = tss_main.eip;
	/* Repair the #GP gate and resume the main task past the faulting instruction. */
	((uint8_t *)&idt[13])[5] |= 0x80;
	tss_main.eip = (uint32_t)(uintptr_t)df_resume;
}

/* ---- Set-up: a GDT with the TSSs, an IDT of 256 with two task gates. */
static void setup(void)
{
	struct dtr d;

	gdt[1] = 0x00CF9A000000FFFFull;           /* entry.asm's flat code and data */
	gdt[2] = 0x00CF92000000FFFFull;
	gdt[3] = 0x00AF9A000000FFFFull;
	init_task(&tss_main, 0, 0, 0, 0);
	init_task(&tss_task1, task1_entry, stack_task1, sizeof(stack_task1), 0x11110000);
	tss_task1.ldt = SEL_LDT;
	tss_task1.fs = SEL_LDT_DATA;
	init_task(&tss_df, df_task_entry, stack_df, sizeof(stack_df), 0xdf000000);
	init_task(&tss_int, int_task_entry, stack_int, sizeof(stack_int), 0x80000000);
	init_task(&tss_bad, bad_task_entry, stack_bad, sizeof(stack_bad), 0xbad00000);
	tss_bad.gs = 0xfff8;                      /* beyond the GDT: #TS(0xfff8) after commit */
	gdt[SEL_MAIN >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_main, 0x67, 0x89, 0);
	gdt[SEL_TASK1 >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_task1, 0x67, 0x89, 0);
	gdt[SEL_DFT >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_df, 0x67, 0x89, 0);
	gdt[SEL_INTT >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_int, 0x67, 0x89, 0);
	gdt[SEL_GATE1 >> 3] = task_gate(SEL_TASK1);
	gdt[SEL_LDT >> 3] = seg_desc((uint32_t)(uintptr_t)ldt, sizeof(ldt) - 1, 0x82, 0);
	gdt[SEL_BAD >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_bad, 0x67, 0x89, 0);
	gdt[SEL_NP >> 3] = seg_desc((uint32_t)(uintptr_t)&tss_bad, 0x67, 0x09, 0);
	ldt[0] = 0x00CF92000000FFFFull;
	d = (struct dtr){ sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	asm volatile("lgdt %0" : : "m"(d) : "memory");
	asm volatile("ltr %w0" : : "r"(SEL_MAIN) : "memory");

	asm volatile("sidt %0" : "=m"(d));
	memcpy(idt, (void *)(uintptr_t)d.base, d.limit + 1u);
	idt[8] = task_gate(SEL_DFT);
	idt[0x80] = task_gate(SEL_INTT);
	d = (struct dtr){ sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	asm volatile("lidt %0" : : "m"(d) : "memory");
}

static void ljmp_task1(void)
{
	asm volatile("ljmp %0, $0" : : "i"(SEL_TASK1) : "memory");
}

static void clts(void)
{
	asm volatile("clts");
}

static void test_jmp(void)
{
	uint32_t cr0;

	t1_return_mode = 0;
	clts();
	ljmp_task1();
	cr0 = (uint32_t)read_cr0();
	report(t1_runs == 1, "JMP to a TSS runs the task");
	report(t1_entry_regs[0] == 0x11110000 && t1_entry_regs[3] == 0x11110003 &&
		       t1_entry_regs[7] == 0x11110007 &&
		       t1_entry_regs[4] == (uint32_t)(uintptr_t)(stack_task1 + sizeof(stack_task1)),
	       "the new task's registers come from its TSS (eax 0x%x esp 0x%x)",
	       t1_entry_regs[0], t1_entry_regs[4]);
	report(t1_tr == SEL_TASK1, "TR is the new task's (0x%x)", t1_tr);
	report(!(t1_eflags & EFLAGS_NT), "JMP leaves NT clear (eflags 0x%x)", t1_eflags);
	report(t1_main_type == TYPE_TSS_AVAIL && t1_self_type == TYPE_TSS_BUSY,
	       "JMP: old task not busy, new task busy (types %x, %x)", t1_main_type,
	       t1_self_type);
	report(t1_cr0 & CR0_TS, "the switch set CR0.TS (0x%x)", t1_cr0);
	report(t1_ldtr == SEL_LDT && t1_fs == SEL_LDT_DATA,
	       "the task's LDT is loaded, FS from it (ldtr 0x%x fs 0x%x)", t1_ldtr, t1_fs);
	report(str() == SEL_MAIN && gdt_type(SEL_MAIN) == TYPE_TSS_BUSY &&
		       gdt_type(SEL_TASK1) == TYPE_TSS_AVAIL,
	       "JMP back: main task running and busy, the other free");
	report(cr0 & CR0_TS, "back in the main task, CR0.TS is set again");
	report(sldt() == 0, "the main task's LDTR is its TSS's (0x%x)", sldt());
	report(tss_task1.eip == (uint32_t)(uintptr_t)task1_after_jmp,
	       "the task's EIP was saved past its JMP (0x%x)", tss_task1.eip);
}

static void test_call_iret(void)
{
	uint32_t flags;

	t1_return_mode = 1;
	asm volatile("lcall %0, $0" : : "i"(SEL_TASK1) : "memory");
	flags = (uint32_t)read_eflags();
	report(t1_runs == 2, "CALL to a TSS runs the task");
	report(t1_eflags & EFLAGS_NT, "CALL sets NT in the called task (eflags 0x%x)", t1_eflags);
	report(t1_link == SEL_MAIN, "CALL writes the back link (0x%x)", t1_link);
	report(t1_main_type == TYPE_TSS_BUSY && t1_self_type == TYPE_TSS_BUSY,
	       "CALL: caller and called task both busy (types %x, %x)", t1_main_type,
	       t1_self_type);
	report(str() == SEL_MAIN && !(flags & EFLAGS_NT), "IRET returned to the caller, NT clear");
	report(gdt_type(SEL_TASK1) == TYPE_TSS_AVAIL && gdt_type(SEL_MAIN) == TYPE_TSS_BUSY,
	       "IRET frees the called task, the caller stays busy");
	report(!(tss_task1.eflags & EFLAGS_NT), "IRET saved the task's EFLAGS without NT (0x%x)",
	       tss_task1.eflags);
}

static void test_gate(void)
{
	t1_return_mode = 0;
	asm volatile("ljmp %0, $0" : : "i"(SEL_GATE1) : "memory");
	report(t1_runs == 3 && t1_tr == SEL_TASK1, "JMP through a task gate in the GDT");
	report(str() == SEL_MAIN, "and back");
}

static void test_int_gate(void)
{
	asm volatile("int $0x80" : : : "memory");
	report(int_runs == 1 && int_tr == SEL_INTT, "INT 0x80 through a task gate runs the task");
	report((int_eflags & EFLAGS_NT) && int_link == SEL_MAIN,
	       "an interrupt task is nested: NT, back link (eflags 0x%x link 0x%x)", int_eflags,
	       int_link);
	report(int_entry_esp == (uint32_t)(uintptr_t)(stack_int + sizeof(stack_int)),
	       "INT n pushes no error code on the new stack");
	report(str() == SEL_MAIN && gdt_type(SEL_INTT) == TYPE_TSS_AVAIL,
	       "IRET from the interrupt task");
}

static void test_double_fault_task(void)
{
	((uint8_t *)&idt[13])[5] &= 0x7f;        /* #GP's gate not present */
	trigger_df();
	report(df_runs == 1 && df_tr == SEL_DFT, "#GP, #NP, then #DF through a task gate");
	report(df_entry_esp == (uint32_t)(uintptr_t)(stack_df + sizeof(stack_df) - 4) &&
		       df_error == 0,
	       "#DF's error code (0) on the new task's stack (esp 0x%x, code 0x%x)",
	       df_entry_esp, df_error);
	report((df_eflags & EFLAGS_NT) && df_link == SEL_MAIN, "the #DF task is nested");
	report(df_saved_eip == (uint32_t)(uintptr_t)df_fault,
	       "the interrupted task's saved EIP is the faulting instruction (0x%x)",
	       df_saved_eip);
	report(str() == SEL_MAIN, "the main task resumed");
}

static void jmp_np(void *arg) { asm volatile("ljmp %0, $0" : : "i"(SEL_NP) : "memory"); }
static void call_busy(void *arg) { asm volatile("lcall %0, $0" : : "i"(SEL_MAIN) : "memory"); }
static void jmp_bad(void *arg) { asm volatile("ljmp %0, $0" : : "i"(SEL_BAD) : "memory"); }

static void test_faults(void)
{
	int v;

	v = catch_exception(jmp_np, 0);
	report(v == 11 && caught_error_code() == SEL_NP && str() == SEL_MAIN,
	       "JMP to a TSS not present: #NP(selector) in the old task (vector %d, code 0x%x)",
	       v, caught_error_code());
	v = catch_exception(call_busy, 0);
	report(v == 13 && caught_error_code() == SEL_MAIN && str() == SEL_MAIN,
	       "CALL to a busy TSS: #GP(selector) (vector %d, code 0x%x)", v,
	       caught_error_code());
	/* Last: after it this code runs in the bad task (TR), which is all it needs. */
	v = catch_exception(jmp_bad, 0);
	report(v == 10 && caught_error_code() == 0xfff8,
	       "a bad GS in the new TSS: #TS(selector) (vector %d, code 0x%x)", v,
	       caught_error_code());
	report(caught_eip() == (uint32_t)(uintptr_t)bad_task_entry && str() == SEL_BAD,
	       "raised in the new task, after the commit point (eip 0x%x, tr 0x%x)",
	       caught_eip(), str());
	report(gdt_type(SEL_BAD) == TYPE_TSS_BUSY && gdt_type(SEL_MAIN) == TYPE_TSS_AVAIL,
	       "the switch completed: new task busy, old one free");
}

int main(struct multiboot_info *mbi)
{
	printf("taskswitch: hardware task switches of a 32-bit kernel\n");
	setup();
	report(str() == SEL_MAIN && gdt_type(SEL_MAIN) == TYPE_TSS_BUSY, "LTR marks the TSS busy");
	test_jmp();
	test_call_iret();
	test_gate();
	test_int_gate();
	test_double_fault_task();
	test_faults();
	return report_summary() ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
