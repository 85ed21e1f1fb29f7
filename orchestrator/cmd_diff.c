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

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"
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

int cli_diff_option(int opt, const char *arg, struct diff_opts *o)
{
	if (opt == CLI_OPT_THRESHOLD)
		return cli_parse_double("--threshold", arg, 0, 1e9, &o->threshold_pct) ? 1 : -1;
	if (opt == CLI_OPT_ALPHA)
		return cli_parse_double("--alpha", arg, 0, 1, &o->alpha) ? 1 : -1;
	return 0;
}

struct diff_cli {
	const char *db_path;
	const char *a, *b;		/* run references */
	struct diff_opts o;
	bool json, all, fail_on_regression;
};

enum { OPT_FAIL = 256, OPT_JSON, OPT_ALL, OPT_BASELINE, OPT_CANDIDATE };

static const struct option diff_longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	CLI_DIFF_LONGOPTS,
	{ "fail-on-regression", no_argument, NULL, OPT_FAIL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "candidate", required_argument, NULL, OPT_CANDIDATE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void diff_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch diff [OPTIONS] A B\n\n"
		"Compare run B against run A.  A and B are run ids, labels (their\n"
		"newest run), `last` or `last~N`.  Results are matched by scenario,\n"
		"VM and matrix parameters; repeats are aggregated.\n\n"
		"  -d, --db PATH            result database (default " CLI_DEFAULT_DB ")\n"
		"      --threshold PCT      smaller changes are unchanged (default 5)\n"
		"      --alpha A            Mann-Whitney significance level, applied\n"
		"                           with >= %d repeats on both sides (default 0.05)\n"
		"      --fail-on-regression exit 1 when anything regressed\n"
		"      --all                also list unchanged rows\n"
		"      --json               machine-readable output (doc/reports.md)\n",
		DIFF_MIN_REPEATS);
}

static void regressions_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch regressions --baseline RUN --candidate RUN [OPTIONS]\n\n"
		"Print only the regressions of CANDIDATE against BASELINE, one per\n"
		"line, and exit 1 if there is any.\n\n"
		"  -d, --db PATH        result database (default " CLI_DEFAULT_DB ")\n"
		"      --threshold PCT  smaller changes are unchanged (default 5)\n"
		"      --alpha A        Mann-Whitney significance level (default 0.05)\n"
		"      --json           the diff as JSON (doc/reports.md)\n");
}

/* Returns 0, or the exit status for a bad command line. */
static int diff_parse(int argc, char **argv, struct diff_cli *c, bool regressions)
{
	void (*usage)(FILE *) = regressions ? regressions_usage : diff_usage;
	int opt;

	c->db_path = CLI_DEFAULT_DB;
	c->o.threshold_pct = DIFF_DEFAULT_THRESHOLD_PCT;
	c->o.alpha = DIFF_DEFAULT_ALPHA;
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

	if (db_open_readonly(c->db_path, db, &e)) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		return EXIT_INFRA;
	}
	if (db_run_resolve(*db, c->a, &a, &e) || db_run_resolve(*db, c->b, &b, &e)) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		return EXIT_USAGE;
	}
	if (diff_compute(db_sqlite(*db), a, b, &c->o, d, &e)) {
		fprintf(stderr, "vmorch %s: %s\n", cmd, e.msg);
		return EXIT_INFRA;
	}
	return EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cli c = { 0 };
	struct db *db = NULL;
	struct diff *d = NULL;
	int status, rc;

	status = diff_parse(argc, argv, &c, false);
	if (status)
		return status;
	if (optind + 2 != argc || c.a || c.b) {
		fprintf(stderr, "vmorch diff: expected two runs, A and B (ids, labels,"
			" last or last~N)\n");
		return EXIT_USAGE;
	}
	c.a = argv[optind];
	c.b = argv[optind + 1];
	status = diff_run("diff", &c, &db, &d);
	if (status)
		goto out;
	rc = c.json ? render_diff_json(d, stdout) : render_diff_text(d, stdout, c.all);
	if (rc) {
		fprintf(stderr, "vmorch diff: cannot write the output\n");
		status = EXIT_INFRA;
	} else if (c.fail_on_regression && d->regressed) {
		status = EXIT_FAILED;
	}
out:
	diff_free(d);
	db_close(db);
	return status;
}

int cmd_regressions(int argc, char **argv)
{
	struct diff_cli c = { 0 };
	struct db *db = NULL;
	struct diff *d = NULL;
	int status, rc;

	status = diff_parse(argc, argv, &c, true);
	if (status)
		return status;
	if (optind != argc || !c.a || !c.b || c.all || c.fail_on_regression) {
		regressions_usage(stderr);
		return EXIT_USAGE;
	}
	status = diff_run("regressions", &c, &db, &d);
	if (status)
		goto out;
	rc = c.json ? render_diff_json(d, stdout) : render_regressions(d, stdout);
	if (rc) {
		fprintf(stderr, "vmorch regressions: cannot write the output\n");
		status = EXIT_INFRA;
		goto out;
	}
	if (!c.json)
		fprintf(stderr, "vmorch regressions: %zu regression%s (run %s -> %s)\n",
			d->regressed, d->regressed == 1 ? "" : "s", c.a, c.b);
	status = d->regressed ? EXIT_FAILED : EXIT_OK;
out:
	diff_free(d);
	db_close(db);
	return status;
}
