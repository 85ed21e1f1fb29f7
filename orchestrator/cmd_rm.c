/*
 * cmd_rm.c - `vmorch rm RUN...` and `vmorch gc --keep N`: deleting whole
 * runs, on request only.  Nothing else in vmorch deletes stored results.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"
#include "orchestrator/db_query.h"

#define RM_MAX	1024	/* runs one rm names */

static void rm_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch rm [--db PATH] RUN...\n\n"
		"Delete each RUN (an id, a label: its newest run, last or last~N) with\n"
		"everything stored with it.  Every RUN is looked up first: one that is\n"
		"not found, or still running, deletes nothing.\n\n"
		"  -d, --db PATH   result database " CLI_DB_HELP "\n");
}

static void gc_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch gc [--db PATH] --keep N [--labelled] [--dry-run]\n\n"
		"Delete the finished runs older than the newest N, except labelled ones\n"
		"(baselines are usually labelled) unless --labelled.  Runs still running\n"
		"are never deleted.  The file does not shrink until `sqlite3 FILE VACUUM`.\n\n"
		"  -d, --db PATH   result database " CLI_DB_HELP "\n"
		"  -k, --keep N    runs to keep, newest first (required)\n"
		"      --labelled  labelled runs may go too\n"
		"  -n, --dry-run   print what would be deleted, delete nothing\n");
}

int cmd_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_path = cli_default_db();
	int64_t ids[RM_MAX];
	struct verr e = { "" };
	struct db *db;
	int c, n, status = EXIT_OK;

	while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		if (c == 'd') {
			db_path = optarg;
		} else if (c == 'h') {
			rm_usage(stdout);
			return EXIT_OK;
		} else {
			rm_usage(stderr);
			return EXIT_USAGE;
		}
	}
	n = argc - optind;
	if (n < 1 || n > RM_MAX) {
		fprintf(stderr, "vmorch rm: expected 1..%d runs\n", RM_MAX);
		return EXIT_USAGE;
	}
	if (db_open(db_path, &db, &e)) {
		cli_error("rm", e.msg);
		return EXIT_INFRA;
	}
	for (int i = 0; i < n && status == EXIT_OK; i++) {
		int rc = db_run_resolve(db, argv[optind + i], &ids[i], &e);

		if (rc) {
			cli_error("rm", e.msg);
			status = cli_resolve_status(rc);
		}
	}
	for (int i = 0; i < n && status == EXIT_OK; i++) {
		int rc = db_run_delete(db, ids[i], &e);

		if (rc == -ENOENT && i > 0)
			continue;	/* named twice */
		if (rc) {
			cli_error("rm", e.msg);
			status = rc == -EBUSY ? EXIT_USAGE : EXIT_INFRA;
		} else {
			printf("removed run %" PRId64 "\n", ids[i]);
		}
	}
	db_close(db);
	return status;
}

int cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "keep", required_argument, NULL, 'k' },
		{ "labelled", no_argument, NULL, 'L' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_path = cli_default_db();
	bool labelled = false, dry = false, have_keep = false;
	unsigned keep = 0;
	struct verr e = { "" };
	int64_t *ids = NULL;
	size_t nids = 0, done = 0;
	struct db *db;
	int c, status = EXIT_OK;

	while ((c = getopt_long(argc, argv, "d:k:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'k':
			if (!cli_parse_uint("--keep", optarg, 0, 100000000, &keep))
				return EXIT_USAGE;
			have_keep = true;
			break;
		case 'L':
			labelled = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'h':
			gc_usage(stdout);
			return EXIT_OK;
		default:
			gc_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!have_keep || optind < argc) {
		fprintf(stderr, "vmorch gc: expected --keep N and no other argument\n");
		return EXIT_USAGE;
	}
	if (db_open(db_path, &db, &e)) {
		cli_error("gc", e.msg);
		return EXIT_INFRA;
	}
	if (db_runs_past(db, keep, labelled, &ids, &nids, &e)) {
		cli_error("gc", e.msg);
		status = EXIT_INFRA;
	}
	for (size_t i = 0; i < nids && status == EXIT_OK && !dry; i++) {
		if (db_run_delete(db, ids[i], &e)) {
			cli_error("gc", e.msg);
			status = EXIT_INFRA;
		} else {
			done++;
		}
	}
	if (status == EXIT_OK) {
		printf("%s %zu run%s", dry ? "would remove" : "removed", dry ? nids : done,
		       nids == 1 ? "" : "s");
		if (nids)
			printf(" (%" PRId64 "..%" PRId64 ")", ids[0], ids[nids - 1]);
		printf("; kept the newest %u%s\n", keep, labelled ? "" : " and every labelled run");
	}
	free(ids);
	db_close(db);
	return status;
}
