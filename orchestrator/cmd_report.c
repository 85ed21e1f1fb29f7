/*
 * cmd_report.c - `vmorch report RUN [--vs RUN] --format F [-o FILE]`: build
 * one run's report (reports/report.c) and render it as text, Markdown,
 * JSON, JUnit XML or a self-contained HTML page.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"
#include "reports/outfile.h"
#include "reports/report.h"

/* Each format and what it shows beyond the run: per-series charts in HTML. */
static const struct {
	const char *name;
	int (*render)(const struct report *r, FILE *f);
	unsigned want;
} report_formats[] = {
	{ "text", render_text, REPORT_WANT_SERIES },
	{ "markdown", render_markdown, 0 },
	{ "json", render_json, REPORT_WANT_SERIES },
	{ "junit", render_junit, 0 },
	{ "html", render_html, REPORT_WANT_SERIES },
};

#define NFORMATS (sizeof(report_formats) / sizeof(report_formats[0]))

enum { OPT_VS = 256, OPT_FORMAT };

static const struct option report_longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "vs", required_argument, NULL, OPT_VS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	CLI_DIFF_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void report_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch report RUN [--vs RUN] [--format F] [-o FILE]\n\n"
		"Report one run: its jobs, failures with console tails, the diff\n"
		"against a baseline run, and recent trends of each job series.\n\n"
		"  -d, --db PATH            result database " CLI_DB_HELP "\n"
		"      --vs RUN             compare against this run, with:\n"
		CLI_DIFF_HELP
		"      --format F           text (default), markdown, json, junit or html\n"
		"  -o, --output FILE        write there instead of standard output\n");
}

struct report_cli {
	const char *db_path, *run, *vs, *out;
	int format;
	struct diff_opts o;
};

static int format_find(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (strcmp(report_formats[i].name, name) == 0)
			return (int)i;
	fprintf(stderr, "vmorch report: unknown format '%s' (text, markdown,"
		" json, junit, html)\n", name);
	return -1;
}

static int report_parse(int argc, char **argv, struct report_cli *c)
{
	int opt;

	c->db_path = cli_default_db();
	diff_opts_init(&c->o);
	while ((opt = getopt_long(argc, argv, "d:o:h", report_longopts, NULL)) != -1) {
		int known = cli_diff_option(opt, optarg, &c->o);

		if (known < 0)
			return EXIT_USAGE;
		if (known)
			continue;
		switch (opt) {
		case 'd':
			c->db_path = optarg;
			break;
		case OPT_VS:
			c->vs = optarg;
			break;
		case OPT_FORMAT:
			c->format = format_find(optarg);
			if (c->format < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			c->out = optarg;
			break;
		case 'h':
			report_usage(stdout);
			exit(EXIT_OK);
		default:
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "vmorch report: expected exactly one RUN (an id, a"
			" label, last or last~N)\n");
		return EXIT_USAGE;
	}
	c->run = argv[optind];
	return 0;
}

static int report_console_load(void *ctx, int64_t result_id, struct console_text *out)
{
	struct verr e;

	return db_console_load(ctx, result_id, out, &e);
}

/* Renderers that print whole consoles (JUnit) load them from @db, one at a time. */
static void report_console_source(struct report *r, struct db *db)
{
	r->console_load = report_console_load;
	r->console_ctx = db;
}

/*
 * Render into memory, then print it or replace FILE with it: a report that
 * failed to render leaves nothing behind, and FILE is never half written.
 */
static int report_write(const struct report_cli *c, struct db *db, struct report *r)
{
	struct verr e = { "" };
	struct outbuf b;
	int rc;

	rc = outbuf_open(&b);
	if (!rc) {
		report_console_source(r, db);
		rc = report_formats[c->format].render(r, b.f);
		if (outbuf_close(&b) && !rc)
			rc = -ENOMEM;
	}
	if (rc) {
		fprintf(stderr, "vmorch report: cannot render the report: %s\n",
			strerror(-rc));
	} else if (c->out) {
		rc = outfile_replace(c->out, b.data, b.len, &e);
		if (rc)
			fprintf(stderr, "vmorch report: %s\n", e.msg);
	} else {
		/* A write error on stdout is reported once, by main(). */
		outbuf_put(&b, stdout);
	}
	outbuf_release(&b);
	return rc;
}

int report_to_file(struct db *db, int64_t run, const char *format, const char *path,
		   struct verr *e)
{
	struct diff_opts o;
	struct report *r = NULL;
	struct outbuf b;
	size_t f;
	int rc;

	diff_opts_init(&o);
	for (f = 0; f < NFORMATS && strcmp(report_formats[f].name, format); f++)
		;
	if (f == NFORMATS) {
		verr_set(e, "unknown report format '%s' (text, markdown, json, junit, html)",
			 format);
		return -EINVAL;
	}
	rc = report_build_for(db_sqlite(db), run, 0, &o, report_formats[f].want, &r, e);
	if (!rc && !(rc = outbuf_open(&b))) {
		report_console_source(r, db);
		rc = report_formats[f].render(r, b.f);
		if (outbuf_close(&b) && !rc)
			rc = -ENOMEM;
		if (rc)
			verr_set(e, "%s: cannot render the report: %s", path, strerror(-rc));
		else
			rc = outfile_replace(path, b.data, b.len, e);
		outbuf_release(&b);
	}
	report_free(r);
	return rc;
}

int report_format_known(const char *format)
{
	for (size_t f = 0; f < NFORMATS; f++)
		if (!strcmp(report_formats[f].name, format))
			return 1;
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_cli c = { 0 };
	struct verr e = { "" };
	struct report *r = NULL;
	struct db *db = NULL;
	int64_t run, vs = 0;
	int status, rc;

	status = report_parse(argc, argv, &c);
	if (status)
		goto out;
	if (c.out && outfile_check_db(c.out, c.db_path, &e)) {
		fprintf(stderr, "vmorch report: %s\n", e.msg);
		status = EXIT_USAGE;
		goto out;
	}
	if (db_open_readonly(c.db_path, &db, &e) || db_map(db, &e)) {
		fprintf(stderr, "vmorch report: %s\n", e.msg);
		status = EXIT_INFRA;
		goto out;
	}
	rc = db_run_resolve(db, c.run, &run, &e);
	if (!rc && c.vs)
		rc = db_run_resolve(db, c.vs, &vs, &e);
	if (rc) {
		fprintf(stderr, "vmorch report: %s\n", e.msg);
		status = cli_resolve_status(rc);
	} else if ((rc = report_build_for(db_sqlite(db), run, vs, &c.o,
					  report_formats[c.format].want, &r, &e))) {
		fprintf(stderr, "vmorch report: %s\n", e.msg);
		status = rc == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
	} else if (report_write(&c, db, r)) {
		status = EXIT_INFRA;
	}
out:
	report_free(r);
	db_close(db);
	diff_opts_release(&c.o);
	return status;
}
