# reports/reports.mk - diff, history, statistics and the report renderers
# (libreports.a), the `vmorch diff/history/regressions/report` commands,
# their tests, golden files and the 1M-result benchmark.  Included from
# Makefile.am.  JUnit/HTML rendering has its own tests in reports/render.mk.

noinst_LIBRARIES += reports/libreports.a
reports_libreports_a_SOURCES = \
	reports/report.h \
	reports/stats.c reports/stats.h \
	reports/diff.c reports/diff_judge.c reports/diff_judge.h reports/history.c reports/history_group.c reports/history_group.h reports/report.c reports/report_series.c reports/config_diff.c \
	reports/render_text.c reports/render_markdown.c reports/render_json.c \
	reports/render_junit.c reports/render_html.c reports/render_html.h \
	reports/render_html_sweep.c reports/render_html_trend.c \
	reports/svg.c reports/svg.h reports/svg_draw.h \
	reports/svg_line.c reports/svg_bar.c \
	reports/outfile.c reports/outfile.h
reports_libreports_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)

# libreports needs the SQL error mapper (orchestrator/sql_err.c, in libdb),
# common/ and SQLite: list them again after it, since the
# LDADD above already named them before this fragment appends.
REPORTS_LIBS = reports/libreports.a orchestrator/libdb.a $(COMMON_LIBS) $(SQLITE_LIBS) -lm

orchestrator_vmorch_SOURCES += \
	orchestrator/cmd_diff.c orchestrator/cmd_history.c orchestrator/cmd_report.c
orchestrator_vmorch_LDADD += $(REPORTS_LIBS)

# ---- tests ----
REPORTS_FIXTURE = tests/fixtures/report_fixture.c tests/fixtures/report_fixture.h

check_PROGRAMS += tests/test_stats tests/test_diff tests/test_render
tests_test_stats_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_test_stats_LDADD = $(REPORTS_LIBS) $(TEST_LIBS)
tests_test_diff_SOURCES = tests/test_diff.c $(REPORTS_FIXTURE)
tests_test_diff_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_test_diff_LDADD = $(REPORTS_LIBS) $(DB_LIBS) $(TEST_LIBS)
tests_test_render_SOURCES = tests/test_render.c $(REPORTS_FIXTURE)
tests_test_render_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_test_render_LDADD = $(REPORTS_LIBS) $(DB_LIBS) $(TEST_LIBS)
# test_diff runs the real vmorch (built by `make all`, which check runs first).

# JUnit's per-test-case consoles, on hand-built reports and through vmorch.
check_PROGRAMS += tests/test_junit_console
tests_test_junit_console_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_test_junit_console_LDADD = $(REPORTS_LIBS) $(DB_LIBS) $(TEST_LIBS)

EXTRA_DIST += reports/reports.mk doc/reports.md \
	tests/golden/report.txt tests/golden/report.md tests/golden/report.json \
	tests/golden/diff.txt tests/golden/history.txt tests/golden/history.csv \
	bench/db.sh bench/db_synth.c

# ---- the 1M-result benchmark (bench/db.sh): built on demand only ----
bench/db_synth$(EXEEXT): $(srcdir)/bench/db_synth.c orchestrator/libdb.a \
		common/libcommon.a
	$(AM_V_CCLD)$(MKDIR_P) bench && $(CC) $(DEFS) $(DEFAULT_INCLUDES) \
	  $(AM_CPPFLAGS) $(CPPFLAGS) $(AM_CFLAGS) $(SQLITE_CFLAGS) $(CFLAGS) \
	  -O2 $(AM_LDFLAGS) $(LDFLAGS) -o $@ $(srcdir)/bench/db_synth.c \
	  $(DB_LIBS) $(COMMON_LIBS)
CLEANFILES += bench/db_synth$(EXEEXT)

.PHONY: bench-reports
bench-reports: bench/db_synth$(EXEEXT) orchestrator/vmorch$(EXEEXT)
	$(SHELL) $(srcdir)/bench/db.sh
