/* SPDX-License-Identifier: MIT */
/*
 * vmxhostile's fuzzer (issue 8): seeded random attacks on what L0 guards
 * rather than owns, each followed by the invariant it must keep:
 *   - PCI configuration writes (ports 0xCF8/0xCFC, sizes 1/2/4) to the command
 *     register, BARs, the i440FX PAM/SMRAM registers and the PIIX4 DEVACTB:
 *     bus mastering stays off, PAM/SMRAM and APMC_EN keep their values, no
 *     memory BAR lands on RAM; and writes to the APM control port 0xB2;
 *   - WRMSR IA32_APIC_BASE with bases in L0 memory, RAM, MMIO and beyond:
 *     either #GP with the base unchanged, or the new base, never over memory
 *     L1 may not write (reserved in its map: L0's, the firmware's);
 *   - VM-entry MSR-load lists of 1-4 entries drawn from the MSRs the SDM
 *     forbids, L0 guards or the VMCS holds, with random values: L2 runs to
 *     its VMCALL or the entry fails with reason 34 naming an entry; L1's
 *     IA32_EFER keeps all but SCE (27.5.1) and IA32_APIC_BASE (the CPU's, which a list may
 *     move for L1 too) never lies over memory L1 may not write.
 * Every input is put back afterwards. It prints how many inputs it tried.
 */
#include "hostile.h"

#define FUZZ_MAX_FAILS_SHOWN 8

static uint64_t rng_state = 0x6a09e667f3bcc909ull;
static unsigned fails;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Only the first few failures are printed; all are counted. */
#define FUZZ_CHECK(cond, ...)                                       \
	do {                                                        \
		if (!(cond) && fails++ < FUZZ_MAX_FAILS_SHOWN)      \
			report(false, __VA_ARGS__);                 \
	} while (0)

struct func {
	uint8_t dev, fn;
	uint32_t id, bars[6];
};

static struct func funcs[32];
static unsigned nfuncs;

static void find_functions(void)
{
	for (unsigned dev = 0; dev < 32 && nfuncs < 32; dev++) {
		unsigned nfn = (cfg_read32(dev, 0, 0x0c) >> 16 & 0x80) ? 8 : 1;

		for (unsigned fn = 0; fn < nfn && nfuncs < 32; fn++) {
			uint32_t id = cfg_read32(dev, fn, 0);
			struct func *f = &funcs[nfuncs];

			if ((id & 0xffff) == 0xffff)
				continue;
			f->dev = (uint8_t)dev;
			f->fn = (uint8_t)fn;
			f->id = id;
			for (unsigned b = 0; b < 6; b++)
				f->bars[b] = cfg_read32(dev, fn, 0x10 + 4 * b);
			nfuncs++;
		}
	}
}

#define I440FX_ID   0x12378086u
#define PIIX4_PM_ID 0x71138086u
#define APMC_EN     (1u << 25)

static uint8_t pam_smram[8];   /* PAM0-6 (0x59-0x5F), SMRAM (0x72) */

static void read_pam_smram(uint8_t *out)
{
	for (unsigned i = 0; i < 7; i++)
		out[i] = cfg_read8(0, 0, 0x59 + i);
	out[7] = cfg_read8(0, 0, 0x72);
}

/* A value of the given size, at a random aligned offset of the dword at reg. */
static void cfg_write_sized(const struct func *f, unsigned reg, unsigned size, uint32_t v)
{
	if (size == 1)
		cfg_write8(f->dev, f->fn, reg, (uint8_t)v);
	else if (size == 2)
		cfg_write16(f->dev, f->fn, reg & ~1u, (uint16_t)v);
	else
		cfg_write32(f->dev, f->fn, reg & ~3u, v);
}

/* An address to aim at: L0 memory, RAM, MMIO, above RAM, or anything. */
static uint64_t aim(void)
{
	switch (rnd_below(6)) {
	case 0: return t.l0 + (rnd() % (t.l0_end - t.l0) & ~0xfffull);
	case 1: return rnd() % t.ram_top & ~0xfffull;
	case 2: return 0xfee00000ull;
	case 3: return t.ram_top + (rnd() % 0x10000000ull & ~0xfffull);
	case 4: return 0xfec00000ull;
	default: return rnd() & 0xffffff000ull;
	}
}

static unsigned n_cfg, n_apm, n_bar_refused;

static void fuzz_config_write(void)
{
	const struct func *f = &funcs[rnd_below(nfuncs)];
	unsigned size = 1u << rnd_below(3);

	n_cfg++;
	switch (rnd_below(4)) {
	case 0: {  /* command register: I/O and memory decode kept as they are */
		uint32_t old = cfg_read32(f->dev, f->fn, 0x04) & 0xffff;
		uint32_t v = ((uint32_t)rnd() & ~3u) | (old & 3u), now;

		cfg_write_sized(f, 0x04, size == 4 ? 2 : size, v);
		now = cfg_read32(f->dev, f->fn, 0x04);
		/* Off stays off. The i440FX host bridge and the PIIX3 ISA bridge hardwire
		 * it on (L0's boot scan cannot clear it either): README, "What L1 sees". */
		FUZZ_CHECK(!(now & 4) || (old & 4), "fuzz: %02x.%x command write 0x%x (size %u): "
			   "bus master turned on (0x%04x)", f->dev, f->fn, v, size, now & 0xffff);
		cfg_write16(f->dev, f->fn, 0x04, (uint16_t)old);
		break;
	}
	case 1: {  /* a BAR, then its old value back */
		unsigned b = rnd_below(6), reg = 0x10 + 4 * b;
		uint32_t v = rnd_below(4) ? (uint32_t)aim() : 0xffffffffu, now;

		if (f->bars[b] & 1)
			break;  /* I/O BARs may collide with the ports this kernel reports through */
		cfg_write32(f->dev, f->fn, reg, v);
		now = cfg_read32(f->dev, f->fn, reg);
		if (now == f->bars[b] && v != f->bars[b])
			n_bar_refused++;
		/* Taken: sizing (all ones in), or an address outside L1's memory map. */
		FUZZ_CHECK(now == f->bars[b] || v == 0xffffffffu || !memory_map_type(now & ~0xfu),
			   "fuzz: %02x.%x BAR%u <- 0x%08x: took 0x%08x, inside the memory map",
			   f->dev, f->fn, b, v, now);
		cfg_write32(f->dev, f->fn, reg, f->bars[b]);
		break;
	}
	case 2: {  /* i440FX PAM / SMRAM */
		static const uint8_t regs[] = { 0x59, 0x5a, 0x5c, 0x5d, 0x5f, 0x72, 0x70 };
		uint8_t now[8];

		if (funcs[0].id != I440FX_ID)
			break;
		cfg_write_sized(&funcs[0], regs[rnd_below(sizeof(regs))], size, (uint32_t)rnd());
		read_pam_smram(now);
		FUZZ_CHECK(!memcmp(now, pam_smram, sizeof(now)), "fuzz: i440FX PAM/SMRAM changed by a "
			   "size-%u write (PAM0 0x%02x, SMRAM 0x%02x)", size, now[0], now[7]);
		break;
	}
	default: {  /* PIIX4 DEVACTB; then the APM control port */
		for (unsigned i = 0; i < nfuncs; i++) {
			const struct func *pm = &funcs[i];
			uint32_t old, now;

			if (pm->id != PIIX4_PM_ID)
				continue;
			old = cfg_read32(pm->dev, pm->fn, 0x58);
			cfg_write_sized(pm, 0x58 + (size == 4 ? 0 : rnd_below(4 / size) * size), size,
					(uint32_t)rnd() | APMC_EN);
			now = cfg_read32(pm->dev, pm->fn, 0x58);
			FUZZ_CHECK(!(now & APMC_EN), "fuzz: PIIX4 DEVACTB: APMC_EN on (0x%08x)", now);
			cfg_write32(pm->dev, pm->fn, 0x58, old);
		}
		outb(0xb2, (uint8_t)rnd());
		n_apm++;
		break;
	}
	}
}

static unsigned n_apic, n_apic_refused;

static void fuzz_apic_base(uint64_t orig)
{
	uint64_t v = aim() | (orig & 0xd00), now = 0;  /* BSP, x2APIC, enable as they are */
	int e = wrmsr_checked(MSR_IA32_APIC_BASE, v);

	n_apic++;
	rdmsr_checked(MSR_IA32_APIC_BASE, &now);
	if (e != NO_EXCEPTION) {
		n_apic_refused++;
		FUZZ_CHECK(e == VEC_GP && now == orig, "fuzz: WRMSR IA32_APIC_BASE 0x%llx: %s, base "
			   "0x%llx", U64(v), exception_name(e), U64(now));
	} else {
		/* Over L1's own RAM or MMIO it may be; over memory L1 may not write
		 * (L0's, the firmware's: reserved in its map) never. */
		uint32_t type = memory_map_type(v & ~0xfffull);

		FUZZ_CHECK(now == v && (type == 0 || type == MMAP_TYPE_USABLE),
			   "fuzz: WRMSR IA32_APIC_BASE 0x%llx accepted over memory of type %u (now "
			   "0x%llx)", U64(v), type, U64(now));
	}
	e = wrmsr_checked(MSR_IA32_APIC_BASE, orig);
	FUZZ_CHECK(e == NO_EXCEPTION, "fuzz: IA32_APIC_BASE could not be put back (%s)",
		   exception_name(e));
}

static struct l2 fz;
static struct msr_entry list[4] __attribute__((aligned(16)));
static unsigned n_lists, n_lists_loaded, n_lists_failed;

static struct msr_entry random_entry(uint64_t apic, uint64_t efer)
{
	static const uint32_t pool[] = {
		MSR_IA32_APIC_BASE, MSR_IA32_EFER, MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SMBASE,
		0x79 /* microcode update */, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_KERNEL_GS_BASE, MSR_IA32_PAT,
		0x1d9 /* DEBUGCTL */, MSR_IA32_FEATURE_CONTROL, 0x800, 0x808, 0x830,
	};
	struct msr_entry e = { pool[rnd_below(sizeof(pool) / sizeof(pool[0]))], 0, rnd() };

	if (!rnd_below(16))
		e.reserved = (uint32_t)rnd();
	if (e.index == MSR_IA32_APIC_BASE)
		e.value = aim() | (apic & 0xd00);
	else if (e.index == MSR_IA32_EFER)  /* L2 shares L1's page tables: keep NXE */
		e.value = efer ^ (uint64_t)(1u << (rnd_below(2) ? 0 : rnd_below(2) ? 8 : 9));
	else if (rnd_below(2))
		e.value &= 0xffffffffull;
	return e;
}

static void fuzz_msr_list(uint64_t apic, uint64_t efer)
{
	unsigned count = 1 + rnd_below(4);
	uint64_t apic_now = 0, efer_now = 0;

	n_lists++;
	for (unsigned i = 0; i < count; i++)
		list[i] = random_entry(apic, efer);
	l2_init(&fz, l2_vmcall_only);
	vmw(VMCS_ENTRY_MSR_LOAD_ADDR, (uintptr_t)list);
	vmw(VMCS_ENTRY_MSR_LOAD_COUNT, count);
	if (!l2_run(&fz)) {
		FUZZ_CHECK(false, "fuzz: MSR-load list of %u: the VMLAUNCH itself failed", count);
	} else if (fz.exit.reason == EXIT_REASON_VMCALL) {
		n_lists_loaded++;
	} else {
		n_lists_failed++;
		FUZZ_CHECK(fz.exit.reason == (EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE) &&
				   fz.exit.qual >= 1 && fz.exit.qual <= count,
			   "fuzz: MSR-load list of %u (first 0x%x = 0x%llx): exit 0x%x qualification "
			   "%llu", count, list[0].index, U64(list[0].value), fz.exit.reason,
			   U64(fz.exit.qual));
	}
	rdmsr_checked(MSR_IA32_APIC_BASE, &apic_now);
	rdmsr_checked(MSR_IA32_EFER, &efer_now);
	/* IA32_APIC_BASE is the CPU's, not the VMCS's: a list may move it for L1 too,
	 * as on a real CPU, but never over memory L1 may not write. EFER is L2's
	 * (VMCS02): L1's comes back with its host state. */
	FUZZ_CHECK(apic_now == apic || memory_map_type(apic_now & ~0xfffull) == 0 ||
			   memory_map_type(apic_now & ~0xfffull) == MMAP_TYPE_USABLE,
		   "fuzz: an MSR-load list moved IA32_APIC_BASE to 0x%llx, over reserved memory",
		   U64(apic_now));
	/* Without "load IA32_EFER" on exit, L1 keeps L2's EFER but for LMA/LME
	 * (SDM 27.5.1): a list's SCE stays; nothing else may move. */
	FUZZ_CHECK(!((efer_now ^ efer) & ~1ull), "fuzz: after an MSR-load list L1's IA32_EFER is "
		   "0x%llx (was 0x%llx)", U64(efer_now), U64(efer));
	if (apic_now != apic)
		wrmsr(MSR_IA32_APIC_BASE, apic);
	if (efer_now != efer)
		wrmsr(MSR_IA32_EFER, efer);
}

void fuzz_cases(const char *cmdline)
{
	uint32_t rounds = 1;
	uint64_t apic = 0, efer = 0, star = rdmsr(MSR_STAR), kgs = rdmsr(MSR_KERNEL_GS_BASE);

	word_value(cmdline, "fuzz", &rounds);
	printf("vmxhostile: --- fuzz: %u round(s) of random device, APIC-base and MSR-list "
	       "attacks ---\n", rounds);
	find_functions();
	if (!report(nfuncs > 0, "fuzz: %u PCI functions on bus 0", nfuncs))
		return;
	read_pam_smram(pam_smram);
	rdmsr_checked(MSR_IA32_APIC_BASE, &apic);
	rdmsr_checked(MSR_IA32_EFER, &efer);
	for (uint32_t r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < 400; i++)
			fuzz_config_write();
		for (unsigned i = 0; i < 100; i++)
			fuzz_apic_base(apic);
		for (unsigned i = 0; i < 60; i++)
			fuzz_msr_list(apic, efer);
	}
	wrmsr(MSR_STAR, star);
	wrmsr(MSR_KERNEL_GS_BASE, kgs);
	printf("vmxhostile: fuzz: inputs: %u PCI configuration writes (%u BARs kept), %u APM port "
	       "writes, %u IA32_APIC_BASE writes (%u #GP), %u VM-entry MSR-load lists (%u loaded, "
	       "%u failed with reason 34)\n", n_cfg, n_bar_refused, n_apm, n_apic, n_apic_refused,
	       n_lists, n_lists_loaded, n_lists_failed);
	report(fails == 0, "fuzz: every invariant held (%u violations)", fails);
}
