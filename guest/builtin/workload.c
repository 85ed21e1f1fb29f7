/*
 * workload.c - drives one disk with the command line's workload: an op
 * generator (sequential or xorshift-random blocks, read/write mix), a
 * request engine keeping qd requests in flight with optional flushes, and
 * the verify phases (write the pattern, pause, read and check).
 */
#include "guest.h"

#define VERIFY_PAUSE_PORT	0xf5

struct slot_state {
	enum op_kind kind;
	uint64_t sector;
};

struct engine {
	struct disk *d;
	const struct guest_cfg *cfg;
	struct run_stats *st;
	uint8_t *buf[QUEUE_MAX];
	struct slot_state slot[QUEUE_MAX];
	uint16_t free_slot[QUEUE_MAX];
	unsigned nfree;
	bool verify;
};


static int engine_submit(struct engine *e, enum op_kind kind, uint64_t sector)
{
	unsigned slot = e->free_slot[--e->nfree];
	uint32_t bs = e->cfg->bs;
	static const uint32_t type[] = {
		[OP_READ] = VIRTIO_BLK_T_IN,
		[OP_WRITE] = VIRTIO_BLK_T_OUT,
		[OP_FLUSH] = VIRTIO_BLK_T_FLUSH,
	};

	e->slot[slot].kind = kind;
	e->slot[slot].sector = sector;
	if (kind == OP_WRITE && e->verify)
		verify_fill(e->buf[slot], bs, e->cfg->seed, sector);
	return blk_submit(e->d, slot, type[kind], kind == OP_FLUSH ? 0 : sector,
			  e->buf[slot], kind == OP_FLUSH ? 0 : bs);
}

static int engine_complete(struct engine *e, unsigned slot, uint8_t status)
{
	static const char *const name[] = { "read", "write", "flush" };
	struct slot_state *s = &e->slot[slot];
	struct run_stats *st = e->st;
	uint32_t bs = e->cfg->bs;

	e->free_slot[e->nfree++] = (uint16_t)slot;
	if (status != VIRTIO_BLK_S_OK)
		return fail("disk %u: %s at sector %lu: status %u", e->d->index,
			    name[s->kind], (unsigned long)s->sector, status);
	switch (s->kind) {
	case OP_READ:
		st->reads++;
		st->bytes_read += bs;
		if (e->verify)
			st->verify_errors += verify_check(e->buf[slot], bs,
							  e->cfg->seed, s->sector);
		break;
	case OP_WRITE:
		st->writes++;
		st->bytes_written += bs;
		break;
	case OP_FLUSH:
		st->flushes++;
		break;
	}
	return 0;
}

static void progress_report(struct engine *e, uint64_t done, uint64_t nops,
			    unsigned *quarter)
{
	while (*quarter < 3 && done * 4 >= nops * (*quarter + 1)) {
		(*quarter)++;
		serial_printf("vmorch-guest: disk %u %u%% (%lu/%lu ops)\n",
			      e->d->index, *quarter * 25, (unsigned long)done,
			      (unsigned long)nops);
	}
}

/* nops requests from g with up to qd in flight, plus a FLUSH after every
 * flush_every of them. */
static int engine_phase(struct engine *e, struct opgen *g, uint64_t nops,
			uint64_t flush_every, bool progress)
{
	uint64_t issued = 0, done = 0;
	unsigned inflight = 0, quarter = 0;
	bool flush_due = false;
	struct deadline dl;
	int rc;

	while (issued < nops || flush_due || inflight) {
		bool submitted = false;

		while (e->nfree && (issued < nops || flush_due)) {
			uint64_t sector = 0;
			enum op_kind kind = OP_FLUSH;

			if (flush_due)
				flush_due = false;
			else
				kind = opgen_next(g, &sector);
			if ((rc = engine_submit(e, kind, sector)))
				return rc;
			if (kind != OP_FLUSH) {
				issued++;
				flush_due = flush_every && issued % flush_every == 0;
			}
			inflight++;
			submitted = true;
		}
		if (submitted)
			blk_kick(e->d);
		deadline_start(&dl, WAIT_MS);
		if ((rc = blk_wait(e->d, &dl)))
			return rc;
		for (;;) {
			unsigned slot;
			uint8_t status;
			uint32_t len;

			rc = blk_reap(e->d, &slot, &status, &len);
			if (rc < 0)
				return rc;
			if (rc > 0)
				break;
			inflight--;
			done += e->slot[slot].kind != OP_FLUSH;
			if ((rc = engine_complete(e, slot, status)))
				return rc;
		}
		if (progress)
			progress_report(e, done, nops, &quarter);
	}
	return 0;
}

static int engine_setup(struct engine *e, struct disk *d,
			const struct guest_cfg *cfg, struct run_stats *st)
{
	uint64_t need = (uint64_t)cfg->qd * cfg->bs;
	bool shared;

	e->d = d;
	e->cfg = cfg;
	e->st = st;
	e->verify = cfg->verify;
	if (!d->indirect && cfg->qd * 3 > d->qsize)
		return fail("qd %u needs %u descriptors, queue has %u (use indirect=1)",
			    cfg->qd, cfg->qd * 3, d->qsize);
	if (cfg->qd > d->qsize)
		return fail("qd %u above queue size %u", cfg->qd, d->qsize);
	/* One buffer per slot when memory allows; without verify all slots
	 * may share one, since the data is never looked at. */
	shared = need + (1 << 20) > mem_free_bytes();
	if (shared && cfg->verify)
		return fail("verify needs qd*bs = %lu bytes, only %lu free",
			    (unsigned long)need, (unsigned long)mem_free_bytes());
	for (unsigned i = 0; i < cfg->qd; i++) {
		if (!shared || i == 0)
			e->buf[i] = mem_alloc(cfg->bs, 4096);
		else
			e->buf[i] = e->buf[0];
		if (!e->buf[i])
			return fail("out of memory for %u-byte buffers", cfg->bs);
		e->free_slot[i] = (uint16_t)(cfg->qd - 1 - i);
	}
	e->nfree = cfg->qd;
	return 0;
}

/* verify_pause=1: tell the host the pattern is on disk, then wait (bounded)
 * until port 0xf5 reads nonzero.  Without a device there it reads all-ones. */
static void verify_pause(void)
{
	struct deadline dl;

	serial_write("VMORCH-PHASE written\n");
	deadline_start(&dl, WAIT_MS);
	while (inl(VERIFY_PAUSE_PORT) == 0 && !deadline_passed(&dl))
		cpu_relax();
}

static int run_phases(struct engine *e, uint64_t nblocks, uint64_t *cycles)
{
	const struct guest_cfg *cfg = e->cfg;
	bool write_first = cfg->pattern == PAT_SEQWRITE || cfg->pattern == PAT_RANDWRITE;
	struct opgen g;
	uint64_t t0;
	int rc;

	/* Read patterns (and randrw) read blocks anywhere in the span: put
	 * the pattern on the whole span first. */
	if (cfg->verify && !write_first) {
		opgen_init(&g, PAT_SEQWRITE, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
		if ((rc = engine_phase(e, &g, nblocks, 0, false)))
			return rc;
		if (cfg->verify_pause)
			verify_pause();
	}
	opgen_init(&g, cfg->pattern, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
	t0 = rdtsc();
	rc = engine_phase(e, &g, cfg->ops, cfg->flush_every, true);
	*cycles += rdtsc() - t0;
	if (rc)
		return rc;
	/* Write patterns: read back exactly what was written. */
	if (cfg->verify && write_first) {
		if (cfg->verify_pause)
			verify_pause();
		opgen_init(&g, cfg->pattern, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
		g.force_read = true;
		return engine_phase(e, &g, cfg->ops, 0, false);
	}
	return 0;
}

int workload_run_disk(struct disk *d, const struct guest_cfg *cfg,
		      struct run_stats *st)
{
	static struct engine e;
	uint64_t disk_bytes = d->capacity * SECTOR_SIZE;
	uint64_t span = cfg->span ? cfg->span : disk_bytes;
	uint64_t nblocks = span / cfg->bs;
	int rc;

	if (span > disk_bytes)
		return fail("disk %u: span %lu beyond capacity %lu", d->index,
			    (unsigned long)span, (unsigned long)disk_bytes);
	if (nblocks == 0)
		return fail("disk %u: span smaller than bs", d->index);
	if ((pattern_writes(cfg->pattern) || cfg->verify) &&
	    (d->features & (1ull << VIRTIO_BLK_F_RO)))
		return fail("disk %u is read-only", d->index);
	if (cfg->flush_every && !(d->features & (1ull << VIRTIO_BLK_F_FLUSH)))
		return fail("disk %u: device does not offer FLUSH", d->index);
	if ((rc = engine_setup(&e, d, cfg, st)))
		return rc;
	if ((rc = run_phases(&e, nblocks, &st->cycles)))
		return rc;
	st->ops += cfg->ops;
	return 0;
}
