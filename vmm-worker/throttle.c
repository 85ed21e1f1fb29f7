/*
 * throttle.c - token buckets for virtio-blk rate limiting (see throttle.h).
 * Semantics follow Firecracker's rate limiter so users can carry their
 * numbers over: @size tokens refill linearly over refill_time, the
 * one-time burst is an extra budget spent first and never refilled.
 */
#include <time.h>

#include "vmm-worker/throttle.h"

void tbucket_init(struct tbucket *b, const struct job_bucket *cfg, uint64_t now_ns)
{
	b->size = cfg->refill_time_ms ? cfg->size : 0;
	b->refill_ns = cfg->refill_time_ms * 1000000ULL;
	b->burst = cfg->one_time_burst;
	b->budget = (__int128)b->size * b->refill_ns;
	b->last_ns = now_ns;
}

static void tbucket_refill(struct tbucket *b, uint64_t now_ns)
{
	__int128 full = (__int128)b->size * b->refill_ns;
	__int128 missing = full - b->budget;
	uint64_t elapsed;

	/* The clock is monotonic, but a caller's "now" must never make us
	 * take tokens back. */
	if (now_ns <= b->last_ns)
		return;
	elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	/* Compare before multiplying: elapsed * size could overflow even 128 bits. */
	if ((__int128)elapsed >= (missing + b->size - 1) / b->size)
		b->budget = full;
	else
		b->budget += (__int128)elapsed * b->size;
}

uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t cost, uint64_t now_ns)
{
	__int128 need, missing;
	uint64_t rest;

	if (b->size == 0 || cost <= b->burst)
		return 0;
	tbucket_refill(b, now_ns);
	rest = cost - b->burst;
	/* More than a bucketful is admitted from a full bucket, then owed. */
	if (rest > b->size)
		rest = b->size;
	need = (__int128)rest * b->refill_ns;
	if (b->budget >= need)
		return 0;
	missing = need - b->budget;
	/* Each nanosecond adds @size scaled units; round up. */
	return (uint64_t)((missing + b->size - 1) / b->size);
}

void tbucket_take(struct tbucket *b, uint64_t cost, uint64_t now_ns)
{
	uint64_t from_burst;

	if (b->size == 0)
		return;
	from_burst = cost < b->burst ? cost : b->burst;
	b->burst -= from_burst;
	tbucket_refill(b, now_ns);
	b->budget -= (__int128)(cost - from_burst) * b->refill_ns;
}

int64_t tbucket_tokens(struct tbucket *b, uint64_t now_ns)
{
	if (b->size == 0)
		return INT64_MAX;
	tbucket_refill(b, now_ns);
	return (int64_t)(b->budget / (__int128)b->refill_ns) + (int64_t)b->burst;
}

void throttle_init(struct throttle *t, const struct job_disk *disk, uint64_t now_ns)
{
	tbucket_init(&t->bytes, &disk->bw, now_ns);
	tbucket_init(&t->ops, &disk->ops, now_ns);
}

bool throttle_enabled(const struct throttle *t)
{
	return t->bytes.size || t->ops.size;
}

uint64_t throttle_take(struct throttle *t, uint64_t bytes, uint64_t now_ns)
{
	uint64_t wb = tbucket_wait_ns(&t->bytes, bytes, now_ns);
	uint64_t wo = tbucket_wait_ns(&t->ops, 1, now_ns);

	if (wb || wo)
		return wb > wo ? wb : wo;
	tbucket_take(&t->bytes, bytes, now_ns);
	tbucket_take(&t->ops, 1, now_ns);
	return 0;
}

