/*
 * db_synth.c - a large synthetic result database for bench/db.sh: R runs of
 * N results each (default 1,000 x 1,000), 2 disks, 3 metrics and one
 * expectation per result.  Synthetic data, so it skips the one-transaction-
 * per-result path of `vmorch run`: one transaction per run, prepared
 * statements, synchronous off.  The schema comes from db_open, so the
 * database is exactly what vmorch reads.
 *
 *     db_synth [-r RUNS] [-n RESULTS_PER_RUN] FILE
 *
 * Result i of a run: scenario s<i/100>, VM vm<i/10%10>, bs 4k|64k
 * (i/5%2), repeat i%5, so each run has 200 job keys of 5 repeats and each
 * scenario/VM series has 10 results per run.  Every result has the same
 * stored configuration (so history reads them, and diff judges), and
 * every two runs share a git commit (run_meta), for `history --by commit`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/db.h"

enum { ST_RUN, ST_RESULT, ST_DISK, ST_METRIC, ST_EXPECT, ST_META, ST_NR };

static const char *const synth_sql[ST_NR] = {
	[ST_RUN] = "INSERT INTO runs (id, label, started_at, ended_at, status,"
		   " host, vmorch_version, command_line, jobs_total, jobs_passed,"
		   " jobs_failed) VALUES (?1, ?2, ?3, ?3, ?4, 'bench', '0.1.0',"
		   " 'db_synth', ?5, ?6, ?7)",
	[ST_RESULT] = "INSERT INTO vm_results (id, run_id, scenario,"
		      " scenario_file, vm, params, params_key, repeat_idx, host,"
		      " verdict, success, exit_kind, exit_code, wall_us, boot_us,"
		      " started_at, console_tail, error, config, config_hash)"
		      " VALUES (?1, ?2, ?3, 'scenarios/synth.yaml', ?4, ?5, ?6, ?7,"
		      " 'local', ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, '',"
		      " '{\"vcpus\":1,\"workload\":\"synth\"}',"
		      " '5e1f0c3b9d8a7e6f5e1f0c3b9d8a7e6f5e1f0c3b9d8a7e6f5e1f0c3b9d8a7e6f')",
	/* Counter columns in schema order (checked by db_open against the list). */
	[ST_DISK] = "INSERT INTO blk_counters VALUES (?1, ?2, ?3, 0, 0, ?4, 0,"
		    " 0, ?5, 0, 0)",
	[ST_METRIC] = "INSERT INTO metrics (result_id, name, value) VALUES (?, ?, ?)",
	[ST_EXPECT] = "INSERT INTO expectations VALUES (?1, 0, 'reads_completed',"
		      " '>= 1000', 1000, ?2, ?3, 0)",
	[ST_META] = "INSERT INTO run_meta (run_id, key, value, source)"
		    " VALUES (?1, 'commit', ?2, 'auto')",
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: deterministic, so every bench database is the same. */
static double rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void die(sqlite3 *h, const char *what)
{
	fprintf(stderr, "db_synth: %s: %s\n", what, sqlite3_errmsg(h));
	exit(1);
}

static void step(sqlite3 *h, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(h, what);
	sqlite3_reset(st);
}

struct synth {
	sqlite3 *h;
	sqlite3_stmt *st[ST_NR];
	int64_t next_id;
	unsigned nres;
};

static void synth_result(struct synth *s, int64_t run, unsigned i, char *ts)
{
	static const char *const bs[] = { "4k", "64k" };
	int64_t id = s->next_id++;
	char sc[16], vm[16], params[32], key[16];
	/* Slow drift over the runs, a step at run 600, noise per result. */
	double iops = 10000 + (double)run * 2 + (run > 600 ? 500 : 0) +
		      rnd() * 400 - 200;
	int64_t reads = 1000 + (rnd() < 0.001 ? -1 : 0);
	bool pass = reads >= 1000;
	sqlite3_stmt *st = s->st[ST_RESULT];

	snprintf(sc, sizeof(sc), "s%u", i / 100);
	snprintf(vm, sizeof(vm), "vm%u", i / 10 % 10);
	snprintf(params, sizeof(params), "{\"bs\":\"%s\"}", bs[i / 5 % 2]);
	snprintf(key, sizeof(key), "bs=%s", bs[i / 5 % 2]);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, run);
	sqlite3_bind_text(st, 3, sc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, vm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, params, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, (int)(i % 5));
	sqlite3_bind_text(st, 8, pass ? "pass" : "fail", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, pass);
	sqlite3_bind_text(st, 10, pass ? "guest_pass" : "guest_fail", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, 200000 + (int64_t)(rnd() * 50000));
	sqlite3_bind_int64(st, 12, 15000 + (int64_t)(rnd() * 1000));
	sqlite3_bind_text(st, 13, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, pass ? "PASS\n" : "short read\nFAIL\n", -1,
			  SQLITE_STATIC);
	step(s->h, st, "result");

	for (int d = 0; d < 2; d++) {
		st = s->st[ST_DISK];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, d);
		sqlite3_bind_int64(st, 3, reads / 2 + d * (reads % 2));
		sqlite3_bind_int64(st, 4, (reads / 2 + d * (reads % 2)) * 4096);
		sqlite3_bind_int64(st, 5, 0);
		step(s->h, st, "counters");
	}
	{
		const char *names[] = { "iops", "throughput_bps", "verify_errors" };
		double values[] = { iops, iops * 4096, 0 };

		for (int m = 0; m < 3; m++) {
			st = s->st[ST_METRIC];
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_text(st, 2, names[m], -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 3, values[m]);
			step(s->h, st, "metric");
		}
	}
	st = s->st[ST_EXPECT];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, (double)reads);
	sqlite3_bind_int(st, 3, pass);
	step(s->h, st, "expectation");
}

static void synth_run(struct synth *s, int64_t run)
{
	sqlite3_stmt *st = s->st[ST_RUN];
	char ts[32], label[32], commit[48];
	time_t t = 1714564800 + (time_t)run * 3600;	/* 2024-05-01, hourly */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	snprintf(label, sizeof(label), run % 10 ? "ci" : "nightly-%" PRId64, run);
	if (sqlite3_exec(s->h, "BEGIN", NULL, NULL, NULL))
		die(s->h, "begin");
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, "passed", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)s->nres);
	sqlite3_bind_int(st, 6, (int)s->nres);
	sqlite3_bind_int(st, 7, 0);
	step(s->h, st, "run");
	/* 40 hex digits like git's; runs 2k-1 and 2k are one commit. */
	snprintf(commit, sizeof(commit), "%040" PRIx64,
		 (uint64_t)((run + 1) / 2) * (uint64_t)0x9e3779b97f4a7c15);
	st = s->st[ST_META];
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, commit, -1, SQLITE_TRANSIENT);
	step(s->h, st, "run_meta");
	for (unsigned i = 0; i < s->nres; i++)
		synth_result(s, run, i, ts);
	if (sqlite3_exec(s->h, "COMMIT", NULL, NULL, NULL))
		die(s->h, "commit");
}

int main(int argc, char **argv)
{
	struct synth s = { .next_id = 1, .nres = 1000 };
	unsigned runs = 1000;
	struct verr e = { "" };
	struct db *db;
	int opt;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			runs = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'n')
			s.nres = (unsigned)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: db_synth [-r RUNS] [-n RESULTS_PER_RUN] FILE\n");
		return 2;
	}
	if (db_open(argv[optind], &db, &e)) {
		fprintf(stderr, "db_synth: %s\n", e.msg);
		return 1;
	}
	s.h = db_sqlite(db);
	sqlite3_exec(s.h, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144",
		     NULL, NULL, NULL);
	for (int i = 0; i < ST_NR; i++)
		if (sqlite3_prepare_v2(s.h, synth_sql[i], -1, &s.st[i], NULL))
			die(s.h, "prepare");
	for (unsigned r = 1; r <= runs; r++)
		synth_run(&s, r);
	for (int i = 0; i < ST_NR; i++)
		sqlite3_finalize(s.st[i]);
	sqlite3_exec(s.h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	db_close(db);
	printf("db_synth: %u runs x %u results in %s\n", runs, s.nres, argv[optind]);
	return 0;
}
