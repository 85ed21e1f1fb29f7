/*
 * expect.c - parsing and evaluating scenario expectations (see expect.h).
 * Names resolve through vblk_field_find(), never a list of our own, so a new
 * counter is expectable the moment it is added to VBLK_COUNTERS.
 */
#include <errno.h>
#include <stdbool.h>
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

int expect_name_parse(const char *name, struct expect_name *out, struct verr *e)
{
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
		if (f < 0) {
			verr_set(e, "unknown counter '%s' in '%s'", counter, name);
			return -EINVAL;
		}
		*out = (struct expect_name){ EXPECT_COUNTER_DISK, f, disk };
		return 0;
	}
	f = vblk_field_find(name);
	if (f >= 0) {
		*out = (struct expect_name){ EXPECT_COUNTER_SUM, f, 0 };
		return 0;
	}
	if (strlen(name) > VM_METRIC_NAME_MAX || !metric_name_ok(name)) {
		verr_set(e, "bad expectation name '%s' (expected a counter, "
			 "diskN.<counter> or a metric name of a-z, 0-9, '_', '.')",
			 name);
		return -EINVAL;
	}
	*out = (struct expect_name){ EXPECT_METRIC, -1, 0 };
	return 0;
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
