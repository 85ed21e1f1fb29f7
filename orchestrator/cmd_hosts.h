/*
 * cmd_hosts.h - what the `vmorch hosts` subcommands share: `check`
 * (cmd_hosts.c) and `gc` (cmd_hosts_gc.c) take the same inventory, --limit,
 * --json, --timeout and --allow-unchecked-host-keys, open the inventory the
 * same way, and need this vmorch's worker's sha256.
 */
#ifndef VMORCH_CMD_HOSTS_H
#define VMORCH_CMD_HOSTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "common/text_table.h"
#include "orchestrator/inventory.h"

struct hosts_common {
	const char *cmd;		/* "vmorch hosts check", for messages */
	const char *limit;		/* --limit, or NULL */
	bool json;
	bool allow_unchecked;
	unsigned timeout_s;		/* --timeout: the connect's bound */
};

/* getopt codes of the common options, above any short option. */
enum { HOSTS_OPT_JSON = 0x300, HOSTS_OPT_LIMIT, HOSTS_OPT_TIMEOUT, HOSTS_OPT_UNCHECKED };
#define HOSTS_COMMON_LONGOPTS \
	{ "json", no_argument, NULL, HOSTS_OPT_JSON }, \
	{ "limit", required_argument, NULL, HOSTS_OPT_LIMIT }, \
	{ "timeout", required_argument, NULL, HOSTS_OPT_TIMEOUT }, \
	{ "allow-unchecked-host-keys", no_argument, NULL, HOSTS_OPT_UNCHECKED }

/* Defaults for @cmd. */
void hosts_common_init(struct hosts_common *o, const char *cmd);

/*
 * If @opt is a common option, take @arg: 1, or -1 for a bad value (the
 * error is printed).  0 for any other option.
 */
int hosts_common_option(int opt, const char *arg, struct hosts_common *o);

/*
 * Load the inventory at @path (with --limit), refuse host_key_check: off
 * without --allow-unchecked-host-keys (and warn with it), and hash this
 * vmorch's static worker into @sha.  -1 to go on, or the exit status (the
 * error is printed; release @inv either way).
 */
int hosts_open(const struct hosts_common *o, const char *path, struct inventory *inv,
	       char sha[65]);

/*
 * The command line: getopt_long over @longopts (--help as 'h', the common
 * options, and the command's own, which go to @own: 1 taken, -1 a bad
 * value whose error it printed, 0 unknown; @own may be NULL), then one
 * inventory file at argv[optind].  -1 to go on, or the exit status.
 */
int hosts_parse(int argc, char **argv, const struct option *longopts,
		struct hosts_common *o, int (*own)(int opt, const char *arg, void *ctx),
		void *ctx, void (*usage)(FILE *f));

/* "<cmd>: <msg>" on stderr, @msg escaped (it may come from a host). */
void hosts_print_error(const struct hosts_common *o, const char *msg);

/* Print @doc (taken) on stdout, indented, keys sorted; 0 or -1. */
int hosts_print_doc(json_t *doc);

/* A table cell from untrusted text. */
void hosts_text_cell(struct text_table *t, unsigned col, const char *s);

/* The `gc` subcommand (cmd_hosts_gc.c). */
int hosts_gc(int argc, char **argv);

#endif
