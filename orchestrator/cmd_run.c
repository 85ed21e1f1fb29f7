/*
 * cmd_run.c - `vmorch run`: expand scenarios into jobs, run them in a pool
 * of workers, check expectations, store the results of each pool tick in one
 * transaction before reporting them, and print a summary.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/elf_deps.h"
#include "common/text_escape.h"
#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"
#include "orchestrator/expect.h"
#include "orchestrator/fleet_run.h"
#include "orchestrator/pool.h"
#include "orchestrator/progress.h"
#include "orchestrator/job_config.h"
#include "orchestrator/run_meta.h"
#include "reports/outfile.h"
#include "orchestrator/interleave.h"
#include "orchestrator/scenario.h"

#define SUMMARY_TABLE_MAX 50
/* Descriptors besides the pool's: stdio, signalfd, SQLite's journal, slack. */
#define RUN_FDS_SLACK	16
#define RUN_SELECT_MAX	64	/* -k patterns */
#define RUN_REPORTS_MAX	8	/* --junit, --report */

struct run_opts {
	unsigned jobs;
	bool jobs_given;		/* --jobs on the command line */
	const char *db_path;
	const char *label;
	double timeout_scale;
	bool quiet;
	const char *hosts;		/* --hosts INVENTORY */
	const char *limit;		/* --limit */
	unsigned retries;		/* --retries */
	bool allow_unchecked;		/* --allow-unchecked-host-keys */
	bool list;			/* --list: print the job names, run nothing */
	const char *rerun;		/* --rerun-failed RUN */
	const char *interleave;		/* --interleave KEY */
	/* --junit FILE, --report FORMAT:FILE: written as the run ends */
	const char *report_format[RUN_REPORTS_MAX], *report_path[RUN_REPORTS_MAX];
	unsigned nreports;
	const char *select[RUN_SELECT_MAX];	/* -k PATTERN: union of globs */
	unsigned nselect;
	struct run_meta meta;		/* --meta KEY=VALUE, then git's */
};

struct summary_row {
	const struct job_desc *job;
	bool pass;
	bool infra;			/* the host failed, not the test */
	enum vm_exit_kind kind;
	uint64_t wall_us;
	uint64_t reads, writes, errors;
};

struct run_ctx {
	struct db *db;
	int64_t run_id;
	char host[256];
	struct progress pg;
	struct summary_row *rows;
	size_t nrows;
	size_t failed;			/* test failures */
	size_t infra;			/* infrastructure failures (not in failed) */
	int store_rc;
	struct verr store_err;		/* why store_rc */
	struct verr err;
	const struct fleet_run *fleet;	/* --hosts, or NULL */
};

static volatile sig_atomic_t run_interrupted;

static void on_signal(int sig)
{
	run_interrupted = sig;
}

static void run_usage(FILE *f)
{
	fprintf(f,
"Usage: vmorch run [OPTIONS] FILE...\n"
"\n"
"Expand the scenario FILEs into jobs, run each in its own vmm-worker\n"
"(at most --jobs at once), check expectations and store every result.\n"
"\n"
"  -j, --jobs N            workers at once (default: number of CPUs)\n"
"  -d, --db PATH           result database " CLI_DB_HELP "\n"
"  -l, --label TEXT        label the run (find it later with `vmorch show TEXT`)\n"
"      --meta KEY=VALUE    store what the run was of (repeatable; `vmorch runs\n"
"                          --meta KEY=GLOB` finds it).  The commit, branch and\n"
"                          dirty state of the git repository the run starts in\n"
"                          are stored as commit=, branch=, dirty= unless given\n"
"  -t, --timeout-scale X   multiply every job's timeout by X (default 1)\n"
"  -q, --quiet             print only failures and the summary\n"
"  -k PATTERN              only the jobs whose name matches the shell glob\n"
"                          PATTERN, or equals it (repeatable: any of them);\n"
"                          a name's [ ] are glob brackets: escape them, \\[\n"
"      --list              print the jobs' names (after -k) and run nothing\n"
"      --rerun-failed RUN  only the jobs that failed in RUN (an id, a label,\n"
"                          last) or are missing from it\n"
"      --interleave KEY    run the jobs of matrix key KEY's values in turn\n"
"                          (A, B, A, B...), so that drift of the machine\n"
"                          reaches each alike; compare them with `vmorch\n"
"                          diff RUN --ab KEY=a,KEY=b`\n"
"      --junit FILE        write the run's JUnit XML report to FILE as it ends\n"
"      --report FORMAT:FILE  the same for any `vmorch report` format (text,\n"
"                          markdown, json, junit, html); repeatable\n"
"      --hosts INVENTORY   run jobs on the fleet hosts of INVENTORY (vmorch-hosts(5))\n"
"                          over SSH; --jobs then counts local workers beside\n"
"                          them (default 0).  Disk images and kernels the jobs\n"
"                          name go to each host's store once, by sha256\n"
"                          (doc/fleet.md); writable images run on copies there\n"
"      --limit NAME|LABEL,...  only these hosts of the inventory\n"
"      --retries N         a job whose host is lost is tried on another host,\n"
"                          at most N more times (default 2, 0..10)\n"
"      --allow-unchecked-host-keys  accept an inventory with host_key_check: off\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 every job passed, 1 some job failed, 2 usage or scenario\n"
"error, 3 infrastructure error, 130 interrupted (finished jobs are stored).\n"
"Set NO_COLOR to turn colour off.  VMORCH_STALL_MS (default 10000) is how long\n"
"a worker's heartbeat may stop before it is killed as stalled;\n"
"VMORCH_CONSOLE_MAX (4096..1048576, default 1048576) how much of a job's\n"
"console is kept whole.\n");
}

/* --junit FILE (@junit) or --report FORMAT:FILE into @o's reports. */
static int run_parse_report(struct run_opts *o, bool junit, char *arg)
{
	char *colon = junit ? NULL : strchr(arg, ':');

	if (o->nreports == RUN_REPORTS_MAX) {
		fprintf(stderr, "vmorch run: at most %d reports\n", RUN_REPORTS_MAX);
		return -1;
	}
	if (!junit && (!colon || !colon[1])) {
		fprintf(stderr, "vmorch run: --report %s: expected FORMAT:FILE\n", arg);
		return -1;
	}
	if (colon)
		*colon = 0;
	if (!junit && !report_format_known(arg)) {
		fprintf(stderr, "vmorch run: --report: unknown format '%s' (text, markdown,"
			" json, junit, html)\n", arg);
		return -1;
	}
	o->report_format[o->nreports] = junit ? "junit" : arg;
	o->report_path[o->nreports++] = junit ? arg : colon + 1;
	return 0;
}

static int run_parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "db", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'l' },
		{ "timeout-scale", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'L' },
		{ "retries", required_argument, NULL, 'R' },
		{ "allow-unchecked-host-keys", no_argument, NULL, 'U' },
		{ "list", no_argument, NULL, 'T' },
		{ "meta", required_argument, NULL, 'M' },
		{ "rerun-failed", required_argument, NULL, 'F' },
		{ "junit", required_argument, NULL, 'J' },
		{ "report", required_argument, NULL, 'P' },
		{ "interleave", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *end;
	int c;

	o->jobs = ncpu > 0 ? (unsigned)(ncpu > 64 ? 64 : ncpu) : 1;
	o->db_path = cli_default_db();
	o->timeout_scale = 1.0;
	o->retries = 2;
	while ((c = getopt_long(argc, argv, "j:d:l:t:qk:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (o->nselect == RUN_SELECT_MAX) {
				fprintf(stderr, "vmorch run: more than %d -k patterns\n",
					RUN_SELECT_MAX);
				return -1;
			}
			o->select[o->nselect++] = optarg;
			break;
		case 'T':
			o->list = true;
			break;
		case 'F':
			o->rerun = optarg;
			break;
		case 'I':
			o->interleave = optarg;
			break;
		case 'J':
		case 'P':
			if (run_parse_report(o, c == 'J', optarg))
				return -1;
			break;
		case 'M': {
			struct verr me = { "" };

			if (run_meta_add_user(&o->meta, optarg, &me)) {
				fprintf(stderr, "vmorch run: %s\n", me.msg[0] ? me.msg :
					"out of memory");
				return -1;
			}
			break;
		}
		case 'j':
			if (!cli_parse_uint("--jobs", optarg, 0, 64, &o->jobs))
				return -1;
			o->jobs_given = true;
			break;
		case 'H':
			o->hosts = optarg;
			break;
		case 'L':
			o->limit = optarg;
			break;
		case 'R':
			if (!cli_parse_uint("--retries", optarg, 0, POOL_MAX_RETRIES, &o->retries))
				return -1;
			break;
		case 'U':
			o->allow_unchecked = true;
			break;
		case 'd':
			o->db_path = optarg;
			break;
		case 'l': {
			struct verr le;

			if (db_label_check(optarg, &le)) {
				fprintf(stderr, "vmorch run: %s\n", le.msg);
				return -1;
			}
			o->label = optarg;
			break;
		}
		case 't':
			o->timeout_scale = strtod(optarg, &end);
			if (*end || !(o->timeout_scale > 0 && o->timeout_scale <= 1000)) {
				fprintf(stderr, "vmorch run: --timeout-scale: expected a number "
					"in (0, 1000], got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			run_usage(stdout);
			exit(EXIT_OK);
		default:
			run_usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmorch run: no scenario file given (try: vmorch run "
			"scenarios/smoke.yaml)\n");
		return -1;
	}
	if (!o->hosts && (o->limit || o->allow_unchecked)) {
		fprintf(stderr, "vmorch run: --limit and --allow-unchecked-host-keys need --hosts\n");
		return -1;
	}
	if (o->hosts && !o->jobs_given)
		o->jobs = 0;	/* the hosts run the jobs */
	if (!o->hosts && o->jobs == 0) {
		fprintf(stderr, "vmorch run: --jobs 0 needs --hosts (who would run the jobs?)\n");
		return -1;
	}
	return 0;
}

/* Keep the jobs @keep says, in their order; the others are freed. */
static void jobs_keep(struct job_desc *jobs, size_t *njobs, const bool *keep)
{
	size_t kept = 0;

	for (size_t i = 0; i < *njobs; i++) {
		if (!keep[i]) {
			job_spec_free(&jobs[i].spec);
			free(jobs[i].config);
			continue;
		}
		if (kept != i)
			jobs[kept] = jobs[i];
		kept++;
	}
	*njobs = kept;
}

/* Does job name @name match one of -k's patterns (a glob, or the name itself)? */
static bool run_selected(const struct run_opts *o, const char *name)
{
	if (!o->nselect)
		return true;
	for (unsigned i = 0; i < o->nselect; i++)
		if (!strcmp(o->select[i], name) || !fnmatch(o->select[i], name, 0))
			return true;
	return false;
}

/* Keep the jobs -k selects, in their order; none is an error (exit 2). */
static int run_select(const struct run_opts *o, struct job_desc *jobs, size_t *njobs)
{
	bool *keep;

	if (!o->nselect)
		return 0;
	keep = calloc(*njobs ? *njobs : 1, sizeof(*keep));
	if (!keep) {
		fprintf(stderr, "vmorch run: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < *njobs; i++)
		keep[i] = run_selected(o, jobs[i].spec.name);
	jobs_keep(jobs, njobs, keep);
	free(keep);
	if (*njobs)
		return 0;
	fprintf(stderr, "vmorch run: no job matches -k %s%s (see the names with --list)\n",
		o->select[0], o->nselect > 1 ? " or the other patterns" : "");
	return -1;
}

/*
 * --rerun-failed RUN: keep the jobs that failed in RUN or are missing from
 * it.  0 (perhaps none left: the caller says so), or -1 with the error
 * printed (exit 2 for a bad RUN, 3 when the database cannot be read).
 */
static int run_rerun(const struct run_opts *o, struct job_desc *jobs, size_t *njobs,
		     int *status)
{
	struct verr e = { "" };
	struct db *db = NULL;
	int64_t id;
	bool *keep;
	int rc = 0;

	if (!o->rerun)
		return 0;
	keep = calloc(*njobs ? *njobs : 1, sizeof(*keep));
	if (!keep || db_open_readonly(o->db_path, &db, &e) ||
	    (rc = db_run_resolve(db, o->rerun, &id, &e)) ||
	    db_rerun_select(db, id, jobs, *njobs, keep, &e)) {
		fprintf(stderr, "vmorch run: --rerun-failed: %s\n", keep ? e.msg : "out of memory");
		*status = rc ? cli_resolve_status(rc) : EXIT_INFRA;
		free(keep);
		if (db)
			db_close(db);
		return -1;
	}
	db_close(db);
	jobs_keep(jobs, njobs, keep);
	free(keep);
	return 0;
}

/* Appends @some (moved, not copied) to @all; 0 or -ENOMEM. */
static int run_jobs_append(struct job_desc **all, size_t *n, struct job_desc *some,
			   size_t k)
{
	struct job_desc *grown = realloc(*all, (*n + k) * sizeof(**all));

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *n, some, k * sizeof(*grown));
	*all = grown;
	*n += k;
	return 0;
}

/*
 * Load every file once into @set (kept: run_begin stores what was read)
 * and expand them into one job list; prints the first error.  A file given
 * twice or a scenario name used twice is a usage error like a bad file.
 */
static int run_load(char **files, int nfiles, struct scenario_set *set,
		    struct job_desc **jobs, size_t *njobs)
{
	struct job_desc *all = NULL;
	size_t n = 0;

	for (int i = 0; i < nfiles; i++) {
		struct job_desc *some = NULL;
		struct verr e = { "" };
		size_t k = 0;

		if (scenario_set_add(set, files[i], &e) ||
		    scenario_expand(set->s[set->n - 1], &some, &k, &e)) {
			text_fputs(e.msg, stderr, 0);
			fputc('\n', stderr);
			job_descs_free(all, n);
			return -1;
		}
		if (run_jobs_append(&all, &n, some, k)) {
			fprintf(stderr, "vmorch run: out of memory\n");
			job_descs_free(some, k);
			job_descs_free(all, n);
			return -1;
		}
		free(some);	/* the descs moved into all[]; only the array goes */
	}
	*jobs = all;
	*njobs = n;
	return 0;
}

/* Did a job before (@i, @k) name the same file? Jobs of a matrix share theirs. */
static bool run_file_seen(const struct job_desc *jobs, size_t i, uint32_t k)
{
	const char *src = jobs[i].spec.guest.files[k].src;

	for (size_t pi = 0; pi <= i; pi++) {
		uint32_t n = pi < i ? jobs[pi].spec.guest.nfiles : k;

		for (uint32_t pk = 0; pk < n; pk++)
			if (!strcmp(jobs[pi].spec.guest.files[pk].src, src))
				return true;
	}
	return false;
}

/*
 * Each program a Linux guest's files: names, with every library it needs
 * on this machine: a missing one is refused here, before any VM starts
 * (the worker would find it too, job after job).  Directories are walked
 * by the worker alone.
 */
static int run_check_guest_files(const struct job_desc *jobs, size_t njobs)
{
	for (size_t i = 0; i < njobs; i++) {
		const struct job_guest *g = &jobs[i].spec.guest;

		for (uint32_t k = 0; k < g->nfiles; k++) {
			struct elf_deps d = { 0 };
			struct verr e = { "" };
			struct stat st;
			int rc;

			if (run_file_seen(jobs, i, k) || stat(g->files[k].src, &st) ||
			    !S_ISREG(st.st_mode))
				continue;	/* the worker says what is wrong */
			rc = elf_deps_find(g->files[k].src, &d, &e);
			elf_deps_release(&d);
			if (rc) {
				fprintf(stderr, "vmorch run: %s: ", jobs[i].spec.name);
				text_fputs(e.msg, stderr, 0);
				fputc('\n', stderr);
				return -1;
			}
		}
	}
	return 0;
}

static void run_first_failure(const struct job_desc *job, const struct vm_result *r,
			      const struct expect_outcome *out, char *why, size_t cap)
{
	why[0] = 0;
	if (!r->success) {
		snprintf(why, cap, "%s%s%s", vm_exit_kind_name(r->exit_kind),
			 r->error[0] ? ": " : "", r->error);
		return;
	}
	for (unsigned i = 0; i < job->nexpect; i++) {
		if (out[i].passed)
			continue;
		if (out[i].missing)
			snprintf(why, cap, "expect %s %s: no such counter or metric",
				 job->expect[i].name, job->expect[i].text);
		else
			snprintf(why, cap, "expect %s %s: got %.17g", job->expect[i].name,
				 job->expect[i].text, out[i].actual);
		return;
	}
}

/* A fleet job's tries as the database stores them. */
static void run_attempts(const struct pool_done *d, struct db_attempt *a)
{
	for (size_t i = 0; i < d->nattempts; i++)
		a[i] = (struct db_attempt){
			.attempt = (unsigned)i + 1, .host = d->attempts[i].host,
			.started_us = d->attempts[i].started_us,
			.ended_us = d->attempts[i].ended_us,
			.host_lost = d->attempts[i].host_lost,
			.reason = d->attempts[i].reason,
		};
}

/* The job's verdict: the guest passed and every expectation held. */
static void run_judge(const struct run_ctx *c, const struct pool_done *d,
		      struct expect_outcome *out, struct db_attempt *att,
		      struct db_result_rec *rec)
{
	bool pass = d->r->success;

	for (unsigned i = 0; i < d->job->nexpect; i++) {
		expect_eval(&d->job->expect[i], d->r, &out[i]);
		pass = pass && out[i].passed;
	}
	run_attempts(d, att);
	*rec = (struct db_result_rec){ .job = d->job, .host = d->host ? d->host : c->host,
				       .r = d->r, .outcomes = out, .verdict_pass = pass,
				       .attempts = att, .nattempts = d->nattempts,
				       .console = d->console };
}

/* A stored job: its summary row and its progress line. */
static void run_report(struct run_ctx *c, const struct pool_done *d,
		       const struct expect_outcome *out, bool pass)
{
	const struct vm_result *r = d->r;
	struct summary_row *row = &c->rows[c->nrows++];
	char why[VM_ERROR_MAX + 128];

	run_first_failure(d->job, r, out, why, sizeof(why));
	*row = (struct summary_row){ .job = d->job, .pass = pass, .kind = r->exit_kind,
				     .infra = vm_exit_kind_is_infra(r->exit_kind),
				     .wall_us = r->wall_us };
	for (uint32_t i = 0; i < r->ndisks; i++) {
		row->reads += r->disk[i].reads_completed;
		row->writes += r->disk[i].writes_completed;
		row->errors += r->disk[i].io_errors;
	}
	if (row->infra)
		c->infra++;
	else if (!pass)
		c->failed++;
	progress_job_done(&c->pg, d->job, r, pass, why);
}

/*
 * The jobs one pool tick reaped: one transaction for all of them (they share
 * its locks and page writes), and only once it is committed their summary
 * rows and progress lines, so a crash never loses a reported result.
 */
static int run_on_done(void *arg, const struct pool_done *d, size_t n)
{
	struct run_ctx *c = arg;
	static struct expect_outcome out[POOL_MAX_JOBS][JOB_MAX_EXPECT];
	static struct db_attempt att[POOL_MAX_JOBS][POOL_MAX_TRIES];
	struct db_result_rec recs[POOL_MAX_JOBS];
	int rc;

	if (n > POOL_MAX_JOBS) {
		verr_set(&c->store_err, "%zu results at once", n);
		c->store_rc = -E2BIG;
		return c->store_rc;
	}
	for (size_t i = 0; i < n; i++)
		run_judge(c, &d[i], out[i], att[i], &recs[i]);
	rc = db_store_results(c->db, c->run_id, recs, n, &c->store_err);
	if (rc) {
		c->store_rc = rc;
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		run_report(c, &d[i], out[i], recs[i].verdict_pass);
	return 0;
}

static void run_on_progress(void *arg, const struct pool_progress *p)
{
	struct run_ctx *c = arg;
	char hosts[PROGRESS_HOSTS_MAX];

	if (c->fleet) {
		fleet_run_status(c->fleet, hosts, sizeof(hosts));
		progress_hosts(&c->pg, hosts);
	}
	progress_update(&c->pg, p);
}

static const char *run_verdict_word(const struct summary_row *r)
{
	return r->pass ? "pass" : r->infra ? "ERROR" : "FAIL";
}

static void run_summary(struct run_ctx *c, size_t njobs, double secs, const char *db_path,
			bool interrupted)
{
	FILE *f = c->pg.out;
	bool table = c->nrows <= SUMMARY_TABLE_MAX;
	size_t passed = c->nrows - c->failed - c->infra;
	char name[256], path[1024];

	fprintf(f, "\n%-44s %-7s %-12s %8s %9s %9s %9s\n", "job", "verdict", "exit",
		"wall", "reads", "writes", "io_errors");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct summary_row *r = &c->rows[i];

		if (!table && r->pass)
			continue;
		text_escape(name, sizeof(name), r->job->spec.name, 0);
		fprintf(f, "%-44s %s%-7s%s %-12s %7.2fs %9llu %9llu %9llu\n",
			name, progress_color(&c->pg, r->pass),
			run_verdict_word(r), progress_reset(&c->pg),
			vm_exit_kind_name(r->kind), (double)r->wall_us / 1e6,
			(unsigned long long)r->reads, (unsigned long long)r->writes,
			(unsigned long long)r->errors);
	}
	if (!table)
		fprintf(f, "(%zu passing jobs not listed)\n", passed);
	fprintf(f, "\nrun %lld: %zu of %zu jobs ran, %zu passed, %zu failed",
		(long long)c->run_id, c->nrows, njobs, passed, c->failed);
	if (c->infra)
		fprintf(f, ", %zu infrastructure failure%s (the host's, not the tests')",
			c->infra, c->infra == 1 ? "" : "s");
	fprintf(f, " in %.1f s%s\n", secs, interrupted ? " (interrupted)" : "");
	text_escape(path, sizeof(path), db_path, 0);
	fprintf(f, "results: %s (vmorch show %lld)\n", path, (long long)c->run_id);
}

static char *run_command_line(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len + 8);
	if (!s)
		return NULL;
	strcpy(s, "vmorch");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Each file as it was read: the hash of the bytes parsed, not of a re-read. */
static int run_begin(struct run_ctx *c, struct run_opts *o, int argc, char **argv,
		     const struct scenario_set *set, size_t njobs)
{
	struct db_run_file *rf = calloc(set->n ? set->n : 1, sizeof(*rf));
	char *cmdline = run_command_line(argc, argv);
	struct host_facts facts;
	struct db_run_info info = {
		.label = o->label, .host = c->host,
		/* This machine ran jobs only with local slots. */
		.host_facts = o->jobs ? &facts : NULL,
		.vmorch_version = PACKAGE_VERSION,
		.command_line = cmdline, .nfiles = (unsigned)set->n, .files = rf,
		.jobs_total = (unsigned)njobs,
	};
	struct run_meta *meta = &o->meta;
	int rc = -ENOMEM;

	if (!rf || !cmdline) {
		verr_set(&c->err, "out of memory");
		goto out;
	}
	host_facts_collect(&facts, "/");
	run_meta_add_git(meta);
	info.nmeta = meta->n;
	info.meta = meta->v;
	for (size_t i = 0; i < set->n; i++) {
		rf[i].path = scenario_path(set->s[i]);
		rf[i].sha256 = scenario_sha256(set->s[i]);
		rf[i].description = scenario_description(set->s[i]);
	}
	rc = db_run_begin(c->db, &info, &c->run_id, &c->err);
out:
	free(rf);
	free(cmdline);
	return rc;
}

/*
 * A worker beats every 100 ms; 10 s of silence means it is stuck.
 * VMORCH_STALL_MS overrides that (tests, very slow machines).
 */
static unsigned run_stall_ms(void)
{
	const char *s = getenv("VMORCH_STALL_MS");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return 10000;
	v = strtoul(s, &end, 10);
	return *end || v < 200 || v > 3600000 ? 10000 : (unsigned)v;
}

/*
 * A local job's console is kept whole up to 1 MiB, its tail past that.
 * VMORCH_CONSOLE_MAX lowers the cap (tests: a guest passes it quickly).
 */
static uint32_t run_console_max(void)
{
	const char *s = getenv("VMORCH_CONSOLE_MAX");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return VMORCH_CONSOLE_MAX;
	v = strtoul(s, &end, 10);
	return *end || v < 4096 || v > VMORCH_CONSOLE_MAX ? VMORCH_CONSOLE_MAX : (uint32_t)v;
}

/* SIGHUP (a closed terminal or ssh session) is an interrupt like SIGTERM. */
static void run_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Descriptors open now (an inherited one counts), or a guess without /proc. */
static unsigned run_fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return RUN_FDS_SLACK;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0;	/* ".", ".." and the directory's own */
}

/*
 * Raise the soft descriptor limit to the hard one, and run fewer jobs at
 * once when even that cannot hold --jobs workers: a start that fails for
 * want of a descriptor would otherwise cost the whole run.
 */
static unsigned run_fit_fd_limit(unsigned jobs)
{
	struct rlimit rl;
	uint64_t base = (uint64_t)run_fds_open() + RUN_FDS_SLACK + POOL_FDS_STARTING;
	uint64_t fit;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return jobs;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= base + (uint64_t)jobs * POOL_FDS_PER_JOB)
		return jobs;
	fit = rl.rlim_cur > base ? (rl.rlim_cur - base) / POOL_FDS_PER_JOB : 0;
	if (fit < 1)
		fit = 1;
	fprintf(stderr, "vmorch run: %llu open files allowed (ulimit -n): running %llu "
		"jobs at once, not %u\n", (unsigned long long)rl.rlim_cur,
		(unsigned long long)fit, jobs);
	return (unsigned)fit;
}

/* Far more workers than CPUs: each waits for a CPU, and its times show it. */
static void run_warn_overcommit(const struct run_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (o->jobs_given && ncpu > 0 && o->jobs > 2 * (unsigned long)ncpu)
		fprintf(stderr, "vmorch run: --jobs %u on %ld CPU%s: jobs will wait for a "
			"CPU; timings will include that wait\n", o->jobs, ncpu,
			ncpu == 1 ? "" : "s");
}

/*
 * The worker refuses to open the database, or its -wal, -shm or -journal,
 * as a disk: it compares device and inode of what it opened with these.
 */
static void run_protect(const char *db_path, struct job_desc *jobs, size_t njobs)
{
	static const char *const suffix[JOB_MAX_PROTECT] = { "", "-wal", "-shm", "-journal" };
	struct job_file_id id[JOB_MAX_PROTECT];
	uint32_t n = 0;
	char path[4096];
	struct stat st;

	for (size_t i = 0; i < JOB_MAX_PROTECT; i++) {
		snprintf(path, sizeof(path), "%s%s", db_path, suffix[i]);
		if (stat(path, &st) == 0)
			id[n++] = (struct job_file_id){ .dev = st.st_dev, .ino = st.st_ino };
	}
	for (size_t j = 0; j < njobs; j++) {
		memcpy(jobs[j].spec.protect, id, n * sizeof(id[0]));
		jobs[j].spec.nprotect = n;
	}
}

/* The run's final status in the database; a failure to set it is exit 3. */
static int run_end(struct run_ctx *c, const char *status)
{
	struct verr e = { "" };

	if (db_run_end(c->db, c->run_id, status, &e) == 0)
		return 0;
	verr_prefix(&e, "cannot end run %lld as %s", (long long)c->run_id, status);
	cli_error("run", e.msg);
	return -1;
}

static const char *run_final_status(const struct run_ctx *c)
{
	return c->infra ? DB_RUN_ERROR : c->failed ? DB_RUN_FAILED : DB_RUN_PASSED;
}

static int run_exit_status(const struct run_ctx *c)
{
	return c->infra ? EXIT_INFRA : c->failed ? EXIT_FAILED : EXIT_OK;
}

/*
 * Every job must have somewhere to run: one with placement labels a host
 * that has them, one naming a file that cannot travel (a block device,
 * the database) a local slot.  Prints the first that has none.
 */
static int run_fleet_check_jobs(const struct run_opts *o, const struct fleet_run *f,
				const struct job_desc *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct job_desc *j = &jobs[i];
		const char *labels[JOB_MAX_LABELS];

		for (unsigned k = 0; k < j->nlabels; k++)
			labels[k] = j->label[k];
		if (j->nlabels && !inventory_can_place(&f->inv, labels, j->nlabels)) {
			fprintf(stderr, "vmorch run: job %s: no host of %s has all its"
				" placement labels\n", j->spec.name, f->inv.path);
			return -1;
		}
		if (fleet_job_local_only(f, i) && (!o->jobs || j->nlabels)) {
			fprintf(stderr, "vmorch run: job %s names a block device or the"
				" result database, which stay on this machine: run it here"
				" (--jobs N, no placement)\n", j->spec.name);
			return -1;
		}
	}
	return 0;
}

/* What bring-up sent each host, and which files a host could not take. */
static void run_fleet_staged(const struct fleet_run *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];

		if (h->up && h->nstaged)
			fprintf(stderr, "vmorch run: host %s: staged %u file%s (%.1f MiB)"
				" in %.2f s\n", h->ih->name, h->nstaged,
				h->nstaged == 1 ? "" : "s", (double)h->staged_bytes / (1 << 20),
				(double)h->stage_ms / 1000);
		if (h->up && h->stage_err[0])
			fprintf(stderr, "vmorch run: host %s takes only the jobs whose files"
				" it has: %s\n", h->ih->name, h->stage_err);
	}
}

/* Open the fleet and bring its hosts up; returns an exit status, or -1 to go on. */
static int run_fleet_open(const struct run_opts *o, struct fleet_run *f,
			  const struct job_desc *jobs, size_t njobs)
{
	struct fleet_run_opts fo = {
		.inventory = o->hosts, .limit = o->limit,
		.allow_unchecked = o->allow_unchecked,
	};
	char worker[4096], local[4096];
	struct verr e = { "" };
	size_t up;
	int rc;

	fo.worker_path = pool_find_static_worker(worker, sizeof(worker));
	rc = fleet_run_open(f, &fo, &e);
	if (rc) {
		cli_error("run", e.msg);
		return rc == -EINVAL ? EXIT_USAGE : EXIT_INFRA;
	}
	rc = fleet_run_set_jobs(f, jobs, njobs, pool_find_worker(local, sizeof(local)), &e);
	if (rc) {
		cli_error("run", e.msg);
		return rc == -ENOENT || rc == -ENOTDIR ? EXIT_USAGE : EXIT_INFRA;
	}
	if (run_fleet_check_jobs(o, f, jobs, njobs))
		return EXIT_USAGE;
	if (f->inv.host_key_check_off)
		cli_error("run", "warning: host keys of some hosts are NOT checked"
			  " (host_key_check: off)");
	up = fleet_run_bring_up(f, 60000);
	for (size_t i = 0; i < f->n; i++)
		if (!f->h[i].up)
			fprintf(stderr, "vmorch run: host %s is not used: %s\n",
				f->h[i].ih->name, f->h[i].why);
	run_fleet_staged(f);
	if (!up && !o->jobs) {
		cli_error("run", "no fleet host is usable, and --jobs 0 runs nothing here");
		return EXIT_INFRA;
	}
	return -1;
}

/* What each fleet host that came up is, with the run. */
static int run_fleet_facts(struct run_ctx *c, const struct fleet_run *f)
{
	struct verr e = { "" };

	for (size_t i = 0; i < f->n; i++) {
		if (!f->h[i].up)
			continue;
		if (db_run_host(c->db, c->run_id, f->h[i].ih->name, &f->h[i].probe.facts,
				PACKAGE_VERSION, &e)) {
			cli_error("run", e.msg);
			return -1;
		}
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct pool_opts po = { .grace_ms = 2000, .stall_ms = 10000 };
	struct pool_ops ops = { .done = run_on_done, .progress = run_on_progress };
	struct run_ctx c = { .run_id = -1 };
	struct job_desc *jobs = NULL;
	struct run_opts o = { 0 };
	struct scenario_set set = { NULL, 0 };
	struct fleet_run fleet = { 0 };
	char worker[4096], msg[sizeof(c.err.msg) + sizeof(c.store_err.msg) + 2];
	uint64_t t0;
	size_t njobs = 0;
	int rc, status = EXIT_INFRA;

	if (run_parse(argc, argv, &o)) {
		run_meta_release(&o.meta);
		return EXIT_USAGE;
	}
	if (run_load(argv + optind, argc - optind, &set, &jobs, &njobs) ||
	    run_select(&o, jobs, &njobs) || run_check_guest_files(jobs, njobs)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (run_rerun(&o, jobs, &njobs, &status))
		goto out;
	if (o.rerun && !njobs) {
		printf("nothing to run again: every job of run %s passed\n", o.rerun);
		status = EXIT_OK;
		goto out;
	}
	if (o.interleave) {
		struct verr ie = { "" };

		if (jobs_interleave(jobs, njobs, o.interleave, &ie)) {
			cli_error("run", ie.msg);
			status = EXIT_USAGE;
			goto out;
		}
	}
	for (unsigned i = 0; i < o.nreports; i++) {
		struct verr re = { "" };

		if (outfile_check_db(o.report_path[i], o.db_path, &re)) {
			cli_error("run", re.msg);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (o.list) {
		for (size_t i = 0; i < njobs; i++)
			printf("%s\n", jobs[i].spec.name);
		status = EXIT_OK;
		goto out;
	}
	/* Each job's configuration, stored with its result (files by content). */
	for (size_t i = 0; i < njobs; i++) {
		struct verr ce = { "" };

		if (job_config_build(&jobs[i], &ce)) {
			cli_error("run", ce.msg);
			status = EXIT_INFRA;
			goto out;
		}
	}
	if (o.hosts) {
		/* The database's file ids first: it never travels as a disk. */
		run_protect(o.db_path, jobs, njobs);
		rc = run_fleet_open(&o, &fleet, jobs, njobs);
		if (rc >= 0) {
			status = rc;
			goto out;
		}
		po.fleet = &fleet;
		po.retries = o.retries;
		c.fleet = &fleet;
	}
	progress_init(&c.pg, stdout, o.quiet);
	if (gethostname(c.host, sizeof(c.host) - 1))
		strcpy(c.host, "localhost");
	c.rows = calloc(njobs ? njobs : 1, sizeof(*c.rows));
	if (!c.rows || db_open(o.db_path, &c.db, &c.err)) {
		cli_error("run", c.rows ? c.err.msg : "out of memory");
		goto out;
	}
	if (run_begin(&c, &o, argc, argv, &set, njobs)) {
		cli_error("run", c.err.msg);
		goto out;
	}
	if (o.hosts && run_fleet_facts(&c, &fleet)) {
		run_end(&c, DB_RUN_ERROR);
		goto out;
	}
	run_protect(o.db_path, jobs, njobs);
	run_warn_overcommit(&o);
	po.stall_ms = run_stall_ms();
	po.console_max = run_console_max();
	po.max_jobs = o.jobs ? run_fit_fd_limit(o.jobs) : 0;
	po.timeout_scale = o.timeout_scale;
	po.worker_path = pool_find_worker(worker, sizeof(worker));
	run_signals();
	t0 = clock_ns();
	rc = pool_run(&po, jobs, njobs, &ops, &c, &run_interrupted, &c.err);
	progress_end(&c.pg);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s%s%s", c.err.msg, c.store_rc ? ": " : "",
			 c.store_rc ? c.store_err.msg : "");
		cli_error("run", msg);
		run_end(&c, DB_RUN_ERROR);
		goto out;
	}
	if (rc == 1 || run_interrupted) {
		status = run_end(&c, DB_RUN_INTERRUPTED) ? EXIT_INFRA : EXIT_INTERRUPTED;
	} else {
		status = run_end(&c, run_final_status(&c)) ? EXIT_INFRA : run_exit_status(&c);
	}
	run_summary(&c, njobs, (double)(clock_ns() - t0) / 1e9, o.db_path,
		    rc == 1 || run_interrupted);
	for (unsigned i = 0; i < o.nreports; i++) {
		struct verr re = { "" };

		if (report_to_file(c.db, c.run_id, o.report_format[i], o.report_path[i], &re)) {
			cli_error("run", re.msg);
			status = EXIT_INFRA;	/* the results are stored; the report is not */
		}
	}
out:
	if (o.hosts)
		fleet_run_close(&fleet);
	if (c.db)
		db_close(c.db);
	job_descs_free(jobs, njobs);
	scenario_set_release(&set);
	free(c.rows);
	run_meta_release(&o.meta);
	return status;
}
