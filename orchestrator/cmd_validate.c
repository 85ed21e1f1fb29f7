/*
 * cmd_validate.c - `vmorch validate FILE...`: load and expand each scenario
 * as `run` would (one set of files), and say how many jobs it makes and the
 * hash `run` would store, without running anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/text_escape.h"
#include "orchestrator/cli.h"
#include "orchestrator/scenario.h"

static void validate_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch validate FILE...\n\n"
		"Check scenario files (syntax, keys, units, ranges, matrix, expectation\n"
		"names, spans against disks) and print the number of jobs each expands\n"
		"to and the SHA-256 of the bytes read, which `run` stores.  Each file is\n"
		"read once, so a pipe works (vmorch validate <(...)).  The files are\n"
		"checked as one run would take them: the same file twice, or two files\n"
		"with one scenario name, is an error.  Exit status 0 when all are valid,\n"
		"2 otherwise; errors are printed as FILE:LINE:COLUMN: message.\n");
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scenario_set set = { NULL, 0 };
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			validate_usage(stdout);
			return EXIT_OK;
		}
		validate_usage(stderr);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "vmorch validate: no scenario file given\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct job_desc *jobs = NULL;
		struct verr e = { "" };
		size_t n = 0;

		if (scenario_set_add(&set, argv[i], &e) ||
		    scenario_expand(set.s[set.n - 1], &jobs, &n, &e)) {
			/* A path may hold anything: never raw to a terminal. */
			text_fputs(e.msg, stderr, 0);
			fputc('\n', stderr);
			bad++;
		} else {
			text_fputs(argv[i], stdout, 0);
			printf(": ok, %zu job%s, sha256 %s\n", n, n == 1 ? "" : "s",
			       scenario_sha256(set.s[set.n - 1]));
		}
		job_descs_free(jobs, n);
	}
	scenario_set_release(&set);
	return bad ? EXIT_USAGE : EXIT_OK;
}
