/*
 * fleet_each.c - one command on every host of an inventory at once (see
 * fleet_each.h): one SSH connection each, all on one poll loop; on login,
 * one exec channel runs the command; its answer, or the reason there is
 * none, is kept per host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/fleet_each.h"
#include "orchestrator/fleet_run.h"
#include "orchestrator/ssh.h"

struct each_host {
	size_t i;
	struct fleet_each_result *out;
	struct ssh_conn *conn;
	struct ssh_chan *chan;
	char *command;
	bool done;
};

struct each {
	const struct fleet_each_ops *ops;
	void *ctx;
	struct each_host *h;
	size_t n, ndone;
	uint64_t start_ms;
};

static unsigned each_ms(const struct each *c)
{
	return (unsigned)(clock_ms() - c->start_ms);
}

static void each_done(struct each *c, struct each_host *h, const char *why)
{
	if (h->done)
		return;
	if (why && !h->out->error[0])
		snprintf(h->out->error, sizeof(h->out->error), "%s", why);
	h->done = true;
	c->ndone++;
}

static void each_connected(void *ctx, struct ssh_conn *conn)
{
	struct each *c = ctx;
	struct each_host *h = ssh_conn_user(conn);
	struct ssh_chan_opts o = {
		.command = h->command, .user = h, .capture_max = c->ops->answer_max,
	};
	struct verr e = { "" };

	h->out->connected = true;
	h->out->login_ms = each_ms(c);
	snprintf(h->out->hostkey, sizeof(h->out->hostkey), "%s", ssh_conn_hostkey(conn));
	snprintf(h->out->hostkey_status, sizeof(h->out->hostkey_status), "%s",
		 ssh_conn_hostkey_status(conn));
	snprintf(h->out->auth, sizeof(h->out->auth), "%s", ssh_conn_auth_method(conn));
	if (ssh_chan_open(conn, &o, &h->chan, &e))
		each_done(c, h, e.msg);
}

static void each_lost(void *ctx, struct ssh_conn *conn)
{
	struct each_host *h = ssh_conn_user(conn);

	each_done(ctx, h, ssh_conn_error(conn));
}

static void each_chan_closed(void *ctx, struct ssh_chan *ch)
{
	struct each *c = ctx;
	struct each_host *h = ssh_chan_user(ch);
	struct verr e = { "" };
	const char *out;
	size_t len;

	h->chan = NULL;
	if (ssh_chan_error(ch)) {
		snprintf(e.msg, sizeof(e.msg), "%s: %s", c->ops->what, ssh_chan_error(ch));
	} else {
		out = ssh_chan_output(ch, 0, &len);
		if (!c->ops->answer(c->ctx, h->i, out, len, &e)) {
			h->out->answered = true;
			h->out->answer_ms = each_ms(c);
		}
	}
	ssh_chan_free(ch);
	each_done(c, h, h->out->answered ? NULL : e.msg);
}

static int each_start(struct ssh_loop *l, struct each *c, struct each_host *h,
		      struct verr *e)
{
	const struct inv_host *ih = h->out->host;
	struct ssh_target t = {
		.name = ih->name, .address = ih->address, .port = ih->port,
		.user = ih->user, .identities = (const char *const *)ih->identity,
		.nidentities = ih->n_identity, .known_hosts = ih->known_hosts,
		.policy = fleet_policy(ih->host_key_check),
	};
	int rc;

	h->command = c->ops->command(c->ctx, h->i, e);
	if (!h->command)
		return -EINVAL;
	rc = ssh_conn_new(l, &t, &h->conn, e);
	if (rc)
		return rc;
	ssh_conn_set_user(h->conn, h);
	return 0;
}

int fleet_each_run(const struct inventory *inv, unsigned connect_timeout_ms,
		   const struct fleet_each_ops *ops, void *ctx, struct verr *e)
{
	static const struct ssh_loop_ops loop_ops = {
		.connected = each_connected, .lost = each_lost,
		.chan_closed = each_chan_closed,
	};
	struct each c = { .ops = ops, .ctx = ctx, .n = inv->n, .start_ms = clock_ms() };
	struct ssh_loop_opts lo;
	struct ssh_loop *l = NULL;
	uint64_t deadline;
	char why[VERR_MAX];
	int rc;

	c.h = calloc(inv->n ? inv->n : 1, sizeof(*c.h));
	if (!c.h)
		return verr_errno(e, "%s", ops->what);
	fleet_loop_opts(inv, connect_timeout_ms, &lo);
	rc = ssh_loop_new(&lo, &loop_ops, &c, &l, e);
	if (rc)
		goto out;
	for (size_t i = 0; i < inv->n; i++) {
		struct verr he = { "" };

		c.h[i].i = i;
		c.h[i].out = ops->result(ctx, i);
		*c.h[i].out = (struct fleet_each_result){ .host = &inv->hosts[i] };
		if (each_start(l, &c, &c.h[i], &he))
			each_done(&c, &c.h[i], he.msg);
	}
	deadline = clock_ms() + lo.connect_timeout_ms + ops->answer_timeout_ms;
	while (c.ndone < c.n && clock_ms() < deadline) {
		rc = ssh_loop_run_once(l, 100, e);
		if (rc)
			goto out;
	}
	snprintf(why, sizeof(why), "no answer from the %s in time", ops->what);
	for (size_t i = 0; i < c.n; i++)
		each_done(&c, &c.h[i], why);
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.h[i].command);
	if (l)
		ssh_loop_free(l);
	free(c.h);
	return rc;
}
