/*
 * db_ingest.c - how fast the result store takes finished jobs: stores N
 * synthetic results (2 disks, 4 metrics, 3 expectations each), one
 * transaction per result exactly as `vmorch run` does, and prints results/s.
 * With -r it spreads them over several runs, which also builds the large
 * databases the diff/history benchmarks query.  Run by bench/ingest.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/db.h"

static const char *const block_sizes[] = { "4k", "64k" };
static const char *const queue_depths[] = { "1", "16", "32", "64", "128" };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Result @i of a run: scenario s<i/100>, VM vm<i/10%10>, one of 10 bs x qd. */
static void job_fill(struct job_desc *job, unsigned i)
{
	memset(job, 0, sizeof(*job));
	snprintf(job->scenario, sizeof(job->scenario), "s%u", i / 100 % 10);
	snprintf(job->scenario_file, sizeof(job->scenario_file),
		 "scenarios/s%u.yaml", i / 100 % 10);
	snprintf(job->vm, sizeof(job->vm), "vm%u", i / 10 % 10);
	job->nparams = 2;
	strcpy(job->param[0].key, "bs");
	strcpy(job->param[0].value, block_sizes[i % 2]);
	strcpy(job->param[1].key, "qd");
	strcpy(job->param[1].value, queue_depths[i / 2 % 5]);
	job->repeat = i / 1000;
	job->nexpect = 3;
	strcpy(job->expect[0].name, "reads_completed");
	strcpy(job->expect[0].text, ">= 1000");
	job->expect[0].value = 1000;
	strcpy(job->expect[1].name, "io_errors");
	strcpy(job->expect[1].text, "== 0");
	strcpy(job->expect[2].name, "iops");
	strcpy(job->expect[2].text, "> 100");
	job->expect[2].value = 100;
}

static void result_fill(struct vm_result *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	r->wall_us = 200000 + seed % 50000;
	r->boot_us = 15000 + seed % 1000;
	r->ndisks = 2;
	for (int d = 0; d < 2; d++) {
		r->disk[d].reads_completed = 1000 + seed % 7;
		r->disk[d].bytes_read = (1000 + seed % 7) * 4096;
		r->disk[d].writes_completed = 500 + seed % 3;
		r->disk[d].bytes_written = (500 + seed % 3) * 4096;
		r->disk[d].flushes_completed = 10;
	}
	vm_result_set_metric(r, "iops", 50000.0 + (double)(seed % 1000));
	vm_result_set_metric(r, "mbps", 195.0 + (double)(seed % 10));
	vm_result_set_metric(r, "latency_us.p50", 20.0 + (double)(seed % 5));
	vm_result_set_metric(r, "latency_us.p99", 80.0 + (double)(seed % 20));
	strcpy(r->console_tail, "vmorch-guest: pattern=randread ops=1000 ok\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: db_ingest [-n RESULTS] [-r RUNS] DB\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const struct expect_outcome out[3] = {
		{ .passed = true, .actual = 2000 },
		{ .passed = true, .actual = 0 },
		{ .passed = true, .actual = 50000 },
	};
	unsigned long n = 100000, runs = 1;
	struct db_run_info info = {
		.host = "bench", .vmorch_version = PACKAGE_VERSION,
		.command_line = "db_ingest",
	};
	struct job_desc job;
	struct vm_result r;
	struct verr e = { "" };
	struct db *db;
	double t0, t;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			runs = strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (optind + 1 != argc || !n || !runs)
		usage();
	if (db_open(argv[optind], &db, &e)) {
		fprintf(stderr, "db_ingest: %s\n", e.msg);
		return 1;
	}
	info.jobs_total = (unsigned)(n / runs);
	t0 = now_s();
	for (unsigned long k = 0; k < runs; k++) {
		char label[32];
		int64_t run;

		snprintf(label, sizeof(label), "bench-%lu", k % 7);
		info.label = label;
		if (db_run_begin(db, &info, &run, &e))
			goto fail;
		for (unsigned long i = 0; i < n / runs; i++) {
			job_fill(&job, (unsigned)i);
			result_fill(&r, k * 7919 + i);
			if (db_store_result(db, run, &job, "bench", &r, out, true,
					    NULL, &e))
				goto fail;
		}
		if (db_run_end(db, run, DB_RUN_PASSED, &e))
			goto fail;
	}
	t = now_s() - t0;
	printf("%lu results in %lu runs: %.2f s, %.0f results/s"
	       " (one transaction each, WAL, synchronous=NORMAL)\n",
	       n / runs * runs, runs, t, (double)(n / runs * runs) / t);
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "db_ingest: %s\n", e.msg);
	db_close(db);
	return 1;
}
