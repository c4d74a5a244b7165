/* SPDX-License-Identifier: MIT */
/* boot/config.c: the nestvisor.cfg parser. */
#include "unit.h"

#include "boot/config.h"

static struct nv_config cfg;
static char err[256];

static int parse(const char *text)
{
	err[0] = '\0';
	return nv_config_parse(text, strlen(text), &cfg, err, sizeof(err));
}

TEST(config_good_full)
{
	const char *text =
		"# nestvisor config\r\n"
		"l1 = \\boot\\kernel.elf\r\n"
		"\r\n"
		"   cmdline =  console=ttyS0 a=b#c   # trailing comment\r\n"
		"l1_memory = 512M\n"
		"l0_memory=0x4000000\n"
		"module = /boot/initrd.img  root=/dev/ram0 \n"
		"module = \\boot\\second\n"
		"log = debug";

	CHECK_EQ(parse(text), 0);
	CHECK_STR(err, "");
	CHECK_STR(cfg.l1, "\\boot\\kernel.elf");
	CHECK_STR(cfg.cmdline, "console=ttyS0 a=b#c");
	CHECK_EQ(cfg.l1_memory, 512ULL << 20);
	CHECK_EQ(cfg.l0_memory, 0x4000000);
	CHECK_EQ(cfg.nmodules, 2);
	CHECK_STR(cfg.modules[0].path, "/boot/initrd.img");
	CHECK_STR(cfg.modules[0].string, "/boot/initrd.img  root=/dev/ram0");
	CHECK_STR(cfg.modules[1].path, "\\boot\\second");
	CHECK_STR(cfg.modules[1].string, "\\boot\\second");
	CHECK_EQ(cfg.log_level, NV_LOG_DEBUG);
}

TEST(config_defaults)
{
	CHECK_EQ(parse("l1=/k\n"), 0);
	CHECK_STR(cfg.l1, "/k");
	CHECK_STR(cfg.cmdline, "");
	CHECK_EQ(cfg.l1_memory, 0);
	CHECK_EQ(cfg.l0_memory, NV_L0_MEMORY_DEFAULT);
	CHECK_EQ(cfg.log_level, NV_LOG_INFO);
	CHECK_EQ(cfg.nmodules, 0);
	/* An empty cmdline is allowed; each log level parses. */
	CHECK_EQ(parse("l1=/k\ncmdline =\nlog = quiet\n"), 0);
	CHECK_EQ(cfg.log_level, NV_LOG_QUIET);
	CHECK_EQ(parse("l1=/k\nlog = trace\n"), 0);
	CHECK_EQ(cfg.log_level, NV_LOG_TRACE);
}

TEST(config_sizes)
{
	uint64_t v;

	CHECK_EQ(nv_parse_size("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(nv_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(nv_parse_size("4k", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(nv_parse_size("3G", &v), 0);
	CHECK_EQ(v, 3ULL << 30);
	CHECK_EQ(nv_parse_size("0x200000", &v), 0);
	CHECK_EQ(v, 0x200000);
	CHECK_EQ(nv_parse_size("0X10M", &v), 0);
	CHECK_EQ(v, 16ULL << 20);
	CHECK(nv_parse_size("", &v) < 0);
	CHECK(nv_parse_size("0x", &v) < 0);
	CHECK(nv_parse_size("12Q", &v) < 0);
	CHECK(nv_parse_size("1MB", &v) < 0);
	CHECK(nv_parse_size("-1", &v) < 0);
	CHECK(nv_parse_size("1 M", &v) < 0);
	CHECK(nv_parse_size("18446744073709551616", &v) < 0);
	CHECK(nv_parse_size("17179869184G", &v) < 0);
	CHECK_EQ(nv_parse_size("18446744073709551615", &v), 0);
}

TEST(config_selftest)
{
	CHECK_EQ(parse("l1=/k\n"), 0);
	CHECK_EQ(cfg.selftest, NV_SELFTEST_NONE);
	CHECK_EQ(parse("l1=/k\nselftest = l0-fault\n"), 0);
	CHECK_EQ(cfg.selftest, NV_SELFTEST_L0_FAULT);
	CHECK(parse("l1=/k\nselftest = crash\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown selftest 'crash'");
	CHECK(parse("l1=/k\nselftest = none\nselftest = none\n") < 0);  /* not repeatable */
}

TEST(config_l0_switches)
{
	CHECK_EQ(parse("l1=/k\n"), 0);
	CHECK_EQ(cfg.accounting, 1);
	CHECK_EQ(cfg.vmcs_shadowing, 1);
	CHECK_EQ(cfg.log_port, NV_LOG_PORT_COM1);
	CHECK_EQ(parse("l1=/k\naccounting = off\nvmcs_shadowing = off\nlog_port = com2\n"), 0);
	CHECK_EQ(cfg.accounting, 0);
	CHECK_EQ(cfg.vmcs_shadowing, 0);
	CHECK_EQ(cfg.log_port, NV_LOG_PORT_COM2);
	CHECK_EQ(parse("l1=/k\naccounting = on\n"), 0);
	CHECK_EQ(cfg.accounting, 1);
	CHECK(parse("l1=/k\nvmcs_shadowing = yes\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown vmcs_shadowing 'yes' (want on or off)");
	CHECK(parse("l1=/k\naccounting = 0\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown accounting '0' (want on or off)");
	CHECK(parse("l1=/k\nlog_port = com3\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown log_port 'com3' (want com1 or com2)");
	CHECK(parse("l1=/k\naccounting = on\naccounting = off\n") < 0);
	CHECK_CONTAINS(err, "line 3: duplicate key 'accounting'");
}

TEST(config_vmcs_shadow_set)
{
	CHECK_EQ(parse("l1=/k\n"), 0);
	CHECK_EQ(cfg.vmcs_shadow_set, NV_SHADOW_SET_HOT);  /* the default: today's set */
	CHECK_EQ(parse("l1=/k\nvmcs_shadow_set = wide\n"), 0);
	CHECK_EQ(cfg.vmcs_shadow_set, NV_SHADOW_SET_WIDE);
	CHECK_EQ(cfg.vmcs_shadowing, 1);
	CHECK_EQ(parse("l1=/k\nvmcs_shadow_set=hot # the default\n"), 0);
	CHECK_EQ(cfg.vmcs_shadow_set, NV_SHADOW_SET_HOT);
	/* Independent of vmcs_shadowing: without a shadow VMCS it has no effect. */
	CHECK_EQ(parse("l1=/k\nvmcs_shadowing = off\nvmcs_shadow_set = wide\n"), 0);
	CHECK_EQ(cfg.vmcs_shadowing, 0);
	CHECK_EQ(cfg.vmcs_shadow_set, NV_SHADOW_SET_WIDE);
	CHECK(parse("l1=/k\nvmcs_shadow_set = all\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown vmcs_shadow_set 'all' (want hot or wide)");
	CHECK(parse("l1=/k\nvmcs_shadow_set = Wide\n") < 0);
	CHECK_CONTAINS(err, "line 2: unknown vmcs_shadow_set 'Wide' (want hot or wide)");
	CHECK(parse("l1=/k\nvmcs_shadow_set =\n") < 0);
	CHECK_CONTAINS(err, "line 2: empty value for 'vmcs_shadow_set'");
	CHECK(parse("l1=/k\nvmcs_shadow_set = wide\nvmcs_shadow_set = hot\n") < 0);
	CHECK_CONTAINS(err, "line 3: duplicate key 'vmcs_shadow_set' (first set on line 2)");
}

TEST(config_ept02_pool)
{
	CHECK_EQ(parse("l1=/k\n"), 0);
	CHECK_EQ(cfg.ept02_pool, 2ull << 20);
	CHECK_EQ(parse("l1=/k\nept02_pool = 1M\n"), 0);
	CHECK_EQ(cfg.ept02_pool, 1ull << 20);
	CHECK_EQ(parse("l1=/k\nl0_memory = 64M\nept02_pool = 32M\n"), 0);
	CHECK_EQ(cfg.ept02_pool, 32ull << 20);
	CHECK(parse("l1=/k\nept02_pool = 512K\n") < 0);
	CHECK_CONTAINS(err, "line 2: ept02_pool 0x80000 is outside 1M..256M");
	CHECK(parse("l1=/k\nept02_pool = 2000000\n") < 0);
	CHECK_CONTAINS(err, "line 2: ept02_pool 0x1e8480 is not a multiple of 4K");
	CHECK(parse("l1=/k\nept02_pool = 512M\n") < 0);
	CHECK_CONTAINS(err, "line 2: ept02_pool 0x20000000 is outside 1M..256M");
	/* Half of L0's pool at most, whichever line comes last. */
	CHECK(parse("l1=/k\nept02_pool = 20M\n") < 0);
	CHECK_CONTAINS(err, "line 2: ept02_pool 0x1400000 is more than half of l0_memory 0x2000000");
	CHECK(parse("l1=/k\nept02_pool = 4M\nl0_memory = 6M\n") < 0);
	CHECK_CONTAINS(err, "line 2: ept02_pool 0x400000 is more than half of l0_memory 0x600000");
	CHECK_EQ(parse("l1=/k\nl0_memory = 4M\n"), 0);  /* the default 2M is half */
	CHECK(parse("l1=/k\nept02_pool = 1M\nept02_pool = 1M\n") < 0);
}

TEST(config_unknown_key)
{
	CHECK(parse("l1 = /k\n\nfoo = 1\n") < 0);
	CHECK_STR(err, "line 3: unknown key 'foo'");
}

TEST(config_no_equals)
{
	CHECK(parse("# c\nl1 /k\n") < 0);
	CHECK_STR(err, "line 2: expected 'key = value', got 'l1 /k'");
	CHECK(parse("l1=/k\n = x\n") < 0);
	CHECK_STR(err, "line 2: missing key before '='");
}

TEST(config_duplicate)
{
	CHECK(parse("l1 = /a\ncmdline = x\nl1 = /b\n") < 0);
	CHECK_STR(err, "line 3: duplicate key 'l1' (first set on line 1)");
	CHECK(parse("l1 = /a\nlog = info\nlog = info\n") < 0);
	CHECK_CONTAINS(err, "line 3: duplicate key 'log'");
	CHECK(parse("l1 = /a\ncmdline =\ncmdline = x\n") < 0);
	CHECK_CONTAINS(err, "line 3: duplicate key 'cmdline'");
}

TEST(config_missing_l1)
{
	CHECK(parse("cmdline = x\n") < 0);
	CHECK_CONTAINS(err, "'l1'");
	CHECK(parse("") < 0);
	CHECK_CONTAINS(err, "required");
}

TEST(config_empty_values)
{
	CHECK(parse("l1 =   # nothing\n") < 0);
	CHECK_STR(err, "line 1: empty value for 'l1'");
	CHECK(parse("l1 = /k\nmodule =\n") < 0);
	CHECK_STR(err, "line 2: empty value for 'module'");
	CHECK(parse("l1 = /k\nl0_memory=\n") < 0);
	CHECK_STR(err, "line 2: empty value for 'l0_memory'");
}

TEST(config_bad_sizes)
{
	CHECK(parse("l1 = /k\nl1_memory = lots\n") < 0);
	CHECK_CONTAINS(err, "line 2: bad size 'lots' for 'l1_memory'");
	CHECK(parse("l1 = /k\nl1_memory = 1M\n") < 0);
	CHECK_CONTAINS(err, "line 2: l1_memory 0x100000 is below the minimum 2M");
	CHECK(parse("l1 = /k\nl1_memory = 0\n") < 0);
	CHECK_CONTAINS(err, "line 2: l1_memory 0x0");
	CHECK_EQ(parse("l1 = /k\nl1_memory = 2M\n"), 0);
	CHECK(parse("l1 = /k\n\nl0_memory = 2M\n") < 0);
	CHECK_CONTAINS(err, "line 3: l0_memory 0x200000 is outside 4M..1G");
	CHECK(parse("l1 = /k\nl0_memory = 2G\n") < 0);
	CHECK_CONTAINS(err, "line 2: l0_memory 0x80000000 is outside");
	CHECK(parse("l1 = /k\nl0_memory = 0x400100\n") < 0);
	CHECK_CONTAINS(err, "line 2: l0_memory 0x400100 is not a multiple of 4K");
	CHECK_EQ(parse("l1 = /k\nl0_memory = 1G\n"), 0);
	CHECK_EQ(parse("l1 = /k\nl0_memory = 4M\n"), 0);
}

TEST(config_too_long)
{
	char text[2048], big[1100];

	memset(big, 'a', sizeof(big));
	big[300] = '\0';
	snprintf(text, sizeof(text), "l1 = /%s\n", big);
	CHECK(parse(text) < 0);
	CHECK_STR(err, "line 1: value of 'l1' is too long (301 bytes, max 255)");

	snprintf(text, sizeof(text), "l1 = /k\nmodule = /m %s\n", big);
	CHECK(parse(text) < 0);
	CHECK_CONTAINS(err, "line 2: value of 'module' is too long");

	memset(big, 'a', sizeof(big));
	big[1024] = '\0';
	snprintf(text, sizeof(text), "l1 = /k\n\ncmdline = %s\n", big);
	CHECK(parse(text) < 0);
	CHECK_CONTAINS(err, "line 3: value of 'cmdline' is too long");

	/* Fits alone, but not with "<l1 path> " in front. */
	memset(big, 'a', sizeof(big));
	big[1021] = '\0';
	snprintf(text, sizeof(text), "l1 = /k\ncmdline = %s\n", big);
	CHECK(parse(text) < 0);
	CHECK_STR(err, "line 2: cmdline is too long: '<l1 path> <cmdline>' is 1024 bytes, max 1023");
	big[1020] = '\0';
	snprintf(text, sizeof(text), "l1 = /k\ncmdline = %s\n", big);
	CHECK_EQ(parse(text), 0);
}

TEST(config_too_many_modules)
{
	char text[1024] = "l1 = /k\n";

	for (int i = 0; i < NV_L1_MAX_MODULES; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "module = /m%d arg\n", i);
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(cfg.nmodules, NV_L1_MAX_MODULES);
	CHECK_STR(cfg.modules[7].path, "/m7");
	strcat(text, "module = /one-too-many\n");
	CHECK(parse(text) < 0);
	CHECK_STR(err, "line 10: too many modules (max 8)");
}

TEST(config_bad_log_and_paths)
{
	CHECK(parse("l1 = /k\nlog = loud\n") < 0);
	CHECK_STR(err, "line 2: unknown log level 'loud' (want quiet, info, debug or trace)");
	CHECK(parse("l1 = /my kernel\n") < 0);
	CHECK_CONTAINS(err, "line 1: path in 'l1' has byte 0x20");
	CHECK(parse("l1 = /k\xc3\xa9rnel\n") < 0);
	CHECK_CONTAINS(err, "line 1: path in 'l1' has byte 0xc3");
	CHECK(parse("l1 = /k\ncmdline = a\x01\n") < 0);
	CHECK_STR(err, "line 2: control character 0x01");
}

TEST(config_nul_byte)
{
	static const char text[] = "l1 = /k\nlog = in\0fo\n";

	CHECK(nv_config_parse(text, sizeof(text) - 1, &cfg, err, sizeof(err)) < 0);
	CHECK_STR(err, "line 2: NUL byte");
}

TEST(config_comments)
{
	/* '#' only starts a comment at the line start or after whitespace. */
	CHECK_EQ(parse("  # indented comment\nl1 = /k#1 # real comment\n#l1 = /x\n"), 0);
	CHECK_STR(cfg.l1, "/k#1");
	/* A long truncated line in a message ends in "...". */
	CHECK(parse("l1 = /k\nthis line has no equals sign and is quite long indeed\n") < 0);
	CHECK_STR(err, "line 2: expected 'key = value', got 'this line has no equals sign and is quit...'");
}

TEST(config_utf8_bom)
{
	CHECK_EQ(parse("\xef\xbb\xbfl1 = /k\r\nfoo = 1\r\n"), -1);
	CHECK_STR(err, "line 2: unknown key 'foo'");
	CHECK_EQ(parse("\xef\xbb\xbfl1 = /k\r\n"), 0);
	CHECK_STR(cfg.l1, "/k");
}
