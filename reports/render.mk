# reports/render.mk - tests of the JUnit and HTML renderers (render_junit.c,
# render_html.c, svg.c).  Included from Makefile.am.  The renderers are
# compiled into the test directly, so it does not wait for libreports.a.
# tests/junit.xsd is the Apache Ant JUnit schema (windyroad/JUnit-Schema,
# Apache-2.0) that the JUnit output is validated against with xmllint, with
# one change marked in it: a test case's own <system-out> (its console).

check_PROGRAMS += tests/test_render_html
tests_test_render_html_SOURCES = tests/test_render_html.c \
	reports/render_junit.c reports/render_html.c reports/render_html.h \
	reports/render_html_sweep.c reports/render_html_trend.c \
	reports/svg.c reports/svg.h reports/svg_draw.h \
	reports/svg_line.c reports/svg_bar.c reports/report.h
tests_test_render_html_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
# zlib: the test decodes Chromium's screenshot to check it is not blank.
# libreports for what the renderers share with the text form (number and
# interval formats, verdict names); their own objects come first.
tests_test_render_html_LDADD = $(REPORTS_LIBS) $(TEST_LIBS) -lz -lm

EXTRA_DIST += tests/junit.xsd reports/render.mk
