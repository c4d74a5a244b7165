/* SPDX-License-Identifier: MIT */
/* Reading the Multiboot information: command line words and the memory map. */
#include <guest.h>

const char *mbi_cmdline(const struct multiboot_info *mbi)
{
	if (!mbi || !(mbi->flags & MBI_FLAG_CMDLINE) || !mbi->cmdline)
		return "";
	return (const char *)(uintptr_t)mbi->cmdline;
}

static size_t first_word_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ')
		n++;
	return n;
}

const char *str_after_first_word(const char *s)
{
	s += first_word_len(s);
	while (*s == ' ')
		s++;
	return s;
}

bool first_word_ends_with(const char *s, const char *suffix)
{
	size_t n = first_word_len(s), k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

bool has_word(const char *s, const char *word)
{
	size_t k = strlen(word);

	while (*s) {
		size_t n;

		while (*s == ' ')
			s++;
		n = first_word_len(s);
		if (n == k && memcmp(s, word, k) == 0)
			return true;
		s += n;
	}
	return false;
}

bool word_value(const char *s, const char *key, uint32_t *value)
{
	size_t k = strlen(key);

	while (*s) {
		size_t n;

		while (*s == ' ')
			s++;
		n = first_word_len(s);
		if (n > k + 1 && memcmp(s, key, k) == 0 && s[k] == '=') {
			uint32_t v = 0;

			for (size_t i = k + 1; i < n; i++) {
				if (s[i] < '0' || s[i] > '9')
					return false;
				v = v * 10 + (uint32_t)(s[i] - '0');
			}
			*value = v;
			return true;
		}
		s += n;
	}
	return false;
}

const char *mmap_type_name(uint32_t type)
{
	switch (type) {
	case MMAP_TYPE_USABLE:
		return "usable";
	case MMAP_TYPE_RESERVED:
		return "reserved";
	case MMAP_TYPE_ACPI_RECLAIM:
		return "ACPI";
	case MMAP_TYPE_ACPI_NVS:
		return "ACPI-NVS";
	case MMAP_TYPE_BAD:
		return "bad";
	default:
		return "other";
	}
}

unsigned mbi_print_mmap(const struct multiboot_info *mbi)
{
	const struct multiboot_mmap_entry *e;
	unsigned n = 0;

	mmap_for_each(mbi, e) {
		printf("mmap: [0x%09llx-0x%09llx] %u %s\n", (unsigned long long)e->base,
		       (unsigned long long)(e->base + e->length - 1), e->type,
		       mmap_type_name(e->type));
		n++;
	}
	return n;
}
