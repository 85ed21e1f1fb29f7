/*
 * fuzz_shm.c - libFuzzer target for the orchestrator's view of a worker's
 * shared region: everything a buggy or hostile worker can scribble there
 * (header, state, counts, counters, the result slot) and a file of the
 * wrong size, through shm_map_checked, shm_get_state, shm_snapshot_disk
 * and shm_read_result.  Build: make fuzz.
 *
 * Input layout (little-endian, missing bytes read as zero):
 *   u8  flags: bits 0-1 file size (0 exact, 1 short, 2 long, 3 exact),
 *              4 raw header from the input (else a valid one),
 *              8 raw result_len (else the length of the JSON below)
 *   u16 size argument: bytes short of, or beyond, sizeof(struct shm_region)
 *   [24 bytes of header when flags & 4]
 *   u32 state, ndisks, nvcpus, result_ready, result_len
 *   u8  n counter patches (mod 16), each: u16 word index, u64 value (the
 *       index one past the counters is the console ring's byte count)
 *   the rest: the result slot's bytes (at most SHM_RESULT_MAX)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REGION sizeof(struct shm_region)
#define COUNTER_WORDS (SHM_MAX_DISKS * VBLK_NR_COUNTERS)	/* _Atomic uint64_t each */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct cursor *c, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (c->left) {
			v |= (uint64_t)*c->p << (8 * i);
			c->p++;
			c->left--;
		}
	}
	return v;
}

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_shm: %s: %s\n", why, detail ? detail : "");
	abort();
}

static size_t file_size_of(unsigned int flags, size_t arg)
{
	switch (flags & 3) {
	case 1:
		return arg % REGION;
	case 2:
		return REGION + arg;
	default:
		return REGION;
	}
}

/* The region a worker left behind, built in @img (REGION bytes, zeroed). */
static void image_fill(struct shm_region *img, unsigned int flags, struct cursor *c)
{
	uint64_t *words = (uint64_t *)(void *)img->disk;
	uint32_t len_raw;

	img->hdr.magic = SHM_MAGIC;
	img->hdr.abi_version = SHM_ABI_VERSION;
	img->hdr.size = REGION;
	if (flags & 4) {
		img->hdr.magic = take(c, 8);
		img->hdr.abi_version = (uint32_t)take(c, 4);
		img->hdr.reserved = (uint32_t)take(c, 4);
		img->hdr.size = take(c, 8);
	}
	atomic_store(&img->state, (uint32_t)take(c, 4));
	atomic_store(&img->ndisks, (uint32_t)take(c, 4));
	atomic_store(&img->nvcpus, (uint32_t)take(c, 4));
	atomic_store(&img->result_ready, (uint32_t)take(c, 4));
	len_raw = (uint32_t)take(c, 4);
	for (unsigned int n = (unsigned int)take(c, 1) % 16; n; n--) {
		size_t i = (size_t)take(c, 2) % (COUNTER_WORDS + 1);

		if (i == COUNTER_WORDS)
			atomic_store(&img->console_total, take(c, 8));
		else
			words[i] = take(c, 8);
	}
	if (c->left > SHM_RESULT_MAX)
		c->left = SHM_RESULT_MAX;
	memcpy(img->result_json, c->p, c->left);
	img->result_len = (flags & 8) ? len_raw : (uint32_t)c->left;
}

/* The console ring's bytes stay zero: its pages need not be written each time. */
#define IMAGE	offsetof(struct shm_region, console)

static int memfd_with(const void *img, size_t file_size)
{
	int fd = memfd_create("fuzz-shm", MFD_CLOEXEC);
	size_t n = file_size < IMAGE ? file_size : IMAGE;

	if (fd < 0)
		fuzz_fail("memfd_create", NULL);
	if (ftruncate(fd, (off_t)file_size) < 0 ||
	    pwrite(fd, img, n, 0) != (ssize_t)n)
		fuzz_fail("writing the memfd", NULL);
	return fd;
}

/* What the orchestrator reads from a mapped region, as pool.c does. */
static void region_read_all(const struct shm_region *r)
{
	static struct vm_result res;
	struct console_text con;
	struct vblk_snapshot snap;
	struct verr e = { "" };
	uint32_t n = atomic_load(&r->ndisks);
	int rc;

	if (shm_get_state(r) >= SHM_STATE_NR)
		fuzz_fail("state out of range", NULL);
	for (uint32_t i = 0; i < n && i <= SHM_MAX_DISKS; i++) {
		rc = shm_snapshot_disk(r, i, &snap);
		if ((i < SHM_MAX_DISKS) != (rc == 0))
			fuzz_fail("snapshot bound not enforced", NULL);
	}
	memset(&res, 0, sizeof(res));
	rc = shm_read_result(r, &res, &e);
	if (rc < 0 && !e.msg[0])
		fuzz_fail("refused result without a message", NULL);
	if (rc == 1 && (res.ndisks > JOB_MAX_DISKS || (unsigned)res.exit_kind >= VM_EXIT_NR))
		fuzz_fail("accepted result out of bounds", NULL);
	if (rc > 1)
		fuzz_fail("unexpected return", NULL);
	if (shm_read_console(r, VMORCH_CONSOLE_MAX, &con) == 0) {
		if (con.len > VMORCH_CONSOLE_MAX || con.bytes - con.dropped != con.len ||
		    con.bytes > INT64_MAX)
			fuzz_fail("console out of bounds", NULL);
		console_text_release(&con);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shm_region img;
	struct cursor c = { data, size };
	unsigned int flags = (unsigned int)take(&c, 1);
	size_t file_size = file_size_of(flags, (size_t)take(&c, 2));
	struct shm_map m = { .fd = -1 };
	struct verr e = { "" };
	bool valid;
	int fd, rc;

	memset(&img, 0, IMAGE);
	image_fill(&img, flags, &c);
	valid = img.hdr.magic == SHM_MAGIC && img.hdr.abi_version == SHM_ABI_VERSION &&
		img.hdr.size == REGION && file_size >= REGION;
	fd = memfd_with(&img, file_size);
	rc = shm_map_checked(fd, &m, &e);
	if (rc) {
		if (valid || rc >= 0 || !e.msg[0])
			fuzz_fail("wrong refusal", e.msg);
		close(fd);
		return 0;
	}
	if (!valid)
		fuzz_fail("a bad header or short file was mapped", NULL);
	region_read_all(m.r);
	shm_unmap(&m);
	return 0;
}
