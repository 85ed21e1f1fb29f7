/*
 * cmd_runs.c - `vmorch runs` and `vmorch show RUN`: the stored runs, as a
 * table or as JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_escape.h"
#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"

struct query_opts {
	const char *db_path;
	bool json;
	bool console;			/* show RUN JOB --console */
	struct db_runs_filter filter;	/* runs only */
};

static int query_parse(int argc, char **argv, struct query_opts *o,
		       void (*usage)(FILE *), bool with_limit)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'J' },
		{ "limit", required_argument, NULL, 'n' },
		{ "console", no_argument, NULL, 'C' },
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
		case 'C':
			o->console = true;
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
	fprintf(f, "Usage: vmorch show [--db PATH] [--json] RUN [JOB [--console]]\n\n"
		"Show one run: its jobs, verdicts, counters and failed expectations;\n"
		"with JOB (its name as run and show print it, scenario/vm[k=v,...]#N),\n"
		"that job in full: configuration, counters per disk, metrics,\n"
		"expectations, attempts, how much of its console is stored and the\n"
		"console's tail; --console prints its whole console instead (the last\n"
		"MiB when it printed more; the tail for a fleet job).\n"
		"RUN is a run id, a label (its newest run), `last` or `last~N`.\n\n"
		"  -d, --db PATH   result database " CLI_DB_HELP "\n"
		"      --json      machine-readable output\n");
}

/* How much of the console is stored: all of it, its end, or only the tail. */
static void job_print_console_size(const json_t *j)
{
	const json_t *c = json_object_get(j, "console");

	if (!json_is_object(c)) {
		printf("console   only its tail is stored (a fleet job, or stored"
		       " before vmorch kept whole consoles)\n");
		return;
	}
	printf("console   %" JSON_INTEGER_FORMAT " bytes", json_integer_value(json_object_get(c, "printed_bytes")));
	if (json_integer_value(json_object_get(c, "dropped_bytes")))
		printf(", the last %" JSON_INTEGER_FORMAT " stored (the first %" JSON_INTEGER_FORMAT
		       " dropped by the cap)", json_integer_value(json_object_get(c, "kept_bytes")),
		       json_integer_value(json_object_get(c, "dropped_bytes")));
	else
		printf(", all stored");
	printf(" (%" JSON_INTEGER_FORMAT " compressed): --console prints it\n",
	       json_integer_value(json_object_get(c, "compressed_bytes")));
}

/*
 * show RUN JOB --console: the whole stored console, escaped for the
 * terminal; a note first when the cap dropped its beginning.  A result
 * without one (a fleet job, an older result) has its tail.
 */
static int job_print_console(struct db *db, json_t *doc, struct verr *e)
{
	json_t *j = json_object_get(doc, "job");
	struct console_text t;
	int rc;

	rc = db_console_load(db, json_integer_value(json_object_get(j, "id")), &t, e);
	if (rc == -ENOENT) {
		text_fputs(json_string_value(json_object_get(j, "console_tail")), stdout,
			   TEXT_KEEP_LINES);
		return EXIT_OK;
	}
	if (rc)
		return EXIT_INFRA;
	if (t.dropped)
		printf("[vmorch: the first %" PRIu64 " of %" PRIu64 " bytes were dropped;"
		       " the last %zu follow]\n", t.dropped, t.bytes, t.len);
	text_fwrite(t.data, t.len, stdout, TEXT_KEEP_LINES);
	console_text_release(&t);
	return EXIT_OK;
}

/* One job's document as text: the fields people read, then the console's tail. */
static int job_print(json_t *doc)
{
	json_t *j = json_object_get(doc, "job"), *v, *d;
	const char *key;
	size_t i;

	printf("job       ");
	text_fputs(json_string_value(json_object_get(j, "name")), stdout, 0);
	printf(" (run %" JSON_INTEGER_FORMAT ")\n", json_integer_value(json_object_get(doc, "run_id")));
	printf("verdict   %s, exit %s (%" JSON_INTEGER_FORMAT ")\n",
	       json_string_value(json_object_get(j, "verdict")),
	       json_string_value(json_object_get(j, "exit_kind")),
	       json_integer_value(json_object_get(j, "exit_code")));
	printf("host      ");
	text_fputs(json_string_value(json_object_get(j, "host")), stdout, 0);
	printf("\nwall      %.3fs, boot %.3fs\n",
	       json_integer_value(json_object_get(j, "wall_us")) / 1e6,
	       json_integer_value(json_object_get(j, "boot_us")) / 1e6);
	if (*json_string_value(json_object_get(j, "error"))) {
		printf("error     ");
		text_fputs(json_string_value(json_object_get(j, "error")), stdout, 0);
		putchar('\n');
	}
	if (json_is_object(json_object_get(j, "config"))) {
		char *c = json_dumps(json_object_get(j, "config"), JSON_COMPACT | JSON_SORT_KEYS);

		printf("config    ");
		text_fputs(c ? c : "?", stdout, 0);
		putchar('\n');
		free(c);
	}
	json_array_foreach(json_object_get(j, "disks"), i, d) {
		printf("disk %zu   ", i);
		json_object_foreach(d, key, v)
			printf(" %s=%" JSON_INTEGER_FORMAT, key, json_integer_value(v));
		putchar('\n');
	}
	json_object_foreach(json_object_get(j, "metrics"), key, v) {
		printf("metric    ");
		text_fputs(key, stdout, 0);
		printf(" = %.17g\n", json_number_value(v));
	}
	json_array_foreach(json_object_get(j, "expectations"), i, d) {
		printf("expect    ");
		text_fputs(json_string_value(json_object_get(d, "metric")), stdout, 0);
		printf(" %s: %s\n", json_string_value(json_object_get(d, "op")),
		       json_is_true(json_object_get(d, "missing")) ? "missing" :
		       json_is_true(json_object_get(d, "passed")) ? "passed" : "FAILED");
	}
	json_array_foreach(json_object_get(j, "attempts"), i, d) {
		printf("attempt   %" JSON_INTEGER_FORMAT " on ",
		       json_integer_value(json_object_get(d, "attempt")));
		text_fputs(json_string_value(json_object_get(d, "host")), stdout, 0);
		printf(": %s\n", json_string_value(json_object_get(d, "outcome")));
	}
	job_print_console_size(j);
	printf("console (tail):\n");
	text_fputs(json_string_value(json_object_get(j, "console_tail")), stdout, TEXT_KEEP_LINES);
	putchar('\n');
	return EXIT_OK;
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
	if (optind + 1 != argc && optind + 2 != argc) {
		fprintf(stderr, "vmorch show: expected one RUN (an id, a label, last or"
			" last~N) and perhaps one JOB\n");
		return EXIT_USAGE;
	}
	if (o.console && optind + 2 != argc) {
		fprintf(stderr, "vmorch show: --console needs a JOB\n");
		return EXIT_USAGE;
	}
	if (db_open_readonly(o.db_path, &db, &e)) {
		fprintf(stderr, "vmorch show: %s\n", e.msg);
		return EXIT_INFRA;
	}
	rc = db_run_resolve(db, argv[optind], &id, &e);
	if (rc) {
		fprintf(stderr, "vmorch show: %s\n", e.msg);
		db_close(db);
		return cli_resolve_status(rc);
	}
	if (optind + 2 == argc) {
		json_t *doc;

		rc = db_job_show_json(db, id, argv[optind + 1], &doc, &e);
		if (rc)
			status = cli_resolve_status(rc);	/* a job, as a run */
		else if (o.json)
			status = print_json(doc, &e);
		else if (o.console)
			status = job_print_console(db, doc, &e);
		else
			status = job_print(doc);
		if (doc && !o.json)
			json_decref(doc);
	} else if (o.json) {
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
