/*
 * test_run.c - `vmorch run` end to end: real workers on /dev/kvm, results in
 * a real database, and the supervision paths (crash, timeout, a stopped
 * worker, Ctrl-C) checked through what ends up stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/kvm_check.h"

struct tmpdb {
	char dir[64];
	char path[128];
	char out[160];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *vmorch_path(void)
{
	static char p[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b ? b : ".");
	return p;
}

static const char *src(const char *rel)
{
	static char p[4][4096];
	static int i;
	const char *s = getenv("VMORCH_SRCDIR");

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", s ? s : ".", rel);
	return p[i];
}

static void tmpdb_make(struct tmpdb *t)
{
	strcpy(t->dir, "/tmp/vmorch-run-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/v.db", t->dir);
	snprintf(t->out, sizeof(t->out), "%s/out.txt", t->dir);
}

static void tmpdb_remove(struct tmpdb *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", t->dir);
}

/* Start vmorch with @argv (NULL-terminated, argv[0] ignored), output to t->out. */
static pid_t vmorch_spawn(const struct tmpdb *t, const char *const argv[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(t->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait at most @ms for @pid; returns its exit status (or -signal). */
static int vmorch_wait(pid_t pid, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	int status;

	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("vmorch did not finish within %u ms", ms);
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int vmorch_run(const struct tmpdb *t, const char *const argv[], unsigned ms)
{
	return vmorch_wait(vmorch_spawn(t, argv), ms);
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

/* One integer from a query, or -1 when there is no row. */
static int64_t q_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* Like q_int, for polling a database that may not have its tables yet. */
static int64_t q_int_try(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return v;
}

static void q_text(const char *db, const char *sql, char *out, size_t cap)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	out[0] = 0;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* The first child process of @parent (the worker), waiting up to 10 s. */
static pid_t child_of(pid_t parent)
{
	char path[64], buf[256];
	uint64_t end = now_ms() + 10000;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent, parent);
	while (now_ms() < end) {
		FILE *f = fopen(path, "r");

		if (f && fgets(buf, sizeof(buf), f) && atoi(buf) > 0) {
			fclose(f);
			return atoi(buf);
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	fail_msg("no worker process appeared under %d", parent);
	return -1;
}

/* The shipped smoke scenario passes and every job is stored as passed. */
static void test_smoke_end_to_end(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL, "--label", "smoke-test",
			       src("scenarios/smoke.yaml"), NULL };
	struct tmpdb t;
	char status[32];
	int rc;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	rc = vmorch_run(&t, argv, 120000);
	if (rc != 0)
		fail_msg("vmorch run exited %d:\n%s", rc, slurp(t.out));
	assert_int_equal(q_int(t.path, "SELECT count(*) FROM vm_results"), 5);
	assert_int_equal(q_int(t.path, "SELECT count(*) FROM vm_results WHERE verdict = 'pass'"), 5);
	q_text(t.path, "SELECT status FROM runs", status, sizeof(status));
	assert_string_equal(status, "passed");
	assert_int_equal(q_int(t.path,
		"SELECT c.reads_completed FROM blk_counters c JOIN vm_results r "
		"ON r.id = c.result_id WHERE r.vm = 'randread'"), 1000);
	assert_int_equal(q_int(t.path,
		"SELECT c.bytes_read FROM blk_counters c JOIN vm_results r "
		"ON r.id = c.result_id WHERE r.vm = 'randread'"), 4096000);
	assert_non_null(strstr(slurp(t.out), "5 of 5 jobs ran, 5 passed, 0 failed"));
	tmpdb_remove(&t);
}

/* A failed expectation fails the job and the run (exit 1); the outcome is stored. */
static void test_failed_expectation_exit_1(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL, src("tests/run/failing.yaml"),
			       NULL };
	struct tmpdb t;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	assert_int_equal(vmorch_run(&t, argv, 60000), 1);
	assert_int_equal(q_int(t.path, "SELECT count(*) FROM vm_results WHERE verdict = 'fail'"), 1);
	assert_int_equal(q_int(t.path,
		"SELECT e.actual FROM expectations e JOIN vm_results r ON r.id = e.result_id "
		"WHERE r.vm = 'wrong-count' AND e.passed = 0"), 10);
	assert_non_null(strstr(slurp(t.out), "expect reads_completed == 11: got 10"));
	tmpdb_remove(&t);
}

/* A worker killed mid-run is stored as crashed, with the counters it had. */
static void test_killed_worker_stored_as_crashed(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL, src("tests/run/slow.yaml"), NULL };
	struct tmpdb t;
	char kind[32];
	pid_t pid, worker;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	pid = vmorch_spawn(&t, argv);
	worker = child_of(pid);
	usleep(1500 * 1000);	/* the first bucket of 20 reads goes through at once */
	assert_int_equal(kill(worker, SIGKILL), 0);
	assert_int_equal(vmorch_wait(pid, 30000), 1);
	q_text(t.path, "SELECT exit_kind FROM vm_results", kind, sizeof(kind));
	assert_string_equal(kind, "crashed");
	assert_int_equal(q_int(t.path, "SELECT exit_code FROM vm_results"), SIGKILL);
	assert_true(q_int(t.path, "SELECT reads_completed FROM blk_counters") >= 20);
	assert_int_equal(q_int(t.path, "SELECT bytes_read FROM blk_counters"),
			 q_int(t.path, "SELECT reads_completed FROM blk_counters") * 4096);
	tmpdb_remove(&t);
}

/* A guest that cannot finish in its timeout ends as timeout, counters kept. */
static void test_hung_guest_ends_as_timeout(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL,
			       src("tests/run/short-timeout.yaml"), NULL };
	struct tmpdb t;
	char kind[32];
	uint64_t t0 = now_ms();

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	assert_int_equal(vmorch_run(&t, argv, 30000), 1);
	assert_true(now_ms() - t0 < 10000);
	q_text(t.path, "SELECT exit_kind FROM vm_results", kind, sizeof(kind));
	assert_string_equal(kind, "timeout");
	assert_true(q_int(t.path, "SELECT reads_completed FROM blk_counters") >= 10);
	tmpdb_remove(&t);
}

/*
 * A worker that stops answering (SIGSTOP) is killed by the orchestrator once
 * its deadline and grace period pass, and stored as timeout.
 */
static void test_stopped_worker_killed_at_deadline(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL, "--timeout-scale", "0.02",
			       src("tests/run/slow.yaml"), NULL };
	struct tmpdb t;
	char kind[32], err[256];
	pid_t pid, worker;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	pid = vmorch_spawn(&t, argv);
	worker = child_of(pid);
	usleep(300 * 1000);
	assert_int_equal(kill(worker, SIGSTOP), 0);
	assert_int_equal(vmorch_wait(pid, 30000), 1);
	q_text(t.path, "SELECT exit_kind FROM vm_results", kind, sizeof(kind));
	assert_string_equal(kind, "timeout");
	q_text(t.path, "SELECT error FROM vm_results", err, sizeof(err));
	assert_string_equal(err, "timeout: worker killed by signal 9 (Killed)");
	tmpdb_remove(&t);
}

/* A worker whose heartbeat stops (SIGSTOP, long before its deadline) is stalled. */
static void test_silent_worker_killed_as_stalled(void **state)
{
	const char *argv[] = { "vmorch", "run", "--db", NULL, src("tests/run/slow.yaml"), NULL };
	struct tmpdb t;
	char kind[32], err[256];
	uint64_t t0;
	pid_t pid, worker;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[3] = t.path;
	setenv("VMORCH_STALL_MS", "1000", 1);
	pid = vmorch_spawn(&t, argv);
	unsetenv("VMORCH_STALL_MS");
	worker = child_of(pid);
	usleep(300 * 1000);
	t0 = now_ms();
	assert_int_equal(kill(worker, SIGSTOP), 0);
	assert_int_equal(vmorch_wait(pid, 30000), 1);
	assert_true(now_ms() - t0 < 10000);	/* the job's timeout is 60 s */
	q_text(t.path, "SELECT exit_kind FROM vm_results", kind, sizeof(kind));
	assert_string_equal(kind, "stalled");
	q_text(t.path, "SELECT error FROM vm_results", err, sizeof(err));
	assert_string_equal(err, "heartbeat stalled: worker killed by signal 9 (Killed)");
	tmpdb_remove(&t);
}

/* Ctrl-C: workers stop, finished jobs stay stored, the run is 'interrupted'. */
static void test_sigint_marks_run_interrupted(void **state)
{
	const char *argv[] = { "vmorch", "run", "--jobs", "1", "--db", NULL,
			       src("tests/run/mixed.yaml"), NULL };
	struct tmpdb t;
	char status[32], check[32];
	uint64_t end;
	pid_t pid;

	REQUIRE_KVM();
	tmpdb_make(&t);
	argv[5] = t.path;
	pid = vmorch_spawn(&t, argv);
	end = now_ms() + 30000;
	while (now_ms() < end) {
		if (access(t.path, F_OK) == 0 &&
		    q_int_try(t.path, "SELECT count(*) FROM vm_results") == 2)
			break;
		usleep(50000);
	}
	usleep(500 * 1000);	/* the third job (a crawler) is running now */
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(vmorch_wait(pid, 20000), 130);
	q_text(t.path, "SELECT status FROM runs", status, sizeof(status));
	assert_string_equal(status, "interrupted");
	assert_int_equal(q_int(t.path, "SELECT count(*) FROM vm_results"), 2);
	assert_int_equal(q_int(t.path, "SELECT count(*) FROM vm_results WHERE vm = 'quick'"), 2);
	q_text(t.path, "PRAGMA integrity_check", check, sizeof(check));
	assert_string_equal(check, "ok");
	assert_true(q_int(t.path, "SELECT count(*) FROM runs WHERE ended_at IS NOT NULL") == 1);
	tmpdb_remove(&t);
}

/* Usage and scenario errors: exit 2 with a message naming the problem. */
static void test_usage_errors_exit_2(void **state)
{
	const char *no_files[] = { "vmorch", "run", NULL };
	const char *bad_jobs[] = { "vmorch", "run", "--jobs", "0", "x.yaml", NULL };
	const char *unknown[] = { "vmorch", "frobnicate", NULL };
	const char *bad_scn[] = { "vmorch", "validate", src("tests/scenarios/bad/dup-vm-name.yaml"),
				  NULL };
	const char *missing[] = { "vmorch", "run", "/nonexistent/s.yaml", NULL };
	const char *bad_thr[] = { "vmorch", "diff", "--threshold", "abc", "1", "2", NULL };
	const char *bad_alpha[] = { "vmorch", "report", "--alpha", "2", "last", NULL };
	const char *neg_thr[] = { "vmorch", "regressions", "--threshold", "-1",
				  "--baseline", "1", "--candidate", "2", NULL };
	struct tmpdb t;

	tmpdb_make(&t);
	assert_int_equal(vmorch_run(&t, no_files, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch run: no scenario file given "
			    "(try: vmorch run scenarios/smoke.yaml)\n");
	assert_int_equal(vmorch_run(&t, bad_jobs, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch: --jobs: expected an integer in 1..64, got '0'\n");
	assert_int_equal(vmorch_run(&t, unknown, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch: unknown command 'frobnicate' (try vmorch --help)\n");
	assert_int_equal(vmorch_run(&t, bad_scn, 5000), 2);
	assert_non_null(strstr(slurp(t.out), "dup-vm-name.yaml:"));
	assert_int_equal(vmorch_run(&t, missing, 5000), 2);
	assert_non_null(strstr(slurp(t.out), "/nonexistent/s.yaml"));
	assert_int_equal(vmorch_run(&t, bad_thr, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch: --threshold: expected a number in "
			    "0..1e+09, got 'abc'\n");
	assert_int_equal(vmorch_run(&t, bad_alpha, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch: --alpha: expected a number in 0..1, "
			    "got '2'\n");
	assert_int_equal(vmorch_run(&t, neg_thr, 5000), 2);
	assert_string_equal(slurp(t.out), "vmorch: --threshold: expected a number in "
			    "0..1e+09, got '-1'\n");
	tmpdb_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_smoke_end_to_end),
		cmocka_unit_test(test_failed_expectation_exit_1),
		cmocka_unit_test(test_killed_worker_stored_as_crashed),
		cmocka_unit_test(test_hung_guest_ends_as_timeout),
		cmocka_unit_test(test_stopped_worker_killed_at_deadline),
		cmocka_unit_test(test_silent_worker_killed_as_stalled),
		cmocka_unit_test(test_sigint_marks_run_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
