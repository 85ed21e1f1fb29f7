/*
 * verify.c - the data pattern for verify=1, identical to the built-in
 * guest's (guest/builtin/verify.c) so either guest can check what the
 * other wrote: every 8-byte word of a sector is derived from (seed,
 * sector, word index), so any block can be regenerated and checked
 * without remembering what was written.
 */
#include "agent.h"

#define WORDS_PER_SECTOR	(AGENT_SECTOR / 8)
#define WORD_STEP		0x9e3779b97f4a7c15ull	/* odd: words differ */

/* splitmix64's finalizer: cheap, integer-only, well mixed. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t sector_key(uint64_t seed, uint64_t sector)
{
	return mix(mix(seed ^ 0x76726f6d6f726368ull) ^ sector);
}

void verify_fill(void *buf, uint32_t len, uint64_t seed, uint64_t sector)
{
	uint64_t *w = buf;

	for (uint32_t s = 0; s < len / AGENT_SECTOR; s++) {
		uint64_t v = sector_key(seed, sector + s);

		for (unsigned i = 0; i < WORDS_PER_SECTOR; i++, v += WORD_STEP)
			*w++ = v;
	}
}

/* Number of sectors in buf that differ from the pattern. */
uint64_t verify_check(const void *buf, uint32_t len, uint64_t seed,
		      uint64_t sector)
{
	const uint64_t *w = buf;
	uint64_t bad = 0;

	for (uint32_t s = 0; s < len / AGENT_SECTOR; s++) {
		uint64_t v = sector_key(seed, sector + s), diff = 0;

		for (unsigned i = 0; i < WORDS_PER_SECTOR; i++, v += WORD_STEP)
			diff |= w[i] ^ v;
		bad += diff != 0;
		w += WORDS_PER_SECTOR;
	}
	return bad;
}
