/* SPDX-License-Identifier: MIT */
/* A machine check that reached L0: the report, and whether L0 can go on (core/mce.h). */
#include "core/mce.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/x86.h"

#define MSR_IA32_MCG_CAP    0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_IA32_MC0_STATUS 0x401   /* bank i: STATUS 0x401 + 4i, ADDR +1, MISC +2 */

#define MCG_STATUS_RIPV (1ull << 0)
#define MCG_STATUS_EIPV (1ull << 1)
#define MCG_STATUS_MCIP (1ull << 2)
#define MCI_STATUS_VAL   (1ull << 63)
#define MCI_STATUS_UC    (1ull << 61)
#define MCI_STATUS_MISCV (1ull << 59)
#define MCI_STATUS_ADDRV (1ull << 58)
#define MCI_STATUS_PCC   (1ull << 57)

uint64_t mces_to_l1;

static uint64_t msr_or_zero(uint32_t msr)
{
	uint64_t v;

	return rdmsr_safe(msr, &v) < 0 ? v : 0;
}

/* Log every bank holding an error; true if one says the context is corrupt (PCC). */
static bool report_banks(void)
{
	unsigned banks = (unsigned)(msr_or_zero(MSR_IA32_MCG_CAP) & 0xff);
	bool pcc = false;

	for (unsigned i = 0; i < banks && i < 32; i++) {
		uint32_t base = MSR_IA32_MC0_STATUS + 4 * i;
		uint64_t st = msr_or_zero(base);

		if (!(st & MCI_STATUS_VAL))
			continue;
		pcc |= !!(st & MCI_STATUS_PCC);
		log_line("mce: bank %u status 0x%016lx%s%s addr 0x%lx misc 0x%lx", i, st,
			 st & MCI_STATUS_UC ? " UC" : "", st & MCI_STATUS_PCC ? " PCC" : "",
			 st & MCI_STATUS_ADDRV ? msr_or_zero(base + 1) : 0,
			 st & MCI_STATUS_MISCV ? msr_or_zero(base + 2) : 0);
	}
	return pcc;
}

void mce_in_l0(const struct trap_frame *f)
{
	uint64_t status = msr_or_zero(MSR_IA32_MCG_STATUS);
	bool pcc;

	log_line("mce: machine check in L0 at rip 0x%lx: MCG_STATUS 0x%lx (RIPV %u EIPV %u MCIP %u)",
		 f->rip, status, !!(status & MCG_STATUS_RIPV), !!(status & MCG_STATUS_EIPV),
		 !!(status & MCG_STATUS_MCIP));
	pcc = report_banks();
	if (!(status & MCG_STATUS_RIPV) || pcc)
		panic("machine check in L0 that it cannot restart from (%s): a hardware error",
		      pcc ? "processor context corrupt" : "MCG_STATUS.RIPV = 0");
	l0_events.n.mce = 1;
}
