/*
 * test_render.c - the text, Markdown and JSON renderers (and the diff and
 * history printers) against golden files in tests/golden/, byte for byte.
 * The fixture pins every timestamp, so any difference is a real change.
 * VMORCH_UPDATE_GOLDEN=1 rewrites the golden files instead (then review
 * them with git diff).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "orchestrator/db.h"
#include "reports/report.h"
#include "tests/fixtures/report_fixture.h"

struct fx {
	char dir[64];
	char path[128];
	struct db *db;
	struct report *r;	/* cand --vs base */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct verr e = { "" };
	struct diff_opts o = { .threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT,
			       .alpha = DIFF_DEFAULT_ALPHA,
			       .correction = DIFF_DEFAULT_CORRECTION };

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/vmorch-test-render-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/v.db", f->dir);
	if (report_fixture_build(f->path, &e) || db_open(f->path, &f->db, &e) ||
	    report_build(db_sqlite(f->db), FIXTURE_RUN_CAND, FIXTURE_RUN_BASE,
			 &o, &f->r, &e)) {
		fprintf(stderr, "fixture: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	report_free(f->r);
	db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const char *golden_path(const char *name)
{
	static char p[4096];
	const char *s = getenv("VMORCH_SRCDIR");

	snprintf(p, sizeof(p), "%s/tests/golden/%s", s ? s : ".", name);
	return p;
}

static char *file_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;

	if (!fp)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	return buf;
}

/* Print the first line where @got and @want differ, to make failures readable. */
static void show_first_difference(const char *got, size_t glen,
				  const char *want, size_t wlen)
{
	size_t i = 0, line = 1, start = 0;

	while (i < glen && i < wlen && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	print_error("first difference at line %zu:\n got: %.*s\nwant: %.*s\n", line,
		    (int)strcspn(got + start, "\n"), got + start,
		    (int)strcspn(want + start, "\n"), want + start);
}

/* Compare @got with the golden file @name (or rewrite it). */
static void assert_golden(const char *name, const char *got, size_t glen)
{
	const char *path = golden_path(name);
	size_t wlen = 0;
	char *want;

	if (getenv("VMORCH_UPDATE_GOLDEN")) {
		FILE *fp = fopen(path, "wb");

		assert_non_null(fp);
		assert_int_equal(fwrite(got, 1, glen, fp), glen);
		assert_int_equal(fclose(fp), 0);
		return;
	}
	want = file_read(path, &wlen);
	if (!want)
		fail_msg("%s: missing (VMORCH_UPDATE_GOLDEN=1 creates it)", path);
	if (glen != wlen || memcmp(got, want, glen) != 0) {
		show_first_difference(got, glen, want, wlen);
		free(want);
		fail_msg("%s differs from the rendered output", name);
	}
	free(want);
}

/* Render with @fn into memory; returns the bytes (caller frees). */
#define RENDER(buf, len, call)						\
	do {								\
		FILE *mf_ = open_memstream(&(buf), &(len));		\
		assert_non_null(mf_);					\
		assert_int_equal((call), 0);				\
		assert_int_equal(fclose(mf_), 0);			\
	} while (0)

static void test_report_text_golden(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;

	RENDER(buf, len, render_text(f->r, mf_));
	assert_golden("report.txt", buf, len);
	free(buf);
}

static void test_report_markdown_golden(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;

	RENDER(buf, len, render_markdown(f->r, mf_));
	assert_golden("report.md", buf, len);
	free(buf);
}

static void test_report_json_golden(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;

	RENDER(buf, len, render_json(f->r, mf_));
	assert_golden("report.json", buf, len);
	free(buf);
}

/* The JSON is versioned and parses; NaN deltas (from zero) are null. */
static void test_report_json_versioned_and_valid(void **state)
{
	struct fx *f = *state;
	json_error_t err;
	json_t *doc, *rows;
	char *buf = NULL;
	size_t len = 0;
	bool saw_null_pct = false;

	RENDER(buf, len, render_json(f->r, mf_));
	doc = json_loadb(buf, len, 0, &err);
	if (!doc)
		fail_msg("JSON does not parse: %s (line %d)", err.text, err.line);
	assert_int_equal(json_integer_value(json_object_get(doc, "vmorch_report")),
			 REPORT_JSON_VERSION);
	rows = json_object_get(json_object_get(doc, "diff"), "rows");
	assert_true(json_array_size(rows) == f->r->diff->nrows);
	for (size_t i = 0; i < json_array_size(rows); i++)
		if (json_is_null(json_object_get(json_array_get(rows, i), "delta_pct")))
			saw_null_pct = true;
	assert_true(saw_null_pct);
	json_decref(doc);
	free(buf);
}

static void test_diff_text_golden(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len = 0;

	RENDER(buf, len, render_diff_text(f->r->diff, mf_, false));
	assert_golden("diff.txt", buf, len);
	free(buf);
}

static void history_render(struct fx *f, const char *golden, bool csv)
{
	struct history_opts o = { .scenario = "smoke", .vm = "fast", .metric = "iops",
				  .params_key = "bs=4k" };
	struct verr e = { "" };
	struct history *h;
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(history_query(db_sqlite(f->db), &o, &h, &e), 0);
	if (csv)
		RENDER(buf, len, render_history_csv(h, mf_));
	else
		RENDER(buf, len, render_history_text(h, mf_));
	assert_golden(golden, buf, len);
	free(buf);
	history_free(h);
}

/* Includes the sparkline: 900, 1000, 1200 -> ▁▃█. */
static void test_history_text_golden(void **state)
{
	history_render(*state, "history.txt", false);
}

static void test_history_csv_golden(void **state)
{
	history_render(*state, "history.csv", true);
}

/* Trends: one per job key with data, up to the reported run; iops only. */
static void test_report_trends(void **state)
{
	struct fx *f = *state;
	const struct history *h = f->r->series[0];

	assert_true(f->r->nseries >= 2);
	assert_string_equal(h->scenario, "smoke");
	assert_non_null(h->vm);
	assert_string_equal(h->metric, "iops");
	assert_int_equal(h->points[h->npoints - 1].run_id, FIXTURE_RUN_CAND);
	for (size_t i = 0; i < f->r->nseries; i++)
		assert_non_null(f->r->series[i]->vm);	/* never all VMs together */
}

/*
 * For HTML: one history per job key (never a scenario's keys together),
 * the keys that changed in the diff first, each job's guest metrics, and
 * each run's commit, a history of runs that all have one pooled by commit;
 * not the per-scenario trends it does not show.
 */
static void test_report_series_per_job_key(void **state)
{
	static const char *const order[] = {
		"breaks", "errors", "fast", "slow", "shifted",	/* changed */
		"extra", "fast", "newvm", "steady", "noisy",
	};
	struct fx *f = *state;
	struct verr e = { "" };
	const struct history *h;
	struct report *r = NULL;
	struct diff_opts o;
	size_t i;

	diff_opts_init(&o);
	/* Base and cand are one commit: their repeats are one point. */
	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "INSERT INTO run_meta"
				      " VALUES (1, 'commit', 'c0ffee1', 'auto'),"
				      " (2, 'commit', 'f00d003', 'auto'),"
				      " (3, 'commit', 'f00d003', 'auto')",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(report_build_for(db_sqlite(f->db), FIXTURE_RUN_CAND,
					  FIXTURE_RUN_BASE, &o, REPORT_WANT_SERIES,
					  &r, &e), 0);
	assert_int_equal(r->nseries, 10);	/* every key reports iops, nothing else */
	assert_int_equal(r->series_hidden, 0);
	for (i = 0; i < r->nseries; i++) {
		assert_string_equal(r->series[i]->vm, order[i]);
		assert_string_equal(r->series[i]->metric, "iops");
		assert_int_equal(r->series[i]->by, HISTORY_BY_COMMIT);
	}
	h = r->series[2];
	assert_string_equal(h->params_key, "bs=4k");
	assert_int_equal(h->nruns, 3);
	assert_int_equal(h->npoints, 2);
	assert_string_equal(h->points[0].group, "c0ffee1");
	assert_true(h->points[0].value.mean == 900);
	assert_string_equal(h->points[1].group, "f00d003");
	assert_int_equal(h->points[1].nruns, 2);
	assert_int_equal(h->points[1].value.n, 2);
	assert_true(h->points[1].value.mean == 1100);
	assert_string_equal(r->series[6]->params_key, "bs=64k");
	assert_int_equal(r->series[6]->npoints, 1);	/* old did not run it */
	assert_int_equal(r->ncommits, 3);
	assert_string_equal(report_commit_find(r, FIXTURE_RUN_OLD), "c0ffee1");
	assert_string_equal(report_commit_find(r, FIXTURE_RUN_CAND), "f00d003");
	for (i = 0; i < r->njobs && strcmp(r->jobs[i].vm, "fast"); i++)
		;
	assert_string_equal(r->jobs[i].params_key, "bs=4k");
	assert_int_equal(r->jobs[i].nmetrics, 1);
	assert_string_equal(r->jobs[i].metrics[0].name, "iops");
	assert_true(r->jobs[i].metrics[0].value == 1200);
	report_free(r);
	diff_opts_release(&o);
}

/* Without commits a trend stays one point per run, to be drawn by date. */
static void test_report_series_by_run_without_commits(void **state)
{
	struct fx *f = *state;
	struct verr e = { "" };
	struct report *r = NULL;
	struct diff_opts o;

	diff_opts_init(&o);
	assert_int_equal(sqlite3_exec(db_sqlite(f->db), "DELETE FROM run_meta",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(report_build_for(db_sqlite(f->db), FIXTURE_RUN_CAND, 0, &o,
					  REPORT_WANT_SERIES, &r, &e), 0);
	assert_int_equal(r->ncommits, 0);
	/* No diff: key order, and smoke/fast[bs=4k] is the fourth. */
	assert_string_equal(r->series[0]->vm, "breaks");
	assert_string_equal(r->series[3]->vm, "fast");
	assert_int_equal(r->series[3]->by, HISTORY_BY_RUN);
	assert_int_equal(r->series[3]->npoints, 3);
	assert_true(r->series[3]->points[2].value.mean == 1200);
	report_free(r);
	diff_opts_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_text_golden),
		cmocka_unit_test(test_report_markdown_golden),
		cmocka_unit_test(test_report_json_golden),
		cmocka_unit_test(test_report_json_versioned_and_valid),
		cmocka_unit_test(test_diff_text_golden),
		cmocka_unit_test(test_history_text_golden),
		cmocka_unit_test(test_history_csv_golden),
		cmocka_unit_test(test_report_trends),
		cmocka_unit_test(test_report_series_per_job_key),
		cmocka_unit_test(test_report_series_by_run_without_commits),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
