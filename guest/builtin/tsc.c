/*
 * tsc.c - time for the guest: the TSC rate from CPUID (no PIT or HPET on a
 * microvm), and deadlines that bound every wait.  If the TSC rate is
 * unknown we assume a fast clock (waits then last longer, never forever).
 */
#include "lib.h"

#define TSC_KHZ_GUESS	4000000		/* 4 GHz: overestimating only lengthens waits */
#define SPIN_LIMIT	4000000000ull	/* used only if the TSC stands still */

static uint64_t tsc_rate_khz;		/* 0 = unknown */
static bool tsc_moves;

static uint64_t tsc_khz_from_cpuid(void)
{
	uint32_t a, b, c, d, max;

	cpuid(0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);	/* TSC/crystal ratio b/a, crystal Hz c */
		if (a && b && c)
			return (uint64_t)c * b / a / 1000;
	}
	if (max >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);	/* base MHz */
		if (a & 0xffff)
			return (uint64_t)(a & 0xffff) * 1000;
	}
	/* Hypervisor timing leaf (KVM/VMware convention): eax = TSC kHz. */
	cpuid(1, &a, &b, &c, &d);
	if (c & (1u << 31)) {
		cpuid(0x40000000, &max, &b, &c, &d);
		if (max >= 0x40000010) {
			cpuid(0x40000010, &a, &b, &c, &d);
			if (a)
				return a;
		}
	}
	return 0;
}

void tsc_init(void)
{
	uint64_t t0 = rdtsc();

	tsc_rate_khz = tsc_khz_from_cpuid();	/* a few cpuids: time passes */
	tsc_moves = rdtsc() != t0;
}

bool tsc_works(void)
{
	return tsc_moves;
}

uint64_t tsc_khz(void)
{
	return tsc_rate_khz;
}

void deadline_start(struct deadline *dl, uint32_t ms)
{
	uint64_t khz = tsc_rate_khz ? tsc_rate_khz : TSC_KHZ_GUESS;

	dl->end = rdtsc() + khz * ms;
	dl->spins = 0;
}

bool deadline_passed(struct deadline *dl)
{
	if (!tsc_moves)
		return ++dl->spins > SPIN_LIMIT;
	return (int64_t)(rdtsc() - dl->end) >= 0;
}

void delay_ms(uint32_t ms)
{
	struct deadline dl;

	deadline_start(&dl, ms);
	while (!deadline_passed(&dl))
		cpu_relax();
}
