/* SPDX-License-Identifier: MIT */
/*
 * The few ELF structures the loader reads (pure, no UEFI).
 * System V ABI (gABI 4.1), chapter 4 "Object Files": "ELF Header", and
 * chapter 5 "Program Loading and Dynamic Linking": "Program Header".
 * Fields are read by memcpy from the file, never through a cast pointer,
 * so a buffer of any alignment is fine.
 */
#ifndef NV_BOOT_ELF_H
#define NV_BOOT_ELF_H

#include <stdint.h>

/* e_ident[] indexes and values ("ELF Identification"). */
#define NV_EI_CLASS      4
#define NV_EI_DATA       5
#define NV_EI_VERSION    6
#define NV_ELFCLASS32    1
#define NV_ELFCLASS64    2
#define NV_ELFDATA2LSB   1
#define NV_EV_CURRENT    1

#define NV_ET_EXEC       2
#define NV_EM_386        3
#define NV_EM_X86_64     62

#define NV_PT_LOAD       1
#define NV_PF_X          1

struct nv_elf32_ehdr {
	uint8_t  ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint32_t entry;
	uint32_t phoff;
	uint32_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct nv_elf32_phdr {
	uint32_t type;
	uint32_t offset;
	uint32_t vaddr;
	uint32_t paddr;
	uint32_t filesz;
	uint32_t memsz;
	uint32_t flags;
	uint32_t align;
};

struct nv_elf64_ehdr {
	uint8_t  ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct nv_elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

_Static_assert(sizeof(struct nv_elf32_ehdr) == 52, "ELF32 header is 52 bytes");
_Static_assert(sizeof(struct nv_elf32_phdr) == 32, "ELF32 program header is 32 bytes");
_Static_assert(sizeof(struct nv_elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct nv_elf64_phdr) == 56, "ELF64 program header is 56 bytes");

static inline int nv_elf_has_magic(const uint8_t *file, uint64_t size)
{
	return size >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
}

#endif
