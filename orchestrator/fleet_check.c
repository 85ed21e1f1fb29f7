/*
 * fleet_check.c - every host of an inventory checked at once (see
 * fleet_check.h): one SSH connection each, all on one poll loop; on login,
 * one exec channel runs the host probe; the answer or the reason there is
 * none is kept per host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/fleet_check.h"
#include "orchestrator/fleet_run.h"
#include "orchestrator/ssh.h"

#define CHECK_PROBE_MAX		(64 * 1024)
#define CHECK_PROBE_TIMEOUT_MS	20000

struct check_host {
	struct fleet_check *out;
	struct ssh_conn *conn;
	struct ssh_chan *chan;
	char *command;
	bool done;
};

struct check {
	struct check_host *h;
	size_t n, ndone;
};

static void check_done(struct check *c, struct check_host *h, const char *why)
{
	if (h->done)
		return;
	if (why && !h->out->error[0])
		snprintf(h->out->error, sizeof(h->out->error), "%s", why);
	h->done = true;
	c->ndone++;
}

static void check_connected(void *ctx, struct ssh_conn *conn)
{
	struct check *c = ctx;
	struct check_host *h = ssh_conn_user(conn);
	struct ssh_chan_opts o = {
		.command = h->command, .user = h, .capture_max = CHECK_PROBE_MAX,
	};
	struct verr e = { "" };

	h->out->connected = true;
	snprintf(h->out->hostkey, sizeof(h->out->hostkey), "%s", ssh_conn_hostkey(conn));
	snprintf(h->out->hostkey_status, sizeof(h->out->hostkey_status), "%s",
		 ssh_conn_hostkey_status(conn));
	snprintf(h->out->auth, sizeof(h->out->auth), "%s", ssh_conn_auth_method(conn));
	if (ssh_chan_open(conn, &o, &h->chan, &e))
		check_done(c, h, e.msg);
}

static void check_lost(void *ctx, struct ssh_conn *conn)
{
	struct check_host *h = ssh_conn_user(conn);

	check_done(ctx, h, ssh_conn_error(conn));
}

static void check_chan_closed(void *ctx, struct ssh_chan *ch)
{
	struct check_host *h = ssh_chan_user(ch);
	struct verr e = { "" };
	const char *out;
	size_t len;

	h->chan = NULL;
	if (ssh_chan_error(ch)) {
		snprintf(e.msg, sizeof(e.msg), "host probe: %s", ssh_chan_error(ch));
	} else {
		out = ssh_chan_output(ch, 0, &len);
		if (!host_probe_parse(out, len, &h->out->probe, &e))
			h->out->probed = true;
	}
	ssh_chan_free(ch);
	check_done(ctx, h, h->out->probed ? NULL : e.msg);
}

static int check_start(struct ssh_loop *l, struct check_host *h,
		       const struct fleet_check_opts *o, struct verr *e)
{
	const struct inv_host *ih = h->out->host;
	struct ssh_target t = {
		.name = ih->name, .address = ih->address, .port = ih->port,
		.user = ih->user, .identities = (const char *const *)ih->identity,
		.nidentities = ih->n_identity, .known_hosts = ih->known_hosts,
		.policy = fleet_policy(ih->host_key_check),
	};
	int rc;

	h->command = host_probe_command(ih->workdir, o->worker_sha256, e);
	if (!h->command)
		return -EINVAL;
	rc = ssh_conn_new(l, &t, &h->conn, e);
	if (rc)
		return rc;
	ssh_conn_set_user(h->conn, h);
	return 0;
}

int fleet_check_run(const struct inventory *inv, const struct fleet_check_opts *o,
		    struct fleet_check *out, struct verr *e)
{
	static const struct ssh_loop_ops ops = {
		.connected = check_connected, .lost = check_lost,
		.chan_closed = check_chan_closed,
	};
	struct check c = { .n = inv->n };
	struct ssh_loop_opts lo;
	struct ssh_loop *l = NULL;
	uint64_t deadline;
	int rc;

	memset(out, 0, inv->n * sizeof(*out));
	c.h = calloc(inv->n ? inv->n : 1, sizeof(*c.h));
	if (!c.h)
		return verr_errno(e, "check hosts");
	fleet_loop_opts(inv, o->connect_timeout_ms, &lo);
	rc = ssh_loop_new(&lo, &ops, &c, &l, e);
	if (rc)
		goto out;
	for (size_t i = 0; i < inv->n; i++) {
		struct verr he = { "" };

		c.h[i].out = &out[i];
		out[i].host = &inv->hosts[i];
		if (check_start(l, &c.h[i], o, &he))
			check_done(&c, &c.h[i], he.msg);
	}
	deadline = fleet_now_ms() + lo.connect_timeout_ms +
		   (o->probe_timeout_ms ? o->probe_timeout_ms : CHECK_PROBE_TIMEOUT_MS);
	while (c.ndone < c.n && fleet_now_ms() < deadline) {
		rc = ssh_loop_run_once(l, 100, e);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < c.n; i++)
		check_done(&c, &c.h[i], "no answer from the host probe in time");
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.h[i].command);
	if (l)
		ssh_loop_free(l);
	free(c.h);
	return rc;
}
