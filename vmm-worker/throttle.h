/*
 * throttle.h - per-disk rate limiting: two token buckets (bytes and
 * operations) with Firecracker's knobs {size, one_time_burst, refill_time}.
 * Pure arithmetic on caller-supplied CLOCK_MONOTONIC nanoseconds, so the
 * math is testable without sleeping.
 */
#ifndef VMORCH_THROTTLE_H
#define VMORCH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"

#include "common/job.h"

/*
 * Tokens are kept scaled by refill_ns ("token-nanoseconds") so that refill
 * is exact integer math: every elapsed nanosecond adds @size scaled units,
 * and a full bucket holds size * refill_ns of them.  The budget may go
 * negative: a request larger than the bucket is let through once the bucket
 * is full and the debt is then paid back at the configured rate.
 */
struct tbucket {
	uint64_t size;		/* 0 = unlimited */
	uint64_t refill_ns;
	uint64_t burst;		/* one-time tokens left, spent first, never refilled */
	__int128 budget;	/* scaled tokens, <= size * refill_ns */
	uint64_t last_ns;	/* time of the last refill */
};

struct throttle {
	struct tbucket bytes;
	struct tbucket ops;
};

/* A bucket starts full (Firecracker does the same) plus its burst. */
void tbucket_init(struct tbucket *b, const struct job_bucket *cfg, uint64_t now_ns);

/* Nanoseconds until @cost tokens can be taken; 0 means now. */
uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t cost, uint64_t now_ns);

/* Take @cost tokens; only after tbucket_wait_ns() returned 0. */
void tbucket_take(struct tbucket *b, uint64_t cost, uint64_t now_ns);

/* Whole tokens available now (burst included), for tests and reports. */
int64_t tbucket_tokens(struct tbucket *b, uint64_t now_ns);

void throttle_init(struct throttle *t, const struct job_disk *disk, uint64_t now_ns);

/* true if any bucket is limited (so the device needs its timer at all). */
bool throttle_enabled(const struct throttle *t);

/*
 * Take @bytes and one op, all or nothing.  Returns 0 when taken, else the
 * nanoseconds to wait before both buckets can pay (nothing taken).
 */
uint64_t throttle_take(struct throttle *t, uint64_t bytes, uint64_t now_ns);


#endif
