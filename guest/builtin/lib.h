/*
 * lib.h - freestanding basics for the built-in guest: port and MMIO
 * accessors, TSC and barriers, string and number helpers.  Device registers
 * are touched only with plain mov/in/out, the instructions PVM's emulator
 * handles.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* One explicit mov per access, so the compiler cannot fold it into an
 * instruction the hypervisor's MMIO emulator does not know. */
static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

/* Full fence (store->load order, needed around event-idx checks), without
 * mfence so nothing beyond plain integer instructions is required. */
static inline void mb(void)
{
	__asm__ volatile("lock addl $0, (%%rsp)" : : : "memory", "cc");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
bool str_eq(const char *a, size_t alen, const char *b);
int parse_u64(const char *s, size_t len, uint64_t *out);
int parse_size(const char *s, size_t len, uint64_t *out);
int vfmt(char *buf, size_t cap, const char *fmt, va_list ap);
int fmt(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* tsc.c: bounded waits.  Every wait in the guest ends. */
struct deadline {
	uint64_t end;		/* TSC value */
	uint64_t spins;		/* fallback when the TSC does not move */
};

void tsc_init(void);
uint64_t tsc_khz(void);
bool tsc_works(void);
void deadline_start(struct deadline *dl, uint32_t ms);
bool deadline_passed(struct deadline *dl);
void delay_ms(uint32_t ms);

#endif
