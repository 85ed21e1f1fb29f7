/*
 * text_table.c - aligned text tables (see text_table.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_table.h"

void text_table_init(struct text_table *t, unsigned ncols, const char *const *head,
		     const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = head;
	t->right = right;
}

void text_table_row(struct text_table *t)
{
	if (t->oom)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **c = realloc(t->cell, cap * t->ncols * sizeof(*c));

		if (!c) {
			t->oom = true;
			return;
		}
		t->cell = c;
		t->cap = cap;
	}
	memset(t->cell + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cell));
	t->nrows++;
}

void text_table_set(struct text_table *t, unsigned col, const char *fmt, ...)
{
	char **cell;
	va_list ap;

	if (t->oom || !t->nrows || col >= t->ncols)
		return;
	cell = &t->cell[(t->nrows - 1) * t->ncols + col];
	free(*cell);
	va_start(ap, fmt);
	if (vasprintf(cell, fmt, ap) < 0) {
		*cell = NULL;
		t->oom = true;
	}
	va_end(ap);
}

void text_table_free(struct text_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = t->cap = 0;
}

/* Display width: UTF-8 continuation bytes take no column (sparklines). */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const char *cell_at(const struct text_table *t, size_t row, unsigned col)
{
	const char *s = row ? t->cell[(row - 1) * t->ncols + col] : t->head[col];

	return s ? s : "";
}

static void print_line(const struct text_table *t, const size_t *w, size_t row,
		       FILE *f)
{
	size_t pending = 0;	/* blanks owed: written only if text follows */

	for (unsigned c = 0; c < t->ncols; c++) {
		const char *s = cell_at(t, row, c);
		size_t pad = w[c] - text_width(s);

		if (c)
			pending += 2;
		if (t->right[c])
			pending += pad;
		if (*s) {
			fprintf(f, "%*s%s", (int)pending, "", s);
			pending = 0;
		}
		if (!t->right[c])
			pending += pad;
	}
	fputc('\n', f);
}

int text_table_print(const struct text_table *t, FILE *f)
{
	size_t *w;

	if (t->oom)
		return -ENOMEM;
	w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (unsigned c = 0; c < t->ncols; c++)
		for (size_t r = 0; r <= t->nrows; r++)
			if (text_width(cell_at(t, r, c)) > w[c])
				w[c] = text_width(cell_at(t, r, c));
	for (size_t r = 0; r <= t->nrows; r++)
		print_line(t, w, r, f);
	free(w);
	return ferror(f) ? -EIO : 0;
}
