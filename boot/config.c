/* SPDX-License-Identifier: MIT */
/* nestvisor.cfg parser (pure): every error names its line. */
#include "config.h"

#include <nestvisor/memmap.h>
#include <nestvisor/string.h>
#include <stdarg.h>
#include <stdbool.h>

enum key_id {
	KEY_L1, KEY_CMDLINE, KEY_L1_MEMORY, KEY_L0_MEMORY, KEY_MODULE, KEY_LOG, KEY_SELFTEST,
	KEY_ACCOUNTING, KEY_VMCS_SHADOWING, KEY_VMCS_SHADOW_SET, KEY_LOG_PORT, KEY_EPT02_POOL,
	KEY_COUNT
};

static const struct {
	const char *name;
	bool repeatable;
	bool may_be_empty;
} keys[KEY_COUNT] = {
	[KEY_L1] = { "l1", false, false },
	[KEY_CMDLINE] = { "cmdline", false, true },
	[KEY_L1_MEMORY] = { "l1_memory", false, false },
	[KEY_L0_MEMORY] = { "l0_memory", false, false },
	[KEY_MODULE] = { "module", true, false },
	[KEY_LOG] = { "log", false, false },
	[KEY_SELFTEST] = { "selftest", false, false },
	[KEY_ACCOUNTING] = { "accounting", false, false },
	[KEY_VMCS_SHADOWING] = { "vmcs_shadowing", false, false },
	[KEY_VMCS_SHADOW_SET] = { "vmcs_shadow_set", false, false },
	[KEY_LOG_PORT] = { "log_port", false, false },
	[KEY_EPT02_POOL] = { "ept02_pool", false, false },
};

static const char *const log_names[] = {
	[NV_LOG_QUIET] = "quiet",
	[NV_LOG_INFO] = "info",
	[NV_LOG_DEBUG] = "debug",
	[NV_LOG_TRACE] = "trace",
};

static const char *const selftest_names[] = {
	[NV_SELFTEST_NONE] = "none",
	[NV_SELFTEST_L0_FAULT] = "l0-fault",
	[NV_SELFTEST_L0_MCE] = "l0-mce",
};

static const char *const switch_names[] = { [0] = "off", [1] = "on" };

static const char *const shadow_set_names[] = {
	[NV_SHADOW_SET_HOT] = "hot",
	[NV_SHADOW_SET_WIDE] = "wide",
};

static const char *const port_names[] = {
	[NV_LOG_PORT_COM1] = "com1",
	[NV_LOG_PORT_COM2] = "com2",
};

/* Keys whose value is one word of a list: the list, and what to call it in errors. */
struct choice {
	const char *const *names;
	uint32_t count;
	const char *what;
	const char *want;
};

#define CHOICE(list, what, want) { list, sizeof(list) / sizeof(list[0]), what, want }

/* A slice of the file: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

struct parser {
	struct nv_config *cfg;
	unsigned line;
	unsigned seen[KEY_COUNT]; /* line a key was first set on, 0 = not yet */
	char *err;
	size_t errlen;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct span trim(struct span s)
{
	while (s.n && is_space(s.p[0]))
		s.p++, s.n--;
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* lib/string.c has no memchr: the freestanding build needs its own. */
static const char *find_char(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == c)
			return p + i;
	return NULL;
}

static bool span_eq(struct span s, const char *word)
{
	size_t n = strlen(word);

	return s.n == n && memcmp(s.p, word, n) == 0;
}

/* Copy a slice for a message, shortened to at most 40 characters. */
static const char *quote(struct span s, char *buf, size_t size)
{
	size_t n = s.n < 40 ? s.n : 40;

	if (n + 4 > size)
		n = size - 4;
	memcpy(buf, s.p, n);
	memcpy(buf + n, s.n > n ? "..." : "", s.n > n ? 4 : 1);
	return buf;
}

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	nv_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nv_snprintf(ps->err, ps->errlen, "line %u: %s", ps->line, msg);
	return -1;
}

static int copy_value(struct parser *ps, const char *key, struct span v, char *dst, size_t size)
{
	if (v.n >= size)
		return fail(ps, "value of '%s' is too long (%zu bytes, max %zu)", key, v.n, size - 1);
	memcpy(dst, v.p, v.n);
	dst[v.n] = '\0';
	return 0;
}

/* Paths become UCS-2 for the firmware: printable ASCII, no spaces. */
static int check_path(struct parser *ps, const char *key, struct span path)
{
	for (size_t i = 0; i < path.n; i++) {
		unsigned char c = (unsigned char)path.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(ps, "path in '%s' has byte 0x%02x, not printable ASCII", key, c);
	}
	return 0;
}

int nv_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, base = 10, shift = 0;
	const char *p = s;
	bool digits = false;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
		digits = true;
	}
	if (!digits)
		return -1;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default: break;
	}
	if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_size_value(struct parser *ps, const char *key, struct span v, uint64_t *out)
{
	char buf[32], q[48];

	if (v.n < sizeof(buf)) {
		memcpy(buf, v.p, v.n);
		buf[v.n] = '\0';
		if (nv_parse_size(buf, out) == 0)
			return 0;
	}
	return fail(ps, "bad size '%s' for '%s' (want a number with an optional K, M or G suffix, or 0x hex)",
		    quote(v, q, sizeof(q)), key);
}

static int set_choice(struct parser *ps, struct span v, uint32_t *out, const struct choice *c)
{
	char q[48];

	for (uint32_t i = 0; i < c->count; i++) {
		if (span_eq(v, c->names[i])) {
			*out = i;
			return 0;
		}
	}
	return fail(ps, "unknown %s '%s' (want %s)", c->what, quote(v, q, sizeof(q)), c->want);
}

/* A pool size of L0's: within [min, max] (named in errors), a multiple of 4K. */
struct pool_range {
	uint64_t min, max;
	const char *names;
};

static int parse_pool_size(struct parser *ps, const char *key, struct span v,
			   const struct pool_range *r, uint64_t *out)
{
	if (parse_size_value(ps, key, v, out))
		return -1;
	if (*out < r->min || *out > r->max)
		return fail(ps, "%s 0x%llx is outside %s", key, (unsigned long long)*out, r->names);
	if (*out % NV_PAGE_SIZE)
		return fail(ps, "%s 0x%llx is not a multiple of 4K", key, (unsigned long long)*out);
	return 0;
}

static int set_value(struct parser *ps, enum key_id k, struct span v)
{
	struct nv_config *cfg = ps->cfg;
	const char *key = keys[k].name;

	switch (k) {
	case KEY_L1:
		if (check_path(ps, key, v))
			return -1;
		return copy_value(ps, key, v, cfg->l1, sizeof(cfg->l1));
	case KEY_CMDLINE:
		return copy_value(ps, key, v, cfg->cmdline, sizeof(cfg->cmdline));
	case KEY_L1_MEMORY:
		if (parse_size_value(ps, key, v, &cfg->l1_memory))
			return -1;
		if (cfg->l1_memory < NV_L1_MEMORY_MIN)
			return fail(ps, "l1_memory 0x%llx is below the minimum 2M",
				    (unsigned long long)cfg->l1_memory);
		return 0;
	case KEY_L0_MEMORY:
		return parse_pool_size(ps, key, v, &(struct pool_range){ NV_L0_MEMORY_MIN,
					NV_L0_MEMORY_MAX, "4M..1G" }, &cfg->l0_memory);
	case KEY_MODULE: {
		struct nv_config_module *m;
		struct span path = v;

		if (cfg->nmodules == NV_L1_MAX_MODULES)
			return fail(ps, "too many modules (max %d)", NV_L1_MAX_MODULES);
		m = &cfg->modules[cfg->nmodules];
		for (path.n = 0; path.n < v.n && !is_space(v.p[path.n]); path.n++)
			;
		if (copy_value(ps, key, v, m->string, sizeof(m->string)) || check_path(ps, key, path) ||
		    copy_value(ps, key, path, m->path, sizeof(m->path)))
			return -1;
		cfg->nmodules++;
		return 0;
	}
	case KEY_LOG:
		return set_choice(ps, v, &cfg->log_level,
				  &(struct choice)CHOICE(log_names, "log level",
							 "quiet, info, debug or trace"));
	case KEY_SELFTEST:
		return set_choice(ps, v, &cfg->selftest,
				  &(struct choice)CHOICE(selftest_names, "selftest",
							 "none, l0-fault or l0-mce"));
	case KEY_ACCOUNTING:
		return set_choice(ps, v, &cfg->accounting,
				  &(struct choice)CHOICE(switch_names, "accounting", "on or off"));
	case KEY_VMCS_SHADOWING:
		return set_choice(ps, v, &cfg->vmcs_shadowing,
				  &(struct choice)CHOICE(switch_names, "vmcs_shadowing", "on or off"));
	case KEY_VMCS_SHADOW_SET:
		return set_choice(ps, v, &cfg->vmcs_shadow_set,
				  &(struct choice)CHOICE(shadow_set_names, "vmcs_shadow_set",
							 "hot or wide"));
	case KEY_LOG_PORT:
		return set_choice(ps, v, &cfg->log_port,
				  &(struct choice)CHOICE(port_names, "log_port", "com1 or com2"));
	case KEY_EPT02_POOL:
		return parse_pool_size(ps, key, v, &(struct pool_range){ NV_EPT02_POOL_MIN,
					NV_EPT02_POOL_MAX, "1M..256M" }, &cfg->ept02_pool);
	case KEY_COUNT:
		break;
	}
	return -1;
}

/* "#" starts a comment at the start of a line or after whitespace. */
static struct span strip_comment(struct span s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '#' && (i == 0 || is_space(s.p[i - 1]))) {
			s.n = i;
			break;
		}
	}
	return s;
}

static int parse_line(struct parser *ps, struct span line)
{
	struct span key, value;
	const char *eq;
	char q[48];
	int k;

	line = trim(strip_comment(line));
	if (line.n == 0)
		return 0;
	for (size_t i = 0; i < line.n; i++) {
		unsigned char c = (unsigned char)line.p[i];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return fail(ps, "control character 0x%02x", c);
	}
	eq = find_char(line.p, line.n, '=');
	if (!eq)
		return fail(ps, "expected 'key = value', got '%s'", quote(line, q, sizeof(q)));
	key = trim((struct span){ line.p, (size_t)(eq - line.p) });
	value = trim((struct span){ eq + 1, line.n - (size_t)(eq - line.p) - 1 });
	if (key.n == 0)
		return fail(ps, "missing key before '='");
	for (k = 0; k < KEY_COUNT; k++)
		if (span_eq(key, keys[k].name))
			break;
	if (k == KEY_COUNT)
		return fail(ps, "unknown key '%s'", quote(key, q, sizeof(q)));
	if (ps->seen[k] && !keys[k].repeatable)
		return fail(ps, "duplicate key '%s' (first set on line %u)", keys[k].name,
			    ps->seen[k]);
	if (!ps->seen[k])
		ps->seen[k] = ps->line;
	if (value.n == 0 && !keys[k].may_be_empty)
		return fail(ps, "empty value for '%s'", keys[k].name);
	return set_value(ps, (enum key_id)k, value);
}

int nv_config_parse(const char *text, size_t len, struct nv_config *cfg, char *err,
		    size_t errlen)
{
	struct parser ps = { .cfg = cfg, .err = err, .errlen = errlen };
	size_t pos = 0, need;

	memset(cfg, 0, sizeof(*cfg));
	cfg->l0_memory = NV_L0_MEMORY_DEFAULT;
	cfg->ept02_pool = NV_EPT02_POOL_DEFAULT;
	cfg->log_level = NV_LOG_INFO;
	cfg->accounting = 1;
	cfg->vmcs_shadowing = 1;
	cfg->vmcs_shadow_set = NV_SHADOW_SET_HOT;
	cfg->log_port = NV_LOG_PORT_COM1;
	/* Editors on Windows start UTF-8 files with a byte-order mark: skip it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *nl = find_char(text + pos, len - pos, '\n');
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps.line++;
		if (find_char(text + pos, n, '\0'))
			return fail(&ps, "NUL byte");
		if (parse_line(&ps, (struct span){ text + pos, n }))
			return -1;
		pos += n + 1;
	}
	if (!ps.seen[KEY_L1]) {
		nv_snprintf(err, errlen, "no 'l1' line: the path of the L1 kernel is required");
		return -1;
	}
	if (cfg->ept02_pool > cfg->l0_memory / 2) {
		ps.line = ps.seen[KEY_EPT02_POOL] ? ps.seen[KEY_EPT02_POOL] : ps.seen[KEY_L0_MEMORY];
		return fail(&ps, "ept02_pool 0x%llx is more than half of l0_memory 0x%llx",
			    (unsigned long long)cfg->ept02_pool, (unsigned long long)cfg->l0_memory);
	}
	/* L1 sees "<l1 path> <cmdline>" (see struct nv_l1_plan.cmdline). */
	need = strlen(cfg->l1) + (cfg->cmdline[0] ? 1 + strlen(cfg->cmdline) : 0);
	if (need >= NV_CMDLINE_MAX) {
		ps.line = ps.seen[KEY_CMDLINE] ? ps.seen[KEY_CMDLINE] : ps.seen[KEY_L1];
		return fail(&ps, "cmdline is too long: '<l1 path> <cmdline>' is %zu bytes, max %d",
			    need, NV_CMDLINE_MAX - 1);
	}
	return 0;
}
