/* SPDX-License-Identifier: MIT */
/*
 * l0mem: L1 must not reach L0's memory. L0's ranges appear in L1's memory map
 * as reserved (type 2) between usable ranges; this kernel reads one byte of
 * every 4 KiB page of every reserved range below the end of the highest
 * usable range, lowest first. nestvisor must stop L1 at the first access to
 * L0 memory (EPT violation) and report it: reaching the end is the failure.
 * Paging is off, so only the part below 4 GiB is read.
 */
#include <guest.h>

#define PAGE       0x1000ull
#define FOUR_GIB   0x100000000ull

static uint64_t usable_top(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;
	uint64_t top = 0;

	mmap_for_each(mbi, e)
		if (e->type == MMAP_TYPE_USABLE && e->length && e->base + e->length > top)
			top = e->base + e->length;
	return top;
}

/* One byte per page of [start, end): the first, then each page boundary. */
static void read_range(uint64_t start, uint64_t end)
{
	uint64_t a = start;

	while (a < end) {
		(void)mmio_read8((uintptr_t)a);
		a = (a & ~(PAGE - 1)) + PAGE;
	}
}

int main(struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;
	uint64_t top;
	unsigned ranges = 0;

	if (!mbi || !(mbi->flags & MBI_FLAG_MMAP)) {
		printf("l0mem: no memory map\n");
		return GUEST_EXIT_FAIL;
	}
	mbi_print_mmap(mbi);
	top = usable_top(mbi);
	printf("l0mem: highest usable RAM ends at 0x%llx\n", (unsigned long long)top);

	mmap_for_each(mbi, e) {
		uint64_t start = e->base, end = e->base + e->length;

		if (e->type != MMAP_TYPE_RESERVED || !e->length || start >= top)
			continue;
		if (end > top)
			end = top;
		if (start >= FOUR_GIB) {
			printf("l0mem: skipping 0x%llx-0x%llx (above 4 GiB, paging is off)\n",
			       (unsigned long long)start, (unsigned long long)(end - 1));
			continue;
		}
		if (end > FOUR_GIB)
			end = FOUR_GIB;
		printf("l0mem: reading 0x%llx-0x%llx\n", (unsigned long long)start,
		       (unsigned long long)(end - 1));
		read_range(start, end);
		ranges++;
	}
	printf("l0mem: read %u reserved ranges\n", ranges);
	printf("l0mem: scan finished, nothing stopped me\n");
	return GUEST_EXIT_FAIL;
}
