/* SPDX-License-Identifier: MIT */
/*
 * exitbench: the benchmark L1 (`make run`). It measures VM-exit round trips at
 * three places and prints the lines of tools/FORMATS.md:
 *
 *   kind l1            L1 executes an instruction that exits to L0 (l1.c)
 *   kind l2-reflected  L2 exits, L0 reflects the exit to L1's handler, L1
 *                      resumes L2 (l2.c; handler "realistic" or "minimal")
 *   kind l2-absorbed   L2 exits, L0 handles it and resumes L2 without L1 (l2.c)
 *
 * Every sample is a TSC delta around one operation (stamp.inc), minus the
 * median cost of the timestamp pair itself (results.c). Around each timed
 * loop L1 resets and reads nestvisor's exit counters by hypercall (l0.c), so
 * every result also says which L0 exits one operation cost.
 */
#ifndef EXITBENCH_H
#define EXITBENCH_H

#include "vmxlib.h"
#include <nestvisor/hypercall.h>

/* The most samples one measurement keeps (n= and warmup= are capped here). */
#define EB_MAX_SAMPLES 100000u
/* ept-fill: a window page per sample, warm-up and timed (l2.c). */
#define EPT_FILL_MAX_SAMPLES 8192u

enum kind { KIND_L1, KIND_L2_REFLECTED, KIND_L2_ABSORBED, NUM_KINDS };
enum handler { HANDLER_NONE, HANDLER_REALISTIC, HANDLER_MINIMAL, NUM_HANDLERS };
enum op {
	OP_CPUID, OP_HYPERCALL, OP_VMCALL, OP_RDMSR, OP_WRMSR, OP_IO, OP_VMREAD, OP_VMWRITE,
	OP_VMPTRLD, OP_VMREAD_COLD, OP_VMWRITE_COLD, OP_VMLAUNCH, OP_EPT_FILL, NUM_OPS
};

const char *kind_name(enum kind k);
const char *handler_name(enum handler h);
const char *op_name(enum op o);

/* One measurement of the plan: what runs, and by whom it is handled. */
struct meas {
	enum kind kind;
	enum op op;
	enum handler handler;   /* HANDLER_NONE for l1 and l2-absorbed */
};

/* ---- Command line (options.c) ------------------------------------------- */

struct options {
	uint32_t n, warmup, trace;
	bool op[NUM_OPS], kind[NUM_KINDS], handler[NUM_HANDLERS];
};
extern struct options opt;
/* Parses "<path> key=value ..."; false (with a message) on anything unknown. */
bool options_parse(const char *cmdline);
void options_print_start(void);

/* ---- Timed paths (stamp.inc, l1_timed.asm, l2_programs.asm) ------------- */

/* The registers an operation reads. RCX, RBX and RSI are loaded before the
 * first timestamp, RAX and RDX inside the window (RDTSC overwrites them). */
struct eb_regs {
	uint64_t rax, rcx, rdx, rbx, rsi;
};
_Static_assert(offsetof(struct eb_regs, rax) == 0, "stamp.inc EB_RAX");
_Static_assert(offsetof(struct eb_regs, rcx) == 8, "stamp.inc EB_RCX");
_Static_assert(offsetof(struct eb_regs, rdx) == 16, "stamp.inc EB_RDX");
_Static_assert(offsetof(struct eb_regs, rbx) == 24, "stamp.inc EB_RBX");
_Static_assert(offsetof(struct eb_regs, rsi) == 32, "stamp.inc EB_RSI");

/* Kind l1: one timed operation; returns t1 - t0 (the pair not subtracted). */
typedef int64_t l1_timed_fn(const struct eb_regs *r);
l1_timed_fn eb_l1_pair, eb_l1_cpuid, eb_l1_rdmsr, eb_l1_wrmsr, eb_l1_in_f4, eb_l1_vmread,
	eb_l1_vmwrite, eb_l1_vmptrld;

/* Kind l2-*: one L1 -> L2 -> L1 round trip (l1_timed.asm). */
struct eb_round {
	struct eb_regs regs;    /* L2's inputs, in its registers at VMRESUME */
	uint64_t reason;        /* the exit reason the realistic handler expects */
	int64_t delta;          /* out: t1 - t0 */
	uint64_t got_reason;    /* out: the reason it got instead (ROUND_UNEXPECTED) */
};
_Static_assert(offsetof(struct eb_round, reason) == 40, "l1_timed.asm EB_ROUND_REASON");
_Static_assert(offsetof(struct eb_round, delta) == 48, "l1_timed.asm EB_ROUND_DELTA");
_Static_assert(offsetof(struct eb_round, got_reason) == 56, "l1_timed.asm EB_ROUND_GOT");
enum round_status { ROUND_OK = 0, ROUND_ENTRY_FAILED = 1, ROUND_UNEXPECTED = 2 };
typedef enum round_status round_fn(struct eb_round *r);
round_fn eb_round_realistic, eb_round_minimal;
/* VMLAUNCH of the current VMCS instead of VMRESUME (l2-reflected vmlaunch). */
round_fn eb_round_launch;
extern char eb_round_exit[];            /* HOST_RIP of the timed rounds */
extern char eb_host_stack_top[];        /* HOST_RSP of the timed rounds */

/* Kind l2-absorbed: L2 times `count` operations itself, into `samples`. */
struct eb_l2_loop {
	struct eb_regs regs;
	uint64_t count;
	int64_t *samples;
};
_Static_assert(offsetof(struct eb_l2_loop, count) == 40, "l2_programs.asm EB_LOOP_COUNT");
_Static_assert(offsetof(struct eb_l2_loop, samples) == 48, "l2_programs.asm EB_LOOP_SAMPLES");
extern struct eb_l2_loop eb_absorbed;

/* L2 code (l2_programs.asm). eb_l2_<op>: `op; jmp eb_l2_<op>`. */
#define EB_L2_SYM(name) extern char name[]
EB_L2_SYM(eb_l2_cpuid); EB_L2_SYM(eb_l2_vmcall); EB_L2_SYM(eb_l2_rdmsr);
EB_L2_SYM(eb_l2_wrmsr); EB_L2_SYM(eb_l2_in_80); EB_L2_SYM(eb_l2_vmread);
EB_L2_SYM(eb_l2_vmwrite); EB_L2_SYM(eb_l2_vmptrld);
EB_L2_SYM(eb_l2_absorbed_rdmsr); EB_L2_SYM(eb_l2_absorbed_rdmsr_done);
EB_L2_SYM(eb_l2_absorbed_in_f4); EB_L2_SYM(eb_l2_absorbed_in_f4_done);
EB_L2_SYM(eb_l2_absorbed_ept_fill); EB_L2_SYM(eb_l2_absorbed_ept_fill_done);
EB_L2_SYM(eb_l2_probe_rdmsr); EB_L2_SYM(eb_l2_probe_rdmsr_done);
EB_L2_SYM(eb_l2_probe_in_f4); EB_L2_SYM(eb_l2_probe_in_f4_done);

/* ---- Samples and output lines (results.c) -------------------------------- */

/* The raw deltas of the current measurement (t1 - t0, pair included). */
extern int64_t eb_samples[EB_MAX_SAMPLES];
/* The median cost of the timestamp pair, subtracted from every sample. */
extern int64_t eb_pair;
/* Measures the pair and prints the `timestamp` line; false without a TSC. */
bool timestamp_init(void);
/* The `result` line for eb_samples[0..n) and the accounting window. */
void result_print(const struct meas *m, uint32_t n);
void skip(const struct meas *m, const char *why_fmt, ...) __attribute__((format(printf, 2, 3)));
/* A `check` line named "<kind>.<op>[.<handler>].<what>"; returns ok. */
bool check(const struct meas *m, const char *what, bool ok, const char *detail_fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A set-up step: a failed `check` line if !ok, nothing otherwise. */
bool setup_ok(const struct meas *m, const char *what, bool ok, const char *detail_fmt, ...)
	__attribute__((format(printf, 4, 5)));
extern unsigned checks_passed, checks_failed;
/* total / n with up to two decimals ("1", "0.5", "6.67"), into buf. */
void fmt_per_op(char *buf, size_t size, uint64_t total, uint32_t n);
/* The name of a measurement as check names use it: "l2-reflected.cpuid.minimal". */
const char *meas_label(const struct meas *m);

/* ---- L0: who it is, hypercalls, exit accounting (l0.c) ------------------- */

struct l0_info {
	char name[16];          /* "nestvisor", "KVMKVMKVM", ..., or "none" */
	bool nestvisor;
	bool hypercall;         /* nestvisor with leaf NV_CPUID_HYPERCALL */
	uint32_t interface;     /* NV_INTERFACE_VERSION of nestvisor, else 0 */
	uint32_t flags;         /* NV_INFO_* (interface >= 2) */
	bool flags_known;
};
extern struct l0_info l0;
/* Prints the `cpu` and `l0` lines. */
void l0_detect(void);
/* A nestvisor hypercall (CPUID 0x40000002): returns EAX, *ebx = EBX. */
uint32_t nv_hypercall(uint32_t fn, uint64_t rbx, uint64_t rdx, uint64_t rsi, uint32_t *ebx);
bool l0_shadowing(void);        /* nestvisor says L1's VMREAD/VMWRITE use a shadow VMCS */

/* The accounting window around a timed loop: acct_begin resets L0's counters,
 * acct_end reads them. Both do nothing when L0 has no accounting, and then
 * acct_valid() is false and every accounting field prints "n/a". */
void acct_begin(void);
void acct_end(void);
bool acct_valid(void);
uint64_t acct_count(enum nv_acct_level level, uint32_t reason);
/* Drops one cell from the window (the bracket exits of kind l2-absorbed). */
void acct_drop(enum nv_acct_level level, uint32_t reason);
/* "l0_exits=<x> l0_ticks=<x> exits=<...>" per operation, into buf ("exits=none"
 * for a window without exits, all three "n/a" without accounting). */
void acct_format(char *buf, size_t size, uint32_t n);
/* Checks that the window holds `per_op` * n exits of `reason` at `level`. */
void acct_expect(const struct meas *m, enum nv_acct_level level, uint32_t reason,
		 uint32_t per_op, uint32_t n);
/* Checks that the window holds no exit at all. */
void acct_expect_none(const struct meas *m);
/* L0 exits in the window, all levels and reasons (0 without accounting). */
uint64_t acct_total(void);
/* A window made of many short ones, one per sample (l2-reflected vmlaunch,
 * whose untimed set-up between samples exits to L0 too): acct_sum_begin
 * empties the sum, acct_sum_add adds the window just read by acct_end, and
 * acct_sum_end makes the sum the window that acct_format and acct_expect see
 * (not valid if one of the windows was not). */
void acct_sum_begin(void);
void acct_sum_add(void);
void acct_sum_end(void);

/* ---- The measurements (l1.c, l2.c) --------------------------------------- */

/* Does this op exist for this kind (the plan only holds those that do)? */
bool l1_has_op(enum op o);
bool l2_reflected_has_op(enum op o);
/* Is this handler measured for this l2-reflected op (vmlaunch: minimal only)? */
bool l2_reflected_has_handler(enum op o, enum handler h);
bool l2_absorbed_has_op(enum op o);
/* Each prints a `result` line and its checks, or a `skip` line, or a failed
 * check that says why it could not measure. */
void l1_measure(const struct meas *m);
void l2_reflected_measure(const struct meas *m);
void l2_absorbed_measure(const struct meas *m);
/* Enters VMX operation once (VMXON); false, with the reason in *why, if it cannot. */
bool vmx_ready(const char **why);

#endif
