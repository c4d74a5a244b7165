/* SPDX-License-Identifier: MIT */
/* nested/checks.c: a valid VMCS12 passes; each single corruption fails its named check. */
#include "unit.h"

#include "nested_fixture.h"
#include "ept/ept.h"

static struct nested_caps caps;
static struct vmcs12 v;

static void setup(void)
{
	struct vmx_caps hw = fixture_hw_caps();

	nested_caps_init(&caps, &hw);
	fixture_vmcs12(&v, &caps);
}

static const char *controls(void)
{
	struct entry_check_env env = fixture_env(&caps);

	return nested_check_controls(&v, &env);
}

static const char *host(void)
{
	struct entry_check_env env = fixture_env(&caps);

	return nested_check_host_state(&v, &env);
}

TEST(valid_vmcs12_passes_every_check)
{
	uint64_t q = 99;
	struct entry_check_env env;

	setup();
	env = fixture_env(&caps);
	CHECK(nested_check_controls(&v, &env) == NULL);
	CHECK(nested_check_host_state(&v, &env) == NULL);
	CHECK(nested_check_guest_state(&v, &env, &q) == NULL);
	CHECK_EQ(q, 0);
}

TEST(control_corruptions)
{
	struct {
		void (*corrupt)(void);
		const char *expect;
	} cases[] = {
#define C(body, name) { ({ void f(void) { body; } f; }), name }
		C(v.PIN_BASED_VM_EXEC_CONTROL = 0, "pin-based"),
		C(v.PIN_BASED_VM_EXEC_CONTROL |= PIN_POSTED_INTERRUPTS, "pin-based"),
		C(v.VM_EXIT_CONTROLS |= EXIT_SAVE_PREEMPTION_TIMER, "save VMX-preemption timer"),
		C(v.CPU_BASED_VM_EXEC_CONTROL &= ~(1u << 1), "processor-based"),
		C(v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_TPR_SHADOW, "processor-based"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_VIRT_APIC_ACCESSES), "secondary"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT, v.EPT_POINTER = 0x5000 | 0x16),
		  "page-walk length"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT, v.EPT_POINTER = 0x5000 | 0x19),
		  "memory type"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT, v.EPT_POINTER = 0x5000 | 0x9e),
		  "reserved bits 11:7"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT, v.EPT_POINTER = (1ull << 45) | 0x1e),
		  "physical-address width"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_VPID, v.VIRTUAL_PROCESSOR_ID = 0),
		  "VPID 0"),
		C(v.CR3_TARGET_COUNT = 5, "CR3-target count"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_IO_BITMAPS, v.IO_BITMAP_A = 0x1800,
		   v.IO_BITMAP_B = 0x3000), "I/O bitmap"),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_USE_MSR_BITMAPS, v.MSR_BITMAP = 1ull << 45),
		  "MSR bitmap"),
		C(v.PIN_BASED_VM_EXEC_CONTROL |= PIN_VIRTUAL_NMIS, "virtual NMIs"),
		C(v.VM_EXIT_CONTROLS |= EXIT_LOAD_PERF_GLOBAL_CTRL, "VM-exit controls"),
		C((v.VM_EXIT_MSR_STORE_COUNT = 1, v.VM_EXIT_MSR_STORE_ADDR = 0x1008), "MSR-store"),
		C((v.VM_EXIT_MSR_LOAD_COUNT = 2, v.VM_EXIT_MSR_LOAD_ADDR = (1ull << 39) - 16), "MSR-load"),
		C(v.VM_ENTRY_CONTROLS |= ENTRY_SMM, "VM-entry controls"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (1u << 8), "reserved interruption type"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (2u << 8) | 3, "NMI with vector"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 40, "vector above 31"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 6 | INTR_INFO_DELIVER_CODE,
		  "deliver-error-code"),
		/* ... and the other way: #GP without its error code (found by fuzz/entry_checks),
		 * #CP with one where IA32_VMX_BASIC[56] is 0. */
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 13, "deliver-error-code"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 21 | INTR_INFO_DELIVER_CODE,
		  "deliver-error-code"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 6 | (1u << 20), "reserved bits"),
		C((v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 13 | INTR_INFO_DELIVER_CODE,
		   v.VM_ENTRY_EXCEPTION_ERROR_CODE = 0x10000), "error code bits"),
		C(v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (4u << 8) | 0x80, "instruction length"),
		C((v.VM_ENTRY_MSR_LOAD_COUNT = 1, v.VM_ENTRY_MSR_LOAD_ADDR = 0x2004), "VM-entry MSR-load"),
#undef C
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why;

		setup();
		cases[i].corrupt();
		why = controls();
		if (!CHECK(why && strstr(why, cases[i].expect)))
			printf("  case %u: got \"%s\", want \"%s\"\n", i, why ? why : "(pass)",
			       cases[i].expect);
		CHECK(host() == NULL);
	}
}

/* 26.2.1.3: deliver-error-code exactly for protected-mode hardware exceptions with one. */
TEST(event_injection_error_codes)
{
	struct entry_check_env env;

	setup();
	env = fixture_env(&caps);
	v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 14 | INTR_INFO_DELIVER_CODE;
	CHECK(nested_check_controls(&v, &env) == NULL);
	v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 6;
	CHECK(nested_check_controls(&v, &env) == NULL);
	v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 21;
	CHECK(nested_check_controls(&v, &env) == NULL);
	/* Unrestricted guest in real mode: no exception delivers an error code. */
	v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST;
	v.EPT_POINTER = 0x5000 | EPTP_PWL4 | EPTP_MT_WB;
	v.GUEST_CR0 &= ~(CR0_PE | CR0_PG);
	v.VM_ENTRY_INTR_INFO = INTR_INFO_VALID | (3u << 8) | 13;
	CHECK(nested_check_controls(&v, &env) == NULL);
	v.VM_ENTRY_INTR_INFO |= INTR_INFO_DELIVER_CODE;
	CHECK(nested_check_controls(&v, &env) != NULL);
	/* Without unrestricted guest, CR0.PE = 0 still means protected mode here
	 * (the guest-state checks refuse that CR0 later). */
	v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT;
	CHECK(nested_check_controls(&v, &env) == NULL);
}

TEST(host_state_corruptions)
{
	struct {
		void (*corrupt)(void);
		const char *expect;
	} cases[] = {
#define C(body, name) { ({ void f(void) { body; } f; }), name }
		C(v.HOST_CR0 &= ~CR0_NE, "host CR0"),
		C(v.HOST_CR0 &= ~CR0_PG, "host CR0"),
		C(v.HOST_CR4 &= ~CR4_VMXE, "host CR4"),
		C(v.HOST_CR3 = 1ull << 40, "host CR3"),
		C(v.HOST_IA32_SYSENTER_EIP = 0x0000800000000000ull, "SYSENTER"),
		C((v.VM_EXIT_CONTROLS |= EXIT_LOAD_PAT, v.HOST_IA32_PAT = 0x02), "IA32_PAT"),
		C((v.VM_EXIT_CONTROLS |= EXIT_LOAD_EFER, v.HOST_IA32_EFER = 1ull << 3), "reserved"),
		C((v.VM_EXIT_CONTROLS |= EXIT_LOAD_EFER, v.HOST_IA32_EFER = EFER_LME), "LMA/LME"),
		C(v.HOST_SS_SELECTOR = 0x13, "RPL or TI"),
		C(v.HOST_TR_SELECTOR = 0x1c, "RPL or TI"),
		C(v.HOST_CS_SELECTOR = 0, "host CS selector is 0"),
		C(v.HOST_TR_SELECTOR = 0, "host TR selector is 0"),
		C(v.HOST_GS_BASE = 0x00f0000000000000ull, "not canonical"),
		C(v.VM_EXIT_CONTROLS &= ~EXIT_HOST_ADDR_SPACE_SIZE, "IA-32e mode"),
		C(v.HOST_CR4 &= ~CR4_PAE, "without CR4.PAE"),
		C(v.HOST_RIP = 0x0000800000000000ull, "host RIP"),
#undef C
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why;

		setup();
		cases[i].corrupt();
		CHECK(controls() == NULL);
		why = host();
		if (!CHECK(why && strstr(why, cases[i].expect)))
			printf("  case %u: got \"%s\", want \"%s\"\n", i, why ? why : "(pass)",
			       cases[i].expect);
	}
}

TEST(host_outside_ia32e_mode)
{
	struct entry_check_env env;

	setup();
	env = fixture_env(&caps);
	env.l1_long_mode = false;
	v.VM_EXIT_CONTROLS &= ~EXIT_HOST_ADDR_SPACE_SIZE;
	v.VM_ENTRY_CONTROLS &= ~ENTRY_IA32E_MODE_GUEST;
	CHECK(nested_check_host_state(&v, &env) == NULL);
	v.HOST_RIP = 1ull << 32;
	CHECK(nested_check_host_state(&v, &env) != NULL);
	v.HOST_RIP = 0x1000;
	v.VM_ENTRY_CONTROLS |= ENTRY_IA32E_MODE_GUEST;
	CHECK(nested_check_host_state(&v, &env) != NULL);
}

static uint32_t link_revision;

static bool fake_read(uint64_t gpa, void *buf, unsigned len)
{
	memcpy(buf, &link_revision, len);
	return gpa < (1ull << 30);
}

TEST(guest_state_corruptions)
{
	struct entry_check_env env;
	uint64_t q;

	setup();
	env = fixture_env(&caps);
	v.GUEST_ACTIVITY_STATE = ACTIVITY_SHUTDOWN;
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	CHECK_EQ(q, 0);
	setup();
	v.GUEST_CR0 &= ~CR0_PG;  /* no unrestricted guest for L2 */
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	setup();
	v.GUEST_CS_AR_BYTES = AR_L;
	v.GUEST_RIP = 0x8000000000000000ull;  /* non-canonical in a 64-bit guest */
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	v.GUEST_RIP = 0xffffffff80000000ull;
	CHECK(nested_check_guest_state(&v, &env, &q) == NULL);
	v.GUEST_CS_AR_BYTES = 0;              /* 32-bit code: RIP must fit in 32 bits */
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	setup();
	v.VMCS_LINK_POINTER = 0x5000;  /* not readable */
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	CHECK_EQ(q, 4);
	env.read_l1 = fake_read;
	link_revision = 0x12345;
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
	CHECK_EQ(q, 4);
	link_revision = NV_VMCS12_REVISION;
	CHECK(nested_check_guest_state(&v, &env, &q) == NULL);
	link_revision = NV_VMCS12_REVISION | 0x80000000u;  /* shadow bit without shadowing */
	CHECK(nested_check_guest_state(&v, &env, &q) != NULL);
}

/* 26.3.1.1: IA-32e mode guest against CR0/CR4, and the IA32_EFER field with "load IA32_EFER". */
TEST(guest_paging_mode_and_efer)
{
	struct {
		void (*change)(void);
		const char *expect;    /* NULL: passes */
	} cases[] = {
#define C(body, name) { ({ void f(void) { body; } f; }), name }
		/* IA-32e mode guest (the fixture's): EFER.LMA = LME = 1 */
		C((v.VM_ENTRY_CONTROLS |= ENTRY_LOAD_EFER, v.GUEST_IA32_EFER = EFER_LMA | EFER_LME),
		  NULL),
		C((v.VM_ENTRY_CONTROLS |= ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_LMA | EFER_LME | EFER_NXE | EFER_SCE), NULL),
		C((v.VM_ENTRY_CONTROLS |= ENTRY_LOAD_EFER, v.GUEST_IA32_EFER = EFER_LME),
		  "LMA differs from IA-32e mode guest"),
		C((v.VM_ENTRY_CONTROLS |= ENTRY_LOAD_EFER, v.GUEST_IA32_EFER = EFER_LMA),
		  "LME differs from LMA"),
		C((v.VM_ENTRY_CONTROLS |= ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_LMA | EFER_LME | (1ull << 9)), "reserved bits"),
		C(v.GUEST_IA32_EFER = 0x12345, NULL),  /* not loaded: not checked */
		C(v.GUEST_CR4 &= ~CR4_PAE, "without guest CR0.PG and CR4.PAE"),
		C(v.GUEST_CR4 |= CR4_PCIDE, NULL),
		/* A 32-bit PAE guest (no IA-32e mode): the EFER checks precede PDPTE loading. */
		C(v.VM_ENTRY_CONTROLS &= ~ENTRY_IA32E_MODE_GUEST, NULL),
		C((v.VM_ENTRY_CONTROLS &= ~ENTRY_IA32E_MODE_GUEST, v.GUEST_IA32_EFER = EFER_LMA | EFER_LME),
		  NULL),
		C((v.VM_ENTRY_CONTROLS = (v.VM_ENTRY_CONTROLS & ~ENTRY_IA32E_MODE_GUEST) | ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_LMA | EFER_LME), "LMA differs from IA-32e mode guest"),
		C((v.VM_ENTRY_CONTROLS = (v.VM_ENTRY_CONTROLS & ~ENTRY_IA32E_MODE_GUEST) | ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_LME), "LME differs from LMA"),
		C((v.VM_ENTRY_CONTROLS = (v.VM_ENTRY_CONTROLS & ~ENTRY_IA32E_MODE_GUEST) | ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_NXE), NULL),
		C((v.VM_ENTRY_CONTROLS &= ~ENTRY_IA32E_MODE_GUEST, v.GUEST_CR4 |= CR4_PCIDE),
		  "PCIDE without IA-32e mode guest"),
		/* Unrestricted guest with paging off: LME may differ from LMA. */
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
		   v.GUEST_CR0 &= ~(CR0_PG | CR0_PE),
		   v.VM_ENTRY_CONTROLS = (v.VM_ENTRY_CONTROLS & ~ENTRY_IA32E_MODE_GUEST) | ENTRY_LOAD_EFER,
		   v.GUEST_IA32_EFER = EFER_LME), NULL),
		C((v.CPU_BASED_VM_EXEC_CONTROL |= PROC_ACTIVATE_SECONDARY,
		   v.SECONDARY_VM_EXEC_CONTROL = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
		   v.GUEST_CR0 &= ~(CR0_PG | CR0_PE)), "without guest CR0.PG"),
#undef C
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct entry_check_env env;
		const char *why;
		uint64_t q = 99;

		setup();
		env = fixture_env(&caps);
		cases[i].change();
		why = nested_check_guest_state(&v, &env, &q);
		if (!CHECK(cases[i].expect ? why && strstr(why, cases[i].expect) : !why))
			printf("  case %u: got \"%s\", want \"%s\"\n", i, why ? why : "(pass)",
			       cases[i].expect ? cases[i].expect : "(pass)");
		CHECK_EQ(q, 0);
	}
}

/*
 * nested_guest_field_checked lists what the software guest-state checks
 * read (entry.c skips them when L1 wrote none of those): any other guest
 * field, however wrong, must not change their verdict. RIP has its own check.
 */
TEST(guest_checks_read_only_the_listed_fields)
{
	static const uint64_t values[] = { 0, ~0ull, 0x8000000000000000ull, 0x1234567 };
	struct entry_check_env env;
	unsigned unlisted = 0, changed = 0;

	setup();
	env = fixture_env(&caps);
	for (unsigned i = 0; i < V12_FIELDS; i++) {
		const struct vmcs12_field *f = &vmcs12_fields[i];

		if (f->group != GUEST || i == V12_GUEST_RIP || nested_guest_field_checked(i))
			continue;
		unlisted++;
		for (unsigned k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
			struct vmcs12 saved = v;
			uint64_t q;

			vmcs12_write(&v, f, 0, values[k], 64);
			if (nested_check_guest_state(&v, &env, &q) != NULL) {
				changed++;
				printf("  %s = 0x%llx fails the guest checks but is not listed\n",
				       vmcs_field_name(f->encoding), (unsigned long long)values[k]);
			}
			v = saved;
		}
	}
	CHECK(unlisted > 50);
	CHECK_EQ(changed, 0);
	/* The RIP check alone sees what the whole set sees of RIP. */
	v.GUEST_RIP = 0x0000800000000000ull;
	CHECK(nested_check_guest_rip(&v) != NULL);
	CHECK(nested_check_guest_state(&v, &env, &(uint64_t){ 0 }) != NULL);
}
