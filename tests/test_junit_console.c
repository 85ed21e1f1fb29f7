/*
 * test_junit_console.c - JUnit's consoles: each test case carries its own
 * job's console in its <system-out>, the whole stored one when the report
 * can load it (else the tail), at most 64 KiB of it with a note of what
 * is cut, escaped for XML, valid against tests/junit.xsd; and `vmorch
 * report --format junit` doing so from a real database.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/db.h"
#include "reports/report.h"

#define JUNIT_CONSOLE_MAX	(64u << 10)

/* ---- a report of three jobs, and consoles by result id ---- */

static struct report_job jobs[] = {
	{ .result_id = 11, .scenario = "boot", .vm = "a", .params = "{}", .params_key = "",
	  .pass = true, .exit_kind = "guest_pass", .error = "", .console_tail = "tail a\n",
	  .wall_s = 1 },
	{ .result_id = 12, .scenario = "boot", .vm = "b", .params = "{}", .params_key = "",
	  .pass = false, .exit_kind = "guest_fail", .error = "bad", .console_tail = "tail b\n",
	  .wall_s = 1 },
	{ .result_id = 13, .scenario = "boot", .vm = "c", .params = "{}", .params_key = "",
	  .pass = true, .exit_kind = "guest_pass", .error = "", .console_tail = "",
	  .wall_s = 1 },
};

static struct report report = {
	.run = { .id = 42, .started_at = "2024-05-01T12:00:00.000Z", .status = "passed",
		 .host = "ci", .jobs_total = 3, .nresults = 3 },
	.njobs = 3, .jobs = jobs,
};

/* What the stub loader hands out: result id -> text (NULL: none stored). */
static const char *stored[3];
static size_t stored_len[3];
static uint64_t stored_dropped[3];
static unsigned loads;

static int stub_load(void *ctx, int64_t id, struct console_text *out)
{
	size_t i = (size_t)(id - 11);

	(void)ctx;
	loads++;
	if (i >= 3 || !stored[i])
		return -ENOENT;
	out->data = malloc(stored_len[i] + 1);
	assert_non_null(out->data);
	memcpy(out->data, stored[i], stored_len[i]);
	out->data[stored_len[i]] = 0;
	out->len = stored_len[i];
	out->dropped = stored_dropped[i];
	out->bytes = stored_len[i] + stored_dropped[i];
	return 0;
}

static void stub_set(size_t i, const char *text, size_t len, uint64_t dropped)
{
	stored[i] = text;
	stored_len[i] = len;
	stored_dropped[i] = dropped;
}

static int stub_reset(void **state)
{
	memset(stored, 0, sizeof(stored));
	memset(stored_dropped, 0, sizeof(stored_dropped));
	loads = 0;
	report.console_load = stub_load;
	report.console_ctx = NULL;
	(void)state;
	return 0;
}

static char *render(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(render_junit(r, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The <testcase> element named @name, as a malloc'd string. */
static char *testcase_of(const char *doc, const char *name)
{
	char open[128];
	const char *s, *e;

	snprintf(open, sizeof(open), "<testcase name=\"%s\"", name);
	s = strstr(doc, open);
	assert_non_null(s);
	e = strstr(s, "</testcase>");
	if (!e || (strstr(s, "/>") && strstr(s, "/>") < strchr(s, '\n') && strstr(s, "/>") < e))
		e = strstr(s, "/>");
	assert_non_null(e);
	return strndup(s, (size_t)(e - s));
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *srcdir(void)
{
	const char *s = getenv("VMORCH_SRCDIR");

	return s && s[0] ? s : ".";
}

/* Valid against tests/junit.xsd; skipped without xmllint unless CI wants it. */
static void assert_junit_valid(const char *doc)
{
	char path[] = "/tmp/vmorch-junit-XXXXXX", cmd[1024];
	const char *ci = getenv("CI"), *req = getenv("VMORCH_REQUIRE_TOOLS");
	int fd;

	if (run("command -v xmllint >/dev/null") != 0) {
		if ((ci && ci[0]) || (req && !strcmp(req, "1")))
			fail_msg("xmllint not found (apt-get install libxml2-utils)");
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	snprintf(cmd, sizeof(cmd), "out=$(xmllint --noout --schema '%s/tests/junit.xsd' '%s' 2>&1)"
		 " || { printf '%%s\\n' \"$out\" | sed 's/^/# /' >&2; exit 1; }", srcdir(), path);
	assert_int_equal(run(cmd), 0);
	unlink(path);
}

/* ---- the renderer ---- */

/*
 * Each test case has its own <system-out> with its own job's console,
 * passing ones too; the suite's own system-out no longer repeats them.
 */
static void test_each_testcase_has_its_console(void **state)
{
	char *doc, *a, *b, *c;

	stub_set(0, "whole console of a\n", 19, 0);
	stub_set(1, "whole console of b\n", 19, 0);
	doc = render(&report);
	a = testcase_of(doc, "boot/a#0");
	b = testcase_of(doc, "boot/b#0");
	c = testcase_of(doc, "boot/c#0");
	assert_non_null(strstr(a, "<system-out>whole console of a\n</system-out>"));
	assert_null(strstr(a, "of b"));
	assert_non_null(strstr(b, "</failure>\n      <system-out>whole console of b\n</system-out>"));
	/* c: nothing stored and an empty tail: no output at all. */
	assert_string_equal(c, "<testcase name=\"boot/c#0\" classname=\"boot\" time=\"1.000\"");
	assert_non_null(strstr(doc, "    <system-out></system-out>\n    <system-err>"));
	assert_int_equal(loads, 3);
	assert_junit_valid(doc);
	free(a);
	free(b);
	free(c);
	free(doc);
	(void)state;
}

/* Without a stored console (a fleet job, an older result) the tail stands in. */
static void test_tail_when_none_stored(void **state)
{
	char *doc, *a;

	stub_set(1, "whole console of b\n", 19, 0);
	doc = render(&report);
	a = testcase_of(doc, "boot/a#0");
	assert_non_null(strstr(a, "<system-out>tail a\n</system-out>"));
	free(a);
	free(doc);
	report.console_load = NULL;	/* a report that cannot load any */
	doc = render(&report);
	a = testcase_of(doc, "boot/b#0");
	assert_non_null(strstr(a, "<system-out>tail b\n</system-out>"));
	assert_int_equal(loads, 3);	/* the first rendering's, none since */
	free(a);
	free(doc);
	(void)state;
}

/*
 * A console above the cap keeps its last 64 KiB exactly, after a line that
 * says how many bytes are not there and how to get the stored console.
 */
static void test_console_capped_per_testcase(void **state)
{
	size_t n = 200000;
	char *big = malloc(n), *doc, *a, *so, *end;

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	memcpy(big + n - 4, "END\n", 4);
	stub_set(0, big, n, 1000);	/* the cap had dropped 1000 before these */
	doc = render(&report);
	a = testcase_of(doc, "boot/a#0");
	so = strstr(a, "<system-out>[vmorch: the first 135464 of 201000 console bytes are"
		    " not in this report; `vmorch show 42 'boot/a#0' --console` prints what"
		    " is stored]\n");
	assert_non_null(so);
	so = strchr(so, '\n') + 1;
	end = strstr(so, "</system-out>");
	assert_non_null(end);
	assert_int_equal(end - so, JUNIT_CONSOLE_MAX);
	assert_memory_equal(so, big + n - JUNIT_CONSOLE_MAX, JUNIT_CONSOLE_MAX);
	assert_true(strlen(doc) < 3 * JUNIT_CONSOLE_MAX);
	assert_junit_valid(doc);
	free(a);
	free(doc);
	free(big);
	(void)state;
}

/*
 * Whatever the guest printed stays well-formed XML: markup escaped, bytes
 * XML cannot hold (NUL, ESC, bad UTF-8) replaced, "]]>" harmless.
 */
static void test_console_escaped_for_xml(void **state)
{
	static const char hostile[] = "<b>&amp;</b> ]]> \"q\"\0nul \x1b[31m \xff\xfe caf\xc3\xa9\n";
	char *doc, *a;

	stub_set(0, hostile, sizeof(hostile) - 1, 0);
	doc = render(&report);
	a = testcase_of(doc, "boot/a#0");
	assert_non_null(strstr(a, "<system-out>&lt;b&gt;&amp;amp;&lt;/b&gt; ]]&gt; &quot;q&quot;\xef\xbf\xbd"
			       "nul \xef\xbf\xbd[31m \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9\n"
			       "</system-out>"));
	assert_null(strchr(doc, '\x1b'));
	assert_junit_valid(doc);
	free(a);
	free(doc);
	(void)state;
}

/* ---- `vmorch report --format junit` on a database ---- */

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

/*
 * A stored console longer than the 4 KiB tail reaches the JUnit file whole
 * (its first line too), and a job without one has its tail.
 */
static void test_report_junit_from_database(void **state)
{
	char dir[] = "/tmp/vmorch-junit-db-XXXXXX", path[64], cmd[4400];
	const struct db_run_info info = { .host = "h", .command_line = "x", .jobs_total = 2 };
	struct job_desc job[2];
	struct vm_result r[2];
	struct db_result_rec recs[2];
	struct console_text c = { 0 };
	struct verr e;
	struct db *db;
	int64_t run_id;
	size_t n = 0;
	char *text = malloc(10000), *doc = NULL, *tc, last_line[64];
	FILE *p;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.db", dir);
	assert_int_equal(db_open(path, &db, &e), 0);
	assert_int_equal(db_run_begin(db, &info, &run_id, &e), 0);
	n += (size_t)sprintf(text, "FIRST LINE <of the console>\n");
	while (n < 9000) {
		snprintf(last_line, sizeof(last_line), "vmorch-guest: line %zu\n</system-out>", n);
		n += (size_t)sprintf(text + n, "vmorch-guest: line %zu\n", n);
	}
	c = (struct console_text){ .data = text, .len = n, .bytes = n };
	for (int i = 0; i < 2; i++) {
		memset(&job[i], 0, sizeof(job[i]));
		strcpy(job[i].scenario, "s");
		strcpy(job[i].vm, i ? "fleet" : "local");
		memset(&r[i], 0, sizeof(r[i]));
		r[i].success = true;
		r[i].exit_kind = VM_EXIT_GUEST_PASS;
		strcpy(r[i].console_tail, i ? "remote tail\n" : "local tail\n");
		recs[i] = (struct db_result_rec){ .job = &job[i], .host = "h", .r = &r[i],
						  .verdict_pass = true, .console = i ? NULL : &c };
	}
	assert_int_equal(db_store_results(db, run_id, recs, 2, &e), 0);
	assert_int_equal(db_run_end(db, run_id, DB_RUN_PASSED, &e), 0);
	db_close(db);
	snprintf(cmd, sizeof(cmd), "'%s' report --db '%s' --format junit 1", vmorch_path(), path);
	p = popen(cmd, "r");
	assert_non_null(p);
	doc = calloc(1, 1 << 20);
	assert_non_null(doc);
	assert_true(fread(doc, 1, (1 << 20) - 1, p) > 0);
	assert_int_equal(pclose(p), 0);
	tc = testcase_of(doc, "s/local#0");
	assert_non_null(strstr(tc, "<system-out>FIRST LINE &lt;of the console&gt;\n"
			       "vmorch-guest: line 28\n"));
	assert_non_null(strstr(tc, last_line));
	free(tc);
	tc = testcase_of(doc, "s/fleet#0");
	assert_non_null(strstr(tc, "<system-out>remote tail\n</system-out>"));
	free(tc);
	assert_junit_valid(doc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(run(cmd), 0);
	free(doc);
	free(text);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_each_testcase_has_its_console, stub_reset),
		cmocka_unit_test_setup(test_tail_when_none_stored, stub_reset),
		cmocka_unit_test_setup(test_console_capped_per_testcase, stub_reset),
		cmocka_unit_test_setup(test_console_escaped_for_xml, stub_reset),
		cmocka_unit_test(test_report_junit_from_database),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
