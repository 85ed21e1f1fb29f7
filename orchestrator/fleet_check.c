/*
 * fleet_check.c - the host probe on every host at once (see
 * fleet_check.h): fleet_each.c logs in and runs it, host_probe.c writes
 * the script and reads its answer.
 */
#include <string.h>

#include "orchestrator/fleet_check.h"

#define CHECK_PROBE_MAX		(64 * 1024)
#define CHECK_PROBE_TIMEOUT_MS	20000

struct check {
	const struct inventory *inv;
	const struct fleet_check_opts *o;
	struct fleet_check *out;
};

static char *check_command(void *ctx, size_t i, struct verr *e)
{
	struct check *c = ctx;

	return host_probe_command(c->inv->hosts[i].workdir, c->o->worker_sha256, e);
}

static int check_answer(void *ctx, size_t i, const char *out, size_t len, struct verr *e)
{
	struct check *c = ctx;

	return host_probe_parse(out, len, &c->out[i].probe, e);
}

static struct fleet_each_result *check_result(void *ctx, size_t i)
{
	struct check *c = ctx;

	return &c->out[i].run;
}

int fleet_check_run(const struct inventory *inv, const struct fleet_check_opts *o,
		    struct fleet_check *out, struct verr *e)
{
	struct fleet_each_ops ops = {
		.what = "host probe", .answer_max = CHECK_PROBE_MAX,
		.answer_timeout_ms = o->probe_timeout_ms ? o->probe_timeout_ms :
				     CHECK_PROBE_TIMEOUT_MS,
		.command = check_command, .answer = check_answer, .result = check_result,
	};
	struct check c = { .inv = inv, .o = o, .out = out };

	memset(out, 0, inv->n * sizeof(*out));
	return fleet_each_run(inv, o->connect_timeout_ms, &ops, &c, e);
}
