/* SPDX-License-Identifier: MIT */
#include "core/panic.h"
#include "core/log.h"
#include "core/run.h"
#include "core/trap.h"
#include "core/x86.h"

#include <nestvisor/string.h>

extern char __image_start[], __text_end[];

static panic_dump_fn dump_hook;
static int panicking;

void panic_set_dump_hook(panic_dump_fn fn)
{
	dump_hook = fn;
}

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved-15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD exception", "#VE virtualization exception",
	"#CP control protection",
};

/* vmx/entry.asm: the VM-exit stubs, which call C with the guest's RBP. */
extern const char vmx_exit_stubs_start[], vmx_exit_stubs_end[];

static void backtrace(uint64_t rbp)
{
	for (int depth = 0; depth < 16; depth++) {
		uint64_t *frame = (uint64_t *)rbp;

		if (rbp < (uint64_t)__image_start || (rbp & 7))
			break;
		if (frame[1] < (uint64_t)__image_start || frame[1] >= (uint64_t)__text_end)
			break;
		log_line("  called from 0x%lx", frame[1]);
		/* The exit handler's frame: the RBP it saved is the guest's. */
		if (frame[1] >= (uint64_t)vmx_exit_stubs_start &&
		    frame[1] < (uint64_t)vmx_exit_stubs_end)
			break;
		rbp = frame[0];
	}
}

static void dump_extra(void)
{
	panic_dump_fn fn = dump_hook;

	dump_hook = 0;  /* a fault inside the dump must not recurse into it */
	if (fn)
		fn();
}

static __attribute__((noreturn)) void panic_end(const char *what)
{
	panicking = 2;
	run_end_failure("L0 panic: %s", what);
}

void panic(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	nv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (panicking++) {
		log_line("PANIC (nested): %s", buf);
		panic_end(buf);
	}
	log_line("PANIC: %s", buf);
	backtrace((uint64_t)__builtin_frame_address(0));
	dump_extra();
	panic_end(buf);
}

void panic_trap(const struct trap_frame *f)
{
	const char *name = f->vector < 32 && exception_names[f->vector]
				   ? exception_names[f->vector] : "exception";

	if (panicking++) {
		log_line("PANIC (nested): %s at rip=0x%lx", name, f->rip);
		panic_end(name);
	}
	log_line("PANIC: %s (vector %lu, error code 0x%lx) in L0", name, f->vector,
		 f->error_code);
	log_line("  rip=0x%016lx cs=0x%lx rflags=0x%lx rsp=0x%016lx ss=0x%lx", f->rip,
		 f->cs, f->rflags, f->rsp, f->ss);
	log_line("  rax=0x%016lx rbx=0x%016lx rcx=0x%016lx rdx=0x%016lx", f->rax, f->rbx,
		 f->rcx, f->rdx);
	log_line("  rsi=0x%016lx rdi=0x%016lx rbp=0x%016lx r8 =0x%016lx", f->rsi, f->rdi,
		 f->rbp, f->r8);
	log_line("  r9 =0x%016lx r10=0x%016lx r11=0x%016lx r12=0x%016lx", f->r9, f->r10,
		 f->r11, f->r12);
	log_line("  r13=0x%016lx r14=0x%016lx r15=0x%016lx", f->r13, f->r14, f->r15);
	log_line("  cr0=0x%lx cr2=0x%lx cr3=0x%lx cr4=0x%lx", read_cr0(), read_cr2(),
		 read_cr3(), read_cr4());
	backtrace(f->rbp);
	dump_extra();
	panic_end(name);
}
