/*
 * virtio_blk.c - the virtio-blk device (virtio 1.2 §5.2): request parsing
 * and execution, throttling, counters, and the device thread that serves
 * the queue whenever the guest kicks (epoll on the ioeventfd, the throttle
 * timerfd and a stop eventfd; it sleeps whenever there is nothing to do).
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vmm-worker/vblk_internal.h"
#include "vmm-worker/virtio_mmio.h"

enum { VBLK_EV_KICK = 1, VBLK_EV_TIMER, VBLK_EV_STOP };

/*
 * A pass serves at most this many requests before yielding the lock (and
 * re-kicking itself), so a guest that refills the ring as fast as we drain
 * it cannot starve a device reset, and a synchronous pass always ends.
 */
#define VBLK_PASS_BUDGET (4 * VQ_MAX_SIZE)

/*
 * Status byte: the last byte of the last descriptor, which must be
 * device-writable.  Without one we cannot answer at all (r->status NULL).
 */
static int vblk_req_find_status(struct vblk *d, const struct vq_chain *c,
				struct vblk_req *r)
{
	const struct vq_seg *s = &c->seg[c->nseg - 1];
	uint8_t *p;

	/* A lone descriptor is the header; it cannot also carry the status. */
	if (c->nseg < 2 || !s->writable || s->len == 0)
		return -EINVAL;
	p = gmem_ptr(d->mem, s->gpa, s->len);
	if (!p)
		return -EFAULT;
	r->status = p + s->len - 1;
	return 0;
}

/*
 * The 16-byte header in the first descriptor.  virtio 1.2 §2.6.4 asks
 * devices not to assume framing, but every driver we serve (Linux, our
 * guest) sends a separate header descriptor, and accepting split headers
 * would only widen the hostile surface; a short one is an error.
 */
static int vblk_req_read_header(struct vblk *d, const struct vq_chain *c,
				struct vblk_req *r)
{
	const struct vq_seg *s = &c->seg[0];
	struct { uint32_t type, reserved; uint64_t sector; } h;
	const uint8_t *p;

	if (s->writable || s->len < VIRTIO_BLK_HDR_SIZE)
		return -EINVAL;
	p = gmem_ptr(d->mem, s->gpa, VIRTIO_BLK_HDR_SIZE);
	if (!p)
		return -EFAULT;
	memcpy(&h, p, sizeof(h));
	r->type = le32toh(h.type);
	r->sector = le64toh(h.sector);
	return 0;
}

/* Data descriptors sit between header and status; IN and GET_ID data must
 * be device-writable, OUT data device-readable. */
static int vblk_req_map_data(struct vblk *d, const struct vq_chain *c,
			     struct vblk_req *r)
{
	bool want_writable = r->type != VIRTIO_BLK_T_OUT;
	uint32_t i;
	void *p;

	for (i = 1; i + 1 < c->nseg; i++) {
		const struct vq_seg *s = &c->seg[i];

		if (s->writable != want_writable)
			return -EINVAL;
		if (s->len == 0)
			continue;
		p = gmem_ptr(d->mem, s->gpa, s->len);
		if (!p)
			return -EFAULT;
		r->iov[r->niov].iov_base = p;
		r->iov[r->niov].iov_len = s->len;
		r->niov++;
		r->data_len += s->len;
	}
	return 0;
}

/* IN/OUT: whole sectors, at least one, all inside the disk. */
static bool vblk_req_range_ok(const struct vblk *d, const struct vblk_req *r)
{
	uint64_t cap = d->disk.size / DISK_SECTOR;

	if (r->data_len == 0 || r->data_len % DISK_SECTOR)
		return false;
	return r->sector <= cap && r->data_len / DISK_SECTOR <= cap - r->sector;
}

/*
 * Turn a chain into a request.  Returns the status to answer with
 * (VIRTIO_BLK_S_OK: go ahead); r->status is NULL when no status byte can
 * be written.
 */
static uint8_t vblk_req_parse(struct vblk *d, const struct vq_chain *c,
			      struct vblk_req *r)
{
	r->status = NULL;
	r->type = UINT32_MAX;
	r->sector = 0;
	r->niov = 0;
	r->data_len = 0;
	if (vblk_req_find_status(d, c, r) < 0)
		return VIRTIO_BLK_S_IOERR;
	if (vblk_req_read_header(d, c, r) < 0)
		return VIRTIO_BLK_S_IOERR;
	switch (r->type) {
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;	/* data descriptors, if any, are ignored */
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_GET_ID:
		break;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (vblk_req_map_data(d, c, r) < 0)
		return VIRTIO_BLK_S_IOERR;
	if (r->type == VIRTIO_BLK_T_GET_ID)
		return r->data_len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	if (!vblk_req_range_ok(d, r))
		return VIRTIO_BLK_S_IOERR;
	if (r->type == VIRTIO_BLK_T_OUT && d->disk.read_only)
		return VIRTIO_BLK_S_IOERR;	/* §5.2.6.2: VIRTIO_BLK_F_RO refuses writes */
	return VIRTIO_BLK_S_OK;
}

/* GET_ID (§5.2.6): 20 bytes, NUL-padded, no terminator if all are used. */
static uint32_t vblk_req_get_id(struct vblk *d, struct vblk_req *r)
{
	uint32_t done = 0, n;
	int i;

	for (i = 0; i < r->niov && done < VIRTIO_BLK_ID_BYTES; i++) {
		n = VIRTIO_BLK_ID_BYTES - done;
		if (n > r->iov[i].iov_len)
			n = (uint32_t)r->iov[i].iov_len;
		memcpy(r->iov[i].iov_base, d->serial + done, n);
		done += n;
	}
	return done;
}

/* Carry out a parsed request; @written gets the bytes put into guest RAM. */
static uint8_t vblk_req_execute(struct vblk *d, struct vblk_req *r, uint32_t *written)
{
	uint64_t off = r->sector * DISK_SECTOR;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (disk_read(&d->disk, r->iov, r->niov, off) < 0)
			return VIRTIO_BLK_S_IOERR;
		record_read(d->counters, r->data_len);
		/* The used length is a 32-bit field; a bigger read still moved
		 * every byte, the guest just cannot be told so exactly. */
		*written = r->data_len > UINT32_MAX - 1 ? UINT32_MAX - 1
							: (uint32_t)r->data_len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (disk_write(&d->disk, r->iov, r->niov, off) < 0)
			return VIRTIO_BLK_S_IOERR;
		record_write(d->counters, r->data_len);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (disk_flush(&d->disk) < 0)
			return VIRTIO_BLK_S_IOERR;
		record_flush(d->counters);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written = vblk_req_get_id(d, r);
		return VIRTIO_BLK_S_OK;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

/* Write the status byte, count a failure once; returns the used length. */
static uint32_t vblk_req_finish(struct vblk *d, struct vblk_req *r, uint8_t st,
				uint32_t written)
{
	if (st != VIRTIO_BLK_S_OK || !r->status)
		record_io_error(d->counters);
	if (!r->status)
		return 0;
	__atomic_store_n(r->status, st, __ATOMIC_RELAXED);
	return written + 1;
}

static void vblk_timer_arm(struct vblk *d, uint64_t ns)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	timerfd_settime(d->timer_fd, 0, &its, NULL);
}

/*
 * Take tokens for the request about to be served.  false: the buckets are
 * short, the request must go back into the ring and the timer retries it.
 * Every request costs one op; IN/OUT also cost their data bytes.
 */
static bool vblk_throttle_admit(struct vblk *d, uint8_t st, const struct vblk_req *r)
{
	uint64_t bytes = 0, wait;

	if (!throttle_enabled(&d->throttle))
		return true;
	if (st == VIRTIO_BLK_S_OK &&
	    (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT))
		bytes = r->data_len;
	wait = throttle_take(&d->throttle, bytes, clock_ns());
	if (!wait)
		return true;
	d->stalled = true;
	record_throttled_event(d->counters);
	record_throttled_gauge_inc(d->counters);
	vblk_timer_arm(d, wait);
	return false;
}

/* The stalled request stops waiting (retry, reset or teardown). */
static void vblk_throttle_release(struct vblk *d)
{
	if (!d->stalled)
		return;
	d->stalled = false;
	record_throttled_gauge_dec(d->counters);
}

/* Serve one popped head.  false: throttled, the caller puts it back. */
static bool vblk_serve(struct vblk *d, uint16_t head)
{
	uint32_t written = 0;
	uint8_t st;

	if (vq_chain_read(&d->vq, head, &d->chain) < 0) {
		/* Loop, bad index or indirect table: no status byte we trust. */
		record_io_error(d->counters);
		vq_push_used(&d->vq, head, 0);
		return true;
	}
	st = vblk_req_parse(d, &d->chain, &d->req);
	if (!vblk_throttle_admit(d, st, &d->req))
		return false;
	if (st == VIRTIO_BLK_S_OK)
		st = vblk_req_execute(d, &d->req, &written);
	vq_push_used(&d->vq, head, vblk_req_finish(d, &d->req, st, written));
	return true;
}

/* §2.1.2: a device in an error state sets DEVICE_NEEDS_RESET and, once the
 * driver is up, tells it with a configuration change notification. */
static void vblk_poison(struct vblk *d)
{
	record_invalid_avail_idx(d->counters);
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		vmmio_raise_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

static void vblk_process_locked(struct vblk *d)
{
	struct vq *q = &d->vq;
	unsigned int budget = VBLK_PASS_BUDGET;
	uint16_t head;
	int rc;

	/* §3.1.1: no buffers are used before DRIVER_OK. */
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK) || !q->ready || d->stalled)
		return;
	while (budget) {
		rc = vq_pop(q, &head);
		if (rc == 0) {
			if (vq_enable_notify(q))
				continue;
			break;
		}
		if (rc < 0) {
			if (rc == -EOVERFLOW)
				vblk_poison(d);
			break;
		}
		if (!vblk_serve(d, head)) {
			vq_unpop(q);
			break;
		}
		budget--;
	}
	if (!budget)
		vblk_kick(d);
	if (vq_need_interrupt(q))
		vmmio_raise_irq(d, VIRTIO_MMIO_INT_VRING);
}

void vblk_process_queue(struct vblk *d)
{
	pthread_mutex_lock(&d->lock);
	vblk_process_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void vblk_reset_locked(struct vblk *d)
{
	vblk_throttle_release(d);
	vblk_timer_arm(d, 0);		/* disarm */
	vq_reset(&d->vq, d->mem);
	d->status = 0;
	d->dev_features_sel = 0;
	d->drv_features_sel = 0;
	d->queue_sel = 0;
	d->driver_features = 0;
	atomic_store(&d->isr, 0);
}

void vblk_kick(struct vblk *d)
{
	uint64_t one = 1;

	if (write(d->kick_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, a kick is already pending. */
	}
}

int vblk_irq_fd(const struct vblk *d)
{
	return d->irq_fd;
}

static void vblk_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already drained by an earlier wakeup. */
	}
}

static void *vblk_thread(void *arg)
{
	struct vblk *d = arg;
	struct epoll_event ev[3];
	bool retry;
	int i, n;

	for (;;) {
		n = epoll_wait(d->epoll_fd, ev, 3, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		retry = false;
		for (i = 0; i < n; i++) {
			switch (ev[i].data.u32) {
			case VBLK_EV_STOP:
				return NULL;
			case VBLK_EV_KICK:
				vblk_drain(d->kick_fd);
				break;
			case VBLK_EV_TIMER:
				vblk_drain(d->timer_fd);
				retry = true;
				break;
			}
		}
		pthread_mutex_lock(&d->lock);
		/* A kick while stalled changes nothing: tokens come with time. */
		if (retry)
			vblk_throttle_release(d);
		vblk_process_locked(d);
		pthread_mutex_unlock(&d->lock);
	}
}

static uint64_t vblk_features(const struct job_disk *jd)
{
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1 |
		     1ULL << VIRTIO_RING_F_EVENT_IDX |
		     1ULL << VIRTIO_RING_F_INDIRECT_DESC |
		     1ULL << VIRTIO_BLK_F_SIZE_MAX |
		     1ULL << VIRTIO_BLK_F_SEG_MAX |
		     1ULL << VIRTIO_BLK_F_BLK_SIZE |
		     1ULL << VIRTIO_BLK_F_FLUSH;

	if (jd->read_only)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	return f;
}

static void vblk_config_build(struct vblk *d)
{
	uint64_t cap = htole64(d->disk.size / DISK_SECTOR);
	uint32_t size_max = htole32(VBLK_SIZE_MAX);
	/* Header and status take two descriptors of a queue-sized chain. */
	uint32_t seg_max = htole32(VQ_MAX_SIZE - 2);
	uint32_t blk_size = htole32(DISK_SECTOR);

	memset(d->config, 0, sizeof(d->config));
	memcpy(d->config + VBLK_CFG_CAPACITY, &cap, 8);
	memcpy(d->config + VBLK_CFG_SIZE_MAX, &size_max, 4);
	memcpy(d->config + VBLK_CFG_SEG_MAX, &seg_max, 4);
	memcpy(d->config + VBLK_CFG_BLK_SIZE, &blk_size, 4);
}

static int vblk_fds_open(struct vblk *d, struct verr *e)
{
	static const struct { size_t off; uint32_t tag; } watch[] = {
		{ offsetof(struct vblk, kick_fd), VBLK_EV_KICK },
		{ offsetof(struct vblk, timer_fd), VBLK_EV_TIMER },
		{ offsetof(struct vblk, stop_fd), VBLK_EV_STOP },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	size_t i;

	d->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->kick_fd < 0 || d->irq_fd < 0 || d->stop_fd < 0 ||
	    d->timer_fd < 0 || d->epoll_fd < 0)
		goto fail;
	for (i = 0; i < sizeof(watch) / sizeof(watch[0]); i++) {
		ev.data.u32 = watch[i].tag;
		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD,
			      *(int *)((char *)d + watch[i].off), &ev) < 0)
			goto fail;
	}
	return 0;
fail:
	return verr_errno(e, "virtio-blk event fds");
}

/* With @backing (already open), the device takes it over; else it opens one. */
static int vblk_create_common(const struct vblk_config *cfg, bool with_thread,
			      struct disk *backing, struct vblk **out,
			      struct verr *e)
{
	struct vblk *d;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->disk || !cfg->counters || !cfg->mem) {
		verr_set(e, "virtio-blk: incomplete device configuration");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		verr_set(e, "virtio-blk: out of memory");
		return -ENOMEM;
	}
	d->kick_fd = d->irq_fd = d->stop_fd = d->timer_fd = d->epoll_fd = -1;
	d->disk.fd = -1;
	d->counters = cfg->counters;
	d->mem = cfg->mem;
	d->vm_fd = cfg->vm_fd;
	d->mmio_base = cfg->mmio_base;
	d->gsi = cfg->gsi;
	pthread_mutex_init(&d->lock, NULL);
	memcpy(d->serial, cfg->disk->serial, strnlen(cfg->disk->serial, VIRTIO_BLK_ID_BYTES));
	vq_reset(&d->vq, d->mem);
	throttle_init(&d->throttle, cfg->disk, clock_ns());
	if (backing) {
		d->disk = *backing;
		backing->fd = -1;
	} else {
		rc = disk_open(&d->disk, cfg->disk, NULL, e);
		if (rc)
			goto fail;
	}
	d->device_features = vblk_features(cfg->disk);
	vblk_config_build(d);
	rc = vblk_fds_open(d, e);
	if (rc)
		goto fail;
	rc = vmmio_notify_setup(d, e);
	if (rc)
		goto fail;
	if (with_thread) {
		rc = vblk_start(d, e);
		if (rc)
			goto fail;
	}
	*out = d;
	return 0;
fail:
	vblk_destroy(d);
	return rc;
}

int vblk_start(struct vblk *d, struct verr *e)
{
	int rc;

	if (d->thread_on)
		return 0;
	rc = pthread_create(&d->thread, NULL, vblk_thread, d);
	if (rc) {
		verr_set(e, "virtio-blk device thread: %s", strerror(rc));
		return -rc;
	}
	d->thread_on = true;
	return 0;
}

int vblk_create(const struct vblk_config *cfg, struct vblk **out, struct verr *e)
{
	return vblk_create_common(cfg, true, NULL, out, e);
}

int vblk_prepare(const struct vblk_config *cfg, struct disk *backing,
		 struct vblk **out, struct verr *e)
{
	return vblk_create_common(cfg, false, backing, out, e);
}

int vblk_create_sync(const struct vblk_config *cfg, struct vblk **out,
		     struct verr *e)
{
	return vblk_create_common(cfg, false, NULL, out, e);
}

static void vblk_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vblk_forget_vm(struct vblk *d)
{
	if (!d)
		return;
	d->ioeventfd_on = false;
	d->irqfd_on = false;
}

void vblk_destroy(struct vblk *d)
{
	uint64_t one = 1;

	if (!d)
		return;
	if (d->thread_on) {
		if (write(d->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(d->thread, NULL);
		d->thread_on = false;
	}
	vmmio_notify_teardown(d);
	/* The device is going away: nothing waits for tokens any more. */
	vblk_throttle_release(d);
	vblk_close_fd(&d->epoll_fd);
	vblk_close_fd(&d->kick_fd);
	vblk_close_fd(&d->irq_fd);
	vblk_close_fd(&d->stop_fd);
	vblk_close_fd(&d->timer_fd);
	disk_close(&d->disk);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
