/*
 * mem.c - data buffers come from a bump allocator over the RAM between the
 * end of the image and the end of its memory-map region; nothing is freed.
 */
#include "guest.h"

static uint64_t mem_next, mem_end, mem_top;

void mem_init(uint64_t start, uint64_t end, uint64_t ram_top)
{
	mem_top = ram_top;
	mem_next = ALIGN_UP(start, 4096);
	mem_end = end;
}

void *mem_alloc(uint64_t size, uint64_t align)
{
	uint64_t p = ALIGN_UP(mem_next, align);

	if (p > mem_end || size > mem_end - p)
		return NULL;
	mem_next = p + size;
	return (void *)(uintptr_t)p;
}

uint64_t mem_free_bytes(void)
{
	return mem_end > mem_next ? mem_end - mem_next : 0;
}

uint64_t mem_ram_end(void)
{
	return mem_top;
}
