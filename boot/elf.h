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

#include <nestvisor/string.h>
#include <stddef.h>
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

/* What an image of one kind must be, past its class (checked by its caller). */
struct nv_elf_want {
	uint16_t machine;
	const char *machine_text;   /* "wrong machine %u, expected <this>" */
	size_t phdr_size;           /* the class's program-header size */
};

/*
 * The header checks every ELF image gets (gABI "ELF Header", "ELF
 * Identification"): little-endian, version 1, ET_EXEC, the machine, program
 * headers of at least the class's size. 0, or -1 with err set. The fields
 * are the same in ELF32 and ELF64 headers.
 */
#define nv_elf_check_fields(eh, want, err, errlen) \
	nv_elf_check_fields_((eh)->ident, (eh)->version, (eh)->type, (eh)->machine, (eh)->phnum, \
			     (eh)->phentsize, want, err, errlen)
static inline int nv_elf_check_fields_(const uint8_t *ident, uint32_t version, uint16_t type,
				       uint16_t machine, uint16_t phnum, uint16_t phentsize,
				       const struct nv_elf_want *want, char *err, size_t errlen)
{
	if (ident[NV_EI_DATA] != NV_ELFDATA2LSB)
		nv_snprintf(err, errlen, "ELF data encoding %u, expected 1 (little-endian)",
			    ident[NV_EI_DATA]);
	else if (ident[NV_EI_VERSION] != NV_EV_CURRENT || version != NV_EV_CURRENT)
		nv_snprintf(err, errlen, "ELF version %u, expected 1", ident[NV_EI_VERSION]);
	else if (type != NV_ET_EXEC)
		nv_snprintf(err, errlen, "ELF type %u, expected 2 (ET_EXEC)", type);
	else if (machine != want->machine)
		nv_snprintf(err, errlen, "wrong machine %u, expected %s", machine, want->machine_text);
	else if (phnum == 0)
		nv_snprintf(err, errlen, "no program headers");
	else if (phentsize < want->phdr_size)
		nv_snprintf(err, errlen, "program header size %u, expected at least %zu", phentsize,
			    want->phdr_size);
	else
		return 0;
	return -1;
}

#endif
