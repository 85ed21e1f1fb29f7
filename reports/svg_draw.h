/*
 * svg_draw.h - the drawing primitives the chart files (svg_line.c,
 * svg_bar.c) share with svg.c: axes rounded to 1-2-5 steps, the <svg>
 * frame and its text.  Private to reports/svg*.c.
 */
#ifndef VMORCH_REPORTS_SVG_DRAW_H
#define VMORCH_REPORTS_SVG_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "reports/svg.h"

struct svg_axis {
	double lo, hi, step;
	int nticks;		/* ticks at lo + i * step, i in [0, nticks) */
	int prec;		/* significant digits that tell ticks apart */
	double scale;		/* 1, or 1024^k when the ticks are in @iec units */
	const char *iec;	/* "KiB" ... for a bytes unit, else NULL */
	const char *per;	/* "/s" after @iec for bytes/s, else "" */
};

/* A value a chart can place: beyond ±1e300 the axis arithmetic overflows. */
bool svg_value_ok(double v);
/* Round [min, max] out to 1-2-5 steps, about @want of them. */
void svg_axis_fit(struct svg_axis *a, double min, double max, int want);
/* The same, in whole binary units (1, 2, 5 GiB) when @unit counts bytes. */
void svg_axis_fit_unit(struct svg_axis *a, double min, double max, int want,
		       const char *unit);
double svg_axis_tick(const struct svg_axis *a, int i);
/* Tick @i as text: "1.5k", "4 KiB", "2 GiB/s". */
void svg_axis_label(const struct svg_axis *a, int i, char *buf, size_t cap);
/* Position of @v on an axis drawn from @p0 (at lo) to @p1 (at hi). */
double svg_axis_map(const struct svg_axis *a, double v, double p0, double p1);

/* <svg class="chart @kind"> with its title as <title> and as a heading. */
void svg_open(FILE *f, int w, int h, const char *kind, const char *title);
int svg_close(FILE *f);
void svg_text(FILE *f, const char *cls, double x, double y,
	      const char *anchor, const char *s);

/*
 * The legend: @n keys from (@x, @y) in @w px, swatch entries side by side,
 * text-only ones (cls NULL) wrapped on lines of their own.  Returns the
 * height it takes; with @f NULL only measures.
 */
int svg_legend(FILE *f, double x, double y, double w,
	       const struct chart_key *k, size_t n);

/* num_format() with @prec significant digits (3..15). */
void num_format_prec(char *buf, size_t cap, double v, int prec);
/* Append @s to @buf of @cap, keeping it terminated when it does not fit. */
void svg_str_append(char *buf, size_t cap, const char *s);

#endif
