/*
 * text_escape.c - visible escapes for control characters and invalid UTF-8
 * (see text_escape.h).  The UTF-8 check follows RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF.
 */
#include <stdint.h>
#include <string.h>

#include "text_escape.h"

/*
 * Length of the valid UTF-8 sequence at @s (1..4) within @left bytes, or 0
 * when the byte at @s does not start one.  C1 controls (U+0080..U+009F)
 * count as invalid here so that they are escaped byte by byte.
 */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/* The escape for one byte that may not be printed, into @buf (5 bytes). */
static const char *byte_escape(unsigned char c, char buf[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case 0x1b: return "\\e";
	default:
		buf[0] = '\\';
		buf[1] = 'x';
		buf[2] = hex[c >> 4];
		buf[3] = hex[c & 15];
		buf[4] = 0;
		return buf;
	}
}

static int byte_printable(unsigned char c, unsigned flags)
{
	if ((flags & TEXT_KEEP_LINES) && (c == '\n' || c == '\t'))
		return 1;
	return c >= 0x20 && c != 0x7f;
}

/*
 * Walk the @len bytes at @in, handing each piece (a character, or one
 * escape) to @emit.  Returns the total length.
 */
static size_t text_walk(const char *in, size_t len, unsigned flags,
			void (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
	const unsigned char *s = (const unsigned char *)in, *end = s + len;
	size_t total = 0;
	char buf[5];

	while (s < end) {
		size_t n = utf8_len(s, (size_t)(end - s));
		const char *esc;

		if (n == 1 && byte_printable(*s, flags)) {
			emit(ctx, (const char *)s, 1);
			total++;
			s++;
			continue;
		}
		if (n > 1) {
			emit(ctx, (const char *)s, n);
			total += n;
			s += n;
			continue;
		}
		esc = byte_escape(*s, buf);
		emit(ctx, esc, strlen(esc));
		total += strlen(esc);
		s++;
	}
	return total;
}

struct buf_ctx {
	char *out;
	size_t cap, len;
	int full;
};

static void buf_emit(void *arg, const char *p, size_t n)
{
	struct buf_ctx *b = arg;

	if (b->full || b->len + n >= b->cap) {
		b->full = 1;	/* never half an escape or half a character */
		return;
	}
	memcpy(b->out + b->len, p, n);
	b->len += n;
}

size_t text_escape(char *out, size_t cap, const char *in, unsigned flags)
{
	struct buf_ctx b = { .out = out, .cap = cap };
	size_t total = text_walk(in, strlen(in), flags, buf_emit, &b);

	if (cap)
		out[b.len] = 0;
	return total;
}

struct file_ctx {
	FILE *f;
	int err;
};

static void file_emit(void *arg, const char *p, size_t n)
{
	struct file_ctx *c = arg;

	if (!c->err && fwrite(p, 1, n, c->f) != n)
		c->err = 1;
}

int text_fputs(const char *in, FILE *f, unsigned flags)
{
	return text_fwrite(in, strlen(in), f, flags);
}

int text_fwrite(const char *in, size_t len, FILE *f, unsigned flags)
{
	struct file_ctx c = { .f = f };

	text_walk(in, len, flags, file_emit, &c);
	return c.err ? EOF : 0;
}

static void null_emit(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

int text_is_clean(const char *in, unsigned flags)
{
	return text_walk(in, strlen(in), flags, null_emit, NULL) == strlen(in);
}
