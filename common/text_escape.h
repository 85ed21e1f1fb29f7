/*
 * text_escape.h - making untrusted text safe to print on a terminal.
 *
 * Labels, scenario text, error messages and guest console tails come from
 * users and guests; printed raw, an escape sequence could retitle the
 * terminal, move the cursor or forge lines.  These helpers show C0 and C1
 * control characters, DEL and bytes that are not valid UTF-8 as visible
 * escapes (\e, \x9b, \xff), and keep every valid printable character.
 */
#ifndef VMORCH_TEXT_ESCAPE_H
#define VMORCH_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Keep '\n' and '\t' as they are (multi-line text such as a console tail). */
#define TEXT_KEEP_LINES	1u

/*
 * Escape @in into @out (always NUL-terminated when @cap > 0; an escape is
 * never cut in half).  Returns the length the whole escaped text needs.
 */
size_t text_escape(char *out, size_t cap, const char *in, unsigned flags);

/* fputs() of the escaped text; returns EOF on a write error. */
int text_fputs(const char *in, FILE *f, unsigned flags);

/* The same for @len bytes that may hold NULs (shown as \x00): a whole console. */
int text_fwrite(const char *in, size_t len, FILE *f, unsigned flags);

/* True when @in needs no escaping at all. */
int text_is_clean(const char *in, unsigned flags);

#endif
