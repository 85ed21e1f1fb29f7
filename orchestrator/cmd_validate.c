/*
 * cmd_validate.c - `vmorch validate FILE...`: load and expand each scenario
 * as `run` would (one set of files), and say how many jobs it makes and the
 * hash `run` would store, without running anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "common/text_escape.h"
#include "orchestrator/cli.h"
#include "orchestrator/inventory.h"
#include "orchestrator/scenario.h"

static void validate_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch validate [--hosts INVENTORY [--limit NAME|LABEL,...]] FILE...\n\n"
		"Check scenario files (syntax, keys, units, ranges, matrix, expectation\n"
		"names, spans against disks) and print the number of jobs each expands\n"
		"to and the SHA-256 of the bytes read, which `run` stores.  Each file is\n"
		"read once, so a pipe works (vmorch validate <(...)).  The files are\n"
		"checked as one run would take them: the same file twice, or two files\n"
		"with one scenario name, is an error.  With --hosts, each VM's\n"
		"placement labels must be met by some host of the inventory (after\n"
		"--limit), as `run --hosts` would need.  Exit status 0 when all are\n"
		"valid, 2 otherwise; errors are printed as FILE:LINE:COLUMN: message.\n");
}

static void print_error(const char *msg)
{
	/* A path may hold anything: never raw to a terminal. */
	text_fputs(msg, stderr, 0);
	fputc('\n', stderr);
}

/* "[nvme, amd]" */
static void labels_text(const struct job_desc *j, char *buf, size_t cap)
{
	size_t off = (size_t)snprintf(buf, cap, "[");

	for (unsigned i = 0; i < j->nlabels && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "",
					j->label[i]);
	if (off < cap)
		snprintf(buf + off, cap - off, "]");
}

/* Each VM (once) whose placement no host of @inv can meet; their count. */
static int check_placement(const struct inventory *inv, const char *path,
			   const struct job_desc *jobs, size_t n)
{
	char labels[JOB_MAX_LABELS * (JOB_LABEL_MAX + 2) + 3];
	char msg[VERR_MAX + sizeof(labels)];
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *l[JOB_MAX_LABELS];
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(jobs[k].vm, jobs[i].vm);
		if (seen || !jobs[i].nlabels)
			continue;
		for (unsigned k = 0; k < jobs[i].nlabels; k++)
			l[k] = jobs[i].label[k];
		if (inventory_can_place(inv, l, jobs[i].nlabels))
			continue;
		labels_text(&jobs[i], labels, sizeof(labels));
		snprintf(msg, sizeof(msg), "%s:%u:%u: VM '%s': no host of %s has"
			 " every label of %s", path, jobs[i].label_line,
			 jobs[i].label_col, jobs[i].vm, inv->path, labels);
		print_error(msg);
		bad++;
	}
	return bad;
}

static int validate_inventory(struct inventory *inv, const char *hosts,
			      const char *limit)
{
	struct verr e = { "" };

	if (inventory_load(hosts, inv, &e) || (limit && inventory_limit(inv, limit, &e))) {
		print_error(e.msg);
		return -1;
	}
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct scenario_set set = { NULL, 0 };
	struct inventory inv = { 0 };
	const char *hosts = NULL, *limit = NULL;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			validate_usage(stdout);
			return EXIT_OK;
		}
		if (c == 'H') {
			hosts = optarg;
			continue;
		}
		if (c == 'L') {
			limit = optarg;
			continue;
		}
		validate_usage(stderr);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "vmorch validate: no scenario file given\n");
		return EXIT_USAGE;
	}
	if (limit && !hosts) {
		fprintf(stderr, "vmorch validate: --limit needs --hosts\n");
		return EXIT_USAGE;
	}
	if (hosts && validate_inventory(&inv, hosts, limit)) {
		inventory_release(&inv);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct job_desc *jobs = NULL;
		struct verr e = { "" };
		size_t n = 0;
		int unplaced = 0;

		if (!scenario_set_add(&set, argv[i], &e) &&
		    !scenario_expand(set.s[set.n - 1], &jobs, &n, &e) && hosts)
			unplaced = check_placement(&inv, argv[i], jobs, n);
		if (e.msg[0] || unplaced) {
			if (e.msg[0])
				print_error(e.msg);
			bad++;
		} else {
			text_fputs(argv[i], stdout, 0);
			printf(": ok, %zu job%s, sha256 %s\n", n, n == 1 ? "" : "s",
			       scenario_sha256(set.s[set.n - 1]));
		}
		job_descs_free(jobs, n);
	}
	scenario_set_release(&set);
	inventory_release(&inv);
	return bad ? EXIT_USAGE : EXIT_OK;
}
