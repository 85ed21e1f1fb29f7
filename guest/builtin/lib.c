/*
 * lib.c - the few libc pieces the guest needs (the compiler may call
 * memset/memcpy itself), number parsing for the command line and a small
 * printf-style formatter for the serial console and the result line.
 */
#include "lib.h"

/* Whole 8-byte words where possible: on PVM every rep iteration costs
 * about as much as an instruction. */
void *memset(void *dst, int c, size_t n)
{
	uint64_t q = 0x0101010101010101ull * (uint8_t)c;
	size_t words = n / 8, rest = n % 8;
	void *d = dst;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(q) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(q) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	size_t words = n / 8, rest = n % 8;
	void *d = dst;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(rest) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Does the counted string a equal the C string b? */
bool str_eq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

/* Decimal or 0x-hex, whole string, no overflow. */
int parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* A number with an optional k/K, m/M or g/G (binary) suffix. */
int parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v;

	if (len > 1) {
		switch (s[len - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
		if (shift)
			len--;
	}
	if (parse_u64(s, len, &v) || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

struct outbuf {
	char *p;
	size_t len, cap;
};

static void out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->cap)
		o->p[o->len++] = c;
}

static void out_num(struct outbuf *o, uint64_t v, unsigned base, bool neg)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		out_char(o, '-');
	while (n)
		out_char(o, tmp[--n]);
}

/* %s %c %d %u %x with optional l/ll, and %%.  Always NUL-terminates. */
int vfmt(char *buf, size_t cap, const char *f, va_list ap)
{
	struct outbuf o = { buf, 0, cap };

	for (; *f; f++) {
		int lng = 0;

		if (*f != '%') {
			out_char(&o, *f);
			continue;
		}
		f++;
		while (*f == 'l') {
			lng++;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (s && *s)
				out_char(&o, *s++);
			break;
		}
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);

			out_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = lng ? va_arg(ap, unsigned long)
					 : va_arg(ap, unsigned int);

			out_num(&o, v, *f == 'u' ? 10 : 16, false);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		default:
			if (!*f)
				f--;
			break;
		}
	}
	if (cap)
		buf[o.len] = 0;
	return (int)o.len;
}

int fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vfmt(buf, cap, f, ap);
	va_end(ap);
	return n;
}
