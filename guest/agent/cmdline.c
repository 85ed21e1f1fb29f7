/*
 * cmdline.c - the workload from /proc/cmdline: the built-in guest's
 * key=value words (guest/builtin/cmdline.c, same defaults and limits),
 * plus the agent's own ro_check= and command=.  Unknown words (console=,
 * quiet, the kernel's own) are ignored; a known key with a bad value fails
 * the run.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static const char *const pattern_names[] = {
	[PAT_SEQREAD] = "seqread",
	[PAT_SEQWRITE] = "seqwrite",
	[PAT_RANDREAD] = "randread",
	[PAT_RANDWRITE] = "randwrite",
	[PAT_RANDRW] = "randrw",
};

/* Decimal or 0x hex, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* A number with an optional k/m/g (binary) suffix, within [lo, hi]. */
static int parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char tmp[32];
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len + 1);
	if (len > 1) {
		switch (tmp[len - 1]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
		if (shift)
			tmp[len - 1] = 0;
	}
	if (parse_u64(tmp, &v) || v > (UINT64_MAX >> shift))
		return -1;
	v <<= shift;
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "0") && strcmp(s, "1"))
		return -1;
	*out = s[0] == '1';
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe base64, padding optional.  The command travels
 * encoded because the kernel command line splits words at spaces. */
static int parse_command(const char *s, char **out)
{
	size_t len = strlen(s), n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	char *p = malloc(len + 1);

	if (!p)
		return -1;
	for (; *s && *s != '='; s++) {
		int v = b64_value(*s);

		if (v < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (char)(acc >> bits & 0xff);
		}
	}
	while (*s == '=')
		s++;
	if (*s || n == 0 || memchr(p, 0, n))
		goto bad;
	p[n] = 0;
	free(*out);
	*out = p;
	return 0;
bad:
	free(p);
	return -1;
}

static int apply_word(struct agent_cfg *c, const char *k, const char *v)
{
	uint64_t n;

	if (!strcmp(k, "pattern")) {
		for (unsigned i = 0; i < sizeof(pattern_names) / sizeof(*pattern_names); i++)
			if (!strcmp(v, pattern_names[i])) {
				c->pattern = (enum pattern)i;
				return 0;
			}
		return -1;
	} else if (!strcmp(k, "bs")) {
		if (parse_range(v, 512, 1 << 20, &n) || n % AGENT_SECTOR)
			return -1;
		c->bs = (uint32_t)n;
	} else if (!strcmp(k, "ops")) {
		return parse_range(v, 0, 1ull << 40, &c->ops);
	} else if (!strcmp(k, "qd")) {
		if (parse_range(v, 1, AGENT_QD_MAX, &n))
			return -1;
		c->qd = (uint32_t)n;
	} else if (!strcmp(k, "rwmix")) {
		if (parse_range(v, 0, 100, &n))
			return -1;
		c->rwmix = (uint32_t)n;
	} else if (!strcmp(k, "flush")) {
		return parse_range(v, 0, UINT64_MAX, &c->flush_every);
	} else if (!strcmp(k, "seed")) {
		return parse_u64(v, &c->seed);
	} else if (!strcmp(k, "span")) {
		if (parse_range(v, AGENT_SECTOR, UINT64_MAX, &n) || n % AGENT_SECTOR)
			return -1;
		c->span = n;
	} else if (!strcmp(k, "verify")) {
		return parse_bool(v, &c->verify);
	} else if (!strcmp(k, "verify_pause")) {
		return parse_bool(v, &c->verify_pause);
	} else if (!strcmp(k, "ro_check")) {
		if (parse_range(v, 0, 1 << 20, &n))
			return -1;
		c->ro_check = (uint32_t)n;
	} else if (!strcmp(k, "command")) {
		return parse_command(v, &c->command);
	} else if (!strcmp(k, "hostile")) {
		/* Broken requests need the built-in guest's own driver. */
		return strcmp(v, "none") ? -1 : 0;
	}
	/* completion=, event_idx=, indirect=: Linux's driver decides; ignored. */
	return 0;
}

int cfg_parse(struct agent_cfg *c, const char *cmdline)
{
	char *copy = strdup(cmdline), *save = NULL, *w;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->pattern = PAT_SEQREAD;
	c->bs = 4096;
	c->ops = 100;
	c->qd = 1;
	c->rwmix = 50;
	c->seed = 1;
	if (!copy)
		return fail("out of memory");
	for (w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(w, '=');

		if (!eq)
			continue;
		*eq = 0;
		if (apply_word(c, w, eq + 1)) {
			*eq = '=';
			rc = fail("bad value in %.60s", w);
			break;
		}
	}
	free(copy);
	return rc;
}
