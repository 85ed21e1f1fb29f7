/*
 * main.c - the vmorch command: a table of subcommands, each in its own
 * cmd_*.c file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text_escape.h"
#include "orchestrator/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run scenario files and store the results" },
	{ "validate", cmd_validate, "check scenario files without running them" },
	{ "runs", cmd_runs, "list stored runs" },
	{ "show", cmd_show, "show one run's jobs and verdicts" },
	{ "diff", cmd_diff, "compare two runs: what improved, what regressed" },
	{ "history", cmd_history, "one metric of a scenario over time" },
	{ "regressions", cmd_regressions, "only the regressions, for CI; exit 1 if any" },
	{ "report", cmd_report, "a run's report: text, markdown, json, junit or html" },
	{ "hosts", cmd_hosts, "fleet hosts: check that each can run jobs, trim their stores" },
	{ "import", cmd_import, "merge another database's runs into this one" },
	{ "rm", cmd_rm, "delete runs, by id or label" },
	{ "gc", cmd_gc, "delete all but the newest runs (labelled ones stay)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: vmorch COMMAND [OPTIONS] [ARGS]\n\n"
		"Run device tests in KVM virtual machines and compare runs.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`vmorch help COMMAND` (or `vmorch COMMAND --help`) describes a"
		" command;\nman vmorch, vmorch-scenario(5), vmorch-hosts(5).\n");
}

const char *cli_default_db(void)
{
	const char *env = getenv("VMORCH_DB");

	return env && *env ? env : CLI_DEFAULT_DB;
}

void cli_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "vmorch %s: ", cmd);
	text_fputs(msg, stderr, 0);
	fputc('\n', stderr);
}

bool cli_parse_uint(const char *opt, const char *arg, unsigned min, unsigned max,
		    unsigned *out)
{
	char *end;
	unsigned long v;

	v = strtoul(arg, &end, 10);
	if (!*arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "vmorch: %s: expected an integer in %u..%u, got '%s'\n",
			opt, min, max, arg);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/*
 * Every command's output is checked once, here: a full disk, a closed pipe
 * or /dev/full turns a successful answer into exit 3 with the reason,
 * never into a silent exit 0 with a truncated document.
 */
static int output_check(const char *cmd, int status)
{
	int err = 0;

	if (fflush(stdout) || ferror(stdout))
		err = errno ? errno : EIO;
	if (!err && (fflush(stderr) || ferror(stderr)))
		err = errno ? errno : EIO;
	if (!err)
		return status;
	fprintf(stderr, "vmorch%s%s: write error: %s\n", cmd ? " " : "", cmd ? cmd : "",
		strerror(err));
	return status == EXIT_OK || status == EXIT_FAILED ? EXIT_INFRA : status;
}

int main(int argc, char **argv)
{
	/*
	 * A reader that goes away (`vmorch run x.yaml | head -1`) must not kill
	 * vmorch before it stores and closes its run: writes fail with EPIPE
	 * instead, and output_check() reports it.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* `vmorch help CMD` is `vmorch CMD --help`. */
	if (strcmp(argv[1], "help") == 0 && argc >= 3) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (strcmp(argv[2], commands[i].name) == 0) {
				char *help[] = { argv[2], "--help", NULL };

				return output_check(argv[2], commands[i].fn(2, help));
			}
		fprintf(stderr, "vmorch help: unknown command '%s' (try vmorch --help)\n",
			argv[2]);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return output_check(NULL, EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("vmorch %s\n", PACKAGE_VERSION);
		return output_check(NULL, EXIT_OK);
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return output_check(argv[1], commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "vmorch: unknown command '%s' (try vmorch --help)\n", argv[1]);
	return EXIT_USAGE;
}
