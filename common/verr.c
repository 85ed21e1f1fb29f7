/*
 * verr.c - filling the error buffer (see verr.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verr.h"

void verr_set(struct verr *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int verr_errno(struct verr *e, const char *fmt, ...)
{
	int err = errno ? errno : EIO;
	size_t len;
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(err));
	}
	errno = err;
	return -err;
}

void verr_prefix(struct verr *e, const char *fmt, ...)
{
	char prefix[VERR_MAX];
	size_t pl;
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	pl = strlen(prefix);
	if (pl + 2 >= VERR_MAX) {
		memcpy(e->msg, prefix, VERR_MAX);
		return;
	}
	/* Shift the old message right, truncating its tail if need be. */
	memmove(e->msg + pl + 2, e->msg, VERR_MAX - pl - 2);
	e->msg[VERR_MAX - 1] = 0;
	memcpy(e->msg, prefix, pl);
	e->msg[pl] = ':';
	e->msg[pl + 1] = ' ';
}
