/*
 * json_strict.c - strict field readers over jansson (see json_strict.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"

json_t *jstrict_loads(const char *text, size_t len, const char *what, struct verr *e)
{
	json_error_t je;
	json_t *root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		verr_set(e, "%s: invalid JSON at line %d column %d: %s",
			 what, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		verr_set(e, "%s: expected a JSON object at the top level", what);
		json_decref(root);
		return NULL;
	}
	return root;
}

int jstrict_keys(const json_t *obj, const char *what, const char *const *allowed,
		 struct verr *e)
{
	const char *key;
	json_t *val;

	if (!json_is_object(obj)) {
		verr_set(e, "%s: expected an object", what);
		return -EINVAL;
	}
	json_object_foreach((json_t *)obj, key, val) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (!*a) {
			verr_set(e, "%s: unknown field '%s'", what, key);
			return -EINVAL;
		}
	}
	return 0;
}

static json_t *field_get(const json_t *obj, const char *what, const char *key,
			 struct verr *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		verr_set(e, "%s: missing field '%s'", what, key);
	return v;
}

static int value_u64(const json_t *v, const char *what, const char *key,
		     uint64_t *out, struct verr *e)
{
	json_int_t i;

	if (!json_is_integer(v)) {
		verr_set(e, "%s: field '%s' must be a non-negative integer", what, key);
		return -EINVAL;
	}
	i = json_integer_value(v);
	if (i < 0) {
		verr_set(e, "%s: field '%s' is negative (%lld)", what, key, (long long)i);
		return -ERANGE;
	}
	*out = (uint64_t)i;
	return 0;
}

int jstrict_u64(const json_t *obj, const char *what, const char *key,
		uint64_t *out, struct verr *e)
{
	json_t *v = field_get(obj, what, key, e);

	return v ? value_u64(v, what, key, out, e) : -EINVAL;
}

int jstrict_u64_range(const json_t *obj, const char *what, const char *key,
		      uint64_t min, uint64_t max, uint64_t *out, struct verr *e)
{
	uint64_t v;
	int rc = jstrict_u64(obj, what, key, &v, e);

	if (rc)
		return rc;
	if (v < min || v > max) {
		verr_set(e, "%s: field '%s' is %llu, expected %llu..%llu", what, key,
			 (unsigned long long)v, (unsigned long long)min,
			 (unsigned long long)max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int jstrict_i64(const json_t *obj, const char *what, const char *key,
		int64_t *out, struct verr *e)
{
	json_t *v = field_get(obj, what, key, e);

	if (!v)
		return -EINVAL;
	if (!json_is_integer(v)) {
		verr_set(e, "%s: field '%s' must be an integer", what, key);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

static int value_bool(const json_t *v, const char *what, const char *key,
		      bool *out, struct verr *e)
{
	if (!json_is_boolean(v)) {
		verr_set(e, "%s: field '%s' must be true or false", what, key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

int jstrict_bool(const json_t *obj, const char *what, const char *key,
		 bool *out, struct verr *e)
{
	json_t *v = field_get(obj, what, key, e);

	return v ? value_bool(v, what, key, out, e) : -EINVAL;
}

static int value_str(const json_t *v, const char *what, const char *key,
		     const char **s, size_t *len, struct verr *e)
{
	if (!json_is_string(v)) {
		verr_set(e, "%s: field '%s' must be a string", what, key);
		return -EINVAL;
	}
	/* Documents are parsed without JSON_ALLOW_NUL: no embedded NULs. */
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

static int value_str_copy(const json_t *v, const char *what, const char *key,
			  char *buf, size_t cap, struct verr *e)
{
	const char *s;
	size_t len;
	int rc = value_str(v, what, key, &s, &len, e);

	if (rc)
		return rc;
	if (len >= cap) {
		verr_set(e, "%s: field '%s' is too long (%zu bytes, at most %zu)",
			 what, key, len, cap - 1);
		return -E2BIG;
	}
	memcpy(buf, s, len + 1);
	return 0;
}

static int value_strdup(const json_t *v, const char *what, const char *key,
			char **out, struct verr *e)
{
	const char *s;
	size_t len;
	int rc = value_str(v, what, key, &s, &len, e);

	if (rc)
		return rc;
	*out = strdup(s);
	if (!*out) {
		verr_set(e, "%s: out of memory", what);
		return -ENOMEM;
	}
	return 0;
}

int jstrict_str(const json_t *obj, const char *what, const char *key,
		char *buf, size_t cap, struct verr *e)
{
	json_t *v = field_get(obj, what, key, e);

	return v ? value_str_copy(v, what, key, buf, cap, e) : -EINVAL;
}

int jstrict_strdup(const json_t *obj, const char *what, const char *key,
		   char **out, struct verr *e)
{
	json_t *v = field_get(obj, what, key, e);

	return v ? value_strdup(v, what, key, out, e) : -EINVAL;
}

int jstrict_opt_u64(const json_t *obj, const char *what, const char *key,
		    uint64_t *out, struct verr *e)
{
	json_t *v = json_object_get(obj, key);

	return v ? value_u64(v, what, key, out, e) : 0;
}

int jstrict_opt_bool(const json_t *obj, const char *what, const char *key,
		     bool *out, struct verr *e)
{
	json_t *v = json_object_get(obj, key);

	return v ? value_bool(v, what, key, out, e) : 0;
}

int jstrict_opt_str(const json_t *obj, const char *what, const char *key,
		    char *buf, size_t cap, struct verr *e)
{
	json_t *v = json_object_get(obj, key);

	return v ? value_str_copy(v, what, key, buf, cap, e) : 0;
}

int jstrict_opt_strdup(const json_t *obj, const char *what, const char *key,
		       char **out, struct verr *e)
{
	json_t *v = json_object_get(obj, key);

	return v ? value_strdup(v, what, key, out, e) : 0;
}

int jset_u64(json_t *obj, const char *key, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	return json_object_set_new(obj, key, json_integer((json_int_t)v)) ? -ENOMEM : 0;
}
