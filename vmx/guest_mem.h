/* SPDX-License-Identifier: MIT */
/*
 * L0's access to L1 memory on L1's behalf: by guest-physical address (EPT01
 * decides what is L1's) and by guest-linear address (L1's own paging, walked
 * in software). Every value L0 takes from L1 memory is copied once into L0
 * memory and used from there.
 */
#ifndef NESTVISOR_VMX_GUEST_MEM_H
#define NESTVISOR_VMX_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gm_status {
	GM_OK = 0,
	GM_EXCEPTION,       /* the access faults for L1: inject err.vector */
	GM_NOT_L1_MEMORY,   /* the address is not L1's (EPT01 grants no such access) */
};

struct gm_error {
	unsigned vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;           /* for #PF */
	uint64_t gpa;           /* for GM_NOT_L1_MEMORY */
};

/* Is [gpa, gpa+len) ordinary RAM that L1 owns (not MMIO, firmware, L0)? */
bool l1_is_ram(uint64_t gpa, uint64_t len);
/* L1's physical-address width (CPUID.80000008H:EAX[7:0]). */
unsigned l1_maxphyaddr(void);

enum gm_status l1_read_phys(uint64_t gpa, void *buf, size_t len);
enum gm_status l1_write_phys(uint64_t gpa, const void *buf, size_t len);

/* Linear accesses at CPL 0 through L1's current paging mode (CR0, CR4, EFER, CR3). */
enum gm_status l1_read_linear(uint64_t la, void *buf, size_t len, struct gm_error *err);
enum gm_status l1_write_linear(uint64_t la, const void *buf, size_t len, struct gm_error *err);

/* Raise err for L1 (inject the exception, CR2 for #PF) or end the run for GM_NOT_L1_MEMORY. */
void l1_deliver_gm_error(enum gm_status st, const struct gm_error *err, uint64_t rip);

#endif
