/* SPDX-License-Identifier: MIT */
#include <nestvisor/memmap.h>
#include <nestvisor/string.h>

const char *nv_mem_type_name(uint32_t type)
{
	static const char *const names[NV_MEM_TYPE_COUNT] = {
		[NV_MEM_USABLE] = "usable",
		[NV_MEM_RESERVED] = "reserved",
		[NV_MEM_ACPI_RECLAIM] = "acpi-reclaim",
		[NV_MEM_ACPI_NVS] = "acpi-nvs",
		[NV_MEM_MMIO] = "mmio",
		[NV_MEM_FW_RUNTIME] = "fw-runtime",
		[NV_MEM_BAD] = "bad",
		[NV_MEM_L0_IMAGE] = "l0-image",
		[NV_MEM_L0_POOL] = "l0-pool",
		[NV_MEM_L0_BOOT] = "l0-boot",
		[NV_MEM_L1_STAGING] = "l1-staging",
	};

	return type < NV_MEM_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

static uint64_t range_end(const struct nv_mem_range *r)
{
	return r->base + r->size;
}

static void sort_by_base(struct nv_mem_range *r, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct nv_mem_range x = r[i];
		uint32_t j = i;

		while (j > 0 && (r[j - 1].base > x.base ||
				 (r[j - 1].base == x.base && r[j - 1].type > x.type))) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

/* Insert x at index i, shifting the rest; false if full. */
static bool insert_at(struct nv_mem_range *r, uint32_t *n, uint32_t max, uint32_t i,
		      struct nv_mem_range x)
{
	if (*n >= max)
		return false;
	memmove(&r[i + 1], &r[i], (*n - i) * sizeof(*r));
	r[i] = x;
	(*n)++;
	return true;
}

uint32_t nv_mmap_normalize(struct nv_mem_range *r, uint32_t n, uint32_t max)
{
	uint32_t truncated = 0;
	uint32_t i = 0, out;

	/* Drop empty and wrapping ranges. */
	for (uint32_t k = 0; k < n; k++)
		if (r[k].size && r[k].base + r[k].size > r[k].base)
			r[i++] = r[k];
	n = i;
	sort_by_base(r, n);

	/* Resolve overlaps between neighbours until none remain. */
	for (i = 0; i + 1 < n;) {
		struct nv_mem_range *a = &r[i], *b = &r[i + 1];

		if (range_end(a) <= b->base) {
			i++;
			continue;
		}
		if (a->type >= b->type) {
			/* a wins the overlap: b keeps only what lies beyond a. */
			if (range_end(b) <= range_end(a)) {
				memmove(b, b + 1, (n - i - 2) * sizeof(*r));
				n--;
			} else {
				b->size = range_end(b) - range_end(a);
				b->base = range_end(a);
				sort_by_base(r + i + 1, n - i - 1);
			}
		} else {
			/* b wins: a is cut at b; a's tail beyond b survives. */
			uint64_t a_end = range_end(a);

			a->size = b->base - a->base;
			if (a_end > range_end(b)) {
				struct nv_mem_range tail = *a;

				tail.base = range_end(b);
				tail.size = a_end - tail.base;
				if (!insert_at(r, &n, max, i + 2, tail))
					truncated = NV_MMAP_TRUNCATED;
				sort_by_base(r + i + 2, n - i - 2);
			}
			if (a->size == 0) {
				memmove(a, a + 1, (n - i - 1) * sizeof(*r));
				n--;
			} else {
				i++;
			}
		}
	}

	/* Merge touching ranges of the same type. */
	for (i = 0, out = 0; i < n; i++) {
		if (out && r[out - 1].type == r[i].type && range_end(&r[out - 1]) == r[i].base)
			r[out - 1].size += r[i].size;
		else
			r[out++] = r[i];
	}
	return out | truncated;
}

bool nv_mmap_covers(const struct nv_mem_range *map, uint32_t n, uint64_t base,
		    uint64_t size, uint32_t type_mask)
{
	uint64_t end = base + size;

	if (end < base)
		return false;
	while (base < end) {
		bool advanced = false;

		for (uint32_t i = 0; i < n; i++) {
			if (map[i].type >= 32 || !(type_mask & NV_MEM_BIT(map[i].type)))
				continue;
			if (map[i].base <= base && base < range_end(&map[i])) {
				base = range_end(&map[i]);
				advanced = true;
				break;
			}
		}
		if (!advanced)
			return false;
	}
	return true;
}

bool nv_mmap_touches(const struct nv_mem_range *map, uint32_t n, uint64_t base,
		     uint64_t size, uint32_t type_mask)
{
	uint64_t end = base + size;

	for (uint32_t i = 0; i < n; i++) {
		if (map[i].type >= 32 || !(type_mask & NV_MEM_BIT(map[i].type)))
			continue;
		if (map[i].base < end && base < range_end(&map[i]))
			return true;
	}
	return false;
}

uint64_t nv_l1_ram_end(const struct nv_mem_range *map, uint32_t n, uint64_t mem_limit)
{
	uint64_t have = 0;

	if (mem_limit == 0)
		return UINT64_MAX;
	for (uint32_t i = 0; i < n; i++) {
		if (map[i].type >= 32 || !(NV_MEM_L1_RAM_MASK & NV_MEM_BIT(map[i].type)))
			continue;
		if (have + map[i].size >= mem_limit)
			return (map[i].base + (mem_limit - have)) & ~(NV_PAGE_SIZE - 1);
		have += map[i].size;
	}
	return UINT64_MAX;
}

uint32_t nv_l1_view(const struct nv_mem_range *map, uint32_t n, uint64_t ram_end,
		    struct nv_mem_range *out, uint32_t max)
{
	uint32_t k = 0, truncated = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct nv_mem_range r = map[i];

		if (nv_mem_is_l0(r.type)) {
			r.type = NV_MEM_RESERVED;
		} else if (r.type < 32 && (NV_MEM_L1_RAM_MASK & NV_MEM_BIT(r.type))) {
			r.type = NV_MEM_USABLE;
			if (r.base >= ram_end)
				continue;
			if (range_end(&r) > ram_end)
				r.size = ram_end - r.base;
		}
		if (k == max) {
			truncated = NV_MMAP_TRUNCATED;
			break;
		}
		out[k++] = r;
	}
	return nv_mmap_normalize(out, k, max) | truncated;
}
