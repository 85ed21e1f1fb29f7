/*
 * cmd_hosts_gc.c - `vmorch hosts gc INVENTORY`: trim every fleet host's
 * store at once (fleet_gc.h) and say, per host, what was there, what went
 * and what is left; or, with --dry-run, what would go.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/text_escape.h"
#include "common/text_table.h"
#include "orchestrator/cli.h"
#include "orchestrator/cmd_hosts.h"
#include "orchestrator/fleet_gc.h"
#include "orchestrator/units.h"

#define GC_DEFAULT_MAX		(10ULL << 30)
#define GC_DEFAULT_MIN_AGE_S	(15 * 60)

struct gc_opts {
	struct hosts_common c;
	uint64_t max_bytes;
	uint64_t min_age_s;
	bool dry_run;
};

static void gc_usage(FILE *f)
{
	fprintf(f, "Usage: vmorch hosts gc [--max-size SIZE] [--min-age DURATION] [--dry-run]\n"
		"                      [--limit NAME|LABEL,...] [--json] [--timeout S]\n"
		"                      [--allow-unchecked-host-keys] INVENTORY\n\n"
		"Trim the store of every host of a fleet inventory (vmorch-hosts(5)) at once:\n"
		"the staged workers (<workdir>/bin/<sha256>/vmm-worker) and artifacts\n"
		"(<workdir>/cas/<sha256>).  Least recently used files go first, until the\n"
		"store is at most --max-size (default 10G; 512M, 10G, 0 ...).  Never deleted:\n"
		"this vmorch's worker, and files used within --min-age (default 15m; 90s,\n"
		"2h, 0), which covers a run between staging a file and starting its job.\n"
		"Temporaries of stages that were killed are removed.\n\n"
		"On each host the store lock (<workdir>/lock) is taken exclusively without\n"
		"waiting: running jobs and stages hold it shared, and a host whose lock is\n"
		"held is reported busy and left alone.  --dry-run deletes nothing and lists\n"
		"what would go.  --timeout bounds the connect (default 15 s); the host then\n"
		"has 120 s to answer.  An inventory with host_key_check: off is refused\n"
		"unless --allow-unchecked-host-keys is given.\n\n"
		"Exit status: 0 when every host's store was collected, 3 when a host was\n"
		"unreachable, busy or failed, 2 for a bad command line or inventory.\n");
}

static bool gc_parse_size(const char *arg, uint64_t *out)
{
	int rc = units_parse_size(arg, out);

	if (rc)
		fprintf(stderr, "vmorch hosts gc: --max-size '%s': %s\n", arg,
			rc == -ERANGE ? "too large" : "expected bytes with an optional binary"
			" unit, like 512M, 10G or 0");
	return !rc;
}

/* "0" or a duration with its unit, in whole seconds (rounded up). */
static bool gc_parse_age(const char *arg, uint64_t *out)
{
	uint64_t ms = 0;
	int rc = strcmp(arg, "0") ? units_parse_time_ms(arg, &ms) : 0;

	if (rc)
		fprintf(stderr, "vmorch hosts gc: --min-age '%s': %s\n", arg,
			rc == -ERANGE ? "too large" : "expected a duration with its unit,"
			" like 90s, 15m or 2h, or 0");
	*out = ms / 1000 + (ms % 1000 != 0);
	return !rc;
}

enum { GC_OPT_MAX_SIZE = 0x400, GC_OPT_MIN_AGE, GC_OPT_DRY_RUN };

static int gc_option(int opt, const char *arg, void *ctx)
{
	struct gc_opts *o = ctx;

	switch (opt) {
	case GC_OPT_MAX_SIZE:
		return gc_parse_size(arg, &o->max_bytes) ? 1 : -1;
	case GC_OPT_MIN_AGE:
		return gc_parse_age(arg, &o->min_age_s) ? 1 : -1;
	case GC_OPT_DRY_RUN:
		o->dry_run = true;
		return 1;
	default:
		return 0;
	}
}

static const struct option gc_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "max-size", required_argument, NULL, GC_OPT_MAX_SIZE },
	{ "min-age", required_argument, NULL, GC_OPT_MIN_AGE },
	{ "dry-run", no_argument, NULL, GC_OPT_DRY_RUN },
	HOSTS_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* ---- output ---- */

/* "512 B", "1.5 KiB", "10.0 GiB". */
static void gc_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	int i = -1;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else
		snprintf(buf, cap, "%.1f %s", v, unit[i]);
}

/* The host's state in words: "ok", "busy: ...", "unreachable: ...", "failed: ...". */
static void gc_status(const struct fleet_gc *g, char *buf, size_t cap)
{
	size_t failed = store_gc_count(&g->gc, STORE_GC_FAILED);

	if (!g->run.connected)
		snprintf(buf, cap, "unreachable: %s", g->run.error);
	else if (!g->run.answered)
		snprintf(buf, cap, "failed: %s", g->run.error);
	else if (g->gc.busy)
		snprintf(buf, cap, "busy: a run is using its store");
	else if (g->gc.error[0])
		snprintf(buf, cap, "failed: %s", g->gc.error);
	else if (failed)
		snprintf(buf, cap, "failed: %zu file%s could not be deleted", failed,
			 failed == 1 ? "" : "s");
	else if (g->gc.spared_files)
		snprintf(buf, cap, "ok, still over --max-size: kept %" PRIu64 " file%s"
			 " (this vmorch's worker, or used within --min-age)",
			 g->gc.spared_files, g->gc.spared_files == 1 ? "" : "s");
	else
		snprintf(buf, cap, "ok");
}

static const char *const gc_head[] = {
	"HOST", "FILES", "BYTES", "DELETED", "FREED", "KEPT", "STATUS",
};
#define GC_NCOLS (sizeof(gc_head) / sizeof(gc_head[0]))

static void gc_row(struct text_table *t, const struct fleet_gc *g)
{
	char status[2 * VERR_MAX], b[32];
	uint64_t freed = store_gc_freed(&g->gc);

	text_table_row(t);
	hosts_text_cell(t, 0, g->run.host->name);
	gc_status(g, status, sizeof(status));
	hosts_text_cell(t, 6, status);
	if (!g->run.answered || g->gc.busy || g->gc.error[0])
		return;
	text_table_set(t, 1, "%" PRIu64, g->gc.files);
	gc_bytes(g->gc.bytes, b, sizeof(b));
	text_table_set(t, 2, "%s", b);
	text_table_set(t, 3, "%zu", store_gc_count(&g->gc, STORE_GC_DELETED) +
		       store_gc_count(&g->gc, STORE_GC_TEMP));
	gc_bytes(freed, b, sizeof(b));
	text_table_set(t, 4, "%s", b);
	gc_bytes(g->gc.bytes - freed, b, sizeof(b));
	text_table_set(t, 5, "%s", b);
}

/* --dry-run: what would go, host by host, oldest first. */
static void gc_print_plan(const struct fleet_gc *g, size_t n)
{
	char b[32];

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < g[i].gc.nfile; k++) {
			const struct store_gc_file *f = &g[i].gc.file[k];

			if (f->fate == STORE_GC_FAILED)
				continue;
			gc_bytes(f->bytes, b, sizeof(b));
			text_fputs(g[i].run.host->name, stdout, 0);
			if (f->fate == STORE_GC_TEMP)
				printf(": would remove %s (%s, a killed stage's temporary)\n",
				       f->path, b);
			else
				printf(": would delete %s (%s, last used %" PRIu64 " s ago)\n",
				       f->path, b, f->age_s);
		}
	}
}

static int gc_print_text(const struct gc_opts *o, const struct fleet_gc *g, size_t n,
			 size_t collected)
{
	bool right[GC_NCOLS] = { false, true, true, true, true, true, false };
	struct text_table t;
	uint64_t freed = 0;
	char b[32];
	int rc;

	text_table_init(&t, GC_NCOLS, gc_head, right);
	for (size_t i = 0; i < n; i++) {
		gc_row(&t, &g[i]);
		freed += store_gc_freed(&g[i].gc);
	}
	rc = t.oom ? -1 : text_table_print(&t, stdout);
	text_table_free(&t);
	if (rc)
		return rc;
	if (o->dry_run)
		gc_print_plan(g, n);
	gc_bytes(freed, b, sizeof(b));
	printf("%zu of %zu host%s collected, %s %s%s\n", collected, n, n == 1 ? "" : "s",
	       b, o->dry_run ? "would be freed" : "freed",
	       o->dry_run ? " (dry run: nothing deleted)" : "");
	return 0;
}

static const char *const gc_fate_name[] = {
	[STORE_GC_DELETED] = "deleted", [STORE_GC_TEMP] = "temporary",
	[STORE_GC_FAILED] = "failed",
};

static json_t *gc_files_json(const struct store_gc *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->nfile; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:s}",
				"path", s->file[i].path,
				"bytes", (json_int_t)s->file[i].bytes,
				"age_s", (json_int_t)s->file[i].age_s,
				"fate", gc_fate_name[s->file[i].fate]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *gc_host_json(const struct fleet_gc *g)
{
	const struct fleet_each_result *r = &g->run;
	const char *state = !r->connected ? "unreachable" : !r->answered ? "failed" :
			    g->gc.busy ? "busy" : fleet_gc_collected(g) ? "ok" : "failed";
	char status[2 * VERR_MAX];
	uint64_t freed = store_gc_freed(&g->gc);
	json_t *o;

	gc_status(g, status, sizeof(status));
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:b}", "host", r->host->name,
		      "address", r->host->address, "port", (int)r->host->port,
		      "status", state, "message", status,
		      "collected", fleet_gc_collected(g));
	if (o)
		json_object_set_new(o, "error", r->error[0] ? json_string(r->error) :
				    g->gc.error[0] ? json_string(g->gc.error) : json_null());
	if (!o || !r->answered || g->gc.busy || g->gc.error[0])
		return o;
	json_object_set_new(o, "workdir", json_string(r->host->workdir));
	json_object_set_new(o, "files_before", json_integer((json_int_t)g->gc.files));
	json_object_set_new(o, "bytes_before", json_integer((json_int_t)g->gc.bytes));
	json_object_set_new(o, "files_deleted", json_integer((json_int_t)(
		store_gc_count(&g->gc, STORE_GC_DELETED) +
		store_gc_count(&g->gc, STORE_GC_TEMP))));
	json_object_set_new(o, "bytes_freed", json_integer((json_int_t)freed));
	json_object_set_new(o, "bytes_kept", json_integer((json_int_t)(g->gc.bytes - freed)));
	json_object_set_new(o, "files_spared", json_integer((json_int_t)g->gc.spared_files));
	json_object_set_new(o, "bytes_spared", json_integer((json_int_t)g->gc.spared_bytes));
	json_object_set_new(o, "files", gc_files_json(&g->gc));
	return o;
}

static int gc_print_json(const struct gc_opts *o, const struct fleet_gc *g, size_t n)
{
	json_t *a = json_array(), *doc;

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, gc_host_json(&g[i]))) {
			json_decref(a);
			return -1;
		}
	doc = json_pack("{s:i, s:b, s:I, s:I, s:o}", "vmorch_hosts_gc", 1,
			"dry_run", o->dry_run, "max_size", (json_int_t)o->max_bytes,
			"min_age_s", (json_int_t)o->min_age_s, "hosts", a);
	return hosts_print_doc(doc);
}

/* ---- the command ---- */

int hosts_gc(int argc, char **argv)
{
	struct gc_opts o = { .max_bytes = GC_DEFAULT_MAX, .min_age_s = GC_DEFAULT_MIN_AGE_S };
	struct inventory inv = { 0 };
	struct fleet_gc *res = NULL;
	struct fleet_gc_opts fo = { 0 };
	struct verr e = { "" };
	size_t collected = 0;
	char sha[65];
	int rc;

	hosts_common_init(&o.c, "vmorch hosts gc");
	rc = hosts_parse(argc, argv, gc_longopts, &o.c, gc_option, &o, gc_usage);
	if (rc >= 0)
		return rc;
	rc = hosts_open(&o.c, argv[optind], &inv, sha);
	if (rc >= 0)
		goto out;
	res = calloc(inv.n ? inv.n : 1, sizeof(*res));
	fo = (struct fleet_gc_opts){
		.worker_sha256 = sha, .max_bytes = o.max_bytes, .min_age_s = o.min_age_s,
		.dry_run = o.dry_run, .connect_timeout_ms = o.c.timeout_s * 1000,
	};
	if (!res || fleet_gc_run(&inv, &fo, res, &e)) {
		hosts_print_error(&o.c, res ? e.msg : "out of memory");
		rc = EXIT_INFRA;
		goto out;
	}
	for (size_t i = 0; i < inv.n; i++)
		collected += fleet_gc_collected(&res[i]);
	if (o.c.json ? gc_print_json(&o, res, inv.n) :
	    gc_print_text(&o, res, inv.n, collected)) {
		rc = EXIT_INFRA;
		goto out;
	}
	rc = collected == inv.n ? EXIT_OK : EXIT_INFRA;
out:
	for (size_t i = 0; res && i < inv.n; i++)
		fleet_gc_release(&res[i]);
	free(res);
	inventory_release(&inv);
	return rc;
}
