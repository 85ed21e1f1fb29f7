/*
 * cmd_hosts.c - `vmorch hosts`: the subcommands' dispatch and what they
 * share (cmd_hosts.h), and `vmorch hosts check INVENTORY`: log in to every
 * host of a fleet inventory at once and say, per host, whether jobs can
 * run there: its host key and how it was judged, how vmorch logged in,
 * whether the user may use /dev/kvm, CPUs, memory, kernel, free space in
 * the workdir, and whether this vmorch's worker is staged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/sha256.h"
#include "common/text_escape.h"
#include "common/text_table.h"
#include "orchestrator/cli.h"
#include "orchestrator/cmd_hosts.h"
#include "orchestrator/fleet_check.h"
#include "orchestrator/inventory.h"
#include "orchestrator/pool.h"

/* ---- shared ---- */

void hosts_common_init(struct hosts_common *o, const char *cmd)
{
	*o = (struct hosts_common){ .cmd = cmd, .timeout_s = 15 };
}

int hosts_common_option(int opt, const char *arg, struct hosts_common *o)
{
	switch (opt) {
	case HOSTS_OPT_JSON:
		o->json = true;
		return 1;
	case HOSTS_OPT_LIMIT:
		o->limit = arg;
		return 1;
	case HOSTS_OPT_TIMEOUT:
		return cli_parse_uint("--timeout", arg, 1, 3600, &o->timeout_s) ? 1 : -1;
	case HOSTS_OPT_UNCHECKED:
		o->allow_unchecked = true;
		return 1;
	default:
		return 0;
	}
}

void hosts_print_error(const struct hosts_common *o, const char *msg)
{
	fprintf(stderr, "%s: ", o->cmd);
	text_fputs(msg, stderr, 0);
	fputc('\n', stderr);
}

int hosts_open(const struct hosts_common *o, const char *path, struct inventory *inv,
	       char sha[65])
{
	char worker[4096];
	struct verr e = { "" };

	if (inventory_load(path, inv, &e) || (o->limit && inventory_limit(inv, o->limit, &e))) {
		text_fputs(e.msg, stderr, 0);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	if (inv->host_key_check_off && !o->allow_unchecked) {
		hosts_print_error(o, "the inventory turns host key checking off"
				  " (host_key_check: off); give --allow-unchecked-host-keys"
				  " to accept that");
		return EXIT_USAGE;
	}
	if (inv->host_key_check_off)
		fprintf(stderr, "%s: warning: host keys of some hosts are NOT checked"
			" (host_key_check: off)\n", o->cmd);
	if (sha256_file_hex(pool_find_static_worker(worker, sizeof(worker)), sha, &e)) {
		hosts_print_error(o, e.msg);
		return EXIT_INFRA;
	}
	return -1;
}

int hosts_print_doc(json_t *doc)
{
	int rc;

	if (!doc)
		return -1;
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!rc)
		fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

void hosts_text_cell(struct text_table *t, unsigned col, const char *s)
{
	char buf[4 * FLEET_TEXT_MAX];

	text_escape(buf, sizeof(buf), s, 0);
	text_table_set(t, col, "%s", buf);
}

/* ---- check ---- */

static void hosts_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch hosts check [--limit NAME|LABEL,...] [--json]\n"
		"                         [--timeout S] [--allow-unchecked-host-keys] INVENTORY\n\n"
		"Log in to every host of a fleet inventory (vmorch-hosts(5)) at once and\n"
		"print one line per host: its host key and how known_hosts judged it, how\n"
		"vmorch logged in, whether that user may use /dev/kvm and which KVM it is,\n"
		"CPUs, memory, kernel release, free space in the workdir, and whether this\n"
		"vmorch's worker is staged there.  --timeout bounds the connect (default\n"
		"15 s); the probe then has 20 s.  An inventory with host_key_check: off is\n"
		"refused unless --allow-unchecked-host-keys is given.\n\n"
		"Exit status: 0 when every host is usable (logged in, /dev/kvm usable),\n"
		"3 otherwise, 2 for a bad command line or inventory.\n");
}

static const char *const hosts_head[] = {
	"HOST", "ADDRESS", "HOST KEY", "LOGIN", "KVM", "CPUS", "MEMORY", "KERNEL",
	"FREE", "WORKER", "STATUS",
};
#define HOSTS_NCOLS (sizeof(hosts_head) / sizeof(hosts_head[0]))

static void hosts_row(struct text_table *t, const struct fleet_check *c)
{
	const struct fleet_each_result *r = &c->run;
	const struct host_probe *p = &c->probe;
	char key[2 * FLEET_TEXT_MAX + 4];

	text_table_row(t);
	hosts_text_cell(t, 0, r->host->name);
	text_table_set(t, 1, "%s:%u", r->host->address, r->host->port);
	if (!r->connected) {
		hosts_text_cell(t, 10, r->error);
		return;
	}
	snprintf(key, sizeof(key), "%s, %s", r->hostkey, r->hostkey_status);
	hosts_text_cell(t, 2, key);
	hosts_text_cell(t, 3, r->auth);
	if (!r->answered) {
		hosts_text_cell(t, 10, r->error);
		return;
	}
	text_table_set(t, 4, "%s, %s", p->facts.kvm_flavour,
		       p->kvm_usable ? "usable" : "not usable");
	text_table_set(t, 5, "%u", p->facts.cpus);
	text_table_set(t, 6, "%.1f GiB", (double)p->facts.memory_bytes / (1 << 30));
	hosts_text_cell(t, 7, p->facts.kernel_release);
	text_table_set(t, 8, "%.1f GiB", (double)p->workdir_free_bytes / (1 << 30));
	text_table_set(t, 9, "%s", p->worker_staged ? "staged" : "not staged");
	text_table_set(t, 10, "%s", fleet_check_usable(c) ? "ok" :
		       "no usable /dev/kvm for this user");
}

static int hosts_print_text(const struct fleet_check *c, size_t n)
{
	bool right[HOSTS_NCOLS] = { false };
	struct text_table t;
	int rc;

	right[5] = right[6] = right[8] = true;
	text_table_init(&t, HOSTS_NCOLS, hosts_head, right);
	for (size_t i = 0; i < n; i++)
		hosts_row(&t, &c[i]);
	rc = t.oom ? -1 : text_table_print(&t, stdout);
	text_table_free(&t);
	return rc;
}

static json_t *host_json(const struct fleet_check *c)
{
	const struct fleet_each_result *r = &c->run;
	json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:b, s:b}",
			      "host", r->host->name, "address", r->host->address,
			      "port", (int)r->host->port, "connected", r->connected,
			      "probed", r->answered, "usable", fleet_check_usable(c));

	if (!o)
		return NULL;
	if (r->connected)
		json_object_set_new(o, "login", json_pack("{s:s, s:s, s:s, s:i}",
				    "host_key", r->hostkey,
				    "host_key_status", r->hostkey_status,
				    "auth", r->auth, "ms", (int)r->login_ms));
	if (r->answered) {
		json_object_set_new(o, "facts", host_facts_to_json(&c->probe.facts));
		json_object_set_new(o, "kvm_usable", json_boolean(c->probe.kvm_usable));
		json_object_set_new(o, "workdir", json_string(r->host->workdir));
		json_object_set_new(o, "workdir_free_bytes",
				    json_integer((json_int_t)c->probe.workdir_free_bytes));
		json_object_set_new(o, "worker_staged", json_boolean(c->probe.worker_staged));
		json_object_set_new(o, "probe_ms", json_integer(r->answer_ms));
	}
	json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
	return o;
}

static int hosts_print_json(const struct fleet_check *c, size_t n)
{
	json_t *a = json_array(), *doc;

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, host_json(&c[i])))
			return -1;
	doc = json_pack("{s:i, s:o}", "vmorch_hosts_check", 1, "hosts", a);
	return hosts_print_doc(doc);
}

int hosts_parse(int argc, char **argv, const struct option *longopts,
		struct hosts_common *o, int (*own)(int opt, const char *arg, void *ctx),
		void *ctx, void (*usage)(FILE *f))
{
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		r = hosts_common_option(c, optarg, o);
		if (r == 0 && own)
			r = own(c, optarg, ctx);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s: expected one inventory file\n", o->cmd);
		return EXIT_USAGE;
	}
	return -1;
}

static const struct option check_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	HOSTS_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static int hosts_check(int argc, char **argv)
{
	struct hosts_common o;
	struct inventory inv = { 0 };
	struct fleet_check *res = NULL;
	struct fleet_check_opts fo = { 0 };
	char sha[65];
	struct verr e = { "" };
	int rc, usable = 0;

	hosts_common_init(&o, "vmorch hosts check");
	rc = hosts_parse(argc, argv, check_longopts, &o, NULL, NULL, hosts_usage);
	if (rc >= 0)
		return rc;
	rc = hosts_open(&o, argv[optind], &inv, sha);
	if (rc >= 0)
		goto out;
	res = calloc(inv.n ? inv.n : 1, sizeof(*res));
	fo.worker_sha256 = sha;
	fo.connect_timeout_ms = o.timeout_s * 1000;
	if (!res || fleet_check_run(&inv, &fo, res, &e)) {
		hosts_print_error(&o, res ? e.msg : "out of memory");
		rc = EXIT_INFRA;
		goto out;
	}
	for (size_t i = 0; i < inv.n; i++)
		usable += fleet_check_usable(&res[i]);
	if (o.json ? hosts_print_json(res, inv.n) : hosts_print_text(res, inv.n)) {
		rc = EXIT_INFRA;
		goto out;
	}
	if (!o.json)
		printf("%d of %zu host%s usable\n", usable, inv.n, inv.n == 1 ? "" : "s");
	rc = (size_t)usable == inv.n ? EXIT_OK : EXIT_INFRA;
out:
	free(res);
	inventory_release(&inv);
	return rc;
}

/* ---- dispatch ---- */

static void hosts_top_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch hosts check [OPTIONS] INVENTORY\n"
		"       vmorch hosts gc [OPTIONS] INVENTORY\n\n"
		"Fleet hosts (vmorch-hosts(5)):\n"
		"  check  log in to every host and say whether it can run jobs\n"
		"  gc     trim every host's store of staged files (least recently used\n"
		"         first), under the store lock that running jobs hold\n\n"
		"`vmorch hosts SUBCOMMAND --help` for the options.\n");
}

int cmd_hosts(int argc, char **argv)
{
	if (argc < 2) {
		hosts_top_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		hosts_top_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "check"))
		return hosts_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gc"))
		return hosts_gc(argc - 1, argv + 1);
	fprintf(stderr, "vmorch hosts: unknown subcommand '%s' (expected: check, gc)\n",
		argv[1]);
	return EXIT_USAGE;
}
