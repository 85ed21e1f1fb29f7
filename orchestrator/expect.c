/*
 * expect.c - parsing and evaluating scenario expectations (see expect.h).
 * Counter names resolve through vblk_field_find(), never a list of our own,
 * so a new counter is expectable the moment it is added to VBLK_COUNTERS.
 * Guest metrics are the one table below; tests/test_units.c checks it
 * against the names the guests and the worker actually print.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vblk_counters.h"
#include "orchestrator/expect.h"
#include "orchestrator/units.h"

static const char *const op_strs[] = {
	[EXPECT_EQ] = "==", [EXPECT_NE] = "!=", [EXPECT_LT] = "<",
	[EXPECT_LE] = "<=", [EXPECT_GT] = ">", [EXPECT_GE] = ">=",
};

const char *expect_op_str(enum expect_op op)
{
	return (unsigned)op < sizeof(op_strs) / sizeof(op_strs[0]) ?
	       op_strs[op] : "?";
}

#define B EXPECT_BUILTIN
#define L EXPECT_LINUX

/*
 * bytes_read and bytes_written are reported too, but the counters of the
 * same name win (a guest's own figure is checked by sys_bytes_* instead).
 */
const struct expect_metric expect_metrics[] = {
	{ "disks", B | L },		{ "ops", B | L },
	{ "reads", B | L },		{ "writes", B | L },
	{ "flushes", B | L },		{ "bytes_read", B | L },
	{ "bytes_written", B | L },	{ "verify_errors", B | L },
	{ "iops", B | L },		{ "guest_seconds", B | L },
	{ "irqs", B },			{ "cycles", B },
	{ "tsc_khz", B },		{ "throughput_bps", B },
	{ "init_ms", L },		{ "setup_ms", L },
	{ "exit_code", L },		{ "lat_p50_us", L },
	{ "lat_p99_us", L },		{ "lat_max_us", L },
	{ "ro_disks", L },		{ "ro_refused", L },
	{ "sys_reads", L },		{ "sys_writes", L },
	{ "sys_flushes", L },		{ "sys_bytes_read", L },
	{ "sys_bytes_written", L },	{ "run_ms", L },
};

const size_t expect_nmetrics = sizeof(expect_metrics) / sizeof(expect_metrics[0]);

#undef B
#undef L

static const struct expect_metric *metric_find(const char *name)
{
	for (size_t i = 0; i < expect_nmetrics; i++)
		if (strcmp(expect_metrics[i].name, name) == 0)
			return &expect_metrics[i];
	return NULL;
}

/*
 * Edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1), ignoring case; names longer than the buffers
 * count as far apart.
 */
static size_t name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][EXPECT_NAME_MAX + 2], *prev2 = d[0], *prev = d[1], *cur = d[2];

	if (la > EXPECT_NAME_MAX || lb > EXPECT_NAME_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char x = (char)tolower((unsigned char)a[i - 1]);
			char y = (char)tolower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + (x != y);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && x == tolower((unsigned char)b[j - 2]) &&
			    y == tolower((unsigned char)a[i - 2]) && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* A typo is a few edits: 1 in a short name, up to 3 in a long one. */
static bool name_close(const char *typed, const char *known, size_t *best)
{
	size_t len = strlen(typed), limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	size_t d = name_distance(typed, known);

	if (d > limit || d >= *best)
		return false;
	*best = d;
	return true;
}

/* The known name nearest @typed, or NULL; counters only with @counters_only. */
static const char *name_suggest(const char *typed, bool counters_only)
{
	const char *pick = NULL;
	size_t best = SIZE_MAX;

	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		if (name_close(typed, vblk_fields[i].name, &best))
			pick = vblk_fields[i].name;
	for (size_t i = 0; i < expect_nmetrics && !counters_only; i++)
		if (name_close(typed, expect_metrics[i].name, &best))
			pick = expect_metrics[i].name;
	return pick;
}

static bool metric_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

/* "disk<N>." prefix: 1 and the index if present, 0 if not, -1 if malformed. */
static int disk_prefix(const char *name, unsigned *idx, const char **rest)
{
	const char *p = name + 4;
	unsigned long n = 0;

	if (strncmp(name, "disk", 4) != 0 || *p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 1000000)
			return -1;
	}
	if (*p != '.')
		return 0;
	*idx = (unsigned)n;
	*rest = p + 1;
	return 1;
}

static int unknown_counter(const char *name, const char *counter, struct verr *e)
{
	const char *hint = name_suggest(counter, true);

	if (hint)
		verr_set(e, "unknown counter '%s' in '%s' (did you mean %.*s%s?)",
			 counter, name, (int)(counter - name), name, hint);
	else
		verr_set(e, "unknown counter '%s' in '%s'", counter, name);
	return -EINVAL;
}

static int unknown_name(const char *name, struct verr *e)
{
	const char *hint = name_suggest(name, false);

	if (hint)
		verr_set(e, "unknown expectation '%s' (did you mean %s?)", name, hint);
	else
		verr_set(e, "unknown expectation '%s' (expected a counter such as "
			 "reads_completed, diskN.<counter>, a guest metric such as "
			 "iops, or " EXPECT_USER_PREFIX "<name> or " EXPECT_FIO_PREFIX
			 "<job>.<read|write>.<field> for a metric of your own program)",
			 name);
	return -EINVAL;
}

/* The length of @name's program prefix (user., fio.), or 0. */
static size_t program_prefix(const char *name)
{
	static const char *const prefix[] = { EXPECT_USER_PREFIX, EXPECT_FIO_PREFIX };

	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(name, prefix[i], strlen(prefix[i])))
			return strlen(prefix[i]);
	return 0;
}

int expect_name_parse(const char *name, struct expect_name *out, struct verr *e)
{
	size_t plen;
	const char *counter;
	unsigned disk = 0;
	int r, f;

	if (strlen(name) > EXPECT_NAME_MAX) {
		verr_set(e, "expectation name too long (at most %d characters)",
			 EXPECT_NAME_MAX);
		return -EINVAL;
	}
	r = disk_prefix(name, &disk, &counter);
	if (r < 0 || (r > 0 && disk >= JOB_MAX_DISKS)) {
		verr_set(e, "bad disk in '%s' (expected disk0..disk%d)", name,
			 JOB_MAX_DISKS - 1);
		return -EINVAL;
	}
	if (r > 0) {
		f = vblk_field_find(counter);
		if (f < 0)
			return unknown_counter(name, counter, e);
		*out = (struct expect_name){ EXPECT_COUNTER_DISK, f, disk };
		return 0;
	}
	f = vblk_field_find(name);
	if (f >= 0) {
		*out = (struct expect_name){ EXPECT_COUNTER_SUM, f, 0 };
		return 0;
	}
	if (metric_find(name)) {
		*out = (struct expect_name){ EXPECT_METRIC, -1, 0 };
		return 0;
	}
	plen = program_prefix(name);
	if (!plen)
		return unknown_name(name, e);
	if (strlen(name) > VM_METRIC_NAME_MAX || !metric_name_ok(name) || !name[plen]) {
		verr_set(e, "bad metric name '%s' (expected %.*s and a-z, 0-9, "
			 "'_', '.', at most %d characters in all)", name, (int)plen, name,
			 VM_METRIC_NAME_MAX);
		return -EINVAL;
	}
	*out = (struct expect_name){ EXPECT_USER_METRIC, -1, 0 };
	return 0;
}

int expect_name_check_guest(const char *name, enum job_guest_kind kind,
			    struct verr *e)
{
	static const char *const guest_names[] = {
		[JOB_GUEST_BUILTIN] = "the built-in guest",
		[JOB_GUEST_LINUX] = "a Linux guest",
	};
	const struct expect_metric *m;
	struct expect_name en;

	if (expect_name_parse(name, &en, e))
		return -EINVAL;
	if (en.target != EXPECT_METRIC)
		return 0;
	m = metric_find(name);
	if (m->guests & (1U << kind))
		return 0;
	verr_set(e, "metric '%s' is not reported by %s (only by %s)", name,
		 guest_names[kind],
		 guest_names[kind == JOB_GUEST_LINUX ? JOB_GUEST_BUILTIN : JOB_GUEST_LINUX]);
	return -EINVAL;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int parse_op(const char **pp, enum expect_op *op)
{
	static const struct { const char *s; enum expect_op op; } ops[] = {
		{ "==", EXPECT_EQ }, { "!=", EXPECT_NE }, { "<=", EXPECT_LE },
		{ ">=", EXPECT_GE }, { "<", EXPECT_LT }, { ">", EXPECT_GT },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);

		if (strncmp(*pp, ops[i].s, n) == 0) {
			*op = ops[i].op;
			*pp += n;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * [-]digits[.digits] then an optional size unit.  Written out rather than
 * strtod() alone so that "inf", "0x10" and "1e3" are refused.
 */
static int parse_number(const char *s, double *out)
{
	char num[64], unit[16];
	const char *p = s;
	uint64_t mult;
	size_t n;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - s);
	if (n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = 0;
	n = strcspn(p, " \t");
	if (n >= sizeof(unit) || *skip_space(p + n))
		return -EINVAL;
	memcpy(unit, p, n);
	unit[n] = 0;
	if (units_size_multiplier(unit, &mult))
		return -EINVAL;
	*out = strtod(num, NULL) * (double)mult;
	return 0;
}

int expect_parse(const char *name, const char *text, struct expect_check *out,
		 struct verr *e)
{
	struct expect_name en;
	const char *p;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = expect_name_parse(name, &en, e);
	if (ret)
		return ret;
	if (strlen(text) > EXPECT_TEXT_MAX) {
		verr_set(e, "comparison too long (at most %d characters)",
			 EXPECT_TEXT_MAX);
		return -EINVAL;
	}
	p = skip_space(text);
	if (parse_op(&p, &out->op)) {
		verr_set(e, "bad comparison '%s' (expected an operator ==, !=, <, "
			 "<=, >, >= and a number, like \">= 1000\")", text);
		return -EINVAL;
	}
	p = skip_space(p);
	if (parse_number(p, &out->value)) {
		verr_set(e, "bad number in comparison '%s' (expected a number with "
			 "an optional unit: k, M, G)", text);
		return -EINVAL;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->text, sizeof(out->text), "%s", text);
	return 0;
}

/* The value @c names in @r; false when the result does not have it. */
static bool expect_lookup(const struct expect_check *c,
			  const struct vm_result *r, double *v)
{
	struct expect_name en;
	uint64_t sum = 0;
	uint32_t nd = r->ndisks < JOB_MAX_DISKS ? r->ndisks : JOB_MAX_DISKS;

	if (expect_name_parse(c->name, &en, NULL))
		return false;
	switch (en.target) {
	case EXPECT_COUNTER_DISK:
		if (en.disk >= nd)
			return false;
		*v = (double)vblk_snapshot_get(&r->disk[en.disk], en.field);
		return true;
	case EXPECT_COUNTER_SUM:
		if (nd == 0)
			return false;
		for (uint32_t i = 0; i < nd; i++)
			sum += vblk_snapshot_get(&r->disk[i], en.field);
		*v = (double)sum;
		return true;
	case EXPECT_METRIC:
	case EXPECT_USER_METRIC:
		for (uint32_t i = 0; i < r->nmetrics && i < VM_RESULT_MAX_METRICS; i++) {
			if (strcmp(r->metric[i].name, c->name) == 0) {
				*v = r->metric[i].value;
				return true;
			}
		}
		return false;
	}
	return false;
}

static bool expect_compare(enum expect_op op, double a, double b)
{
	switch (op) {
	case EXPECT_EQ: return a == b;
	case EXPECT_NE: return a != b;
	case EXPECT_LT: return a < b;
	case EXPECT_LE: return a <= b;
	case EXPECT_GT: return a > b;
	case EXPECT_GE: return a >= b;
	}
	return false;
}

void expect_eval(const struct expect_check *c, const struct vm_result *r,
		 struct expect_outcome *out)
{
	double v = 0;

	memset(out, 0, sizeof(*out));
	if (!expect_lookup(c, r, &v)) {
		out->missing = true;
		return;
	}
	out->actual = v;
	out->passed = expect_compare(c->op, v, c->value);
}

/* Whole numbers print exactly (counters up to 2^53); others with %g. */
static void format_number(double v, char *buf, size_t len)
{
	if (v > -9e15 && v < 9e15 && (double)(long long)v == v)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%g", v);
}

int expect_outcome_format(const struct expect_check *c,
			  const struct expect_outcome *o, char *buf, size_t len)
{
	char actual[48];

	if (o->missing)
		return snprintf(buf, len, "FAIL %s %s (missing)", c->name,
				c->text);
	format_number(o->actual, actual, sizeof(actual));
	return snprintf(buf, len, "%s %s %s (actual %s)",
			o->passed ? "PASS" : "FAIL", c->name, c->text, actual);
}
