/*
 * cmd_validate.c - `vmorch validate FILE...`: load and expand each scenario
 * and say how many jobs it makes, without running anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "orchestrator/cli.h"
#include "orchestrator/scenario.h"

static void validate_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch validate FILE...\n\n"
		"Check scenario files (syntax, keys, units, ranges, matrix) and print\n"
		"the number of jobs each expands to.  Exit status 0 when all are valid,\n"
		"2 otherwise; errors are printed as FILE:LINE:COLUMN: message.\n");
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
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
		struct scenario *s = NULL;
		struct job_desc *jobs = NULL;
		struct verr e = { "" };
		size_t n = 0;

		if (scenario_load(argv[i], &s, &e) || scenario_expand(s, &jobs, &n, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			bad++;
		} else {
			printf("%s: ok, %zu job%s\n", argv[i], n, n == 1 ? "" : "s");
		}
		job_descs_free(jobs, n);
		scenario_free(s);
	}
	return bad ? EXIT_USAGE : EXIT_OK;
}
