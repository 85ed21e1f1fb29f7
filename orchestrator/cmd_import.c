/*
 * cmd_import.c - `vmorch import FILE...`: other databases' runs merged into
 * this one (db_import), each run once: CI machines can each keep a
 * database, and one place can hold them all.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "orchestrator/cli.h"
#include "orchestrator/db.h"

static void import_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch import [--db PATH] FILE...\n\n"
		"Merge the runs of each vmorch database FILE into this one, each with its\n"
		"results, counters, metrics, expectations, hosts and meta.  A run this\n"
		"database has already (the same UUID) is skipped, so importing twice\n"
		"adds nothing.  FILE is never written: a copy of it is migrated to this\n"
		"vmorch's schema first.\n\n"
		"  -d, --db PATH   the database to merge into " CLI_DB_HELP "\n\n"
		"Exit status: 0 done, 2 usage, 3 a file or the database could not be read\n"
		"or written (what was imported before stays).\n");
}

/* Is @a the same file as @b (device and inode)? */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db_path = cli_default_db();
	struct verr e = { "" };
	struct db *db;
	int c, status = EXIT_OK;

	while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_path = optarg;
			break;
		case 'h':
			import_usage(stdout);
			return EXIT_OK;
		default:
			import_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmorch import: no database file given\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (same_file(argv[i], db_path)) {
			fprintf(stderr, "vmorch import: %s is the database itself\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (db_open(db_path, &db, &e)) {
		cli_error("import", e.msg);
		return EXIT_INFRA;
	}
	for (int i = optind; i < argc && status == EXIT_OK; i++) {
		struct db_import_stats st;

		if (db_import(db, argv[i], &st, &e)) {
			cli_error("import", e.msg);
			status = EXIT_INFRA;
			break;
		}
		printf("%s: %u run%s imported (%u result%s), %u already here\n", argv[i],
		       st.runs, st.runs == 1 ? "" : "s", st.results, st.results == 1 ? "" : "s",
		       st.skipped);
	}
	db_close(db);
	return status;
}
