/* SPDX-License-Identifier: MIT */
/*
 * I/O exits. L1 drives the devices directly; L0 intercepts the test exit
 * port, which behaves like QEMU's isa-debug-exit device (iobase=0xf4):
 * writing v ends the run with status (v << 1) | 1, and, with log_port =
 * com2, COM2's ports, where L1 finds no device (reads float high).
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
	uint32_t mask = io_size_mask(io.size);

	if (!l1_io_port_is_l0s(io.port)) {
		vcpu_dump(v);
		run_end_failure("unexpected I/O exit on port 0x%x (L0 bug: L0's I/O bitmap does "
				"not intercept it)", io.port);
	}
	if (io.string)
		run_end_failure("L1 used string I/O (%s) on port 0x%x, which L0 keeps, at rip 0x%lx;"
				" use IN/OUT", io.in ? "INS" : "OUTS", io.port, x->rip);
	if (l1_io_port_is_guarded(io.port)) {
		handle_guarded_io(v, x, io);
		return;
	}
	if (io.port != TEST_EXIT_PORT) {
		/* L0's log UART (log_port = com2): for L1 no device is there. */
		if (io.in)
			r[GPR_RAX] = (r[GPR_RAX] & ~(uint64_t)mask) | mask;
		vcpu_skip_instruction(x);
		return;
	}
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
