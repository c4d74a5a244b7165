/* SPDX-License-Identifier: MIT */
/* nestvisor.cfg: `key = value` lines (pure, no UEFI). */
#ifndef NV_BOOT_CONFIG_H
#define NV_BOOT_CONFIG_H

#include <nestvisor/bootinfo.h>
#include <stddef.h>
#include <stdint.h>

#define NV_CONFIG_PATH        "\\nestvisor\\nestvisor.cfg"
#define NV_L0_MEMORY_DEFAULT  (32ULL << 20)
#define NV_L0_MEMORY_MIN      (4ULL << 20)
#define NV_L0_MEMORY_MAX      (1ULL << 30)
#define NV_L1_MEMORY_MIN      (2ULL << 20)
/*
 * EPT02 tables (nested EPT), at most half of L0's pool. The minimum keeps all
 * the translations one L2 instruction can need at once: with the event
 * delivery it may cause, about 60 guest-physical pages (page walks included),
 * at most 2 + 2 x 60 EPT02 tables below the root. So L2 always completes its
 * instruction after at most one reclaim (ept/ept02.h).
 */
#define NV_EPT02_POOL_DEFAULT (2ULL << 20)
#define NV_EPT02_POOL_MIN     (1ULL << 20)
#define NV_EPT02_POOL_MAX     (256ULL << 20)

struct nv_config_module {
	char path[NV_PATH_MAX];     /* first word of the value: the file on the ESP */
	char string[NV_MODSTR_MAX]; /* the whole value, "path args", as written */
};

struct nv_config {
	char l1[NV_PATH_MAX];       /* L1 kernel path as written (/ or \) */
	char cmdline[NV_CMDLINE_MAX];
	uint64_t l1_memory;         /* 0 = all RAM L0 does not use */
	uint64_t l0_memory;         /* bytes of L0's page pool */
	uint64_t ept02_pool;        /* bytes of it for EPT02 tables */
	uint32_t log_level;         /* enum nv_log_level */
	uint32_t selftest;          /* enum nv_selftest */
	uint32_t accounting;        /* 1 = L0 counts exits and their cost (default) */
	uint32_t vmcs_shadowing;    /* 1 = a shadow VMCS for L1 when the CPU has it (default) */
	uint32_t vmcs_shadow_set;   /* enum nv_shadow_set: the fields it holds */
	uint32_t log_port;          /* enum nv_log_port */
	uint32_t nmodules;
	struct nv_config_module modules[NV_L1_MAX_MODULES];
};

/*
 * Parse the whole file text[0..len) into cfg (defaults for what is absent).
 * Returns 0, or -1 with a message naming the line ("line 3: unknown key 'foo'").
 */
int nv_config_parse(const char *text, size_t len, struct nv_config *cfg, char *err,
		    size_t errlen);

/*
 * SIZE: decimal with an optional K/M/G suffix (KiB/MiB/GiB, either case),
 * or 0x hex (suffix allowed too). Returns 0, or -1 if malformed or overflowing.
 */
int nv_parse_size(const char *s, uint64_t *out);

#endif
