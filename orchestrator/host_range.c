/*
 * host_range.c - "kvm[02-16]" and friends (see host_range.h).  A pattern is
 * kept as literal pieces, each followed by a bracket of items; name i is i
 * written in the mixed radix of the brackets' sizes, so no list of names is
 * ever built here.  Refusals are worded for people who typed the pattern:
 * a reversed range or a padding that does not match is a typo, not a wish.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host_range.h"

struct hr_item {
	uint32_t lo, hi;
	unsigned width;			/* zero-padded to this; 0: not padded */
};

/* Literal text, then a bracket of items (none after the last literal). */
struct hr_part {
	size_t lit_off, lit_len;	/* in host_range.text */
	size_t first, nitems;		/* in host_range.items */
	uint64_t count;			/* names the bracket gives */
	uint64_t stride;		/* names per step of this bracket */
};

struct host_range {
	char *text;
	struct hr_part *parts;
	size_t nparts, cap_parts;
	struct hr_item *items;
	size_t nitems, cap_items;
	uint64_t count;
	size_t max_len;
};

bool host_range_is_range(const char *pattern)
{
	return strpbrk(pattern, "[]") != NULL;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static size_t digits_of(uint32_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 4;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* The bracket opening at @open, up to its ']' (or the end), for messages. */
static int bracket_len(const char *open)
{
	const char *close = strchr(open, ']');
	size_t n = close ? (size_t)(close - open) + 1 : strlen(open);

	return n > 40 ? 40 : (int)n;
}

static int unexpected(const char *p, const char *open, struct verr *e)
{
	if (!*p)
		verr_set(e, "'[' is not closed");
	else if (*p > ' ' && *p < 0x7f)
		verr_set(e, "unexpected '%c' in %.*s (expected numbers like [1-3,7] or [01-16])",
			 *p, bracket_len(open), open);
	else
		verr_set(e, "unexpected character in %.*s (expected numbers like [1-3,7] or [01-16])",
			 bracket_len(open), open);
	return -EINVAL;
}

/* One bound: its value, and the width of its zero padding (0 if none). */
static int parse_bound(const char **pp, const char *open, uint32_t *v,
		       unsigned *width, struct verr *e)
{
	const char *p = *pp, *start = p;
	uint32_t n = 0;

	if (*p < '0' || *p > '9') {
		if (*p == ',' || *p == ']' || *p == '-')
			verr_set(e, "empty item in %.*s", bracket_len(open), open);
		else
			unexpected(p, open, e);
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - start == HOST_RANGE_DIGITS_MAX) {
			verr_set(e, "number in %.*s has more than %d digits",
				 bracket_len(open), open, HOST_RANGE_DIGITS_MAX);
			return -EINVAL;
		}
		n = n * 10 + (uint32_t)(*p - '0');
	}
	*v = n;
	*width = p - start > 1 && *start == '0' ? (unsigned)(p - start) : 0;
	*pp = p;
	return 0;
}

static int parse_item(const char **pp, const char *open, struct hr_item *it,
		      struct verr *e)
{
	const char *p = *pp, *start = p;
	unsigned hi_width;
	int r;

	r = parse_bound(&p, open, &it->lo, &it->width, e);
	if (r)
		return r;
	it->hi = it->lo;
	if (*p != '-') {
		*pp = p;
		return 0;
	}
	p++;
	r = parse_bound(&p, open, &it->hi, &hi_width, e);
	if (r)
		return r;
	if (it->hi < it->lo) {
		verr_set(e, "%.*s is reversed (expected low-high)",
			 (int)(p - start), start);
		return -EINVAL;
	}
	/* kvm[01-100] is 01 .. 99, 100; kvm[1-05] or kvm[01-005] is a typo. */
	if (hi_width && hi_width != (it->width ? it->width : digits_of(it->lo))) {
		verr_set(e, "%.*s pads its bounds to different widths (write both with the same number of digits)",
			 (int)(p - start), start);
		return -EINVAL;
	}
	*pp = p;
	return 0;
}

/* The bracket whose '[' is at *pp - 1; leaves *pp past its ']'. */
static int parse_bracket(struct host_range *r, struct hr_part *part,
			 const char **pp, struct verr *e)
{
	const char *open = *pp - 1, *p = *pp;
	struct hr_item it;
	int ret;

	if (*p == ']') {
		verr_set(e, "empty brackets []");
		return -EINVAL;
	}
	part->first = r->nitems;
	for (;;) {
		ret = parse_item(&p, open, &it, e);
		if (ret)
			return ret;
		if (grow((void **)&r->items, &r->cap_items, r->nitems, sizeof(it)))
			return -ENOMEM;
		r->items[r->nitems++] = it;
		part->nitems++;
		part->count = sat_add(part->count, (uint64_t)it.hi - it.lo + 1);
		if (*p == ']')
			break;
		if (*p != ',')
			return unexpected(p, open, e);
		p++;
	}
	*pp = p + 1;
	return 0;
}

static int parse_parts(struct host_range *r, struct verr *e)
{
	const char *p = r->text;
	struct hr_part *part;
	int ret;

	for (;;) {
		const char *lit = p;

		p += strcspn(p, "[],");
		if (*p == ']') {
			verr_set(e, "']' without '['");
			return -EINVAL;
		}
		if (*p == ',') {
			verr_set(e, "',' outside brackets (write node[1,2] for several hosts)");
			return -EINVAL;
		}
		if (grow((void **)&r->parts, &r->cap_parts, r->nparts, sizeof(*part)))
			return -ENOMEM;
		part = &r->parts[r->nparts++];
		memset(part, 0, sizeof(*part));
		part->lit_off = (size_t)(lit - r->text);
		part->lit_len = (size_t)(p - lit);
		if (!*p)
			return 0;
		p++;
		ret = parse_bracket(r, part, &p, e);
		if (ret)
			return ret;
	}
}

/* Count, longest name, and strides: the last bracket varies fastest. */
static void measure(struct host_range *r)
{
	r->count = 1;
	r->max_len = 0;
	for (size_t i = r->nparts; i-- > 0;) {
		struct hr_part *part = &r->parts[i];
		size_t widest = 0;

		r->max_len += part->lit_len;
		if (!part->nitems)
			continue;
		part->stride = r->count;
		r->count = sat_mul(r->count, part->count);
		for (size_t k = part->first; k < part->first + part->nitems; k++) {
			size_t w = digits_of(r->items[k].hi);

			if (r->items[k].width > w)
				w = r->items[k].width;
			if (w > widest)
				widest = w;
		}
		r->max_len += widest;
	}
}

int host_range_parse(const char *pattern, struct host_range **out,
		     struct verr *e)
{
	struct host_range *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r || !(r->text = strdup(pattern))) {
		free(r);
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	ret = parse_parts(r, e);
	if (ret) {
		if (ret == -ENOMEM)
			verr_set(e, "out of memory");
		host_range_free(r);
		return ret;
	}
	measure(r);
	*out = r;
	return 0;
}

void host_range_free(struct host_range *r)
{
	if (!r)
		return;
	free(r->items);
	free(r->parts);
	free(r->text);
	free(r);
}

uint64_t host_range_count(const struct host_range *r)
{
	return r->count;
}

size_t host_range_max_len(const struct host_range *r)
{
	return r->max_len;
}

/* Number @idx of a bracket's items, in the order they are written. */
static const struct hr_item *item_at(const struct host_range *r,
				     const struct hr_part *part, uint64_t *idx)
{
	const struct hr_item *it = &r->items[part->first];

	for (size_t k = 0; k + 1 < part->nitems; k++, it++) {
		uint64_t n = (uint64_t)it->hi - it->lo + 1;

		if (*idx < n)
			break;
		*idx -= n;
	}
	return it;
}

size_t host_range_name(const struct host_range *r, uint64_t i, char *buf)
{
	size_t len = 0;

	for (size_t k = 0; k < r->nparts; k++) {
		const struct hr_part *part = &r->parts[k];
		const struct hr_item *it;
		uint64_t idx;

		memcpy(buf + len, r->text + part->lit_off, part->lit_len);
		len += part->lit_len;
		if (!part->nitems)
			continue;
		idx = i / part->stride % part->count;
		it = item_at(r, part, &idx);
		len += (size_t)sprintf(buf + len, "%0*llu", (int)it->width,
				       (unsigned long long)(it->lo + idx));
	}
	buf[len] = 0;
	return len;
}
