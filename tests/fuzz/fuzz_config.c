/* SPDX-License-Identifier: MIT */
/*
 * boot/config.c on arbitrary bytes. Invariants: the result is 0 or -1; a
 * failure leaves a non-empty, NUL-terminated message that names its line
 * ("line N: ", N within the file) or the missing 'l1' key, and a shorter
 * buffer gets a NUL-terminated prefix of it with no byte written past its
 * end; a success leaves every field in its documented range (config.h) and
 * every string NUL-terminated; parsing is deterministic; and a config written
 * back from an accepted one parses to the same thing.
 */
#include "fuzz.h"

#include "boot/config.h"

#define ERR_SIZE 256
#define CANARY   0xa5

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

/* "line N: ..." with 1 <= N <= lines. */
static bool names_a_line(const char *err, unsigned lines)
{
	char *end;
	unsigned long n;

	if (strncmp(err, "line ", 5) != 0 || err[5] < '1' || err[5] > '9')
		return false;
	n = strtoul(err + 5, &end, 10);
	return n >= 1 && n <= lines && end[0] == ':' && end[1] == ' ' && end[2] != '\0';
}

static bool printable_path(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* What parse_line lets through: no control character but tab and CR, no DEL. */
static bool clean_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return false;
	}
	return true;
}

static void check_accepted(const struct nv_config *c)
{
	INVARIANT(nul_terminated(c->l1, sizeof(c->l1)) && printable_path(c->l1), "l1 path");
	INVARIANT(nul_terminated(c->cmdline, sizeof(c->cmdline)) && clean_text(c->cmdline),
		  "cmdline");
	INVARIANT(strlen(c->l1) + (c->cmdline[0] ? 1 + strlen(c->cmdline) : 0) < NV_CMDLINE_MAX,
		  "'<l1> <cmdline>' is %zu + %zu bytes", strlen(c->l1), strlen(c->cmdline));
	INVARIANT(c->l1_memory == 0 || c->l1_memory >= NV_L1_MEMORY_MIN, "l1_memory 0x%llx",
		  (unsigned long long)c->l1_memory);
	INVARIANT(c->l0_memory >= NV_L0_MEMORY_MIN && c->l0_memory <= NV_L0_MEMORY_MAX &&
			  c->l0_memory % 4096 == 0,
		  "l0_memory 0x%llx", (unsigned long long)c->l0_memory);
	INVARIANT(c->ept02_pool >= NV_EPT02_POOL_MIN && c->ept02_pool <= NV_EPT02_POOL_MAX &&
			  c->ept02_pool % 4096 == 0 && c->ept02_pool <= c->l0_memory / 2,
		  "ept02_pool 0x%llx with l0_memory 0x%llx", (unsigned long long)c->ept02_pool,
		  (unsigned long long)c->l0_memory);
	INVARIANT(c->log_level <= NV_LOG_TRACE, "log_level %u", c->log_level);
	INVARIANT(c->selftest <= NV_SELFTEST_L0_FAULT, "selftest %u", c->selftest);
	INVARIANT(c->accounting <= 1 && c->vmcs_shadowing <= 1, "switches %u %u", c->accounting,
		  c->vmcs_shadowing);
	INVARIANT(c->vmcs_shadow_set <= NV_SHADOW_SET_WIDE, "vmcs_shadow_set %u", c->vmcs_shadow_set);
	INVARIANT(c->log_port <= NV_LOG_PORT_COM2, "log_port %u", c->log_port);
	INVARIANT(c->nmodules <= NV_L1_MAX_MODULES, "nmodules %u", c->nmodules);
	for (uint32_t i = 0; i < c->nmodules; i++) {
		const struct nv_config_module *m = &c->modules[i];
		size_t n;

		INVARIANT(nul_terminated(m->path, sizeof(m->path)) &&
				  nul_terminated(m->string, sizeof(m->string)),
			  "module %u strings", i);
		n = strlen(m->path);
		/* The path is the first word of the string. */
		INVARIANT(printable_path(m->path) && strncmp(m->string, m->path, n) == 0 &&
				  (m->string[n] == '\0' || m->string[n] == ' ' ||
				   m->string[n] == '\t' || m->string[n] == '\r'),
			  "module %u: path '%s', string '%s'", i, m->path, m->string);
		INVARIANT(clean_text(m->string), "module %u string", i);
	}
}

/* The config written back in the file's syntax (no space before values: '#' there is a comment). */
static size_t emit(const struct nv_config *c, char *buf, size_t size)
{
	static const char *const logs[] = { "quiet", "info", "debug", "trace" };
	static const char *const ports[] = { "com1", "com2" };
	static const char *const onoff[] = { "off", "on" };
	static const char *const sets[] = { "hot", "wide" };
	int n = snprintf(buf, size,
			 "l1=%s\nl0_memory=0x%llx\nept02_pool=0x%llx\nlog=%s\nselftest=%s\n"
			 "accounting=%s\nvmcs_shadowing=%s\nvmcs_shadow_set=%s\nlog_port=%s\n",
			 c->l1, (unsigned long long)c->l0_memory,
			 (unsigned long long)c->ept02_pool, logs[c->log_level],
			 c->selftest ? "l0-fault" : "none", onoff[c->accounting],
			 onoff[c->vmcs_shadowing], sets[c->vmcs_shadow_set], ports[c->log_port]);
	size_t len = (size_t)n;

	if (c->cmdline[0])
		len += (size_t)snprintf(buf + len, size - len, "cmdline=%s\n", c->cmdline);
	if (c->l1_memory)
		len += (size_t)snprintf(buf + len, size - len, "l1_memory=0x%llx\n",
					(unsigned long long)c->l1_memory);
	for (uint32_t i = 0; i < c->nmodules; i++)
		len += (size_t)snprintf(buf + len, size - len, "module=%s\n", c->modules[i].string);
	INVARIANT(len < size, "written-back config too long");
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nv_config a, b, again;
	static char text[16384];
	char err[ERR_SIZE], err2[ERR_SIZE], small[ERR_SIZE + 1];
	size_t small_len = size ? data[0] % 48 : 0;
	int rc, rc2;

	memset(err, CANARY, sizeof(err));
	rc = nv_config_parse((const char *)data, size, &a, err, sizeof(err));
	INVARIANT(rc == 0 || rc == -1, "returned %d", rc);

	/* Deterministic: the same input, the same configuration or message. */
	memset(err2, CANARY, sizeof(err2));
	rc2 = nv_config_parse((const char *)data, size, &b, err2, sizeof(err2));
	INVARIANT(rc2 == rc, "second parse returned %d, first %d", rc2, rc);
	INVARIANT(memcmp(&a, &b, sizeof(a)) == 0, "second parse gave another configuration");

	if (rc < 0) {
		INVARIANT(nul_terminated(err, sizeof(err)), "message not NUL-terminated");
		INVARIANT(strcmp(err, err2) == 0, "messages differ: '%s' / '%s'", err, err2);
		INVARIANT(err[0] != '\0', "empty message");
		INVARIANT(names_a_line(err, count_lines(data, size)) ||
				  (strncmp(err, "line ", 5) != 0 && strstr(err, "'l1'")),
			  "message names no line of the %u: '%s'", count_lines(data, size), err);
		/* A short buffer: a NUL-terminated prefix, nothing written past it. */
		memset(small, CANARY, sizeof(small));
		nv_config_parse((const char *)data, size, &b, small, small_len);
		INVARIANT((unsigned char)small[small_len] == CANARY, "wrote past errlen %zu",
			  small_len);
		if (small_len) {
			INVARIANT(nul_terminated(small, small_len) &&
					  strncmp(small, err, strlen(small)) == 0,
				  "errlen %zu: '%.*s' is not a prefix of '%s'", small_len,
				  (int)small_len, small, err);
		}
		return 0;
	}
	check_accepted(&a);

	/* Written back and parsed again: the same configuration. */
	size_t len = emit(&a, text, sizeof(text));

	rc = nv_config_parse(text, len, &again, err, sizeof(err));
	INVARIANT(rc == 0, "written-back config rejected: %s\n--\n%s", err, text);
	INVARIANT(memcmp(&a, &again, sizeof(a)) == 0, "written-back config differs:\n%s", text);
	return 0;
}
