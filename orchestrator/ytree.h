/*
 * ytree.h - one YAML document as a small tree of nodes that remember their
 * line and column, for the loaders that must answer "file:line:col: what is
 * wrong".  Built from libyaml events; strict on the way in: UTF-8 text
 * without control characters, one document, no anchors, aliases or tags,
 * mapping keys that are plain scalars and never repeated, bounded nesting.
 */
#ifndef VMORCH_YTREE_H
#define VMORCH_YTREE_H

#include <stdarg.h>
#include <stddef.h>

#include "common/verr.h"

#define YTREE_DEPTH_MAX	32

enum ytree_kind { YTREE_SCALAR, YTREE_MAP, YTREE_SEQ };

/* A mapping keeps key, value, key, value ... in @kid. */
struct ytree_node {
	enum ytree_kind kind;
	unsigned line, col;		/* 1-based; columns count characters */
	char *text;			/* scalars only, NUL-free */
	size_t n, cap;
	struct ytree_node **kid;
};

/*
 * Parse @buf (@len bytes; NUL bytes are refused, not a terminator).  @path
 * starts every message; @what names the document ("inventory") in the
 * message about a second one.  *root is NULL for a file with no document
 * or only comments.  0, -EINVAL with "path:line:col: message" in @e, or
 * -ENOMEM with "path: out of memory".
 */
int ytree_parse(const char *path, const char *what, const char *buf,
		size_t len, struct ytree_node **root, struct verr *e);

void ytree_free(struct ytree_node *n);

size_t ytree_map_len(const struct ytree_node *m);
const struct ytree_node *ytree_map_key(const struct ytree_node *m, size_t i);
const struct ytree_node *ytree_map_val(const struct ytree_node *m, size_t i);

/* The value for @key, or NULL; *@keynode (when asked) gets the key node. */
const struct ytree_node *ytree_map_get(const struct ytree_node *m,
				       const char *key,
				       const struct ytree_node **keynode);

/*
 * Of scalars @v[0..n), the earliest one (by position) whose text appeared
 * before, and that first appearance: 0 when all differ, 1 when *@dup and
 * *@first are set, or -ENOMEM.
 */
int ytree_find_dup(const struct ytree_node *const *v, size_t n,
		   const struct ytree_node **dup, const struct ytree_node **first);

/* "a single value", "a mapping", "a list": for "'x' must be ..., not ...". */
const char *ytree_kind_name(const struct ytree_node *n);

/* "path:line:col: message" into @e; returns -EINVAL. */
int ytree_fail(struct verr *e, const char *path, unsigned line, unsigned col,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with a va_list, for wrappers such as ytree_doc_fail(). */
int ytree_vfail(struct verr *e, const char *path, unsigned line, unsigned col,
		const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
