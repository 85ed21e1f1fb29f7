/*
 * db_ingest.c - how fast the result store takes finished jobs: stores N
 * synthetic results (2 disks, 4 metrics, 3 expectations each) through
 * db_store_results() in groups of -b BATCH, one transaction per group, and
 * prints results/s.  `vmorch run --jobs N` commits the results reaped in one
 * pool tick together (at most N): batch 1 is the floor when results trickle
 * in, larger batches are what a busy pool reaches.  With -r it spreads them
 * over several runs, which also builds the large databases the diff/history
 * benchmarks query.  Run by bench/ingest.sh.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/db.h"

#define BATCH_MAX	4096

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
	fprintf(stderr, "usage: db_ingest [-n RESULTS] [-r RUNS] [-b BATCH] DB\n");
	exit(2);
}

/* Results @first .. @first+@n-1 of run @k (@run) in one db_store_results(). */
static int store_group(struct db *db, int64_t run, unsigned long k,
		       unsigned long first, unsigned long n,
		       struct db_result_rec *recs, struct job_desc *jobs,
		       struct vm_result *res, struct verr *e)
{
	static const struct expect_outcome out[3] = {
		{ .passed = true, .actual = 2000 },
		{ .passed = true, .actual = 0 },
		{ .passed = true, .actual = 50000 },
	};

	for (unsigned long j = 0; j < n; j++) {
		job_fill(&jobs[j], (unsigned)(first + j));
		result_fill(&res[j], k * 7919 + first + j);
		recs[j] = (struct db_result_rec){ .job = &jobs[j], .host = "bench",
						  .r = &res[j], .outcomes = out,
						  .verdict_pass = true };
	}
	return db_store_results(db, run, recs, n, e);
}

static void print_rate(unsigned long n, unsigned long runs,
		       unsigned long batch, double t)
{
	char what[64];

	if (batch == 1)
		snprintf(what, sizeof(what), "one transaction per result");
	else
		snprintf(what, sizeof(what), "one transaction per %lu results",
			 batch);
	printf("%lu results in %lu runs, batch %lu (%s): %.2f s,"
	       " %.0f results/s (WAL, synchronous=NORMAL)\n",
	       n, runs, batch, what, t, (double)n / t);
}

int main(int argc, char **argv)
{
	unsigned long n = 100000, runs = 1, batch = 1;
	struct db_run_info info = {
		.host = "bench", .vmorch_version = PACKAGE_VERSION,
		.command_line = "db_ingest",
	};
	struct db_result_rec *recs;
	struct job_desc *jobs;
	struct vm_result *res;
	struct verr e = { "" };
	struct db *db;
	double t0, t;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "n:r:b:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			runs = strtoul(optarg, NULL, 10);
		else if (opt == 'b')
			batch = strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (optind + 1 != argc || !n || !runs || !batch || batch > BATCH_MAX)
		usage();
	recs = calloc(batch, sizeof(*recs));
	jobs = calloc(batch, sizeof(*jobs));
	res = calloc(batch, sizeof(*res));
	if (!recs || !jobs || !res) {
		fprintf(stderr, "db_ingest: out of memory\n");
		goto out;
	}
	if (db_open(argv[optind], &db, &e)) {
		fprintf(stderr, "db_ingest: %s\n", e.msg);
		goto out;
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
		for (unsigned long i = 0; i < n / runs; i += batch) {
			unsigned long m = n / runs - i < batch ? n / runs - i : batch;

			if (store_group(db, run, k, i, m, recs, jobs, res, &e))
				goto fail;
		}
		if (db_run_end(db, run, DB_RUN_PASSED, &e))
			goto fail;
	}
	t = now_s() - t0;
	print_rate(n / runs * runs, runs, batch, t);
	rc = 0;
fail:
	if (rc)
		fprintf(stderr, "db_ingest: %s\n", e.msg);
	db_close(db);
out:
	free(recs);
	free(jobs);
	free(res);
	return rc;
}
