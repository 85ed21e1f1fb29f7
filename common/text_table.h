/*
 * text_table.h - aligned text tables for the terminal: two spaces between
 * columns, numbers right-aligned, no trailing blanks, UTF-8 aware widths.
 * Used by `vmorch runs/show` and by the text report renderers.
 */
#ifndef VMORCH_TEXT_TABLE_H
#define VMORCH_TEXT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct text_table {
	unsigned ncols;
	const char *const *head;	/* ncols headings (borrowed) */
	const bool *right;		/* ncols: right-align this column (borrowed) */
	char **cell;			/* nrows x ncols, malloc'd strings */
	size_t nrows, cap;
	bool oom;			/* a row or cell could not be stored */
};

void text_table_init(struct text_table *t, unsigned ncols, const char *const *head,
		     const bool *right);

/* Start a new row; its cells are empty until set. */
void text_table_row(struct text_table *t);

/* Set a cell of the last row. */
void text_table_set(struct text_table *t, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print the heading and rows; -ENOMEM if a cell was lost, -EIO on a write error. */
int text_table_print(const struct text_table *t, FILE *f);

void text_table_free(struct text_table *t);

#endif
