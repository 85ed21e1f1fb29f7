/*
 * fleet_gc.c - the store collection on every host at once (see
 * fleet_gc.h): fleet_each.c logs in and runs it, store_gc.c writes the
 * script and reads its answer.
 */
#include <string.h>

#include "orchestrator/fleet_gc.h"

/* A line per file deleted: room for a million (store_gc.c's cap). */
#define GC_ANSWER_MAX		(128u << 20)
#define GC_ANSWER_TIMEOUT_MS	120000

struct gc {
	const struct inventory *inv;
	const struct fleet_gc_opts *o;
	struct fleet_gc *out;
};

static char *gc_command(void *ctx, size_t i, struct verr *e)
{
	struct gc *c = ctx;
	struct store_gc_opts so = {
		.workdir = c->inv->hosts[i].workdir, .keep_sha256 = c->o->worker_sha256,
		.max_bytes = c->o->max_bytes, .min_age_s = c->o->min_age_s,
		.dry_run = c->o->dry_run,
	};

	return store_gc_command(&so, e);
}

static int gc_answer(void *ctx, size_t i, const char *out, size_t len, struct verr *e)
{
	struct gc *c = ctx;
	int rc = store_gc_parse(out, len, &c->out[i].gc, e);

	if (rc)
		store_gc_release(&c->out[i].gc);
	return rc;
}

static struct fleet_each_result *gc_result(void *ctx, size_t i)
{
	struct gc *c = ctx;

	return &c->out[i].run;
}

int fleet_gc_run(const struct inventory *inv, const struct fleet_gc_opts *o,
		 struct fleet_gc *out, struct verr *e)
{
	struct fleet_each_ops ops = {
		.what = "store gc", .answer_max = GC_ANSWER_MAX,
		.answer_timeout_ms = GC_ANSWER_TIMEOUT_MS,
		.command = gc_command, .answer = gc_answer, .result = gc_result,
	};
	struct gc c = { .inv = inv, .o = o, .out = out };

	memset(out, 0, inv->n * sizeof(*out));
	return fleet_each_run(inv, o->connect_timeout_ms, &ops, &c, e);
}

void fleet_gc_release(struct fleet_gc *g)
{
	store_gc_release(&g->gc);
}
