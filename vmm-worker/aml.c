/*
 * aml.c - the AML writer (see aml.h).  Nested objects are written first and
 * their PkgLength inserted in front when they close, so callers never count
 * bytes by hand.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm-worker/aml.h"

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a, AML_WORD_PREFIX = 0x0b, AML_DWORD_PREFIX = 0x0c,
	AML_STRING_PREFIX = 0x0d, AML_QWORD_PREFIX = 0x0e, AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11, AML_PACKAGE_OP = 0x12, AML_EXT_OP = 0x5b,
	AML_DEVICE_OP = 0x82, AML_ROOT_CHAR = 0x5c, AML_DUAL_NAME = 0x2e,
	AML_MULTI_NAME = 0x2f,
};

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	a->buf = NULL;
	a->len = a->cap = 0;
}

static bool aml_reserve(struct aml *a, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (a->failed)
		return false;
	if (a->len + n <= a->cap)
		return true;
	cap = a->cap ? a->cap * 2 : 256;
	while (cap < a->len + n)
		cap *= 2;
	nb = realloc(a->buf, cap);
	if (!nb) {
		a->failed = true;
		return false;
	}
	a->buf = nb;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!aml_reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (!aml_reserve(a, n))
		return;
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

static void aml_le(struct aml *a, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static void aml_name_seg(struct aml *a, const char *seg, size_t n)
{
	char s[4] = { '_', '_', '_', '_' };

	memcpy(s, seg, n > 4 ? 4 : n);
	aml_bytes(a, s, 4);
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *segs[8];
	size_t lens[8], nseg = 0;

	if (*path == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		path++;
	}
	while (*path && nseg < 8) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		segs[nseg] = path;
		lens[nseg++] = n;
		path += n + (dot ? 1 : 0);
	}
	if (nseg == 0) {
		aml_byte(a, 0);	/* NullName */
		return;
	}
	if (nseg == 2)
		aml_byte(a, AML_DUAL_NAME);
	else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	}
	for (size_t i = 0; i < nseg; i++)
		aml_name_seg(a, segs[i], lens[i]);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_eisa_id(struct aml *a, const char *id)
{
	uint32_t v;

	/* Three letters in 5 bits each, then four hex digits; stored big-endian. */
	v = (uint32_t)((id[0] - 0x40) & 0x1f) << 26 |
	    (uint32_t)((id[1] - 0x40) & 0x1f) << 21 |
	    (uint32_t)((id[2] - 0x40) & 0x1f) << 16 |
	    (uint32_t)strtoul(id + 3, NULL, 16);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_byte(a, (uint8_t)(v >> 24));
	aml_byte(a, (uint8_t)(v >> 16));
	aml_byte(a, (uint8_t)(v >> 8));
	aml_byte(a, (uint8_t)v);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

static void aml_open(struct aml *a)
{
	if (a->depth >= AML_DEPTH_MAX) {
		a->failed = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a);
	aml_name_string(a, path);
}

void aml_device(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a);
	aml_name_string(a, name);
}

void aml_package(struct aml *a, uint8_t nelems)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a);
	aml_byte(a, nelems);
}

void aml_resources(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a);
}

/*
 * PkgLength (§20.2.4) counts itself: one byte up to 63, else a lead byte
 * holding the low nibble and the number of bytes that follow.
 */
void aml_end(struct aml *a)
{
	uint8_t pkg[4];
	size_t start, body, total;
	int n;

	if (a->failed || a->depth == 0) {
		a->failed = true;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	if (body + 1 <= 0x3f) {
		pkg[0] = (uint8_t)(body + 1);
		aml_insert(a, start, pkg, 1);
		return;
	}
	for (n = 2; n <= 4; n++) {
		total = body + (size_t)n;
		if (total < (1ULL << (4 + 8 * (n - 1))))
			break;
	}
	if (n > 4) {
		a->failed = true;
		return;
	}
	pkg[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (int i = 1; i < n; i++)
		pkg[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	aml_insert(a, start, pkg, (size_t)n);
}

void aml_end_resources(struct aml *a)
{
	struct aml size;
	size_t start;

	/* End Tag with a zero checksum ("treat as correct", §6.4.2.9). */
	aml_byte(a, 0x79);
	aml_byte(a, 0x00);
	if (a->failed || a->depth == 0) {
		a->failed = true;
		return;
	}
	/* The BufferSize operand goes in front of the bytes it counts. */
	start = a->open[a->depth - 1];
	aml_init(&size);
	aml_integer(&size, a->len - start);
	if (size.failed)
		a->failed = true;
	else
		aml_insert(a, start, size.buf, size.len);
	aml_free(&size);
	aml_end(a);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	/* I/O Port descriptor, 16-bit decode, fixed base (§6.4.2.5). */
	const uint8_t d[8] = {
		0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8),
		(uint8_t)base, (uint8_t)(base >> 8), 0x01, len,
	};

	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq_noflags(struct aml *a, uint8_t irq)
{
	/* IRQ descriptor without the flags byte: edge, active high (§6.4.2.1). */
	uint16_t mask = (uint16_t)(1u << (irq & 15));
	const uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };

	aml_bytes(a, d, sizeof(d));
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable)
{
	/* 32-bit Fixed Memory Range descriptor (§6.4.3.4). */
	aml_byte(a, 0x86);
	aml_le(a, 9, 2);
	aml_byte(a, writable ? 1 : 0);
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low,
		       bool shared)
{
	/* Extended Interrupt descriptor, one interrupt, consumer (§6.4.3.6). */
	aml_byte(a, 0x89);
	aml_le(a, 6, 2);
	aml_byte(a, (uint8_t)(1 | (edge ? 2 : 0) | (active_low ? 4 : 0) |
			      (shared ? 8 : 0)));
	aml_byte(a, 1);
	aml_le(a, gsi, 4);
}
