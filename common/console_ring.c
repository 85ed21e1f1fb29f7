/*
 * console_ring.c - the console ring's reader side (see console_ring.h).
 * The writer is the worker's UART (vmm-worker/serial.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console_ring.h"

int console_ring_copy(const char *ring, size_t cap, uint64_t total,
		      struct console_text *out)
{
	size_t len = total < cap ? (size_t)total : cap;
	size_t start = cap && total > cap ? (size_t)(total % cap) : 0;

	memset(out, 0, sizeof(*out));
	out->data = malloc(len + 1);
	if (!out->data)
		return -ENOMEM;
	/* Past the cap the oldest kept byte sits where the next one would go. */
	memcpy(out->data, ring + start, len - start);
	memcpy(out->data + (len - start), ring, start);
	out->data[len] = 0;
	out->len = len;
	out->bytes = total;
	out->dropped = total - len;
	return 0;
}

void console_text_keep_tail(struct console_text *t, size_t max)
{
	size_t cut;

	if (t->len <= max)
		return;
	cut = t->len - max;
	memmove(t->data, t->data + cut, max + 1);	/* with the NUL */
	t->len = max;
	t->dropped += cut;
}

void console_text_release(struct console_text *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}
