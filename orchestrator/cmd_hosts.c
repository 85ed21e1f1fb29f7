/*
 * cmd_hosts.c - `vmorch hosts check INVENTORY`: log in to every host of a
 * fleet inventory at once and say, per host, whether jobs can run there:
 * its host key and how it was judged, how vmorch logged in, whether the
 * user may use /dev/kvm, CPUs, memory, kernel, free space in the workdir,
 * and whether this vmorch's worker is staged.
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
#include "orchestrator/fleet_check.h"
#include "orchestrator/inventory.h"
#include "orchestrator/pool.h"

struct hosts_opts {
	const char *limit;
	bool json;
	bool allow_unchecked;
	unsigned timeout_s;
};

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

static void text_cell(struct text_table *t, unsigned col, const char *s)
{
	char buf[4 * FLEET_TEXT_MAX];

	text_escape(buf, sizeof(buf), s, 0);
	text_table_set(t, col, "%s", buf);
}

static const char *const hosts_head[] = {
	"HOST", "ADDRESS", "HOST KEY", "LOGIN", "KVM", "CPUS", "MEMORY", "KERNEL",
	"FREE", "WORKER", "STATUS",
};
#define HOSTS_NCOLS (sizeof(hosts_head) / sizeof(hosts_head[0]))

static void hosts_row(struct text_table *t, const struct fleet_check *c)
{
	const struct host_probe *p = &c->probe;
	char key[2 * FLEET_TEXT_MAX + 4];

	text_table_row(t);
	text_cell(t, 0, c->host->name);
	text_table_set(t, 1, "%s:%u", c->host->address, c->host->port);
	if (!c->connected) {
		text_cell(t, 10, c->error);
		return;
	}
	snprintf(key, sizeof(key), "%s, %s", c->hostkey, c->hostkey_status);
	text_cell(t, 2, key);
	text_cell(t, 3, c->auth);
	if (!c->probed) {
		text_cell(t, 10, c->error);
		return;
	}
	text_table_set(t, 4, "%s, %s", p->facts.kvm_flavour,
		       p->kvm_usable ? "usable" : "not usable");
	text_table_set(t, 5, "%u", p->facts.cpus);
	text_table_set(t, 6, "%.1f GiB", (double)p->facts.memory_bytes / (1 << 30));
	text_cell(t, 7, p->facts.kernel_release);
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
	json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:b, s:b}",
			      "host", c->host->name, "address", c->host->address,
			      "port", (int)c->host->port, "connected", c->connected,
			      "probed", c->probed, "usable", fleet_check_usable(c));

	if (!o)
		return NULL;
	if (c->connected)
		json_object_set_new(o, "login", json_pack("{s:s, s:s, s:s}",
				    "host_key", c->hostkey,
				    "host_key_status", c->hostkey_status,
				    "auth", c->auth));
	if (c->probed) {
		json_object_set_new(o, "facts", host_facts_to_json(&c->probe.facts));
		json_object_set_new(o, "kvm_usable", json_boolean(c->probe.kvm_usable));
		json_object_set_new(o, "workdir", json_string(c->host->workdir));
		json_object_set_new(o, "workdir_free_bytes",
				    json_integer((json_int_t)c->probe.workdir_free_bytes));
		json_object_set_new(o, "worker_staged", json_boolean(c->probe.worker_staged));
	}
	json_object_set_new(o, "error", c->error[0] ? json_string(c->error) : json_null());
	return o;
}

static int hosts_print_json(const struct fleet_check *c, size_t n)
{
	json_t *a = json_array(), *doc;
	int rc;

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, host_json(&c[i])))
			return -1;
	doc = json_pack("{s:i, s:o}", "vmorch_hosts_check", 1, "hosts", a);
	if (!doc)
		return -1;
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!rc)
		fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static int hosts_parse(int argc, char **argv, struct hosts_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "allow-unchecked-host-keys", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->timeout_s = 15;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			hosts_usage(stdout);
			return EXIT_OK;
		case 'j':
			o->json = true;
			break;
		case 'l':
			o->limit = optarg;
			break;
		case 't':
			if (!cli_parse_uint("--timeout", optarg, 1, 3600, &o->timeout_s))
				return EXIT_USAGE;
			break;
		case 'U':
			o->allow_unchecked = true;
			break;
		default:
			hosts_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "vmorch hosts check: expected one inventory file\n");
		return EXIT_USAGE;
	}
	return -1;
}

static void print_error(const char *msg)
{
	fputs("vmorch hosts check: ", stderr);
	text_fputs(msg, stderr, 0);
	fputc('\n', stderr);
}

static int hosts_check(int argc, char **argv)
{
	struct hosts_opts o = { 0 };
	struct inventory inv = { 0 };
	struct fleet_check *res = NULL;
	struct fleet_check_opts fo = { 0 };
	char worker[4096], sha[65];
	struct verr e = { "" };
	int rc, usable = 0;

	rc = hosts_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (inventory_load(argv[optind], &inv, &e) ||
	    (o.limit && inventory_limit(&inv, o.limit, &e))) {
		text_fputs(e.msg, stderr, 0);
		fputc('\n', stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if (inv.host_key_check_off && !o.allow_unchecked) {
		print_error("the inventory turns host key checking off (host_key_check: off);"
			    " give --allow-unchecked-host-keys to accept that");
		rc = EXIT_USAGE;
		goto out;
	}
	if (inv.host_key_check_off)
		fprintf(stderr, "vmorch hosts check: warning: host keys of some hosts are"
			" NOT checked (host_key_check: off)\n");
	if (sha256_file_hex(pool_find_static_worker(worker, sizeof(worker)), sha, &e)) {
		print_error(e.msg);
		rc = EXIT_INFRA;
		goto out;
	}
	res = calloc(inv.n ? inv.n : 1, sizeof(*res));
	fo.worker_sha256 = sha;
	fo.connect_timeout_ms = o.timeout_s * 1000;
	if (!res || fleet_check_run(&inv, &fo, res, &e)) {
		print_error(res ? e.msg : "out of memory");
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

static void hosts_top_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch hosts check [OPTIONS] INVENTORY\n\n"
		"Fleet hosts (vmorch-hosts(5)).  `vmorch hosts check --help` for the options.\n");
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
	fprintf(stderr, "vmorch hosts: unknown subcommand '%s' (expected: check)\n", argv[1]);
	return EXIT_USAGE;
}
