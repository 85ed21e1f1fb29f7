/*
 * pattern.h - what both guests (the freestanding built-in guest and the
 * Linux agent) must compute bit for bit alike: the verify data pattern and
 * the offset generator, so either guest can check what the other
 * wrote and the same seed picks the same blocks.  Header-only, integer-only
 * (the built-in guest has no libc and no SSE).
 *
 * The pattern: every 8-byte word of a 512-byte sector derives from (seed,
 * sector, word index), so any block can be regenerated without remembering
 * what was written.  One hash per sector, then an additive step per word:
 * on PVM each CPL-0 guest instruction costs about a microsecond.
 */
#ifndef VMORCH_GUEST_PATTERN_H
#define VMORCH_GUEST_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#define PATTERN_SECTOR		512
#define PATTERN_WORDS		(PATTERN_SECTOR / 8)
#define PATTERN_WORD_STEP	0x9e3779b97f4a7c15ull	/* odd: words differ */

/* splitmix64's finalizer: cheap and well mixed. */
static inline uint64_t pattern_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_sector_key(uint64_t seed, uint64_t sector)
{
	return pattern_mix(pattern_mix(seed ^ 0x76726f6d6f726368ull) ^ sector);
}

/* Fill @len bytes (whole sectors) starting at @sector with the pattern. */
static inline void verify_fill(void *buf, uint32_t len, uint64_t seed, uint64_t sector)
{
	uint64_t *w = buf;

	for (uint32_t s = 0; s < len / PATTERN_SECTOR; s++) {
		uint64_t v = pattern_sector_key(seed, sector + s);

		for (unsigned i = 0; i < PATTERN_WORDS; i++, v += PATTERN_WORD_STEP)
			*w++ = v;
	}
}

/* Number of sectors in @buf that differ from the pattern. */
static inline uint64_t verify_check(const void *buf, uint32_t len, uint64_t seed,
				    uint64_t sector)
{
	const uint64_t *w = buf;
	uint64_t bad = 0;

	for (uint32_t s = 0; s < len / PATTERN_SECTOR; s++) {
		uint64_t v = pattern_sector_key(seed, sector + s), diff = 0;

		for (unsigned i = 0; i < PATTERN_WORDS; i++, v += PATTERN_WORD_STEP)
			diff |= w[i] ^ v;
		bad += diff != 0;
		w += PATTERN_WORDS;
	}
	return bad;
}

/* The offset generator's state for @seed (never 0: xorshift's fixed point). */
static inline uint64_t pattern_rng_init(uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;

	return x ? x : 1;
}

static inline uint64_t pattern_xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* ---- the offset generator: which block each op touches, and how ---- */

enum pattern { PAT_SEQREAD, PAT_SEQWRITE, PAT_RANDREAD, PAT_RANDWRITE, PAT_RANDRW };
enum op_kind { OP_READ, OP_WRITE, OP_FLUSH };

static inline bool pattern_writes(enum pattern p)
{
	return p == PAT_SEQWRITE || p == PAT_RANDWRITE || p == PAT_RANDRW;
}

struct opgen {
	enum pattern pattern;
	uint64_t nblocks;
	uint32_t spb;			/* sectors per block */
	uint64_t next_seq;
	uint64_t rng;
	uint32_t rwmix;			/* read percentage for randrw */
	bool force_read;		/* verify read-back of a write pattern */
};

static inline void opgen_init(struct opgen *g, enum pattern p, uint64_t nblocks,
			      uint32_t bs, uint64_t seed, uint32_t rwmix)
{
	g->pattern = p;
	g->nblocks = nblocks;
	g->spb = bs / PATTERN_SECTOR;
	g->next_seq = 0;
	g->rng = pattern_rng_init(seed);
	g->rwmix = rwmix;
	g->force_read = false;
}

/* The next op's kind and first sector. */
static inline enum op_kind opgen_next(struct opgen *g, uint64_t *sector)
{
	enum op_kind kind = OP_READ;
	uint64_t block;

	switch (g->pattern) {
	case PAT_SEQWRITE:
		kind = OP_WRITE;
		/* fall through */
	case PAT_SEQREAD:
		block = g->next_seq++ % g->nblocks;
		break;
	case PAT_RANDWRITE:
		kind = OP_WRITE;
		/* fall through */
	case PAT_RANDREAD:
		block = pattern_xorshift64(&g->rng) % g->nblocks;
		break;
	default:
		block = pattern_xorshift64(&g->rng) % g->nblocks;
		if (pattern_xorshift64(&g->rng) % 100 >= g->rwmix)
			kind = OP_WRITE;
		break;
	}
	*sector = block * g->spb;
	return g->force_read ? OP_READ : kind;
}

#endif
