/* SPDX-License-Identifier: MIT */
/*
 * nested/vmcs12.h's field lookup, VMREAD and VMWRITE for random encodings,
 * values and operand sizes, against the rows of vmx/vmcs_fields.def and SDM
 * Vol. 3C, 25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS Fields" / 31.3
 * "VMREAD", "VMWRITE":
 *  - vmcs12_field finds a field exactly for the full encoding of a row and,
 *    for a 64-bit row, its high access (encoding | 1); with bits 63:32 of the
 *    operand zero; the field is that row (offset, width, encoding);
 *  - a write changes only the field's bytes of struct vmcs12 (a byte copy
 *    taken before compares the rest); a full write stores the value truncated
 *    to the field's width (a 32-bit operand: its low 32 bits, zero-extended);
 *    a high write changes only bits 63:32, to bits 31:0 of the operand;
 *  - a read gives the field's value (its high half for a high access), the
 *    value the writes left, as a model of the fields kept here says.
 * LLVMFuzzerInitialize first checks every 17-bit encoding once.
 */
#include "fuzz.h"

#include "nested/vmcs12.h"

struct row {
	uint32_t encoding;
	unsigned width;      /* enum vmcs_width */
	size_t offset, size;
	const char *name;
};

static const struct row rows[] = {
#define VMCS_FIELD(name, enc, width, group, feature, nested) \
	{ (enc), (width), offsetof(struct vmcs12, name), sizeof(((struct vmcs12 *)0)->name), #name },
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The row an encoding names and whether it is a high access; NULL if none. */
FUZZ_NO_COVERAGE static const struct row *row_of(uint64_t encoding, bool *high)
{
	if (encoding >> 32)
		return NULL;
	for (unsigned i = 0; i < NROWS; i++) {
		if (rows[i].encoding == encoding) {
			*high = false;
			return &rows[i];
		}
		if (rows[i].width == W64 && (rows[i].encoding | 1) == encoding) {
			*high = true;
			return &rows[i];
		}
	}
	return NULL;
}

static unsigned width_bytes(unsigned width)
{
	return width == W16 ? 2 : width == W32 ? 4 : 8;
}

static const struct vmcs12_field *check_lookup(uint64_t encoding, const struct row **row,
					       bool *high)
{
	int h = -1;
	const struct vmcs12_field *f = vmcs12_field(encoding, &h);

	*row = row_of(encoding, high);
	INVARIANT(!f == !*row, "encoding 0x%llx: %s, vmcs_fields.def has %s",
		  (unsigned long long)encoding, f ? "a field" : "no field",
		  *row ? (*row)->name : "none");
	if (!f)
		return NULL;
	INVARIANT(f->offset == (*row)->offset && f->width == (*row)->width &&
			  f->encoding == (*row)->encoding &&
			  width_bytes(f->width) == (*row)->size && !!h == *high,
		  "encoding 0x%llx: offset %u width %u encoding 0x%x high %d, want %s (offset %zu width %u)%s",
		  (unsigned long long)encoding, f->offset, f->width, f->encoding, h, (*row)->name,
		  (*row)->offset, (*row)->width, *high ? " high" : "");
	INVARIANT(f->index < V12_FIELDS && vmcs12_fields[f->index].offset == f->offset &&
			  vmcs12_fields[f->index].encoding == f->encoding,
		  "index %u is not the field's", f->index);
	return f;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned found = 0;

	for (uint64_t e = 0; e < 0x20000; e++) {
		const struct row *r;
		bool high;

		found += check_lookup(e, &r, &high) != NULL;
	}
	/* Every row, and the high half of every 64-bit row. */
	unsigned want = 0;

	for (unsigned i = 0; i < NROWS; i++)
		want += rows[i].width == W64 ? 2 : 1;
	INVARIANT(found == want, "%u encodings name a field, vmcs_fields.def has %u", found, want);
	return 0;
}

/* The value a field holds, from the model. */
static uint64_t model_get(const uint8_t *model, const struct row *r)
{
	uint64_t v = 0;

	memcpy(&v, model + r->offset, r->size);
	return v;
}

/* Nothing outside the field's bytes changed (a byte copy taken before). */
FUZZ_NO_COVERAGE static void check_only_field_changed(const struct vmcs12 *now,
						       const struct vmcs12 *before, const struct row *r)
{
	for (size_t i = 0; i < sizeof(*now); i++)
		INVARIANT(i - r->offset < r->size ||
				  ((const uint8_t *)now)[i] == ((const uint8_t *)before)[i],
			  "writing %s changed byte %zu of struct vmcs12", r->name, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmcs12 v, before;
	static uint8_t model[sizeof(struct vmcs12)];
	struct fuzz_in in = { data, size };

	/* A VMCS12 of the input's bytes (repeated), and the model the same. */
	for (size_t i = 0; i < sizeof(v); i++)
		((uint8_t *)&v)[i] = size ? data[i % size] ^ (uint8_t)(i / size) : 0;
	memcpy(model, &v, sizeof(v));

	while (!fuzz_in_done(&in)) {
		unsigned op = (unsigned)take(&in, 1);
		uint64_t encoding;
		const struct vmcs12_field *f;
		const struct row *r;
		bool high;

		/* Mostly encodings near the table's; now and then any 64-bit operand. */
		if (op & 0x80)
			encoding = take(&in, 8);
		else if (op & 0x40)
			encoding = take(&in, 4);
		else
			encoding = rows[take(&in, 1) % NROWS].encoding | (op & 1);
		f = check_lookup(encoding, &r, &high);
		if (!f)
			continue;
		if (op & 2) {
			uint64_t value = take(&in, 8);
			unsigned bits = op & 4 ? 32 : 64;
			uint64_t operand = bits == 32 ? value & 0xffffffff : value;
			uint64_t old = model_get(model, r), now;

			memcpy(&before, &v, sizeof(v));
			vmcs12_write(&v, f, high, value, bits);
			if (high)
				now = (old & 0xffffffff) | (operand & 0xffffffff) << 32;
			else
				now = r->size == 8 ? operand : operand & ((1ull << (8 * r->size)) - 1);
			memcpy(model + r->offset, &now, r->size);
			check_only_field_changed(&v, &before, r);
			INVARIANT(memcmp(&v, model, sizeof(v)) == 0,
				  "%s after a %u-bit %swrite of 0x%llx: 0x%llx, want 0x%llx", r->name,
				  bits, high ? "high " : "", (unsigned long long)value,
				  (unsigned long long)model_get((const uint8_t *)&v, r),
				  (unsigned long long)now);
		}
		uint64_t want = model_get(model, r), got = vmcs12_read(&v, f, high);

		if (high)
			want >>= 32;
		INVARIANT(got == want, "read of %s%s: 0x%llx, want 0x%llx", r->name,
			  high ? " (high)" : "", (unsigned long long)got, (unsigned long long)want);
	}
	return 0;
}
