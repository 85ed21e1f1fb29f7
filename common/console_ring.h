/*
 * console_ring.h - a job's whole guest console, capped: the worker keeps it
 * as a ring of at most VMORCH_CONSOLE_MAX bytes in the job's shared region
 * (common/shm.h), the orchestrator copies the ring out in order when the
 * worker is gone and stores it compressed (common/console_zlib.h).  A guest
 * that prints gigabytes costs the cap and no more: the oldest bytes go.
 */
#ifndef VMORCH_CONSOLE_RING_H
#define VMORCH_CONSOLE_RING_H

#include <stddef.h>
#include <stdint.h>

/* The most of a job's console that is kept: its last MiB. */
#define VMORCH_CONSOLE_MAX	(1u << 20)

/* A console as stored: its last bytes, and how many came before them. */
struct console_text {
	char *data;		/* malloc'd, @len bytes and a NUL (the text may hold NULs) */
	size_t len;
	uint64_t bytes;		/* bytes the guest printed in all */
	uint64_t dropped;	/* the first @dropped of them are lost: bytes - len */
};

/*
 * Copy the console out of a ring of @cap bytes into which @total bytes were
 * written, byte i at offset i % cap: the last min(@total, @cap) bytes,
 * oldest first.  Any @total is accepted (a worker may have scribbled on it):
 * it only decides where the oldest kept byte is.  0 or -ENOMEM.
 */
int console_ring_copy(const char *ring, size_t cap, uint64_t total,
		      struct console_text *out);

/* Keep only the last @max bytes of @t (the rest count as dropped). */
void console_text_keep_tail(struct console_text *t, size_t max);

/* Free what @t holds and zero it. */
void console_text_release(struct console_text *t);

#endif
