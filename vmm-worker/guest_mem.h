/*
 * guest_mem.h - guest physical memory as the worker sees it: one anonymous
 * mapping at guest physical 0.  Every address a guest hands us goes through
 * gmem_ptr(), which refuses any range that is not wholly inside RAM.
 */
#ifndef VMORCH_GUEST_MEM_H
#define VMORCH_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;		/* host address of guest physical 0 */
	uint64_t size;		/* bytes of RAM, from guest physical 0 */
};

/* Host pointer for [gpa, gpa + len), or NULL if any byte lies outside RAM. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}

#endif
