/* SPDX-License-Identifier: MIT */
/*
 * vmx: the L1-side test suite of VMX semantics. The VMX helpers it shares
 * with the other VMX kernels are in vmxlib (vmxlib.h); here are the case
 * groups and the pages the cases scribble on.
 */
#ifndef VMX_TEST_H
#define VMX_TEST_H

#include "vmxlib.h"

/* ---- The case groups ------------------------------------------------------ */
bool test_vmxon(void);          /* false: VMX unusable, the rest is skipped */
void test_vmcs_ptr(void);
void test_vmread_write(void);
void test_invept_invvpid(void);
void test_entry_checks(void);
void test_l2_exits(void);
void test_events(void);

/* main.c: pages any case may use; each case initializes what it uses. */
extern struct vmx_region vmcs_a, vmcs_b, bad_region, scratch_page;

#endif
