/*
 * json_strict.h - strict readers for the JSON documents the processes exchange
 * (job spec, VmResult, counter snapshots).
 *
 * Every reader names the offending field: a document from another version or
 * a buggy peer must be refused with a message a person can act on, never
 * half-accepted.
 */
#ifndef VMORCH_JSON_STRICT_H
#define VMORCH_JSON_STRICT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "verr.h"

/* Parse @text (rejecting duplicate keys); NULL with @e set on error. */
json_t *jstrict_loads(const char *text, size_t len, const char *what, struct verr *e);

/* @obj must be an object whose keys all appear in the NULL-ended @allowed. */
int jstrict_keys(const json_t *obj, const char *what, const char *const *allowed,
		 struct verr *e);

/* Required fields: a missing one is an error naming it. */
int jstrict_u64(const json_t *obj, const char *what, const char *key,
		uint64_t *out, struct verr *e);
int jstrict_u64_range(const json_t *obj, const char *what, const char *key,
		      uint64_t min, uint64_t max, uint64_t *out, struct verr *e);
int jstrict_i64(const json_t *obj, const char *what, const char *key,
		int64_t *out, struct verr *e);
int jstrict_bool(const json_t *obj, const char *what, const char *key,
		 bool *out, struct verr *e);
/* Copies into @buf (size @cap, NUL included); too long is an error. */
int jstrict_str(const json_t *obj, const char *what, const char *key,
		char *buf, size_t cap, struct verr *e);
/* Returns a malloc'd copy in *out. */
int jstrict_strdup(const json_t *obj, const char *what, const char *key,
		   char **out, struct verr *e);

/* Optional fields: absent leaves *out untouched and returns 0. */
int jstrict_opt_u64(const json_t *obj, const char *what, const char *key,
		    uint64_t *out, struct verr *e);
int jstrict_opt_bool(const json_t *obj, const char *what, const char *key,
		     bool *out, struct verr *e);
int jstrict_opt_str(const json_t *obj, const char *what, const char *key,
		    char *buf, size_t cap, struct verr *e);
int jstrict_opt_strdup(const json_t *obj, const char *what, const char *key,
		       char **out, struct verr *e);

/* Set a u64 as a JSON integer; values above INT64_MAX are refused. */
int jset_u64(json_t *obj, const char *key, uint64_t v);

#endif
