/*
 * cmd_runs.c - `vmorch runs` and `vmorch show RUN`: the stored runs, as a
 * table or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"

struct query_opts {
	const char *db_path;
	bool json;
	struct db_runs_filter filter;	/* runs only */
};

static int query_parse(int argc, char **argv, struct query_opts *o,
		       void (*usage)(FILE *), bool with_limit)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'J' },
		{ "limit", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "scenario", required_argument, NULL, 's' },
		{ "meta", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_runs_filter *f = &o->filter;
	char *eq;
	int c;

	o->db_path = cli_default_db();
	while ((c = getopt_long(argc, argv, "d:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db_path = optarg;
			break;
		case 'J':
			o->json = true;
			break;
		case 'n':
		case 'l':
		case 's':
		case 'M':
			if (!with_limit) {
				usage(stderr);
				return -1;
			}
			if (c == 'n' && !cli_parse_uint("--limit", optarg, 1, 1000000, &f->limit))
				return -1;
			if (c == 'l')
				f->label = optarg;
			if (c == 's')
				f->scenario = optarg;
			if (c != 'M')
				break;
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || f->nmeta == DB_RUNS_META_MAX) {
				fprintf(stderr, "vmorch runs: --meta %s: expected KEY=GLOB (at most"
					" %d)\n", optarg, DB_RUNS_META_MAX);
				return -1;
			}
			*eq = 0;
			f->meta_key[f->nmeta] = optarg;
			f->meta_glob[f->nmeta++] = eq + 1;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

/* The whole document or nothing; main() checks that stdout took it. */
static int print_json(json_t *doc, struct verr *e)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(doc);
	if (!text) {
		verr_set(e, "out of memory");
		return EXIT_INFRA;
	}
	if (printf("%s\n", text) < 0) {
		verr_errno(e, "write error");
		free(text);
		return EXIT_INFRA;
	}
	free(text);
	return EXIT_OK;
}

static void runs_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch runs [--db PATH] [--limit N] [--label GLOB]"
		" [--scenario NAME]\n"
		"                   [--meta KEY=GLOB]... [--json]\n\n"
		"List stored runs, newest first, with what they were of (COMMIT: the git\n"
		"commit they ran at, + when the tree had changes; `vmorch run --meta`).\n\n"
		"  -d, --db PATH          result database " CLI_DB_HELP "\n"
		"  -n, --limit N          at most N runs\n"
		"      --label GLOB       runs whose label matches (a shell glob)\n"
		"      --scenario NAME    runs with results of this scenario\n"
		"      --meta KEY=GLOB    runs whose meta KEY matches, e.g. commit=abc123*\n"
		"                         (repeatable: all must match)\n"
		"      --json             machine-readable output\n");
}

int cmd_runs(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct verr e = { "" };
	struct db *db;
	int status = EXIT_OK;

	if (query_parse(argc, argv, &o, runs_usage, true))
		return EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "vmorch runs: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (db_open_readonly(o.db_path, &db, &e)) {
		fprintf(stderr, "vmorch runs: %s\n", e.msg);
		return EXIT_INFRA;
	}
	if (o.json) {
		json_t *doc = db_runs_json(db, &o.filter, &e);

		status = doc ? print_json(doc, &e) : EXIT_INFRA;
	} else if (db_runs_print(db, stdout, &o.filter, &e)) {
		status = EXIT_INFRA;
	}
	if (status)
		fprintf(stderr, "vmorch runs: %s\n", e.msg);
	db_close(db);
	return status;
}

static void show_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch show [--db PATH] [--json] RUN\n\n"
		"Show one run: its jobs, verdicts, counters and failed expectations.\n"
		"RUN is a run id, a label (its newest run), `last` or `last~N`.\n\n"
		"  -d, --db PATH   result database " CLI_DB_HELP "\n"
		"      --json      machine-readable output\n");
}

int cmd_show(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct verr e = { "" };
	struct db *db;
	int64_t id;
	int rc, status = EXIT_OK;

	if (query_parse(argc, argv, &o, show_usage, false))
		return EXIT_USAGE;
	if (optind + 1 != argc) {
		fprintf(stderr, "vmorch show: expected exactly one RUN (an id, a label, "
			"last or last~N)\n");
		return EXIT_USAGE;
	}
	if (db_open_readonly(o.db_path, &db, &e)) {
		fprintf(stderr, "vmorch show: %s\n", e.msg);
		return EXIT_INFRA;
	}
	rc = db_run_resolve(db, argv[optind], &id, &e);
	if (rc) {
		/* No such run is the user's mistake; a failed query is not. */
		fprintf(stderr, "vmorch show: %s\n", e.msg);
		db_close(db);
		return rc == -ENOENT || rc == -EINVAL ? EXIT_USAGE : EXIT_INFRA;
	}
	if (o.json) {
		json_t *doc = db_run_show_json(db, id, &e);

		status = doc ? print_json(doc, &e) : EXIT_INFRA;
	} else if (db_run_show_print(db, id, stdout, &e)) {
		status = EXIT_INFRA;
	}
	if (status)
		fprintf(stderr, "vmorch show: %s\n", e.msg);
	db_close(db);
	return status;
}
