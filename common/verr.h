/*
 * verr.h - the error buffer that library code fills instead of printing.
 *
 * Functions return 0 or a negative errno and, where a person needs to know
 * what went wrong, write one line into a struct verr.  Only the edges (CLI,
 * worker main) print it.
 */
#ifndef VMORCH_VERR_H
#define VMORCH_VERR_H

#include <stddef.h>

#define VERR_MAX 512

struct verr {
	char msg[VERR_MAX];
};

/* Set the message (printf-style); a NULL @e is allowed and ignored. */
void verr_set(struct verr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For a failed system call: capture errno before anything else can change
 * it, set "<message>: <strerror>", and return the negative errno (EIO if
 * errno was 0).  Use it as `return verr_errno(e, "open %s", path);`.
 */
int verr_errno(struct verr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the existing message with "<prefix>: ". */
void verr_prefix(struct verr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
