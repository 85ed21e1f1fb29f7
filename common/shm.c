/*
 * shm.c - creating, mapping and validating the worker's shared region.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

int shm_create(struct shm_map *m, struct verr *e)
{
	struct shm_region *r;
	int fd, rc;

	fd = memfd_create("vmorch-shm", MFD_ALLOW_SEALING);
	if (fd < 0) {
		rc = -errno;
		verr_set(e, "memfd_create: %s", strerror(errno));
		return rc;
	}
	if (ftruncate(fd, sizeof(*r)) < 0) {
		rc = -errno;
		verr_set(e, "shm: ftruncate to %zu bytes: %s", sizeof(*r), strerror(errno));
		goto fail;
	}
	/* The size never changes: a worker cannot shrink the file under us. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		verr_set(e, "shm: sealing: %s", strerror(errno));
		goto fail;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		rc = -errno;
		verr_set(e, "shm: mmap: %s", strerror(errno));
		goto fail;
	}
	/* ftruncate zero-filled the pages; atomics of zero are valid. */
	r->hdr.magic = SHM_MAGIC;
	r->hdr.abi_version = SHM_ABI_VERSION;
	r->hdr.size = sizeof(*r);
	m->fd = fd;
	m->r = r;
	return 0;
fail:
	close(fd);
	return rc;
}

int shm_header_check(const struct shm_header *h, uint64_t file_size, struct verr *e)
{
	if (h->magic != SHM_MAGIC) {
		verr_set(e, "shm: bad magic 0x%016llx (expected 0x%016llx): "
			 "not a vmorch region", (unsigned long long)h->magic,
			 (unsigned long long)SHM_MAGIC);
		return -EBADMSG;
	}
	if (h->abi_version != SHM_ABI_VERSION) {
		verr_set(e, "shm: ABI version %u, this vmorch speaks %u "
			 "(worker and orchestrator from different builds?)",
			 h->abi_version, SHM_ABI_VERSION);
		return -EPROTO;
	}
	if (h->size != sizeof(struct shm_region) || file_size < sizeof(struct shm_region)) {
		verr_set(e, "shm: region size %llu (file %llu bytes), expected %zu",
			 (unsigned long long)h->size, (unsigned long long)file_size,
			 sizeof(struct shm_region));
		return -EBADMSG;
	}
	return 0;
}

int shm_map_checked(int fd, struct shm_map *m, struct verr *e)
{
	struct shm_header h;
	struct stat st;
	void *p;
	int rc;

	if (fstat(fd, &st) < 0) {
		rc = -errno;
		verr_set(e, "shm: fd %d: %s", fd, strerror(errno));
		return rc;
	}
	if ((uint64_t)st.st_size < sizeof(h)) {
		verr_set(e, "shm: region is %lld bytes, too small for a header",
			 (long long)st.st_size);
		return -EBADMSG;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		verr_set(e, "shm: cannot read the header");
		return -EIO;
	}
	rc = shm_header_check(&h, (uint64_t)st.st_size, e);
	if (rc)
		return rc;
	p = mmap(NULL, sizeof(struct shm_region), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		verr_set(e, "shm: mmap: %s", strerror(errno));
		return rc;
	}
	m->fd = fd;
	m->r = p;
	return 0;
}

void shm_unmap(struct shm_map *m)
{
	if (m->r)
		munmap(m->r, sizeof(*m->r));
	if (m->fd >= 0)
		close(m->fd);
	m->r = NULL;
	m->fd = -1;
}

void shm_set_state(struct shm_region *r, enum shm_state s)
{
	atomic_store_explicit(&r->state, s, memory_order_release);
}

enum shm_state shm_get_state(const struct shm_region *r)
{
	uint32_t s = atomic_load_explicit(&r->state, memory_order_acquire);

	return s < SHM_STATE_NR ? (enum shm_state)s : SHM_STATE_STARTING;
}


void shm_heartbeat(struct shm_region *r)
{
	atomic_store_explicit(&r->heartbeat_ns, clock_ns(), memory_order_relaxed);
}

int shm_snapshot_disk(const struct shm_region *r, uint32_t disk,
		      struct vblk_snapshot *out)
{
	if (disk >= SHM_MAX_DISKS)
		return -ERANGE;
	vblk_counters_snapshot(&r->disk[disk], out);
	return 0;
}

int shm_publish_result(struct shm_region *r, const char *json, size_t len)
{
	if (len > SHM_RESULT_MAX)
		return -E2BIG;
	memcpy(r->result_json, json, len);
	r->result_len = (uint32_t)len;
	atomic_store_explicit(&r->result_ready, 1, memory_order_release);
	return 0;
}

int shm_read_result(const struct shm_region *r, struct vm_result *out,
		    struct verr *e)
{
	uint32_t len;
	char *buf;
	int rc;

	if (!atomic_load_explicit(&r->result_ready, memory_order_acquire))
		return 0;
	len = r->result_len;
	if (len == 0 || len > SHM_RESULT_MAX) {
		verr_set(e, "shm: result length %u out of range (1..%d)", len,
			 SHM_RESULT_MAX);
		return -EBADMSG;
	}
	/* Copy first: the decoder must not see bytes change under it. */
	buf = malloc(len);
	if (!buf) {
		verr_set(e, "shm: out of memory");
		return -ENOMEM;
	}
	memcpy(buf, r->result_json, len);
	rc = vm_result_decode(buf, len, out, e);
	free(buf);
	if (rc) {
		verr_prefix(e, "shm result slot");
		return rc;
	}
	return 1;
}

int shm_read_console(const struct shm_region *r, uint32_t cap, struct console_text *out)
{
	uint64_t total = atomic_load_explicit(&r->console_total, memory_order_acquire);
	int rc;

	if (cap > VMORCH_CONSOLE_MAX)
		cap = VMORCH_CONSOLE_MAX;
	rc = console_ring_copy(r->console, cap, total, out);
	/* Only a scribbling worker gets here; SQLite's INTEGER ends at INT64_MAX. */
	if (!rc && out->bytes > INT64_MAX) {
		out->bytes = INT64_MAX;
		out->dropped = out->bytes - out->len;
	}
	return rc;
}
