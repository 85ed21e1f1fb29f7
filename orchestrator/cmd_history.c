/*
 * cmd_history.c - `vmorch history --scenario S [--vm V] [--metric M]`: one
 * counter or metric per run over time (reports/history.c), as a table with
 * a sparkline, CSV or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "reports/outfile.h"
#include "reports/report.h"

enum { OPT_SCENARIO = 256, OPT_VM, OPT_METRIC, OPT_LAST, OPT_LABEL_LIKE,
       OPT_JSON, OPT_CSV, OPT_EXPLAIN, OPT_PARAMS, OPT_BY };

static const struct option history_longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "last", required_argument, NULL, OPT_LAST },
	{ "label-like", required_argument, NULL, OPT_LABEL_LIKE },
	{ "params", required_argument, NULL, OPT_PARAMS },
	{ "by", required_argument, NULL, OPT_BY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void history_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch history --scenario S [OPTIONS]\n\n"
		"One counter or metric of one series (a VM at one matrix point) per run,\n"
		"oldest first, with its mean, median and stddev over the run's repeats,\n"
		"and a sparkline.  Options that select several series are refused with\n"
		"the list of them: a history never averages across VMs or matrix points.\n\n"
		"  -d, --db PATH         result database " CLI_DB_HELP "\n"
		"      --scenario S      the scenario's name: (required)\n"
		"      --vm V            the VM (needed when the scenario has several)\n"
		"      --params K=V,...  the matrix point, e.g. bs=4k,qd=16 (any order;\n"
		"                        needed when the VM has several)\n"
		"      --metric M        a counter (reads_completed, summed over disks),\n"
		"                        a guest metric, wall_us or boot_us (default iops)\n"
		"      --last N          only the last N runs that have the scenario\n"
		"      --label-like GLOB only runs whose label matches (SQLite GLOB)\n"
		"      --by B            one point per run (default), per commit (the\n"
		"                        runs' commit metadata; runs without one are\n"
		"                        left out) or per date (UTC day): the repeats\n"
		"                        of a commit's or a day's runs pooled\n"
		"      --json | --csv    machine-readable output (doc/reports.md)\n"
		"      --explain         print the query plans instead\n");
}

struct history_cli {
	char params_key[4096];
	const char *db_path;
	struct history_opts o;
	bool json, csv, explain;
};

static int history_parse(int argc, char **argv, struct history_cli *c)
{
	int opt;

	c->db_path = cli_default_db();
	while ((opt = getopt_long(argc, argv, "d:h", history_longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c->db_path = optarg;
			break;
		case OPT_SCENARIO:
			c->o.scenario = optarg;
			break;
		case OPT_VM:
			c->o.vm = optarg;
			break;
		case OPT_METRIC:
			c->o.metric = optarg;
			break;
		case OPT_LAST:
			if (!cli_parse_uint("--last", optarg, 1, 100000000, &c->o.last))
				return EXIT_USAGE;
			break;
		case OPT_LABEL_LIKE:
			c->o.label_like = optarg;
			break;
		case OPT_PARAMS: {
			struct verr pe = { "" };

			if (db_params_key_parse(optarg, c->params_key, sizeof(c->params_key), &pe)) {
				fprintf(stderr, "vmorch history: %s\n", pe.msg);
				return EXIT_USAGE;
			}
			c->o.params_key = c->params_key;
			break;
		}
		case OPT_BY:
			if (history_by_parse(optarg, &c->o.by)) {
				fprintf(stderr, "vmorch history: --by: expected run, commit"
					" or date, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_CSV:
			c->csv = true;
			break;
		case OPT_EXPLAIN:
			c->explain = true;
			break;
		case 'h':
			history_usage(stdout);
			exit(EXIT_OK);
		default:
			history_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !c->o.scenario || (c->json && c->csv)) {
		fprintf(stderr, "vmorch history: %s\n", !c->o.scenario ?
			"--scenario is required" : optind != argc ?
			"unexpected argument" : "--json and --csv exclude each other");
		return EXIT_USAGE;
	}
	return 0;
}

static int history_render(const struct history_cli *c, const struct history *h,
			  FILE *f)
{
	if (c->json)
		return render_history_json(h, f);
	if (c->csv)
		return render_history_csv(h, f);
	return render_history_text(h, f);
}

int cmd_history(int argc, char **argv)
{
	struct history_cli c = { 0 };
	struct verr e = { "" };
	struct history *h = NULL;
	struct outbuf b;
	struct db *db;
	int status;

	status = history_parse(argc, argv, &c);
	if (status)
		return status;
	if (db_open_readonly(c.db_path, &db, &e)) {
		fprintf(stderr, "vmorch history: %s\n", e.msg);
		return EXIT_INFRA;
	}
	/* Into memory first: a query that fails half-way prints nothing. */
	if (outbuf_open(&b)) {
		fprintf(stderr, "vmorch history: out of memory\n");
		db_close(db);
		return EXIT_INFRA;
	}
	if (c.explain) {
		status = history_explain(db_sqlite(db), &c.o, b.f, &e) ?
			 EXIT_INFRA : EXIT_OK;
	} else if ((status = history_query(db_sqlite(db), &c.o, &h, &e))) {
		/* Several series: the user's choice to make, not a failure of ours. */
		status = status == -EDOM ? EXIT_USAGE : EXIT_INFRA;
	} else if (history_render(&c, h, b.f)) {
		snprintf(e.msg, sizeof(e.msg), "cannot render the output");
		status = EXIT_INFRA;
	}
	if (outbuf_close(&b) && !status) {
		snprintf(e.msg, sizeof(e.msg), "cannot render the output");
		status = EXIT_INFRA;
	}
	if (status)
		fprintf(stderr, "vmorch history: %s\n", e.msg);
	else
		outbuf_put(&b, stdout);	/* main() reports a write error */
	outbuf_release(&b);
	history_free(h);
	db_close(db);
	return status;
}
