/*
 * ytree_get.h - typed values out of a positioned YAML tree (ytree.h), for
 * the loaders of vmorch's files: mappings of known keys, lists, text,
 * names, booleans, one word of a list, numbers with units and ranges.  Each
 * check fails with one "file:line:col: message", worded alike for scenarios
 * and inventories.
 *
 * A loader may hook in a substitution (the scenario's "${key}" matrix
 * references): a scalar then stands for the node the hook gives back, and a
 * message about its value points where that value was written.
 */
#ifndef VMORCH_YTREE_GET_H
#define VMORCH_YTREE_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "orchestrator/ytree.h"

/* The document being read: where messages go, and its substitution. */
struct ytree_doc {
	const char *path;		/* starts every message */
	struct verr *e;
	/*
	 * NULL, or: the node scalar @n stands for into *@out (@n itself when
	 * it refers to nothing), 0; or -EINVAL with a message in @e.
	 */
	int (*subst)(void *arg, const struct ytree_node *n,
		     const struct ytree_node **out);
	void *arg;
};

/* "path:line:col: message" at @n into @d's error; returns -EINVAL. */
int ytree_doc_fail(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The node scalar @n stands for, for messages about its value; else @n. */
const struct ytree_node *ytree_value(const struct ytree_doc *d,
				     const struct ytree_node *n);

/* "a, b, c" from a NULL-terminated list, cut short at @len. */
void ytree_join_names(const char *const *names, char *buf, size_t len);

/* The first key of mapping @m that is not in @allowed (NULL-terminated). */
const struct ytree_node *ytree_unknown_key(const struct ytree_node *m,
					   const char *const *allowed);

/* Every key of mapping @m is in @allowed; @where: "vm", "the top level". */
int ytree_check_keys(const struct ytree_doc *d, const struct ytree_node *m,
		     const char *const *allowed, const char *where);

int ytree_get_map(const struct ytree_doc *d, const struct ytree_node *n,
		  const char *what);
/* A mapping of only @keys (NULL-terminated). */
int ytree_get_map_keys(const struct ytree_doc *d, const struct ytree_node *n,
		       const char *const *keys, const char *what);
int ytree_get_list(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what);

/*
 * A scalar, after substitution; @expected words the type for the message
 * about anything else ("'what' must be EXPECTED, not a list").
 */
int ytree_get_scalar(const struct ytree_doc *d, const struct ytree_node *n,
		     const char *what, const char *expected, const char **text);
/* Non-empty text. */
int ytree_get_text(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, const char **text);
/*
 * [A-Za-z0-9_.-]+, at most @max characters, as written (never substituted):
 * names end up in job names, paths and SQL rows.
 */
int ytree_get_name(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, size_t max, const char **text);
int ytree_get_bool(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, bool *out);
/* One of @names (NULL-terminated): its index into *@idx. */
int ytree_get_enum(const struct ytree_doc *d, const struct ytree_node *n,
		   const char *what, const char *const *names, size_t *idx);

enum ytree_num_kind { YTREE_NUM_COUNT, YTREE_NUM_SIZE, YTREE_NUM_TIME };

/* Accepted range and granularity of a number (units.h), and how to say it. */
struct ytree_num {
	enum ytree_num_kind kind;
	uint64_t lo, hi, align;		/* sizes in bytes, times in ms */
	const char *range;		/* "1..64" */
	const char *align_text;		/* "512", "4k" */
	const char *like;		/* sizes, times: "5s" for "a time like 5s" */
};

int ytree_get_number(const struct ytree_doc *d, const struct ytree_node *n,
		     const char *what, const struct ytree_num *rule,
		     uint64_t *out);

#endif
