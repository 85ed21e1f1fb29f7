/*
 * workload.c - drives one disk through Linux's block layer the way the
 * built-in guest drives the device: the same op generator (sequential or
 * xorshift blocks, read/write mix, seeds), the same verify phases, with
 * O_DIRECT and up to qd requests in flight through Linux AIO
 * (io_submit/io_getevents, raw syscalls: no libaio in a static /init).
 * Flushes are IOCB_CMD_FDSYNC in the same queue (fdatasync on a block
 * device: one empty PREFLUSH write, one FLUSH to the device).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "guest/builtin/protocol.h"

#define VERIFY_PAUSE_PORT	0xf5

struct slot {
	enum op_kind kind;
	uint64_t sector;
	uint64_t t0;
	bool timed;
};

struct engine {
	int fd;
	unsigned index;
	aio_context_t ctx;
	const struct agent_cfg *cfg;
	struct run_stats *st;
	struct iocb cb[AGENT_QD_MAX];
	struct slot slot[AGENT_QD_MAX];
	uint8_t *buf[AGENT_QD_MAX];
	uint16_t free_slot[AGENT_QD_MAX];
	unsigned nfree;
	bool verify;
};


static int engine_prep(struct engine *e, enum op_kind kind, uint64_t sector, bool timed,
		       struct iocb **out)
{
	unsigned s = e->free_slot[--e->nfree];
	struct iocb *cb = &e->cb[s];
	uint32_t bs = e->cfg->bs;

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = s;
	cb->aio_fildes = (uint32_t)e->fd;
	if (kind == OP_FLUSH) {
		cb->aio_lio_opcode = IOCB_CMD_FDSYNC;
	} else {
		cb->aio_lio_opcode = kind == OP_READ ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
		cb->aio_buf = (uint64_t)(uintptr_t)e->buf[s];
		cb->aio_nbytes = bs;
		cb->aio_offset = (int64_t)(sector * AGENT_SECTOR);
		if (kind == OP_WRITE && e->verify)
			verify_fill(e->buf[s], bs, e->cfg->seed, sector);
	}
	e->slot[s] = (struct slot){ kind, sector, 0, timed && kind != OP_FLUSH };
	*out = cb;
	return 0;
}

static void lat_record(struct run_stats *st, uint64_t ns)
{
	if (st->nlat == st->lat_cap) {
		uint64_t cap = st->lat_cap ? st->lat_cap * 2 : 4096;
		uint32_t *p = realloc(st->lat_us, cap * sizeof(*p));

		if (!p)
			return;		/* percentiles from fewer samples */
		st->lat_us = p;
		st->lat_cap = cap;
	}
	ns = (ns + 999) / 1000;
	st->lat_us[st->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int engine_complete(struct engine *e, const struct io_event *ev, uint64_t t)
{
	static const char *const name[] = { "read", "write", "flush" };
	unsigned s = (unsigned)ev->data;
	struct slot *sl = &e->slot[s];
	struct run_stats *st = e->st;
	uint32_t bs = e->cfg->bs;

	e->free_slot[e->nfree++] = (uint16_t)s;
	if (ev->res < 0)
		return fail("disk %u: %s at sector %llu: %s", e->index, name[sl->kind],
			    (unsigned long long)sl->sector, strerror((int)-ev->res));
	if (sl->kind != OP_FLUSH && ev->res != bs)
		return fail("disk %u: short %s at sector %llu: %lld of %u bytes", e->index,
			    name[sl->kind], (unsigned long long)sl->sector,
			    (long long)ev->res, bs);
	if (sl->timed)
		lat_record(st, t - sl->t0);
	switch (sl->kind) {
	case OP_READ:
		st->reads++;
		st->bytes_read += bs;
		if (e->verify)
			st->verify_errors += verify_check(e->buf[s], bs, e->cfg->seed,
							  sl->sector);
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

/* nops requests from g with up to qd in flight, plus a flush after every
 * flush_every of them.  At most one flush is in flight: Linux merges
 * concurrent flushes into one FLUSH to the device (blk-flush), and the
 * device must see exactly as many as the agent counts.  A flush that falls
 * due while another runs goes out when that one completes. */
static int engine_phase(struct engine *e, struct opgen *g, uint64_t nops,
			uint64_t flush_every, bool timed)
{
	struct io_event ev[AGENT_QD_MAX];
	struct iocb *batch[AGENT_QD_MAX];
	uint64_t issued = 0, flushes_owed = 0;
	unsigned inflight = 0;
	bool flushing = false;

	while (issued < nops || flushes_owed || inflight) {
		struct timespec to = { AGENT_WAIT_MS / 1000, 0 };
		unsigned nb = 0;
		uint64_t t;
		long got, done;

		while (e->nfree && (issued < nops || (flushes_owed && !flushing))) {
			uint64_t sector = 0;
			enum op_kind kind = OP_FLUSH;

			if (flushes_owed && !flushing) {
				flushes_owed--;
				flushing = true;
			} else {
				kind = opgen_next(g, &sector);
			}
			engine_prep(e, kind, sector, timed, &batch[nb++]);
			if (kind != OP_FLUSH) {
				issued++;
				flushes_owed += flush_every && issued % flush_every == 0;
			}
		}
		t = now_ns();
		for (unsigned i = 0; i < nb; i++)
			e->slot[batch[i]->aio_data].t0 = t;
		for (done = 0; done < (long)nb; done += got) {
			got = syscall(SYS_io_submit, e->ctx, (long)nb - done, batch + done);
			if (got <= 0)
				return fail("disk %u: io_submit: %s", e->index,
					    got < 0 ? strerror(errno) : "nothing submitted");
		}
		inflight += nb;
		if (!inflight)
			continue;
		got = syscall(SYS_io_getevents, e->ctx, 1L, (long)inflight, ev, &to);
		t = now_ns();
		if (got < 0 && errno != EINTR)
			return fail("disk %u: io_getevents: %s", e->index, strerror(errno));
		if (got == 0)
			return fail("disk %u: %u requests still pending after %d ms",
				    e->index, inflight, AGENT_WAIT_MS);
		for (long i = 0; i < got; i++) {
			inflight--;
			if (e->slot[ev[i].data].kind == OP_FLUSH)
				flushing = false;
			if (engine_complete(e, &ev[i], t))
				return -1;
		}
	}
	return 0;
}

static int engine_setup(struct engine *e, int fd, unsigned index,
			const struct agent_cfg *cfg, struct run_stats *st)
{
	memset(e, 0, offsetof(struct engine, cb));
	e->fd = fd;
	e->index = index;
	e->cfg = cfg;
	e->st = st;
	e->verify = cfg->verify;
	if (syscall(SYS_io_setup, cfg->qd, &e->ctx))
		return fail("io_setup(%u): %s", cfg->qd, strerror(errno));
	for (unsigned i = 0; i < cfg->qd; i++) {
		/* Without verify the data is never looked at: one shared buffer. */
		if (i == 0 || cfg->verify) {
			if (posix_memalign((void **)&e->buf[i], 4096, cfg->bs))
				return fail("out of memory for %u-byte buffers", cfg->bs);
			memset(e->buf[i], 0, cfg->bs);
		} else {
			e->buf[i] = e->buf[0];
		}
		e->free_slot[i] = (uint16_t)(cfg->qd - 1 - i);
	}
	e->nfree = cfg->qd;
	return 0;
}

static void engine_teardown(struct engine *e)
{
	if (e->ctx)
		syscall(SYS_io_destroy, e->ctx);
	for (unsigned i = 0; i < e->cfg->qd; i++)
		if (i == 0 || e->cfg->verify)
			free(e->buf[i]);
}

/* verify_pause=1: as the built-in guest, tell the host the pattern is on
 * disk and wait (bounded) until port 0xf5 reads nonzero. */
static void verify_pause(void)
{
	uint64_t end = now_ns() + (uint64_t)AGENT_WAIT_MS * 1000000;
	struct timespec ms = { 0, 1000000 };

	printf("VMORCH-PHASE written\n");
	fflush(stdout);
	if (ioperm(GUEST_DEBUG_EXIT_PORT, 4, 1))
		return;
	while (inl(VERIFY_PAUSE_PORT) == 0 && now_ns() < end)
		nanosleep(&ms, NULL);
}

static int run_phases(struct engine *e, uint64_t nblocks)
{
	const struct agent_cfg *cfg = e->cfg;
	bool write_first = cfg->pattern == PAT_SEQWRITE || cfg->pattern == PAT_RANDWRITE;
	struct opgen g;
	uint64_t t0;
	int rc;

	if (cfg->verify && !write_first) {
		opgen_init(&g, PAT_SEQWRITE, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
		if ((rc = engine_phase(e, &g, nblocks, 0, false)))
			return rc;
		if (cfg->verify_pause)
			verify_pause();
	}
	opgen_init(&g, cfg->pattern, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
	t0 = now_ns();
	rc = engine_phase(e, &g, cfg->ops, cfg->flush_every, true);
	e->st->seconds += (double)(now_ns() - t0) / 1e9;
	if (rc)
		return rc;
	if (cfg->verify && write_first) {
		if (cfg->verify_pause)
			verify_pause();
		opgen_init(&g, cfg->pattern, nblocks, cfg->bs, cfg->seed, cfg->rwmix);
		g.force_read = true;
		return engine_phase(e, &g, cfg->ops, 0, false);
	}
	return 0;
}

static bool disk_write_back(const struct disk *d)
{
	char path[300], val[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/write_cache", d->name);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (!fgets(val, sizeof(val), f))
		val[0] = 0;
	fclose(f);
	return strncmp(val, "write through", 13) != 0;
}

int workload_run_disk(const struct disk *d, unsigned index,
		      const struct agent_cfg *cfg, struct run_stats *st)
{
	static struct engine e;
	uint64_t span = cfg->span ? cfg->span : d->bytes;
	uint64_t nblocks = span / cfg->bs;
	bool writes = pattern_writes(cfg->pattern) || cfg->verify;
	int fd, rc;

	if (span > d->bytes)
		return fail("disk %u: span %llu beyond capacity %llu", index,
			    (unsigned long long)span, (unsigned long long)d->bytes);
	if (nblocks == 0)
		return fail("disk %u: span smaller than bs", index);
	if (writes && d->read_only)
		return fail("disk %u is read-only", index);
	if (cfg->flush_every && !disk_write_back(d))
		return fail("disk %u: device does not offer FLUSH", index);
	fd = open(d->dev, (writes ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return fail("disk %u: open %s: %s", index, d->dev, strerror(errno));
	rc = engine_setup(&e, fd, index, cfg, st);
	if (!rc)
		rc = run_phases(&e, nblocks);
	engine_teardown(&e);
	close(fd);
	if (!rc)
		st->ops += cfg->ops;
	return rc;
}

/*
 * ro_check=N on a disk Linux marked read-only (VIRTIO_BLK_F_RO sets the
 * disk read-only, which BLKROSET cannot undo): try N block writes and
 * count each one Linux refuses -- at open (EACCES/EROFS on newer kernels)
 * or at the write (EPERM from blkdev_write_iter).  None reaches the
 * device, so the device's io_errors stays 0; a write that succeeds is
 * counted as accepted and fails the run.
 */
int ro_check_disk(const struct disk *d, unsigned index, const struct agent_cfg *cfg,
		  struct run_stats *st)
{
	uint64_t nblocks = (cfg->span ? cfg->span : d->bytes) / cfg->bs;
	void *buf;

	if (nblocks == 0)
		return fail("disk %u: span smaller than bs", index);
	if (posix_memalign(&buf, 4096, cfg->bs))
		return fail("out of memory for %u-byte buffers", cfg->bs);
	for (uint32_t i = 0; i < cfg->ro_check; i++) {
		uint64_t sector = (i % nblocks) * (cfg->bs / AGENT_SECTOR);
		int fd = open(d->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			if (errno != EACCES && errno != EROFS && errno != EPERM) {
				free(buf);
				return fail("disk %u: open %s: %s", index, d->dev, strerror(errno));
			}
			st->ro_refused++;
			continue;
		}
		verify_fill(buf, cfg->bs, cfg->seed, sector);
		n = pwrite(fd, buf, cfg->bs, (off_t)(sector * AGENT_SECTOR));
		close(fd);
		if (n >= 0)
			st->ro_accepted++;
		else
			st->ro_refused++;
	}
	free(buf);
	if (st->ro_accepted)
		return fail("disk %u: read-only disk accepted %llu writes", index,
			    (unsigned long long)st->ro_accepted);
	return 0;
}
