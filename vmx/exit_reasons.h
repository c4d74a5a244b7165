/* SPDX-License-Identifier: MIT */
/* Exit reason numbers (from exit_reasons.def), for code that needs no handler types. */
#ifndef NESTVISOR_VMX_EXIT_REASONS_H
#define NESTVISOR_VMX_EXIT_REASONS_H

enum exit_reason {
#define EXIT_REASON(name, num) EXIT_REASON_##name = (num),
#include "vmx/exit_reasons.def"
#undef EXIT_REASON
};

#endif
