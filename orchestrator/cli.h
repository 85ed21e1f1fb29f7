/*
 * cli.h - what the vmorch subcommands share: exit statuses, the default
 * database path, and small option helpers.
 */
#ifndef VMORCH_CLI_H
#define VMORCH_CLI_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/verr.h"

#define EXIT_OK		 0	/* every job passed / the query worked */
#define EXIT_FAILED	 1	/* some job failed (or a regression was found) */
#define EXIT_USAGE	 2	/* bad command line or scenario */
#define EXIT_INFRA	 3	/* database, worker, KVM or system trouble */
#define EXIT_INTERRUPTED 130	/* stopped by SIGINT/SIGTERM; finished jobs stored */

#define CLI_DEFAULT_DB	"./vmorch.db"
#define CLI_DB_HELP	"(default $VMORCH_DB, else " CLI_DEFAULT_DB ")"

/* The database a command uses without --db: $VMORCH_DB when set, else ./vmorch.db. */
const char *cli_default_db(void);

/*
 * The exit status of a run (or job) reference that failed to resolve: one
 * that is not there (-ENOENT) or malformed (-EINVAL) is the user's mistake,
 * a failed query is not.
 */
static inline int cli_resolve_status(int rc)
{
	return rc == -ENOENT || rc == -EINVAL ? EXIT_USAGE : EXIT_INFRA;
}

/* "vmorch CMD: MSG" on stderr, MSG made safe for a terminal (it may hold a path). */
void cli_error(const char *cmd, const char *msg);

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_regressions(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_gc(int argc, char **argv);

struct db;
/*
 * Render run @run's report as @format (text, markdown, json, junit, html)
 * into @path, replaced whole or not at all (cmd_report.c): what `vmorch run
 * --junit FILE --report FORMAT:FILE` write as the run ends.
 */
int report_to_file(struct db *db, int64_t run, const char *format, const char *path,
		   struct verr *e);
int report_format_known(const char *format);

/* Parse a positive integer option; prints the error itself. */
bool cli_parse_uint(const char *opt, const char *arg, unsigned min, unsigned max,
		    unsigned *out);

/* Parse a finite number option (cmd_diff.c); prints the error itself. */
bool cli_parse_double(const char *opt, const char *arg, double min, double max,
		      double *out);

/*
 * The statistics options that diff, regressions and report share: their
 * getopt codes (above any short option and any command's own codes), their
 * struct option entries, and their parser (cmd_diff.c).
 */
enum { CLI_OPT_THRESHOLD = 0x200, CLI_OPT_ALPHA, CLI_OPT_ALLOW_CONFIG,
       CLI_OPT_CORRECTION, CLI_OPT_METRIC, CLI_OPT_PARAMS };
#define CLI_DIFF_LONGOPTS \
	{ "threshold", required_argument, NULL, CLI_OPT_THRESHOLD }, \
	{ "alpha", required_argument, NULL, CLI_OPT_ALPHA }, \
	{ "allow-config-change", no_argument, NULL, CLI_OPT_ALLOW_CONFIG }, \
	{ "correction", required_argument, NULL, CLI_OPT_CORRECTION }, \
	{ "metric", required_argument, NULL, CLI_OPT_METRIC }, \
	{ "params", required_argument, NULL, CLI_OPT_PARAMS }
#define CLI_DIFF_HELP \
	"      --threshold PCT      smaller changes are unchanged (default 5)\n" \
	"      --alpha A            significance level of the Mann-Whitney test\n" \
	"                           (with >= 5 repeats on both sides) and 1 - the\n" \
	"                           level of the change's interval (default 0.05)\n" \
	"      --correction C       for testing many rows at once: bh (Benjamini-\n" \
	"                           Hochberg, default), holm or none\n" \
	"      --metric M[:DIR]     judge M (repeatable; default: throughput,\n" \
	"                           latency and error counts); DIR, higher or\n" \
	"                           lower, for a metric vmorch does not know\n" \
	"      --params K=V,...     only this matrix point (repeatable)\n" \
	"      --allow-config-change  judge the numbers of jobs whose configuration\n" \
	"                           changed between the runs too (default: reported)\n"

struct diff_opts;

/*
 * If @opt is one of CLI_DIFF_LONGOPTS, store @arg into @o: 1, or -1 for a
 * bad value (the error is printed).  0 for any other option.
 */
int cli_diff_option(int opt, const char *arg, struct diff_opts *o);

#endif
