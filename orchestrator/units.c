/*
 * units.c - parsing sizes, times and counts for scenario files (see units.h).
 * Strict on purpose: "4 k", "+4k", "4kb" and "1.5G" are refused rather than
 * guessed at, so a typo cannot silently become a different number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

struct unit {
	const char *suffix;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1ULL << 10 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
	{ "m", 1ULL << 20 }, { "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
	{ "g", 1ULL << 30 }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	{ "t", 1ULL << 40 }, { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
};

static const struct unit time_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

/* Leading decimal digits of @s; *end points past them. */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

static int unit_find(const struct unit *u, size_t n, const char *suffix,
		     uint64_t *mult)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(u[i].suffix, suffix) == 0) {
			*mult = u[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

/* Number followed by a suffix from @u; the suffix is checked before overflow. */
static int parse_with_unit(const char *s, const struct unit *u, size_t n,
			   uint64_t *out)
{
	const char *end;
	uint64_t v, mult;
	int ret;

	ret = parse_digits(s, &end, &v);
	if (ret == -ERANGE) {
		/* Still say "junk" for "99999999999999999999x". */
		while (*s >= '0' && *s <= '9')
			s++;
		return unit_find(u, n, s, &mult) ? -EINVAL : -ERANGE;
	}
	if (ret)
		return ret;
	if (unit_find(u, n, end, &mult))
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int units_parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int ret;

	ret = parse_digits(s, &end, &v);
	if (ret == -ERANGE) {
		while (*s >= '0' && *s <= '9')
			s++;
		return *s ? -EINVAL : -ERANGE;
	}
	if (ret)
		return ret;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int units_size_multiplier(const char *suffix, uint64_t *mult)
{
	return unit_find(size_units, sizeof(size_units) / sizeof(size_units[0]),
			 suffix, mult);
}

int units_parse_size(const char *s, uint64_t *out)
{
	return parse_with_unit(s, size_units,
			       sizeof(size_units) / sizeof(size_units[0]), out);
}

int units_parse_time_ms(const char *s, uint64_t *out)
{
	return parse_with_unit(s, time_units,
			       sizeof(time_units) / sizeof(time_units[0]), out);
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char letters[] = "KMGT";

	for (int i = 3; i >= 0; i--) {
		uint64_t mult = 1ULL << (10 * (i + 1));

		if (bytes && bytes % mult == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes / mult), letters[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
