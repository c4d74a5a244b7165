/* SPDX-License-Identifier: MIT */
/*
 * vmx/task_switch.c: JMP, CALL, IRET and IDT task-gate switches over a fake
 * GDT, LDT and TSSs in a byte array, the busy flags, NT and the back link, each
 * fault before and after the commit point, CR3, the LDT, the error code push.
 */
#include "unit.h"

#include "vmx/task_switch.h"

/* ---- The fake guest memory: linear = offset into mem; [FAULT_LO, FAULT_HI) page-faults. */
#define MEM_SIZE 0x10000
#define FAULT_LO 0x8000
#define FAULT_HI 0x9000
static uint8_t mem[MEM_SIZE];
static uint32_t loaded_cr3;
static unsigned cr3_loads;
static bool cr3_ok;

static enum ts_mem_status access(uint32_t la, unsigned len, bool write, struct ts_fault *f)
{
	if ((uint64_t)la + len > MEM_SIZE)
		return TS_MEM_ABORT;
	for (uint32_t a = la; a < la + len; a++)
		if (a >= FAULT_LO && a < FAULT_HI) {
			*f = (struct ts_fault){ .vector = 14, .has_error = true,
						.error_code = write ? 2 : 0, .cr2 = a };
			return TS_MEM_FAULT;
		}
	return TS_MEM_OK;
}

static enum ts_mem_status mem_read(void *ctx, uint32_t la, void *buf, unsigned len,
				   struct ts_fault *f)
{
	enum ts_mem_status st = access(la, len, false, f);

	if (!st)
		memcpy(buf, mem + la, len);
	return st;
}

static enum ts_mem_status mem_write(void *ctx, uint32_t la, const void *buf, unsigned len,
				    struct ts_fault *f)
{
	enum ts_mem_status st = access(la, len, true, f);

	if (!st)
		memcpy(mem + la, buf, len);
	return st;
}

static bool load_cr3(void *ctx, uint32_t cr3)
{
	cr3_loads++;
	if (cr3_ok)
		loaded_cr3 = cr3;
	return cr3_ok;
}

static const struct ts_mem fake = { 0, mem_read, mem_write, load_cr3 };

static uint32_t rd32(uint32_t a) { return mem[a] | mem[a + 1] << 8 | mem[a + 2] << 16 | (uint32_t)mem[a + 3] << 24; }
static uint16_t rd16(uint32_t a) { return (uint16_t)(mem[a] | mem[a + 1] << 8); }
static void wr32(uint32_t a, uint32_t v) { for (int i = 0; i < 4; i++) mem[a + i] = (uint8_t)(v >> 8 * i); }
static void wr16(uint32_t a, uint16_t v) { mem[a] = (uint8_t)v; mem[a + 1] = (uint8_t)(v >> 8); }

/* ---- The layout. */
#define GDT 0x1000
#define TSS_A 0x2000       /* the running task */
#define TSS_B 0x3000
#define LDT 0x4000
#define STACK_B 0x6000

/* access byte: P DPL S type; flags nibble: G D/B L AVL. */
static void desc(uint32_t table, uint16_t sel, uint32_t base, uint32_t limit, uint8_t access,
		 uint8_t flags)
{
	uint32_t a = table + (sel & ~7u);

	wr32(a, (limit & 0xffff) | base << 16);
	wr32(a + 4, (base >> 16 & 0xff) | (uint32_t)access << 8 | (limit & 0xf0000) |
			    (uint32_t)flags << 20 | (base & 0xff000000u));
}

#define CODE0   0x08       /* flat 32-bit code, DPL 0 */
#define DATA0   0x10       /* flat data, DPL 0 */
#define SEL_A   0x18       /* TSS A, busy (the current task) */
#define SEL_B   0x20       /* TSS B, available */
#define SEL_LDT 0x28
#define SEL_16  0x30       /* a 16-bit TSS */
#define CODE_NP 0x38       /* code, not present */
#define DATA_NA 0x40       /* data, not accessed yet */
#define SEL_SMALL 0x48     /* TSS with limit 0x50 */
#define SEL_NP  0x50       /* TSS not present */
#define SEL_BUSY 0x58      /* another busy TSS */
#define CODE3   0x63       /* ring-3 code (RPL 3) */
#define DATA3   0x6b       /* ring-3 data */
#define CODE_SMALL 0x70    /* code, limit 0xfff */
#define DATA_SMALL 0x78    /* data, limit 0xfff (byte granular) */
#define SEL_FAULTY 0x80    /* TSS in the page-faulting page */
#define SEL_OUT 0x88       /* TSS beyond memory */
#define GDT_LIMIT 0x8f
#define LDT_DATA 0x04      /* LDT entry 0 */
#define LDT_CODE 0x0c      /* LDT entry 1 */

#define AR_CODE 0xc09b
#define AR_DATA 0xc093

static struct ts_state st;

/* TSS B: a task at EIP 0x1234 on flat segments, its registers 0xb0..0xb7. */
static void tss_b(void)
{
	memset(mem + TSS_B, 0, 0x68);
	wr32(TSS_B + 0x1c, 0x5000);                  /* CR3 */
	wr32(TSS_B + 0x20, 0x1234);                  /* EIP */
	wr32(TSS_B + 0x24, 0x202);                   /* EFLAGS: IF */
	for (int i = 0; i < 8; i++)
		wr32(TSS_B + 0x28 + 4 * i, 0xb0 + i);
	wr32(TSS_B + 0x38, STACK_B);                 /* ESP */
	for (int i = 0; i < 6; i++)
		wr16(TSS_B + 0x48 + 4 * i, i == 1 ? CODE0 : DATA0);
	wr16(TSS_B + 0x66, 0x68);                    /* I/O map base: none */
}

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	desc(GDT, CODE0, 0, 0xfffff, 0x9a, 0xc);
	desc(GDT, DATA0, 0, 0xfffff, 0x92, 0xc);
	desc(GDT, SEL_A, TSS_A, 0x67, 0x8b, 0);
	desc(GDT, SEL_B, TSS_B, 0x67, 0x89, 0);
	desc(GDT, SEL_LDT, LDT, 0x0f, 0x82, 0);
	desc(GDT, SEL_16, 0x5800, 0x2b, 0x81, 0);
	desc(GDT, CODE_NP, 0, 0xfffff, 0x1a, 0xc);
	desc(GDT, DATA_NA, 0, 0xfffff, 0x92 & ~1, 0xc);
	desc(GDT, SEL_SMALL, 0x5000, 0x50, 0x89, 0);
	desc(GDT, SEL_NP, 0x5100, 0x67, 0x09, 0);
	desc(GDT, SEL_BUSY, 0x5200, 0x67, 0x8b, 0);
	desc(GDT, CODE3, 0, 0xfffff, 0xfa, 0xc);
	desc(GDT, DATA3, 0, 0xfffff, 0xf2, 0xc);
	desc(GDT, CODE_SMALL, 0, 0xfff, 0x9a, 0x4);
	desc(GDT, DATA_SMALL, 0x7000, 0xfff, 0x92, 0x4);
	desc(GDT, SEL_FAULTY, FAULT_LO + 0x10, 0x67, 0x89, 0);
	desc(GDT, SEL_OUT, 0xfff00, 0x67, 0x89, 0);
	desc(LDT, LDT_DATA, 0x100000 >> 4, 0xfffff, 0x93, 0xc);   /* base 0x10000 */
	desc(LDT, LDT_CODE, 0, 0xfffff, 0x9b, 0xc);
	/* The selector slots' reserved upper halves in TSS A: kept by a save. */
	for (int i = 0; i < 6; i++)
		wr16(TSS_A + 0x4a + 4 * i, 0xa5a5);
	tss_b();

	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 8; i++)
		st.gpr[i] = 0xa0 + i;
	st.eip = 0x4444;
	st.eflags = 0x202;
	st.cr0 = 0x11;
	st.cr3 = 0x7777;
	for (int i = TS_ES; i <= TS_GS; i++)
		st.seg[i] = (struct ts_seg){ DATA0, 0, 0xffffffff, AR_DATA };
	st.seg[TS_CS] = (struct ts_seg){ CODE0, 0, 0xffffffff, AR_CODE };
	st.seg[TS_LDTR] = (struct ts_seg){ 0, 0, 0, TS_AR_UNUSABLE };
	st.seg[TS_TR] = (struct ts_seg){ SEL_A, TSS_A, 0x67, 0x8b };
	st.gdtr_base = GDT;
	st.gdtr_limit = GDT_LIMIT;
	loaded_cr3 = 0;
	cr3_loads = 0;
	cr3_ok = true;
}

static unsigned gdt_type(uint16_t sel)
{
	return mem[GDT + (sel & ~7u) + 5] & 0xf;
}

static struct ts_result sw(enum ts_source src, uint16_t sel, uint32_t next_eip)
{
	struct ts_request r = { .source = src, .selector = sel, .old_eip = next_eip };

	return task_switch(&st, &r, &fake);
}

static void check_done(struct ts_result res)
{
	if (!unit_check(res.outcome == TS_DONE, "outcome == TS_DONE", __FILE__, __LINE__))
		unit_fail_detail("  outcome %d vector %u error 0x%x: %s\n", res.outcome,
				 res.fault.vector, res.fault.error_code, res.why ? res.why : "");
}

static void check_fault(struct ts_result res, unsigned vector, uint32_t code, bool committed)
{
	CHECK_EQ(res.outcome, TS_FAULT);
	CHECK_EQ(res.fault.vector, vector);
	CHECK(res.fault.has_error);
	CHECK_EQ(res.fault.error_code, code);
	CHECK_EQ(res.committed, committed);
}

/* A fault before the commit point: the state and memory as they were. */
static void check_untouched(const struct ts_state *before, const uint8_t *mem_before)
{
	CHECK(memcmp(before, &st, sizeof(st)) == 0);
	CHECK(memcmp(mem_before, mem, MEM_SIZE) == 0);
}

/* The old task's dynamic state as a switch away from the initial state saves it. */
static void check_saved_a(uint32_t eip, uint32_t eflags)
{
	CHECK_EQ(rd32(TSS_A + 0x20), eip);
	CHECK_EQ(rd32(TSS_A + 0x24), eflags);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(rd32(TSS_A + 0x28 + 4 * i), 0xa0 + i);
	CHECK_EQ(rd16(TSS_A + 0x4c), CODE0);
	CHECK_EQ(rd16(TSS_A + 0x50), DATA0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(rd16(TSS_A + 0x4a + 4 * i), 0xa5a5);
}

static void check_in_b(void)
{
	CHECK_EQ(st.seg[TS_TR].sel, SEL_B);
	CHECK_EQ(st.seg[TS_TR].base, TSS_B);
	CHECK_EQ(st.seg[TS_TR].limit, 0x67);
	CHECK_EQ(st.seg[TS_TR].ar, 0x8b);
	CHECK_EQ(st.eip, 0x1234);
	CHECK_EQ(st.gpr[0], 0xb0);
	CHECK_EQ(st.gpr[4], STACK_B);
	CHECK_EQ(st.gpr[7], 0xb7);
	CHECK_EQ(st.seg[TS_CS].sel, CODE0);
	CHECK_EQ(st.seg[TS_CS].ar, AR_CODE);
	CHECK_EQ(st.seg[TS_CS].limit, 0xffffffff);
	CHECK_EQ(st.seg[TS_SS].ar, AR_DATA);
	CHECK_EQ(st.seg[TS_GS].sel, DATA0);
	CHECK(st.seg[TS_LDTR].ar & TS_AR_UNUSABLE);
	CHECK(st.cr0 & TS_CR0_TS);
}

TEST(jmp_to_tss_and_back)
{
	struct ts_result res;

	setup();
	res = sw(TS_SRC_JMP, SEL_B, 0x4449);
	check_done(res);
	CHECK(res.committed);
	CHECK(!res.debug_trap);
	check_in_b();
	CHECK_EQ(st.eflags, 0x202);                 /* JMP: no NT */
	CHECK_EQ(gdt_type(SEL_A), 9);               /* the old task is no longer busy */
	CHECK_EQ(gdt_type(SEL_B), 11);
	CHECK_EQ(rd16(TSS_B), 0);                   /* no back link */
	check_saved_a(0x4449, 0x202);
	CHECK_EQ(st.cr3, 0x7777);                   /* paging off: CR3 stays */
	CHECK_EQ(cr3_loads, 0);

	/* And back: the first task resumes where the JMP left it. */
	res = sw(TS_SRC_JMP, SEL_A, 0x1239);
	check_done(res);
	CHECK_EQ(st.eip, 0x4449);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_A);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(st.gpr[i], 0xa0 + i);
	CHECK_EQ(gdt_type(SEL_A), 11);
	CHECK_EQ(gdt_type(SEL_B), 9);
	CHECK_EQ(rd32(TSS_B + 0x20), 0x1239);
}

TEST(call_nests_and_iret_returns)
{
	struct ts_result res;

	setup();
	st.eflags = 0x246;
	res = sw(TS_SRC_CALL, SEL_B, 0x4449);
	check_done(res);
	check_in_b();
	CHECK_EQ(st.eflags, 0x202 | TS_EFLAGS_NT);  /* 7.4: NT set in the called task */
	CHECK_EQ(rd16(TSS_B), SEL_A);               /* back link */
	CHECK_EQ(gdt_type(SEL_A), 11);              /* the caller stays busy */
	CHECK_EQ(gdt_type(SEL_B), 11);
	check_saved_a(0x4449, 0x246);

	/* IRET with NT: back through the link; B is free again, its saved NT clear. */
	st.gpr[0] = 0x99;
	res = sw(TS_SRC_IRET, rd16(TSS_B), 0x1240);
	check_done(res);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_A);
	CHECK_EQ(st.eip, 0x4449);
	CHECK_EQ(st.eflags, 0x246);                 /* the caller's NT as it was */
	CHECK_EQ(st.gpr[0], 0xa0);
	CHECK_EQ(gdt_type(SEL_B), 9);
	CHECK_EQ(gdt_type(SEL_A), 11);
	CHECK_EQ(rd32(TSS_B + 0x24), 0x202);        /* saved without NT */
	CHECK_EQ(rd32(TSS_B + 0x28), 0x99);
	CHECK_EQ(rd32(TSS_B + 0x20), 0x1240);
	CHECK_EQ(rd16(TSS_B), SEL_A);               /* IRET leaves the link */
}

TEST(idt_task_gate_pushes_error_code)
{
	struct ts_request r = { .source = TS_SRC_IDT_GATE, .selector = SEL_B, .old_eip = 0x4444,
				.ext = true, .push_error = true, .error_code = 0xbeef };
	struct ts_result res;

	setup();
	res = task_switch(&st, &r, &fake);
	check_done(res);
	CHECK_EQ(st.eflags, 0x202 | TS_EFLAGS_NT);
	CHECK_EQ(rd16(TSS_B), SEL_A);
	CHECK_EQ(gdt_type(SEL_A), 11);
	CHECK_EQ(gdt_type(SEL_B), 11);
	CHECK_EQ(st.gpr[4], STACK_B - 4);
	CHECK_EQ(rd32(STACK_B - 4), 0xbeef);
	CHECK_EQ(rd32(TSS_A + 0x20), 0x4444);       /* a fault's return point: the faulting EIP */
}

TEST(error_code_push_beyond_ss_limit_is_ss_in_new_task)
{
	struct ts_request r = { .source = TS_SRC_IDT_GATE, .selector = SEL_B, .old_eip = 0x4444,
				.ext = true, .push_error = true, .error_code = 0 };
	struct ts_result res;

	setup();
	wr16(TSS_B + 0x50, DATA_SMALL);
	wr32(TSS_B + 0x38, 0x2000);                 /* above SS's limit 0xfff */
	res = task_switch(&st, &r, &fake);
	check_fault(res, 12, 0, true);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_B);
	CHECK_EQ(st.gpr[4], 0x2000);
	/* The same push onto a 16-bit stack wraps SP only. */
	setup();
	desc(GDT, DATA_SMALL, 0x7000, 0xffff, 0x92, 0);
	wr16(TSS_B + 0x50, DATA_SMALL);
	wr32(TSS_B + 0x38, 0x12340010);
	res = task_switch(&st, &r, &fake);
	check_done(res);
	CHECK_EQ(st.gpr[4], 0x1234000c);
	CHECK_EQ(st.seg[TS_SS].base, 0x7000);
}

TEST(busy_tss_on_call_or_jmp_is_gp)
{
	struct ts_state before;
	static uint8_t mem_before[MEM_SIZE];
	struct ts_result res;

	setup();
	before = st;
	memcpy(mem_before, mem, MEM_SIZE);
	check_fault(sw(TS_SRC_CALL, SEL_BUSY, 0), 13, SEL_BUSY, false);
	check_untouched(&before, mem_before);
	check_fault(sw(TS_SRC_JMP, SEL_A, 0), 13, SEL_A, false);   /* to itself */
	check_untouched(&before, mem_before);
	/* An event through a task gate to a busy task: the EXT bit is in the code. */
	struct ts_request r = { .source = TS_SRC_IDT_GATE, .selector = SEL_BUSY, .ext = true };
	res = task_switch(&st, &r, &fake);
	check_fault(res, 13, SEL_BUSY | 1, false);
	check_untouched(&before, mem_before);
}

TEST(iret_to_available_tss_is_ts)
{
	setup();
	check_fault(sw(TS_SRC_IRET, SEL_B, 0), 10, SEL_B, false);
	check_fault(sw(TS_SRC_IRET, DATA0, 0), 10, DATA0, false);  /* not a TSS */
	check_fault(sw(TS_SRC_IRET, 0x0ff8, 0), 10, 0x0ff8, false); /* beyond the GDT */
	check_fault(sw(TS_SRC_IRET, 0, 0), 10, 0, false);          /* a null back link */
}

TEST(new_tss_selector_and_descriptor_checks)
{
	setup();
	check_fault(sw(TS_SRC_JMP, 0x0ff8, 0), 13, 0x0ff8, false);
	check_fault(sw(TS_SRC_JMP, SEL_B | 4, 0), 13, SEL_B | 4, false);  /* TI = 1 */
	check_fault(sw(TS_SRC_CALL, CODE0, 0), 13, CODE0, false);
	check_fault(sw(TS_SRC_CALL, SEL_LDT, 0), 13, SEL_LDT, false);
	check_fault(sw(TS_SRC_JMP, SEL_NP, 0), 11, SEL_NP, false);
	check_fault(sw(TS_SRC_CALL, SEL_SMALL, 0), 10, SEL_SMALL, false);
	CHECK_EQ(gdt_type(SEL_A), 11);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_A);
	CHECK(!(st.cr0 & TS_CR0_TS));
}

TEST(sixteen_bit_tss_is_refused_unchanged)
{
	struct ts_state before;
	static uint8_t mem_before[MEM_SIZE];
	struct ts_result res;

	setup();
	before = st;
	memcpy(mem_before, mem, MEM_SIZE);
	res = sw(TS_SRC_JMP, SEL_16, 0);
	CHECK_EQ(res.outcome, TS_UNSUPPORTED);
	CHECK_CONTAINS(res.why, "16-bit");
	check_untouched(&before, mem_before);
	st.seg[TS_TR].ar = 0x83;                    /* running on a 16-bit TSS */
	before = st;
	res = sw(TS_SRC_JMP, SEL_B, 0);
	CHECK_EQ(res.outcome, TS_UNSUPPORTED);
	check_untouched(&before, mem_before);
}

TEST(page_fault_on_a_tss_before_the_commit_point)
{
	struct ts_state before;
	static uint8_t mem_before[MEM_SIZE];
	struct ts_result res;

	setup();
	before = st;
	memcpy(mem_before, mem, MEM_SIZE);
	res = sw(TS_SRC_JMP, SEL_FAULTY, 0);
	CHECK_EQ(res.outcome, TS_FAULT);
	CHECK_EQ(res.fault.vector, 14);
	CHECK_EQ(res.fault.cr2, FAULT_LO + 0x10);
	CHECK(!res.committed);
	check_untouched(&before, mem_before);
	/* The old TSS in a faulting page: the write-back never starts. */
	st.seg[TS_TR].base = FAULT_LO;
	before = st;
	res = sw(TS_SRC_JMP, SEL_B, 0);
	CHECK_EQ(res.fault.vector, 14);
	CHECK(!res.committed);
	check_untouched(&before, mem_before);
	/* Memory that is not the guest's: the caller ends the run. */
	res = sw(TS_SRC_JMP, SEL_OUT, 0);
	CHECK_EQ(res.outcome, TS_ABORT);
	CHECK_EQ(res.abort_la, 0xfff00);
}

TEST(old_tss_limit_too_small_is_ts)
{
	setup();
	st.seg[TS_TR].limit = 0x50;
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, SEL_A, false);
}

/* After the commit point: faults in the new task's context, the new task's state loaded. */
TEST(bad_segments_in_new_tss_fault_in_new_task)
{
	struct ts_result res;

	setup();
	wr16(TSS_B + 0x4c, CODE_NP);
	res = sw(TS_SRC_JMP, SEL_B, 0x4449);
	check_fault(res, 11, CODE_NP, true);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_B);
	CHECK_EQ(st.eip, 0x1234);
	CHECK_EQ(st.gpr[3], 0xb3);
	CHECK_EQ(st.seg[TS_CS].sel, CODE_NP);
	CHECK(st.cr0 & TS_CR0_TS);
	CHECK_EQ(gdt_type(SEL_B), 11);              /* committed: B is busy, A free */
	CHECK_EQ(gdt_type(SEL_A), 9);
	check_saved_a(0x4449, 0x202);

	setup();
	wr16(TSS_B + 0x50, 0);                      /* null SS */
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, 0, true);

	setup();
	wr16(TSS_B + 0x50, DATA3);                  /* SS DPL 3 with CPL 0 */
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, DATA3 & ~3, true);

	setup();
	wr16(TSS_B + 0x50, CODE0);                  /* SS a code segment */
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, CODE0, true);

	setup();
	desc(GDT, DATA_SMALL, 0, 0xfffff, 0x12, 0xc);   /* SS not present */
	wr16(TSS_B + 0x50, DATA_SMALL);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 12, DATA_SMALL, true);

	setup();
	wr16(TSS_B + 0x4c, DATA0);                  /* CS a data segment */
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, DATA0, true);

	setup();
	wr16(TSS_B + 0x54, 0x0ff8);                 /* DS beyond the GDT */
	check_fault(sw(TS_SRC_CALL, SEL_B, 0), 10, 0x0ff8, true);
	CHECK_EQ(st.seg[TS_DS].sel, 0x0ff8);
	CHECK(st.seg[TS_DS].ar & TS_AR_UNUSABLE);
	CHECK(st.seg[TS_FS].ar & TS_AR_UNUSABLE);   /* not qualified */
	CHECK_EQ(st.seg[TS_FS].sel, DATA0);
	CHECK_EQ(st.eflags, 0x202 | TS_EFLAGS_NT);  /* CALL: linked before the fault */
	CHECK_EQ(rd16(TSS_B), SEL_A);

	setup();
	desc(GDT, DATA_SMALL, 0, 0xfffff, 0x12, 0xc);   /* ES not present: #NP */
	wr16(TSS_B + 0x48, DATA_SMALL);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 11, DATA_SMALL, true);

	/* Ring 3 task: a DPL-0 data segment in GS. */
	setup();
	wr16(TSS_B + 0x4c, CODE3);
	wr16(TSS_B + 0x50, DATA3);
	for (int o = 0x48; o <= 0x5c; o += 4)
		if (o != 0x4c && o != 0x50)
			wr16(TSS_B + o, DATA3);
	wr16(TSS_B + 0x5c, DATA0);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, DATA0, true);
	CHECK_EQ(st.seg[TS_CS].ar, 0xc0fb);
	CHECK_EQ(st.seg[TS_SS].sel, DATA3);

	/* A ring-3 task whose CS is not present: SS (loaded first) keeps the old
	 * task's cache with CS, so that CS.DPL and SS.DPL still agree. */
	setup();
	desc(GDT, CODE_SMALL, 0, 0xfffff, 0x7a, 0xc);   /* DPL 3 code, not present */
	wr16(TSS_B + 0x4c, CODE_SMALL | 3);
	wr16(TSS_B + 0x50, DATA3);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 11, CODE_SMALL, true);
	CHECK_EQ(st.seg[TS_SS].sel, DATA3);
	CHECK_EQ(st.seg[TS_SS].ar, AR_DATA);
	CHECK_EQ(st.seg[TS_CS].ar, AR_CODE);

	/* The same task with an external event: EXT in the code. */
	setup();
	wr16(TSS_B + 0x4c, CODE_NP);
	struct ts_request r = { .source = TS_SRC_IDT_GATE, .selector = SEL_B, .ext = true,
				.push_error = true };
	res = task_switch(&st, &r, &fake);
	check_fault(res, 11, CODE_NP | 1, true);
	CHECK_EQ(st.gpr[4], STACK_B);               /* nothing pushed */
}

TEST(eip_beyond_cs_limit_is_gp0_in_new_task)
{
	setup();
	wr16(TSS_B + 0x4c, CODE_SMALL);
	wr32(TSS_B + 0x20, 0x2000);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 13, 0, true);
	CHECK_EQ(st.eip, 0x2000);
	CHECK_EQ(st.seg[TS_CS].limit, 0xfff);
}

TEST(cr3_loaded_with_paging)
{
	setup();
	st.cr0 |= TS_CR0_PG;
	check_done(sw(TS_SRC_JMP, SEL_B, 0));
	CHECK_EQ(cr3_loads, 1);
	CHECK_EQ(loaded_cr3, 0x5000);
	CHECK_EQ(st.cr3, 0x5000);

	/* PAE PDPTEs the CPU refuses: #GP(0) after the commit point. */
	setup();
	st.cr0 |= TS_CR0_PG;
	cr3_ok = false;
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 13, 0, true);
	CHECK_EQ(st.cr3, 0x7777);
	CHECK_EQ(st.seg[TS_TR].sel, SEL_B);
}

TEST(ldt_loaded_and_used)
{
	setup();
	wr16(TSS_B + 0x60, SEL_LDT);
	wr16(TSS_B + 0x4c, LDT_CODE);
	wr16(TSS_B + 0x54, LDT_DATA);
	check_done(sw(TS_SRC_JMP, SEL_B, 0));
	CHECK_EQ(st.seg[TS_LDTR].sel, SEL_LDT);
	CHECK_EQ(st.seg[TS_LDTR].base, LDT);
	CHECK_EQ(st.seg[TS_LDTR].limit, 0x0f);
	CHECK_EQ(st.seg[TS_LDTR].ar, 0x82);
	CHECK_EQ(st.seg[TS_CS].sel, LDT_CODE);
	CHECK_EQ(st.seg[TS_CS].ar, AR_CODE);
	CHECK_EQ(st.seg[TS_DS].sel, LDT_DATA);
	CHECK_EQ(st.seg[TS_DS].base, 0x10000);

	/* An LDT selector naming a data segment, or an LDT entry beyond the LDT. */
	setup();
	wr16(TSS_B + 0x60, DATA0);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, DATA0, true);
	CHECK(st.seg[TS_LDTR].ar & TS_AR_UNUSABLE);
	setup();
	wr16(TSS_B + 0x60, SEL_LDT);
	wr16(TSS_B + 0x54, 0x14);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, 0x14, true);
	/* No LDT at all: a TI = 1 selector is beyond it. */
	setup();
	wr16(TSS_B + 0x54, LDT_DATA);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, LDT_DATA & ~3, true);
	/* An LDT descriptor not present. */
	setup();
	desc(GDT, SEL_LDT, LDT, 0x0f, 0x02, 0);
	wr16(TSS_B + 0x60, SEL_LDT);
	check_fault(sw(TS_SRC_JMP, SEL_B, 0), 10, SEL_LDT, true);
}

TEST(accessed_flag_set_on_load)
{
	setup();
	wr16(TSS_B + 0x58, DATA_NA);
	check_done(sw(TS_SRC_JMP, SEL_B, 0));
	CHECK_EQ(st.seg[TS_FS].ar, AR_DATA);
	CHECK_EQ(mem[GDT + DATA_NA + 5], 0x93);
}

TEST(t_flag_asks_for_a_debug_trap)
{
	struct ts_result res;

	setup();
	wr16(TSS_B + 0x64, 1);
	res = sw(TS_SRC_JMP, SEL_B, 0);
	check_done(res);
	CHECK(res.debug_trap);
}

TEST(into_virtual_8086_mode)
{
	setup();
	wr32(TSS_B + 0x24, 0x20202 | 0xffc00000u);  /* VM, IF; reserved bits dropped */
	wr32(TSS_B + 0x20, 0x100);
	for (int i = 0; i < 6; i++)
		wr16(TSS_B + 0x48 + 4 * i, (uint16_t)(0x1000 + i));
	check_done(sw(TS_SRC_JMP, SEL_B, 0));
	CHECK_EQ(st.eflags, 0x20202);
	for (int i = TS_ES; i <= TS_GS; i++) {
		CHECK_EQ(st.seg[i].sel, 0x1000 + i);
		CHECK_EQ(st.seg[i].base, (0x1000 + i) << 4);
		CHECK_EQ(st.seg[i].limit, 0xffff);
		CHECK_EQ(st.seg[i].ar, 0xf3);
	}
}

TEST(double_fault_rules)
{
	CHECK_EQ(ts_fault_during_exception(13, 10), TS_VEC_DF);    /* contributory twice */
	CHECK_EQ(ts_fault_during_exception(14, 11), TS_VEC_DF);    /* #PF then contributory */
	CHECK_EQ(ts_fault_during_exception(14, 14), TS_VEC_DF);
	CHECK_EQ(ts_fault_during_exception(13, 14), 14);           /* contributory then #PF */
	CHECK_EQ(ts_fault_during_exception(8, 10), TS_SHUTDOWN);   /* Linux's #DF task */
	CHECK_EQ(ts_fault_during_exception(8, 14), TS_SHUTDOWN);
	CHECK_EQ(ts_fault_during_exception(2, 10), 10);            /* benign first */
	CHECK_EQ(ts_fault_during_exception(3, 13), 13);
	CHECK_EQ(ts_fault_during_exception(0, 12), TS_VEC_DF);     /* #DE is contributory */
}
