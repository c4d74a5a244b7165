/* SPDX-License-Identifier: MIT */
/*
 * Samples and the lines that report them: `timestamp`, `result`, `skip` and
 * `check` (tools/FORMATS.md). Values never contain spaces: free text (skip
 * reasons, check details) has its spaces turned into '_'.
 */
#include "exitbench.h"

int64_t eb_samples[EB_MAX_SAMPLES];
uint64_t eb_t0;         /* stamp.inc: the first timestamp of the current window */
int64_t eb_pair;
unsigned checks_passed, checks_failed;

/* Heapsort: O(n log n) whatever the data, no recursion, no extra memory. */
static void sift_down(int64_t *v, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		int64_t t;

		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

static void sort(int64_t *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		int64_t t = v[0];

		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

/* The median of sorted v[0..n): the mean of the two middle values for even n,
 * rounded down. */
static int64_t median_sorted(const int64_t *v, size_t n)
{
	int64_t a = v[(n - 1) / 2], b = v[n / 2];
	int64_t sum = a + b;

	return sum >= 0 ? sum / 2 : -((-sum + 1) / 2);
}

bool timestamp_init(void)
{
	struct eb_regs none = { 0 };
	uint32_t n = opt.n;

	/* RDTSC (SDM Vol. 2B) needs CPUID.1:EDX.TSC; LFENCE needs SSE2, which
	 * every 64-bit processor has (checked anyway: it is cheap). */
	if (!(cpuid(1).edx & CPUID_1_EDX_TSC) || !(cpuid(1).edx & CPUID_1_EDX_SSE2)) {
		printf("exitbench: error: no TSC or no SSE2 (LFENCE): nothing can be timed\n");
		return false;
	}
	for (uint32_t i = 0; i < opt.warmup; i++)
		eb_l1_pair(&none);
	for (uint32_t i = 0; i < n; i++)
		eb_samples[i] = eb_l1_pair(&none);
	sort(eb_samples, n);
	eb_pair = median_sorted(eb_samples, n);
	printf("exitbench: timestamp method=lfence-rdtsc-lfence pair=%lld\n", (long long)eb_pair);
	return true;
}

/* num / den rounded to `decimals` places (at most 2), trailing zeros dropped:
 * "225", "225.5", "0.01". */
static void fmt_ratio(char *buf, size_t size, int64_t num, uint64_t den, unsigned decimals)
{
	uint64_t scale = decimals >= 2 ? 100 : decimals == 1 ? 10 : 1;
	bool neg = num < 0;
	uint64_t mag = neg ? (uint64_t)-num : (uint64_t)num;
	uint64_t scaled = (mag * scale + den / 2) / den;
	uint64_t whole = scaled / scale, frac = scaled % scale;
	const char *sign = neg && scaled ? "-" : "";

	if (frac == 0)
		nv_snprintf(buf, size, "%s%llu", sign, (unsigned long long)whole);
	else if (scale == 100 && frac % 10 != 0)
		nv_snprintf(buf, size, "%s%llu.%02llu", sign, (unsigned long long)whole,
			    (unsigned long long)frac);
	else
		nv_snprintf(buf, size, "%s%llu.%llu", sign, (unsigned long long)whole,
			    (unsigned long long)(scale == 100 ? frac / 10 : frac));
}

void fmt_per_op(char *buf, size_t size, uint64_t total, uint32_t n)
{
	fmt_ratio(buf, size, (int64_t)total, n, 2);
}

const char *meas_label(const struct meas *m)
{
	static char buf[64];

	if (m->handler == HANDLER_NONE)
		nv_snprintf(buf, sizeof(buf), "%s.%s", kind_name(m->kind), op_name(m->op));
	else
		nv_snprintf(buf, sizeof(buf), "%s.%s.%s", kind_name(m->kind), op_name(m->op),
			    handler_name(m->handler));
	return buf;
}

void result_print(const struct meas *m, uint32_t n)
{
	int64_t sum = 0;
	char mean[32], acct[1024];

	sort(eb_samples, n);
	for (uint32_t i = 0; i < n; i++)
		sum += eb_samples[i] - eb_pair;
	fmt_ratio(mean, sizeof(mean), sum, n, 1);
	acct_format(acct, sizeof(acct), n);
	printf("exitbench: result kind=%s op=%s handler=%s samples=%u min=%lld median=%lld mean=%s "
	       "max=%lld %s\n", kind_name(m->kind), op_name(m->op), handler_name(m->handler), n,
	       (long long)(eb_samples[0] - eb_pair),
	       (long long)(median_sorted(eb_samples, n) - eb_pair), mean,
	       (long long)(eb_samples[n - 1] - eb_pair), acct);
}

static void no_spaces(char *s)
{
	for (; *s; s++)
		if (*s == ' ')
			*s = '_';
}

void skip(const struct meas *m, const char *why_fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, why_fmt);
	nv_vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	no_spaces(why);
	printf("exitbench: skip kind=%s op=%s handler=%s why=%s\n", kind_name(m->kind),
	       op_name(m->op), handler_name(m->handler), why);
}

static bool vcheck(const struct meas *m, const char *what, bool ok, const char *detail_fmt,
		   va_list ap)
{
	char detail[256], name[128];

	nv_vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	no_spaces(detail);
	if (m)
		nv_snprintf(name, sizeof(name), "%s.%s", meas_label(m), what);
	else
		nv_strlcpy(name, what, sizeof(name));
	no_spaces(name);
	printf("exitbench: check name=%s result=%s detail=%s\n", name, ok ? "ok" : "FAIL", detail);
	if (ok)
		checks_passed++;
	else
		checks_failed++;
	return ok;
}

bool check(const struct meas *m, const char *what, bool ok, const char *detail_fmt, ...)
{
	va_list ap;

	va_start(ap, detail_fmt);
	vcheck(m, what, ok, detail_fmt, ap);
	va_end(ap);
	return ok;
}

bool setup_ok(const struct meas *m, const char *what, bool ok, const char *detail_fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	va_start(ap, detail_fmt);
	vcheck(m, what, false, detail_fmt, ap);
	va_end(ap);
	return false;
}
