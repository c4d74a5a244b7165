/* SPDX-License-Identifier: MIT */
/*
 * ELF64 kernels with a PVH entry (pure): what QEMU's -kernel boots through
 * the Xen PVH boot ABI, Linux's vmlinux (CONFIG_PVH=y) among them. Xen's
 * public elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY (18) in a note of owner "Xen"
 * holds the 32-bit physical entry point. Segments load at p_paddr.
 */
#include "l1image.h"

#include "elf.h"

#include <nestvisor/string.h>

#define ERR(...) (nv_snprintf(err, errlen, __VA_ARGS__), -1)

#define NV_PT_NOTE 4

typedef unsigned long long ull;

/* gABI "Note Section": namesz, descsz, type, then name and desc, each 4-byte padded. */
struct note_header {
	uint32_t namesz, descsz, type;
};

static uint64_t align4(uint64_t x)
{
	return (x + 3) & ~3ull;
}

/* gABI "ELF Header"; x86-64 psABI (EM_X86_64). */
static int check_elf64_header(const uint8_t *f, uint64_t size, struct nv_elf64_ehdr *eh,
			      char *err, size_t errlen)
{
	if (size < sizeof(*eh))
		return ERR("truncated: ELF64 header needs 0x%zx bytes, file is 0x%llx bytes",
			   sizeof(*eh), (ull)size);
	memcpy(eh, f, sizeof(*eh));
	if (nv_elf_check_fields(eh, &((struct nv_elf_want){ NV_EM_X86_64,
							    "62 (x86-64) for a 64-bit ELF",
							    sizeof(struct nv_elf64_phdr) }),
				err, errlen))
		return -1;
	for (uint32_t i = 0; i < eh->phnum; i++) {
		uint64_t at = (uint64_t)i * eh->phentsize + sizeof(struct nv_elf64_phdr);

		if (eh->phoff > size || at > size - eh->phoff)
			return ERR("truncated: program header %u ends at 0x%llx, file is 0x%llx bytes",
				   i, (ull)eh->phoff + at, (ull)size);
	}
	return 0;
}

static void read_phdr(const uint8_t *f, const struct nv_elf64_ehdr *eh, uint32_t i,
		      struct nv_elf64_phdr *ph)
{
	memcpy(ph, f + eh->phoff + (uint64_t)i * eh->phentsize, sizeof(*ph));
}

/*
 * The PVH entry from the notes of PT_NOTE program header i: 1 found (*entry
 * set), 0 none there, -1 a malformed note (message).
 */
static int find_pvh_note(const uint8_t *f, uint64_t size, const struct nv_elf64_phdr *ph,
			 uint32_t i, uint64_t *entry, char *err, size_t errlen)
{
	uint64_t at = ph->offset, end;

	if (ph->offset > size || ph->filesz > size - ph->offset)
		return ERR("truncated: notes (program header %u) end at 0x%llx, file is 0x%llx bytes",
			   i, (ull)(ph->offset + ph->filesz), (ull)size);
	end = ph->offset + ph->filesz;
	while (end - at >= sizeof(struct note_header)) {
		struct note_header nh;
		uint64_t name, desc, next;

		memcpy(&nh, f + at, sizeof(nh));
		name = at + sizeof(nh);
		desc = name + align4(nh.namesz);
		next = desc + align4(nh.descsz);
		if (align4(nh.namesz) > end - name || align4(nh.descsz) > end - desc)
			return ERR("malformed note at offset 0x%llx (program header %u): it runs past the notes' end 0x%llx",
				   (ull)at, i, (ull)end);
		if (nh.type == NV_XEN_ELFNOTE_PHYS32_ENTRY && nh.namesz == 4 &&
		    !memcmp(f + name, "Xen", 4)) {
			uint32_t v;

			if (nh.descsz != 4 && nh.descsz != 8)
				return ERR("PVH entry note at offset 0x%llx has 0x%x bytes, expected 4 or 8",
					   (ull)at, nh.descsz);
			memcpy(&v, f + desc, sizeof(v));  /* a 32-bit physical address */
			*entry = v;
			return 1;
		}
		at = next;
	}
	return 0;
}

int nv_l1_parse_pvh(const void *file, uint64_t size, struct nv_l1_image *img, char *err,
		    size_t errlen)
{
	const uint8_t *f = file;
	struct nv_elf64_ehdr eh;
	uint64_t entry = 0;
	int found = 0;

	memset(img, 0, sizeof(*img));
	img->protocol = NV_L1_PVH;
	if (check_elf64_header(f, size, &eh, err, errlen))
		return -1;
	for (uint32_t i = 0; i < eh.phnum && !found; i++) {
		struct nv_elf64_phdr ph;

		read_phdr(f, &eh, i, &ph);
		if (ph.type == NV_PT_NOTE &&
		    (found = find_pvh_note(f, size, &ph, i, &entry, err, errlen)) < 0)
			return -1;
	}
	if (!found)
		return ERR("64-bit ELF without a PVH entry note (Xen note %d, PHYS32_ENTRY) and without a Multiboot header: nestvisor boots 64-bit kernels through PVH (Linux: CONFIG_PVH=y)",
			   NV_XEN_ELFNOTE_PHYS32_ENTRY);
	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct nv_elf64_phdr ph;

		read_phdr(f, &eh, i, &ph);
		if (ph.type != NV_PT_LOAD)
			continue;
		if (nv_l1_add_segment(img, &(struct nv_l1_segment){ ph.paddr, ph.offset, ph.filesz,
								     ph.memsz },
				      i, size, err, errlen))
			return -1;
	}
	if (img->nsegs == 0)
		return ERR("no PT_LOAD segments");
	for (uint32_t i = 0; i < img->nsegs; i++)
		if (entry >= img->segs[i].paddr && entry - img->segs[i].paddr < img->segs[i].filesz) {
			img->entry = entry;
			return 0;
		}
	return ERR("PVH entry point 0x%llx is not in the file data of any segment", (ull)entry);
}
