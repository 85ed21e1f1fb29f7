/*
 * ssh_host.c - the connections of one fleet host, grown on demand so that
 * each channel finds a session slot (sshd allows 10 per connection), and
 * ssh_run(): one short command, its output collected, for host facts and
 * staging checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/ssh_priv.h"

struct ssh_host {
	struct ssh_loop *loop;
	/* the target, copied */
	char *name, *address, *user, *known_hosts, *agent_sock;
	char **identities;
	size_t nidentities;
	unsigned port;
	enum kh_policy policy;

	unsigned max_conns;
	struct ssh_conn **conns;
	size_t nconns;
};

static void host_target(const struct ssh_host *h, struct ssh_target *t)
{
	*t = (struct ssh_target){
		.name = h->name,
		.address = h->address,
		.port = h->port,
		.user = h->user,
		.identities = (const char *const *)h->identities,
		.nidentities = h->nidentities,
		.agent_sock = h->agent_sock,
		.known_hosts = h->known_hosts,
		.policy = h->policy,
	};
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int ssh_host_new(struct ssh_loop *l, const struct ssh_target *t,
		 unsigned max_conns, struct ssh_host **out, struct verr *e)
{
	struct ssh_host *h;
	bool oom = false;

	if (!max_conns) {
		verr_set(e, "%s: a host needs at least one connection",
			 t->name ? t->name : "?");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return verr_errno(e, "new SSH host");
	h->loop = l;
	h->max_conns = max_conns;
	h->port = t->port;
	h->policy = t->policy;
	h->name = dup_opt(t->name, &oom);
	h->address = dup_opt(t->address, &oom);
	h->user = dup_opt(t->user, &oom);
	h->known_hosts = dup_opt(t->known_hosts, &oom);
	h->agent_sock = dup_opt(t->agent_sock, &oom);
	h->identities = calloc(t->nidentities + 1, sizeof(char *));
	h->nidentities = t->nidentities;
	h->conns = calloc(max_conns, sizeof(*h->conns));
	if (!h->identities || !h->conns)
		oom = true;
	for (size_t i = 0; !oom && i < t->nidentities; i++)
		h->identities[i] = dup_opt(t->identities[i], &oom);
	if (oom) {
		ssh_host_free(h);
		return verr_errno(e, "new SSH host");
	}
	*out = h;
	return 0;
}

void ssh_host_free(struct ssh_host *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nconns; i++)
		ssh_conn_free(h->conns[i]);
	for (size_t i = 0; h->identities && i < h->nidentities; i++)
		free(h->identities[i]);
	free(h->identities);
	free(h->conns);
	free(h->name);
	free(h->address);
	free(h->user);
	free(h->known_hosts);
	free(h->agent_sock);
	free(h);
}

int ssh_host_chan_open(struct ssh_host *h, const struct ssh_chan_opts *o,
		       struct ssh_chan **out, struct verr *e)
{
	struct ssh_target t;
	struct ssh_conn *c;
	bool any_live = false;
	int rc;

	/* A ready connection with room first, then one still coming up. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < h->nconns; i++) {
			c = h->conns[i];
			if (c->state == SSH_CONN_DOWN || c->freed)
				continue;
			any_live = true;
			if ((pass == 0) != (c->state == SSH_CONN_READY) || !ssh_conn_has_room(c))
				continue;
			return ssh_chan_open(c, o, out, e);
		}
	}
	if (h->nconns == h->max_conns) {
		if (any_live) {
			verr_set(e, "%s: all %u connections have %u channels", h->name,
				 h->max_conns, h->loop->o.max_channels);
			return -EBUSY;
		}
		verr_set(e, "%s: all %u connections are down", h->name, h->max_conns);
		return -ENOTCONN;
	}
	host_target(h, &t);
	rc = ssh_conn_new(h->loop, &t, &c, e);
	if (rc)
		return rc;
	h->conns[h->nconns++] = c;
	return ssh_chan_open(c, o, out, e);
}

size_t ssh_host_nconns(const struct ssh_host *h)
{
	return h->nconns;
}

struct ssh_conn *ssh_host_conn(const struct ssh_host *h, size_t i)
{
	return i < h->nconns ? h->conns[i] : NULL;
}

void ssh_host_forget_down(struct ssh_host *h)
{
	size_t k = 0;

	for (size_t i = 0; i < h->nconns; i++) {
		if (h->conns[i]->state == SSH_CONN_DOWN)
			ssh_conn_free(h->conns[i]);
		else
			h->conns[k++] = h->conns[i];
	}
	h->nconns = k;
}

/* ---- ssh_run ---- */

#define RUN_SLICE	(1 << 20)

static char *take_output(const struct ssh_chan *ch, int stream, size_t *len)
{
	const char *s = ssh_chan_output(ch, stream, len);
	char *d = malloc(*len + 1);

	if (d) {
		memcpy(d, s, *len);
		d[*len] = 0;
	}
	return d;
}

/* Queue the next slice of @q's stdin, and its end after the last. */
static int run_feed(struct ssh_run_req *q, struct ssh_chan *ch, size_t *sent)
{
	size_t n;

	if (*sent >= q->inlen || ssh_chan_queued(ch) >= RUN_SLICE)
		return 0;
	n = q->inlen - *sent < RUN_SLICE ? q->inlen - *sent : RUN_SLICE;
	if (ssh_chan_write(ch, (const char *)q->in + *sent, n))
		return -ENOMEM;
	*sent += n;
	if (*sent == q->inlen)
		ssh_chan_send_eof(ch);
	return 0;
}

/* @q's channel closed: its outcome into q->r, or q->rc and q->e. */
static void run_finish(struct ssh_run_req *q, struct ssh_chan *ch)
{
	struct ssh_conn *c = ch->conn;

	if (ssh_chan_error(ch)) {
		verr_set(&q->e, "%s", ssh_chan_error(ch));
		q->rc = ch->overflow ? -EMSGSIZE : c->state == SSH_CONN_DOWN ? -ENOTCONN : -EIO;
		return;
	}
	q->r.out = take_output(ch, 0, &q->r.out_len);
	q->r.err = take_output(ch, 1, &q->r.err_len);
	q->r.exit_status = ssh_chan_exit_status(ch);
	memcpy(q->r.exit_signal, ch->exit_signal, sizeof(q->r.exit_signal));
	if (!q->r.out || !q->r.err) {
		ssh_run_result_release(&q->r);
		verr_set(&q->e, "%s: out of memory for output", c->name);
		q->rc = -ENOMEM;
	}
}

int ssh_run_all(struct ssh_loop *l, struct ssh_run_req *q, size_t n, unsigned timeout_ms,
		struct verr *e)
{
	struct ssh_chan **ch = calloc(n ? n : 1, sizeof(*ch));
	size_t *sent = calloc(n ? n : 1, sizeof(*sent)), open = 0;
	uint64_t deadline = clock_ms() + timeout_ms;
	int rc = 0;

	if (!ch || !sent) {
		rc = verr_errno(e, "ssh_run");
	} else if (l->depth) {
		verr_set(e, "ssh_run called from an SSH callback");
		rc = -EDEADLK;
	}
	if (rc) {
		for (size_t i = 0; i < n; i++) {
			memset(&q[i].r, 0, sizeof(q[i].r));
			q[i].rc = rc;
			q[i].e = *e;
		}
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ssh_chan_opts o = {
			.command = q[i].command, .capture_max = q[i].max_out ? q[i].max_out : 1,
		};

		memset(&q[i].r, 0, sizeof(q[i].r));
		q[i].e.msg[0] = 0;
		q[i].rc = ssh_chan_open(q[i].conn, &o, &ch[i], &q[i].e);
		if (q[i].rc)
			continue;
		ch[i]->quiet = true;
		if (!q[i].inlen)
			ssh_chan_send_eof(ch[i]);
		open++;
	}
	while (open) {
		uint64_t now = clock_ms();

		/* Stdin goes in slices, so a large file is never copied whole. */
		for (size_t i = 0; i < n; i++) {
			if (!ch[i])
				continue;
			if (ssh_chan_closed(ch[i])) {
				run_finish(&q[i], ch[i]);
				ssh_chan_free(ch[i]);
				ch[i] = NULL;
				open--;
			} else if (run_feed(&q[i], ch[i], &sent[i])) {
				verr_set(&q[i].e, "%s: out of memory for stdin", q[i].conn->name);
				q[i].rc = -ENOMEM;
				ssh_chan_free(ch[i]);
				ch[i] = NULL;
				open--;
			}
		}
		if (!open)
			break;
		if (now >= deadline) {
			for (size_t i = 0; i < n; i++) {
				if (!ch[i])
					continue;
				verr_set(&q[i].e, "%s: '%s' did not finish within %u ms",
					 q[i].conn->name, q[i].command, timeout_ms);
				q[i].rc = -ETIMEDOUT;
				ssh_chan_free(ch[i]);
				ch[i] = NULL;
			}
			break;
		}
		rc = ssh_loop_run_once(l, (int)(deadline - now), e);
		if (rc) {
			/* Each request still running ends with the loop's error. */
			for (size_t i = 0; i < n; i++) {
				if (!ch[i])
					continue;
				q[i].rc = rc;
				q[i].e = *e;
				ssh_chan_free(ch[i]);
			}
			break;
		}
	}
out:
	free(ch);
	free(sent);
	return rc;
}

int ssh_run(struct ssh_loop *l, struct ssh_conn *c, const char *command,
	    const void *in, size_t inlen, size_t max_out, unsigned timeout_ms,
	    struct ssh_run_result *r, struct verr *e)
{
	struct ssh_run_req q = {
		.conn = c, .command = command, .in = in, .inlen = inlen, .max_out = max_out,
	};
	ssh_run_all(l, &q, 1, timeout_ms, e);
	if (q.rc)
		*e = q.e;
	*r = q.r;
	return q.rc;
}

void ssh_run_result_release(struct ssh_run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
