/*
 * ssh_loop.c - the one poll loop under every SSH connection: which
 * descriptors to watch and until when, which connections to step, when a
 * queued connection may start (at most max_handshakes between connect()
 * and ready, one start per stagger_ms, since sshd's MaxStartups drops
 * the excess), and the callbacks that result.
 *
 * It can run its own poll() (ssh_loop_run_once) or lend its descriptors
 * to a caller's (ssh_loop_pollfds + ssh_loop_dispatch), as the job pool
 * does with its workers' pipes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrator/ssh_priv.h"


void ssh_loop_opts_default(struct ssh_loop_opts *o)
{
	o->max_handshakes = 8;
	o->stagger_ms = 20;
	o->connect_timeout_ms = 15000;
	o->keepalive_ms = 5000;
	o->keepalive_max = 3;
	o->max_channels = SSH_SERVER_MAX_SESSIONS - 1;
}

int ssh_loop_new(const struct ssh_loop_opts *o, const struct ssh_loop_ops *ops,
		 void *ctx, struct ssh_loop **out, struct verr *e)
{
	struct ssh_loop *l;
	int rc;

	if (!o->max_handshakes || !o->connect_timeout_ms || o->keepalive_ms < 100 ||
	    o->keepalive_max < 2 || !o->max_channels) {
		verr_set(e, "SSH options out of range: max_handshakes >= 1, connect_timeout_ms "
			 ">= 1, keepalive_ms >= 100, keepalive_max >= 2, max_channels >= 1");
		return -EINVAL;
	}
	/* The first use of SSH in the process loads libssh2 (ssh_lib.h). */
	rc = ssh_lib_load(e);
	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return verr_errno(e, "new SSH loop");
	l->o = *o;
	if (ops)
		l->ops = *ops;
	l->ctx = ctx;
	*out = l;
	return 0;
}

void ssh_loop_free(struct ssh_loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nconns; i++)
		ssh_conn_destroy(l->conns[i]);
	free(l->conns);
	free(l->pfds);
	free(l);
}

size_t ssh_loop_live(const struct ssh_loop *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nconns; i++)
		n += !l->conns[i]->freed && l->conns[i]->state != SSH_CONN_DOWN;
	return n;
}

size_t ssh_loop_handshaking(const struct ssh_loop *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nconns; i++)
		n += !l->conns[i]->freed && ssh_conn_handshaking(l->conns[i]);
	return n;
}

void ssh_conn_remove_chan(struct ssh_conn *c, struct ssh_chan *ch)
{
	for (size_t i = 0; i < c->nchans; i++) {
		if (c->chans[i] == ch) {
			memmove(&c->chans[i], &c->chans[i + 1],
				(c->nchans - i - 1) * sizeof(c->chans[0]));
			c->nchans--;
			return;
		}
	}
}

static void loop_remove_conn(struct ssh_loop *l, size_t i)
{
	memmove(&l->conns[i], &l->conns[i + 1], (l->nconns - i - 1) * sizeof(l->conns[0]));
	l->nconns--;
}

void ssh_conn_free(struct ssh_conn *c)
{
	struct ssh_loop *l;

	if (!c || c->freed)
		return;
	l = c->loop;
	if (l->depth) {
		c->freed = true;
		l->reap = true;
		return;
	}
	for (size_t i = 0; i < l->nconns; i++) {
		if (l->conns[i] == c) {
			loop_remove_conn(l, i);
			break;
		}
	}
	ssh_conn_destroy(c);
}

/* Free what was freed during a dispatch. */
static void loop_reap(struct ssh_loop *l)
{
	l->reap = false;
	for (size_t i = 0; i < l->nconns;) {
		struct ssh_conn *c = l->conns[i];

		if (c->freed) {
			loop_remove_conn(l, i);
			ssh_conn_destroy(c);
			continue;
		}
		for (size_t j = 0; j < c->nchans;) {
			struct ssh_chan *ch = c->chans[j];

			if (ch->freed && ch->state == SSH_CHAN_CLOSED) {
				ssh_conn_remove_chan(c, ch);
				ssh_chan_destroy(ch);
				continue;
			}
			if (ch->freed)
				l->reap = true;	/* still closing */
			j++;
		}
		i++;
	}
}

void ssh_loop_deliver(struct ssh_loop *l, struct ssh_conn *c)
{
	for (size_t i = 0; i < c->nchans; i++)
		ssh_chan_deliver(c->chans[i]);
	if (c->notify_connected) {
		c->notify_connected = false;
		if (c->state == SSH_CONN_READY && !c->freed && l->ops.connected)
			l->ops.connected(l->ctx, c);
	}
	if (c->notify_lost) {
		c->notify_lost = false;
		if (!c->freed && l->ops.lost)
			l->ops.lost(l->ctx, c);
	}
}

/* May a queued connection start now?  When not, when may one (or UINT64_MAX)? */
static uint64_t loop_next_start(const struct ssh_loop *l, uint64_t now)
{
	bool queued = false;

	for (size_t i = 0; i < l->nconns && !queued; i++)
		queued = !l->conns[i]->freed && l->conns[i]->state == SSH_CONN_QUEUED;
	if (!queued || ssh_loop_handshaking(l) >= l->o.max_handshakes)
		return UINT64_MAX;
	if (l->started_any && now < l->last_start_ms + l->o.stagger_ms)
		return l->last_start_ms + l->o.stagger_ms;
	return now;
}

static void loop_start_queued(struct ssh_loop *l, uint64_t now)
{
	for (size_t i = 0; i < l->nconns; i++) {
		struct ssh_conn *c = l->conns[i];

		if (c->freed || c->state != SSH_CONN_QUEUED)
			continue;
		if (loop_next_start(l, now) > now)
			return;
		l->started_any = true;
		l->last_start_ms = now;
		ssh_conn_start(c, now);
		if (c->state == SSH_CONN_DOWN)
			ssh_conn_teardown(c);
		ssh_loop_deliver(l, c);
	}
}

size_t ssh_loop_pollfds(struct ssh_loop *l, struct pollfd *fds, size_t max,
			int *timeout_ms)
{
	uint64_t now = clock_ms(), due = loop_next_start(l, now);
	size_t n = 0;

	for (size_t i = 0; i < l->nconns; i++) {
		struct ssh_conn *c = l->conns[i];
		short ev;
		uint64_t d;

		c->pfd_idx = -1;
		if (c->freed)
			continue;
		if (c->kick)
			due = now;
		ev = ssh_conn_events(c);
		if (c->want_out)
			ev |= POLLOUT;
		if (ev && c->fd >= 0) {
			if (n < max) {
				fds[n] = (struct pollfd){ .fd = c->fd, .events = ev };
				c->pfd_idx = (int)n;
			}
			n++;
		}
		d = ssh_conn_deadline(c);
		if (d < due)
			due = d;
	}
	if (due != UINT64_MAX) {
		uint64_t ms = due <= now ? 0 : due - now;

		if (ms > INT_MAX)
			ms = INT_MAX;
		if (*timeout_ms < 0 || ms < (uint64_t)*timeout_ms)
			*timeout_ms = (int)ms;
	}
	return n;
}

void ssh_loop_dispatch(struct ssh_loop *l, const struct pollfd *fds, size_t n)
{
	uint64_t now = clock_ms();

	l->depth++;
	loop_start_queued(l, now);
	for (size_t i = 0; i < l->nconns; i++) {
		struct ssh_conn *c = l->conns[i];
		short rev = 0;

		if (c->freed)
			continue;
		if (c->pfd_idx >= 0 && (size_t)c->pfd_idx < n && fds[c->pfd_idx].fd == c->fd)
			rev = fds[c->pfd_idx].revents;
		c->pfd_idx = -1;
		if (rev || c->kick || now >= ssh_conn_deadline(c)) {
			c->kick = false;
			c->want_out = false;
			ssh_conn_step(c, rev, now);
		}
		ssh_loop_deliver(l, c);
	}
	/* A connection that came up or went down freed a handshake slot. */
	loop_start_queued(l, clock_ms());
	l->depth--;
	if (!l->depth && l->reap)
		loop_reap(l);
}

int ssh_loop_run_once(struct ssh_loop *l, int timeout_ms, struct verr *e)
{
	size_t n;
	int rc;

	for (;;) {
		int t = timeout_ms;

		n = ssh_loop_pollfds(l, l->pfds, l->pfds_cap, &t);
		if (n <= l->pfds_cap) {
			timeout_ms = t;
			break;
		}
		free(l->pfds);
		l->pfds_cap = n + 16;
		l->pfds = calloc(l->pfds_cap, sizeof(*l->pfds));
		if (!l->pfds) {
			l->pfds_cap = 0;
			return verr_errno(e, "poll array");
		}
	}
	rc = poll(l->pfds, n, timeout_ms);
	if (rc < 0) {
		if (errno != EINTR)
			return verr_errno(e, "poll");
		for (size_t i = 0; i < n; i++)
			l->pfds[i].revents = 0;
	}
	ssh_loop_dispatch(l, l->pfds, n);
	return 0;
}
