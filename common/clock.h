/*
 * clock.h - the one clock vmorch measures time with: CLOCK_MONOTONIC, in
 * nanoseconds or milliseconds.  Deadlines, heartbeats, rates and timeouts
 * all read it, in the orchestrator and the worker alike.  (Wall-clock
 * times for records are taken where they are written.)
 */
#ifndef VMORCH_CLOCK_H
#define VMORCH_CLOCK_H

#include <stdint.h>

uint64_t clock_ns(void);

static inline uint64_t clock_ms(void)
{
	return clock_ns() / 1000000ULL;
}

#endif
