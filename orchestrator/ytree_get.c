/*
 * ytree_get.c - typed values out of a ytree (see ytree_get.h).  The wording
 * of every message is part of the file formats' interface: the tests, the
 * fixtures and users' scripts match it byte for byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/units.h"
#include "orchestrator/ytree_get.h"

int ytree_doc_fail(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ytree_vfail(d->e, d->path, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

static int subst(const struct ytree_doc *d, const struct ytree_node *n,
		 const struct ytree_node **out)
{
	*out = n;
	return d->subst ? d->subst(d->arg, n, out) : 0;
}

const struct ytree_node *ytree_value(const struct ytree_doc *d,
				     const struct ytree_node *n)
{
	const struct ytree_node *r = n;

	if (subst(d, n, &r))
		return n;
	return r;
}

void ytree_join_names(const char *const *names, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; names[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? ", " : "", names[i]);
}

/* ---- shapes ---- */

const struct ytree_node *ytree_unknown_key(const struct ytree_node *m,
					   const char *const *allowed)
{
	for (size_t i = 0; i < ytree_map_len(m); i++) {
		const struct ytree_node *k = ytree_map_key(m, i);
		size_t j;

		for (j = 0; allowed[j]; j++)
			if (strcmp(allowed[j], k->text) == 0)
				break;
		if (!allowed[j])
			return k;
	}
	return NULL;
}

int ytree_check_keys(const struct ytree_doc *d, const struct ytree_node *m,
		     const char *const *allowed, const char *where)
{
	const struct ytree_node *k = ytree_unknown_key(m, allowed);
	char list[300];

	if (!k)
		return 0;
	ytree_join_names(allowed, list, sizeof(list));
	return ytree_doc_fail(d, k, "unknown key '%s' in %s (expected one of: %s)",
			      k->text, where, list);
}

int ytree_get_map(const struct ytree_doc *d, const struct ytree_node *n,
		  const char *what)
{
	if (n->kind != YTREE_MAP)
		return ytree_doc_fail(d, n, "'%s' must be a mapping, not %s", what,
				      ytree_kind_name(n));
	return 0;
}

int ytree_get_map_keys(const struct ytree_doc *d, const struct ytree_node *n,
		       const char *const *keys, const char *what)
{
	int r = ytree_get_map(d, n, what);

	return r ? r : ytree_check_keys(d, n, keys, what);
}

int ytree_get_list(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what)
{
	if (n->kind != YTREE_SEQ)
		return ytree_doc_fail(d, n, "'%s' must be a list, not %s", what,
				      ytree_kind_name(n));
	return 0;
}

/* ---- scalars ---- */

int ytree_get_scalar(const struct ytree_doc *d, const struct ytree_node *n,
		     const char *what, const char *expected, const char **text)
{
	const struct ytree_node *r;
	int ret;

	if (n->kind != YTREE_SCALAR)
		return ytree_doc_fail(d, n, "'%s' must be %s, not %s", what,
				      expected, ytree_kind_name(n));
	ret = subst(d, n, &r);
	if (ret)
		return ret;
	*text = r->text;
	return 0;
}

int ytree_get_text(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, const char **text)
{
	int r = ytree_get_scalar(d, n, what, "text", text);

	if (!r && !**text)
		return ytree_doc_fail(d, n, "'%s' must not be empty", what);
	return r;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '.' || *s == '-' ||
		      (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

int ytree_get_name(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, size_t max, const char **text)
{
	if (n->kind != YTREE_SCALAR)
		return ytree_doc_fail(d, n, "'%s' must be a name, not %s", what,
				      ytree_kind_name(n));
	if (!name_ok(n->text))
		return ytree_doc_fail(d, n, "bad %s '%s' (expected letters, digits, '_', '.', '-')",
				      what, n->text);
	if (strlen(n->text) > max)
		return ytree_doc_fail(d, n, "%s too long (at most %zu characters)",
				      what, max);
	*text = n->text;
	return 0;
}

int ytree_get_bool(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, bool *out)
{
	const char *t = NULL;
	int r;

	r = ytree_get_scalar(d, n, what, "true or false", &t);
	if (r)
		return r;
	if (strcmp(t, "true") == 0 || strcmp(t, "false") == 0) {
		*out = t[0] == 't';
		return 0;
	}
	return ytree_doc_fail(d, ytree_value(d, n),
			      "bad %s '%s' (expected true or false)", what, t);
}

int ytree_get_enum(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, const char *const *names, size_t *idx)
{
	char list[300];
	const char *t = NULL;
	int r;

	r = ytree_get_scalar(d, n, what, "a single value", &t);
	if (r)
		return r;
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(names[i], t) == 0) {
			*idx = i;
			return 0;
		}
	}
	ytree_join_names(names, list, sizeof(list));
	return ytree_doc_fail(d, ytree_value(d, n),
			      "bad %s '%s' (expected one of: %s)", what, t, list);
}

/* ---- numbers ---- */

static int number_parse(const struct ytree_doc *d, const struct ytree_node *n,
			const struct ytree_num *rule, const char *t, uint64_t *v)
{
	int r;

	switch (rule->kind) {
	case YTREE_NUM_COUNT:
		r = units_parse_u64(t, v);
		if (r == -ERANGE)
			return ytree_doc_fail(d, n, "number '%s' is too large", t);
		if (r)
			return ytree_doc_fail(d, n, "bad number '%s' (expected a whole number)", t);
		return 0;
	case YTREE_NUM_SIZE:
		r = units_parse_size(t, v);
		if (r == -ERANGE)
			return ytree_doc_fail(d, n, "size '%s' is too large", t);
		if (r)
			return ytree_doc_fail(d, n, "bad size '%s' (expected a number with an optional unit: k, M, G)", t);
		return 0;
	case YTREE_NUM_TIME:
		r = units_parse_time_ms(t, v);
		if (r == -ERANGE)
			return ytree_doc_fail(d, n, "time '%s' is too large", t);
		if (r)
			return ytree_doc_fail(d, n, "bad time '%s' (expected a time like 500ms or %s)",
					      t, rule->like);
		return 0;
	}
	return -EINVAL;
}

int ytree_get_number(const struct ytree_doc *d, const struct ytree_node *n,
		     const char *what, const struct ytree_num *rule,
		     uint64_t *out)
{
	const char *t = NULL;
	char expected[64];
	uint64_t v = 0;
	int r;

	if (rule->kind == YTREE_NUM_SIZE)
		snprintf(expected, sizeof(expected), "a size like %s", rule->like);
	else if (rule->kind == YTREE_NUM_TIME)
		snprintf(expected, sizeof(expected), "a time like %s", rule->like);
	else
		snprintf(expected, sizeof(expected), "a whole number");
	r = ytree_get_scalar(d, n, what, expected, &t);
	if (r)
		return r;
	n = ytree_value(d, n);
	r = number_parse(d, n, rule, t, &v);
	if (r)
		return r;
	if (v < rule->lo || v > rule->hi)
		return ytree_doc_fail(d, n, "%s %s out of range (expected %s)", what,
				      t, rule->range);
	if (rule->align > 1 && v % rule->align)
		return ytree_doc_fail(d, n, "%s %s is not a multiple of %s", what,
				      t, rule->align_text);
	*out = v;
	return 0;
}
