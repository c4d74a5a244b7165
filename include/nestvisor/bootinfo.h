/* SPDX-License-Identifier: MIT */
/*
 * The one contract between the UEFI loader (boot/) and the L0 core (core/).
 * No UEFI type appears here: the loader translates everything it learned from
 * the firmware into these plain structures before it jumps to the core.
 */
#ifndef NESTVISOR_BOOTINFO_H
#define NESTVISOR_BOOTINFO_H

#include <stdint.h>

#include <nestvisor/linux_boot.h>

#define NV_BOOTINFO_MAGIC   0x4f464e49544f4f42ULL /* "BOOTINFO" little-endian */
#define NV_BOOTINFO_VERSION 7

/* Link address of the core: it runs in the top 2 GiB (-mcmodel=kernel). */
#define NV_CORE_VBASE 0xffffffff80000000ULL
/* The core's physical load address is aligned to this (one 2 MiB page). */
#define NV_CORE_ALIGN 0x200000ULL

#define NV_MMAP_MAX        512
#define NV_L1_MAX_COPIES   24
#define NV_L1_MAX_MODULES  8
#define NV_CMDLINE_MAX     1024
#define NV_MODSTR_MAX      256
#define NV_PATH_MAX        256

/* Memory types of the boot-info memory map (sorted, non-overlapping). */
enum nv_mem_type {
	NV_MEM_USABLE = 1,    /* free RAM once boot services have exited */
	NV_MEM_RESERVED,      /* firmware-reserved, not to be touched */
	NV_MEM_ACPI_RECLAIM,  /* ACPI tables */
	NV_MEM_ACPI_NVS,      /* ACPI non-volatile storage */
	NV_MEM_MMIO,          /* memory-mapped I/O the firmware listed */
	NV_MEM_FW_RUNTIME,    /* UEFI runtime services code and data */
	NV_MEM_BAD,           /* unusable (defective) RAM */
	NV_MEM_L0_IMAGE,      /* the core image (text, data, bss) */
	NV_MEM_L0_POOL,       /* L0's page pool */
	NV_MEM_L0_BOOT,       /* boot info and the loader's hand-over page tables */
	NV_MEM_L1_STAGING,    /* loader's copy of the L1 image and modules */
	NV_MEM_TYPE_COUNT
};

/*
 * The loader allocates its own ranges with UEFI OS-loader memory types
 * (UEFI 2.x, 7.2 "Memory Allocation Services": 0x80000000..0xffffffff are
 * for OS loaders), so the final UEFI memory map itself says which range is
 * whose: type NV_EFI_TYPE(t) converts to t.
 */
#define NV_EFI_TYPE_BASE 0x80000000u
#define NV_EFI_TYPE(t)   (NV_EFI_TYPE_BASE | (uint32_t)(t))

struct nv_mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t type;          /* enum nv_mem_type */
	uint32_t reserved;
};

/* One copy the core performs to place L1: dst <- src[0..filesz), then zero to memsz. */
struct nv_l1_copy {
	uint64_t dst;           /* L1 physical address (EPT01 is the identity) */
	uint64_t src;           /* physical address in NV_MEM_L1_STAGING */
	uint64_t filesz;
	uint64_t memsz;
};

/* A Multiboot module (with PVH: a hvm_modlist_entry; PVH and bzImage: the first is Linux's initrd) as L1 will see it. */
struct nv_l1_module {
	uint64_t start;         /* L1 physical, page aligned */
	uint64_t end;           /* one past the last byte */
	char string[NV_MODSTR_MAX]; /* "path args", as QEMU's -initrd passes it */
};

/* How L1 is started, and which boot information it gets. */
enum nv_l1_protocol {
	NV_L1_MULTIBOOT = 0,    /* Multiboot 1: EAX = 0x2BADB002, EBX = Multiboot information */
	NV_L1_PVH = 1,          /* Xen PVH boot ABI: EBX = struct hvm_start_info (vmx/pvh.h) */
	NV_L1_LINUX = 2,        /* Linux x86 boot protocol (bzImage), 32-bit entry: ESI = zero page */
};

/* Everything the core needs to start L1; computed and checked by the loader. */
struct nv_l1_plan {
	uint32_t protocol;      /* enum nv_l1_protocol */
	uint32_t reserved;
	uint64_t entry;         /* 32-bit entry point */
	uint64_t mem_limit;     /* bytes of RAM L1 gets; 0 = all RAM L0 does not use */
	uint64_t load_end;      /* one past the highest byte placed (kernel, modules, MBI) */
	uint64_t mbi_base;      /* where the core builds the Multiboot information, PVH start info or Linux zero page */
	uint64_t mbi_size;      /* bytes reserved there */
	uint32_t ncopies;       /* kernel segments first, then one copy per module */
	uint32_t nmodules;
	struct nv_l1_copy copies[NV_L1_MAX_COPIES];
	struct nv_l1_module modules[NV_L1_MAX_MODULES];
	char cmdline[NV_CMDLINE_MAX];   /* "<l1 path> <cmdline>" (PVH, Linux: "<cmdline>"), as QEMU passes it */
	char path[NV_PATH_MAX];         /* L1 image path, for messages */
	/* NV_L1_LINUX: the bzImage's setup header (file offsets LB_SETUP_SECTS up to
	 * linux_hdr_len bytes on), which L0 copies into the zero page. */
	uint32_t linux_hdr_len;
	uint8_t linux_hdr[LB_HDR_MAX];
};

/* L0 options from nestvisor.cfg. */
enum nv_log_level { NV_LOG_QUIET = 0, NV_LOG_INFO = 1, NV_LOG_DEBUG = 2, NV_LOG_TRACE = 3 };
/* Diagnostics: make L0 exercise a failure path on purpose (the tests use it). */
enum nv_selftest { NV_SELFTEST_NONE = 0, NV_SELFTEST_L0_FAULT = 1, NV_SELFTEST_L0_MCE = 2 };
/*
 * The fields L1's shadow VMCS holds: HOT, those L1 hypervisors use on every
 * exit (nested/shadow.c); WIDE, those and the ones KVM's nested transitions
 * touch (NC_WIDE in vmx/vmcs_fields.def).
 */
enum nv_shadow_set { NV_SHADOW_SET_HOT = 0, NV_SHADOW_SET_WIDE = 1 };
/* Where L0 logs: COM1 (shared with L1), or COM2 (L0 alone; L1 then sees no COM2). */
enum nv_log_port { NV_LOG_PORT_COM1 = 0, NV_LOG_PORT_COM2 = 1 };

struct nv_bootinfo {
	uint64_t magic;         /* NV_BOOTINFO_MAGIC */
	uint32_t version;       /* NV_BOOTINFO_VERSION */
	uint32_t size;          /* sizeof(struct nv_bootinfo) */

	uint64_t core_phys;     /* physical base of the core image */
	uint64_t core_size;     /* bytes, including bss, rounded to pages */
	uint64_t pool_phys;     /* L0 page pool */
	uint64_t pool_size;
	uint64_t rsdp;          /* ACPI RSDP, physical; 0 if the firmware has none */
	/* UEFI ResetSystem, physical (identity mapped, no SetVirtualAddressMap):
	 * void __attribute__((ms_abi)) fn(uint32_t type, uint64_t status,
	 * uint64_t data_size, void *data); 0 if unavailable. */
	uint64_t efi_reset_system;
	uint32_t log_level;     /* enum nv_log_level */
	uint32_t selftest;      /* enum nv_selftest */
	uint32_t accounting;    /* 1 = exit accounting on */
	uint32_t vmcs_shadowing; /* 1 = use a shadow VMCS for L1 if the CPU has one */
	uint32_t vmcs_shadow_set; /* enum nv_shadow_set */
	uint32_t log_port;      /* enum nv_log_port */
	uint32_t ept02_pool_pages; /* 4-KiB pages of L0's pool for EPT02 tables */
	uint32_t mmap_count;
	struct nv_mem_range mmap[NV_MMAP_MAX];
	struct nv_l1_plan l1;
};

#endif
