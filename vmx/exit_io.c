/* SPDX-License-Identifier: MIT */
/*
 * I/O exits. L1 drives the devices directly; the only port L0 intercepts is
 * the test exit port, which behaves like QEMU's isa-debug-exit device
 * (iobase=0xf4): writing v ends the run with status (v << 1) | 1.
 */
#include "vmx/exit.h"
#include "vmx/exit_info.h"
#include "vmx/l1.h"
#include "vmx/vmcs.h"
#include "core/log.h"
#include "core/run.h"


void handle_io(struct vcpu *v, const struct exit_ctx *x)
{
	struct io_info io = decode_io(x->qualification);
	uint64_t *r = v->frame.regs.r;
	uint32_t mask = io.size == 4 ? 0xffffffffu : (1u << (8 * io.size)) - 1;

	if (io.port != TEST_EXIT_PORT) {
		vcpu_dump(v);
		run_end_failure("unexpected I/O exit on port 0x%x (L0 bug: the I/O bitmap "
				"intercepts only 0x%x)", io.port, TEST_EXIT_PORT);
	}
	if (io.string)
		run_end_failure("L1 used string I/O (%s) on the test exit port 0x%x at rip 0x%lx;"
				" use OUT", io.in ? "INS" : "OUTS", TEST_EXIT_PORT, x->rip);
	if (io.in) {
		/* Nothing to read: an unclaimed port floats high. */
		r[GPR_RAX] = (r[GPR_RAX] & ~(uint64_t)mask) | mask;
		vcpu_skip_instruction(x);
		return;
	}
	uint64_t value = r[GPR_RAX] & mask;

	log_line("L1 wrote 0x%lx to the test exit port", value);
	run_end_status((value << 1) | 1);
}
