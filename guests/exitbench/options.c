/* SPDX-License-Identifier: MIT */
/*
 * The command line: "<path> key=value ...", every word after the path one
 * option. Anything unknown stops the run: a misspelt option would otherwise
 * measure something else than asked, silently.
 *
 *   ops=<op,...>          default: every op
 *   kinds=<kind,...>      l1, l2-reflected, l2-absorbed; default: all
 *   handlers=<h,...>      realistic, minimal; default: both
 *   n=<N>                 samples per measurement, 1..EB_MAX_SAMPLES; default 1000
 *   warmup=<W>            untimed iterations first; default max(n / 10, 10)
 *   trace=<0|1>           1: a Bochs magic breakpoint (XCHG BX, BX) just before and
 *                         just after each timed loop, where tools/trace_exit.py turns
 *                         Bochs' instruction trace on and off; default 0. Elsewhere
 *                         XCHG BX, BX changes nothing.
 */
#include "exitbench.h"

#define DEFAULT_N       1000u
#define MIN_WARMUP      10u

struct options opt;

static const char *const op_names[NUM_OPS] = {
	[OP_CPUID] = "cpuid", [OP_HYPERCALL] = "hypercall", [OP_VMCALL] = "vmcall",
	[OP_RDMSR] = "rdmsr", [OP_WRMSR] = "wrmsr", [OP_IO] = "io", [OP_VMREAD] = "vmread",
	[OP_VMWRITE] = "vmwrite", [OP_VMPTRLD] = "vmptrld", [OP_VMREAD_COLD] = "vmread-cold",
	[OP_VMWRITE_COLD] = "vmwrite-cold", [OP_VMLAUNCH] = "vmlaunch", [OP_EPT_FILL] = "ept-fill",
};
static const char *const kind_names[NUM_KINDS] = {
	[KIND_L1] = "l1", [KIND_L2_REFLECTED] = "l2-reflected", [KIND_L2_ABSORBED] = "l2-absorbed",
};
static const char *const handler_names[NUM_HANDLERS] = {
	[HANDLER_NONE] = "-", [HANDLER_REALISTIC] = "realistic", [HANDLER_MINIMAL] = "minimal",
};

const char *op_name(enum op o) { return op_names[o]; }
const char *kind_name(enum kind k) { return kind_names[k]; }
const char *handler_name(enum handler h) { return handler_names[h]; }

/* A word of the command line: [s, s + len). */
struct word {
	const char *s;
	size_t len;
};

static bool word_is(struct word w, const char *name)
{
	return w.len == strlen(name) && memcmp(w.s, name, w.len) == 0;
}

/* The word as a C string, for messages (printf has no "%.*s"). */
static const char *word_str(struct word w)
{
	static char buf[128];
	size_t n = w.len < sizeof(buf) - 1 ? w.len : sizeof(buf) - 1;

	memcpy(buf, w.s, n);
	buf[n] = '\0';
	return buf;
}

/* The next word of *p separated by `sep` (and the end of the string). */
static bool next_word(const char **p, char sep, struct word *w)
{
	const char *s = *p;

	while (*s == sep)
		s++;
	if (!*s || *s == ' ')
		return false;
	w->s = s;
	while (*s && *s != sep && *s != ' ')
		s++;
	w->len = (size_t)(s - w->s);
	*p = s;
	return true;
}

static void print_known(const char *const *names, unsigned count, unsigned first)
{
	for (unsigned i = first; i < count; i++)
		printf("%s%s", i > first ? "," : "", names[i]);
}

/* "a,b,c" into set[]: every name must be one of names[first..count). */
static bool parse_list(struct word value, const char *key, const char *const *names,
		       unsigned count, unsigned first, bool *set)
{
	char list[256];
	const char *p = list;
	struct word w;

	if (value.len == 0 || value.len >= sizeof(list)) {
		printf("exitbench: error: %s= needs a list of names\n", key);
		return false;
	}
	memcpy(list, value.s, value.len);
	list[value.len] = '\0';
	memset(set, 0, count * sizeof(bool));
	while (next_word(&p, ',', &w)) {
		unsigned i = first;

		while (i < count && !word_is(w, names[i]))
			i++;
		if (i == count) {
			printf("exitbench: error: unknown name '%s' in %s= (known: ", word_str(w), key);
			print_known(names, count, first);
			printf(")\n");
			return false;
		}
		set[i] = true;
	}
	return true;
}

static bool parse_number(struct word value, const char *key, uint32_t min, uint32_t max,
			 uint32_t *out)
{
	uint64_t v = 0;
	bool ok = value.len > 0;

	for (size_t i = 0; ok && i < value.len; i++) {
		ok = value.s[i] >= '0' && value.s[i] <= '9';
		v = v * 10 + (uint64_t)(value.s[i] - '0');
		ok = ok && v <= max;
	}
	if (!ok || v < min) {
		printf("exitbench: error: %s=%s: want a number from %u to %u\n", key, word_str(value),
		       min, max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static bool parse_option(struct word key, struct word value, bool *warmup_given)
{
	if (word_is(key, "ops"))
		return parse_list(value, "ops", op_names, NUM_OPS, 0, opt.op);
	if (word_is(key, "kinds"))
		return parse_list(value, "kinds", kind_names, NUM_KINDS, 0, opt.kind);
	if (word_is(key, "handlers"))
		return parse_list(value, "handlers", handler_names, NUM_HANDLERS, HANDLER_REALISTIC,
				  opt.handler);
	if (word_is(key, "n"))
		return parse_number(value, "n", 1, EB_MAX_SAMPLES, &opt.n);
	if (word_is(key, "trace"))
		return parse_number(value, "trace", 0, 1, &opt.trace);
	if (word_is(key, "warmup")) {
		*warmup_given = true;
		return parse_number(value, "warmup", 0, EB_MAX_SAMPLES, &opt.warmup);
	}
	printf("exitbench: error: unknown option '%s' (known: ops= kinds= handlers= n= warmup= trace=)\n",
	       word_str(key));
	return false;
}

bool options_parse(const char *cmdline)
{
	const char *p = str_after_first_word(cmdline);      /* skip the kernel's path */
	bool warmup_given = false;
	struct word w;

	opt.n = DEFAULT_N;
	for (unsigned i = 0; i < NUM_OPS; i++)
		opt.op[i] = true;
	for (unsigned i = 0; i < NUM_KINDS; i++)
		opt.kind[i] = true;
	opt.handler[HANDLER_REALISTIC] = opt.handler[HANDLER_MINIMAL] = true;

	while (next_word(&p, ' ', &w)) {
		size_t k = 0;
		struct word key, value;

		while (k < w.len && w.s[k] != '=')
			k++;
		if (k == w.len) {
			printf("exitbench: error: '%s' is not key=value\n", word_str(w));
			return false;
		}
		key = (struct word){ w.s, k };
		value = (struct word){ w.s + k + 1, w.len - k - 1 };
		if (!parse_option(key, value, &warmup_given))
			return false;
	}
	if (!warmup_given)
		opt.warmup = opt.n / 10 > MIN_WARMUP ? opt.n / 10 : MIN_WARMUP;
	return true;
}

static void print_set(const char *key, const char *const *names, const bool *set,
		      unsigned count)
{
	bool first = true;

	printf(" %s=", key);
	for (unsigned i = 0; i < count; i++) {
		if (set[i]) {
			printf("%s%s", first ? "" : ",", names[i]);
			first = false;
		}
	}
	if (first)
		printf("-");
}

void options_print_start(void)
{
	printf("exitbench: start version=1");
	print_set("ops", op_names, opt.op, NUM_OPS);
	printf(" n=%u warmup=%u", opt.n, opt.warmup);
	if (opt.trace)
		printf(" trace=1");
	print_set("handlers", handler_names, opt.handler, NUM_HANDLERS);
	print_set("kinds", kind_names, opt.kind, NUM_KINDS);
	printf("\n");
}
