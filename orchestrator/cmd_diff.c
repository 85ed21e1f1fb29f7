/*
 * cmd_diff.c - `vmorch diff A B` and `vmorch regressions --baseline RUN
 * --candidate RUN`: compare two stored runs (reports/diff.c) and print the
 * table, the JSON document, or only the regressions for CI logs.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"
#include "orchestrator/jobname.h"
#include "reports/outfile.h"
#include "reports/report.h"

bool cli_parse_double(const char *opt, const char *arg, double min, double max,
		      double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "vmorch: %s: expected a number in %g..%g, got '%s'\n",
			opt, min, max, arg);
		return false;
	}
	*out = v;
	return true;
}

/* --metric NAME or NAME:higher / NAME:lower. */
static int metric_option(const char *arg, struct diff_opts *o)
{
	const char *colon = strrchr(arg, ':');
	struct diff_metric_sel m = { NULL, VMORCH_DIR_NEUTRAL }, *v;

	if (colon && !strcmp(colon + 1, "higher"))
		m.dir = VMORCH_DIR_HIGHER;
	else if (colon && !strcmp(colon + 1, "lower"))
		m.dir = VMORCH_DIR_LOWER;
	else
		colon = NULL;
	if (colon == arg || !*arg) {
		fprintf(stderr, "vmorch: --metric: expected NAME or NAME:higher"
			" or NAME:lower, got '%s'\n", arg);
		return -1;
	}
	m.name = colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);
	v = realloc(o->metrics, (o->nmetrics + 1) * sizeof(*v));
	if (!m.name || !v) {
		free(m.name);
		if (v)
			o->metrics = v;
		fprintf(stderr, "vmorch: out of memory\n");
		return -1;
	}
	o->metrics = v;
	o->metrics[o->nmetrics++] = m;
	return 1;
}

static int params_option(const char *arg, struct diff_opts *o)
{
	struct verr e = { "" };
	char key[JOB_PARAMS_KEY_MAX], *copy, **v;

	if (db_params_key_parse(arg, key, sizeof(key), &e)) {
		fprintf(stderr, "vmorch: %s\n", e.msg);
		return -1;
	}
	copy = strdup(key);
	v = realloc(o->params, (o->nparams + 1) * sizeof(*v));
	if (!copy || !v) {
		free(copy);
		if (v)
			o->params = v;
		fprintf(stderr, "vmorch: out of memory\n");
		return -1;
	}
	o->params = v;
	o->params[o->nparams++] = copy;
	return 1;
}

int cli_diff_option(int opt, const char *arg, struct diff_opts *o)
{
	switch (opt) {
	case CLI_OPT_THRESHOLD:
		return cli_parse_double("--threshold", arg, 0, 1e9, &o->threshold_pct) ? 1 : -1;
	case CLI_OPT_ALPHA:
		return cli_parse_double("--alpha", arg, 0, 1, &o->alpha) ? 1 : -1;
	case CLI_OPT_ALLOW_CONFIG:
		o->allow_config_change = true;
		return 1;
	case CLI_OPT_CORRECTION:
		if (!stats_correction_parse(arg, &o->correction))
			return 1;
		fprintf(stderr, "vmorch: --correction: expected bh, holm or none,"
			" got '%s'\n", arg);
		return -1;
	case CLI_OPT_METRIC:
		return metric_option(arg, o);
	case CLI_OPT_PARAMS:
		return params_option(arg, o);
	}
	return 0;
}

struct diff_cli {
	const char *db_path;
	const char *a, *b;		/* run references */
	struct diff_opts o;
	bool json, all, fail_on_regression, allow_missing;
};

enum { OPT_FAIL = 256, OPT_JSON, OPT_ALL, OPT_BASELINE, OPT_CANDIDATE,
       OPT_ALLOW_MISSING, OPT_AB };

static const struct option diff_longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	CLI_DIFF_LONGOPTS,
	{ "fail-on-regression", no_argument, NULL, OPT_FAIL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "candidate", required_argument, NULL, OPT_CANDIDATE },
	{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
	{ "ab", required_argument, NULL, OPT_AB },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void diff_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch diff [OPTIONS] A B\n"
		"       vmorch diff [OPTIONS] RUN --ab KEY=a,KEY=b\n\n"
		"Compare run B against run A.  A and B are run ids, labels (their\n"
		"newest run), `last` or `last~N`.  Results are matched by scenario,\n"
		"VM and matrix parameters; repeats are aggregated.  With --ab, the\n"
		"jobs of RUN whose matrix key KEY is b against those where it is a\n"
		"(run them interleaved: vmorch run --interleave KEY).\n\n"
		"  -d, --db PATH            result database " CLI_DB_HELP "\n"
		CLI_DIFF_HELP
		"      --fail-on-regression exit 1 when anything regressed, a job\n"
		"                           newly fails, a job of A is missing from B\n"
		"                           or B is incomplete\n"
		"      --allow-missing      missing jobs and an incomplete B do not\n"
		"                           fail --fail-on-regression\n"
		"      --all                also list unchanged rows\n"
		"      --ab KEY=a,KEY=b     one RUN: its jobs with KEY=b against KEY=a\n"
		"      --json               machine-readable output (doc/reports.md)\n");
}

static void regressions_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch regressions --baseline RUN --candidate RUN [OPTIONS]\n\n"
		"Print the regressions of CANDIDATE against BASELINE, its newly\n"
		"failing and missing jobs, one per line, and whether CANDIDATE is\n"
		"incomplete; exit 1 if any of them holds.\n\n"
		"  -d, --db PATH            result database " CLI_DB_HELP "\n"
		CLI_DIFF_HELP
		"      --allow-missing      missing jobs and an incomplete CANDIDATE\n"
		"                           (interrupted, or fewer results than jobs)\n"
		"                           are shown but do not fail\n"
		"      --json               the diff as JSON (doc/reports.md)\n");
}

/* --ab KEY=a,KEY=b: both components as stored (percent-encoded). */
static int ab_option(const char *arg, struct diff_opts *o)
{
	const char *comma = strchr(arg, ',');
	char *one = NULL, *two = NULL, ka[JOB_PARAMS_KEY_MAX], kb[JOB_PARAMS_KEY_MAX];
	struct verr e = { "" };
	size_t klen;

	if (!comma || !(one = strndup(arg, (size_t)(comma - arg))) ||
	    !(two = strdup(comma + 1)) ||
	    db_params_key_parse(one, ka, sizeof(ka), &e) ||
	    db_params_key_parse(two, kb, sizeof(kb), &e) ||
	    strchr(ka, ',') || strchr(kb, ',') ||
	    (klen = strcspn(ka, "=")) != strcspn(kb, "=") || strncmp(ka, kb, klen) ||
	    !strcmp(ka, kb)) {
		fprintf(stderr, "vmorch diff: --ab %s: expected KEY=a,KEY=b (one matrix"
			" key, two of its values)\n", arg);
		free(one);
		free(two);
		return -1;
	}
	free(one);
	free(two);
	o->ab_key = strndup(ka, klen);
	o->ab_a = strdup(ka);
	o->ab_b = strdup(kb);
	if (!o->ab_key || !o->ab_a || !o->ab_b) {
		fprintf(stderr, "vmorch: out of memory\n");
		return -1;
	}
	return 0;
}

/* Returns 0, or the exit status for a bad command line. */
static int diff_parse(int argc, char **argv, struct diff_cli *c, bool regressions)
{
	void (*usage)(FILE *) = regressions ? regressions_usage : diff_usage;
	int opt;

	c->db_path = cli_default_db();
	diff_opts_init(&c->o);
	while ((opt = getopt_long(argc, argv, "d:h", diff_longopts, NULL)) != -1) {
		int known = cli_diff_option(opt, optarg, &c->o);

		if (known < 0)
			return EXIT_USAGE;
		if (known)
			continue;
		switch (opt) {
		case 'd':
			c->db_path = optarg;
			break;
		case OPT_FAIL:
			c->fail_on_regression = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_ALL:
			c->all = true;
			break;
		case OPT_BASELINE:
			c->a = optarg;
			break;
		case OPT_CANDIDATE:
			c->b = optarg;
			break;
		case OPT_ALLOW_MISSING:
			c->allow_missing = true;
			break;
		case OPT_AB:
			if (regressions || c->o.ab_key || ab_option(optarg, &c->o)) {
				if (regressions || c->o.ab_key)
					fprintf(stderr, "vmorch %s: --ab %s\n", regressions ?
						"regressions" : "diff", regressions ?
						"is diff's (diff RUN --ab KEY=a,KEY=b)" :
						"given twice");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Resolve both references and compute; an exit status on failure. */
static int diff_run(const char *cmd, const struct diff_cli *c, struct db **db,
		    struct diff **d)
{
	struct verr e = { "" };
	int64_t a, b;
	int rc;

	if (db_open_readonly(c->db_path, db, &e) || db_map(*db, &e)) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		return EXIT_INFRA;
	}
	rc = db_run_resolve(*db, c->a, &a, &e);
	if (!rc)
		rc = db_run_resolve(*db, c->b, &b, &e);
	if (rc) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		return cli_resolve_status(rc);
	}
	rc = diff_compute(db_sqlite(*db), a, b, &c->o, d, &e);
	if (rc) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		/* A --metric or --params that names nothing is the user's to fix. */
		return rc == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
	}
	return EXIT_OK;
}

/* Render into memory first: a failing renderer prints nothing. */
static int diff_print(const char *cmd, const struct diff_cli *c,
		      const struct diff *d, bool regressions)
{
	struct outbuf b;
	int rc;

	rc = outbuf_open(&b);
	if (!rc) {
		rc = c->json ? render_diff_json(d, b.f) :
		     regressions ? render_regressions(d, b.f) :
		     render_diff_text(d, b.f, c->all);
		if (outbuf_close(&b) && !rc)
			rc = -ENOMEM;
	}
	if (rc)
		fprintf(stderr, "vmorch %s: cannot render the output: %s\n", cmd,
			strerror(-rc));
	else
		outbuf_put(&b, stdout);	/* main() reports a write error */
	outbuf_release(&b);
	return rc;
}

/* "3 regressions, 1 newly failing job, 2 missing jobs, candidate incomplete" */
static void gate_summary(const struct diff *d, unsigned fail)
{
	fprintf(stderr, "%zu regression%s", d->regressed,
		d->regressed == 1 ? "" : "s");
	if (d->failing_jobs)
		fprintf(stderr, ", %zu newly failing job%s", d->failing_jobs,
			d->failing_jobs == 1 ? "" : "s");
	if (d->missing_jobs)
		fprintf(stderr, ", %zu missing job%s%s", d->missing_jobs,
			d->missing_jobs == 1 ? "" : "s",
			fail & DIFF_GATE_MISSING ? "" : " (allowed)");
	if (d->b_incomplete)
		fprintf(stderr, ", candidate incomplete%s",
			fail & DIFF_GATE_INCOMPLETE ? "" : " (allowed)");
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cli c = { 0 };
	struct db *db = NULL;
	struct diff *d = NULL;
	int status;

	status = diff_parse(argc, argv, &c, false);
	if (status)
		goto out;
	if (c.o.ab_key && optind + 1 == argc && !c.a && !c.b) {
		c.a = c.b = argv[optind];	/* one run, two variants */
	} else if (c.o.ab_key || optind + 2 != argc || c.a || c.b) {
		fprintf(stderr, "vmorch diff: expected %s\n", c.o.ab_key ?
			"one run with --ab (an id, a label, last or last~N)" :
			"two runs, A and B (ids, labels, last or last~N)");
		status = EXIT_USAGE;
		goto out;
	} else {
		c.a = argv[optind];
		c.b = argv[optind + 1];
	}
	status = diff_run("diff", &c, &db, &d);
	if (status)
		goto out;
	if (diff_print("diff", &c, d, false)) {
		status = EXIT_INFRA;
	} else if (c.fail_on_regression) {
		unsigned fail = diff_gate(d, c.allow_missing);

		if (fail) {
			fputs("vmorch diff: failing: ", stderr);
			gate_summary(d, fail);
			fputc('\n', stderr);
			status = EXIT_FAILED;
		}
	}
out:
	diff_free(d);
	db_close(db);
	diff_opts_release(&c.o);
	return status;
}

int cmd_regressions(int argc, char **argv)
{
	struct diff_cli c = { 0 };
	struct db *db = NULL;
	struct diff *d = NULL;
	unsigned fail;
	int status;

	status = diff_parse(argc, argv, &c, true);
	if (status)
		goto out;
	if (optind != argc || !c.a || !c.b || c.all || c.fail_on_regression) {
		regressions_usage(stderr);
		status = EXIT_USAGE;
		goto out;
	}
	status = diff_run("regressions", &c, &db, &d);
	if (status)
		goto out;
	if (diff_print("regressions", &c, d, true)) {
		status = EXIT_INFRA;
		goto out;
	}
	fail = diff_gate(d, c.allow_missing);
	if (!c.json) {
		fputs("vmorch regressions: ", stderr);
		gate_summary(d, fail);
		fprintf(stderr, " (run %s -> %s)\n", c.a, c.b);
	}
	status = fail ? EXIT_FAILED : EXIT_OK;
out:
	diff_free(d);
	db_close(db);
	diff_opts_release(&c.o);
	return status;
}
