/*
 * pool_remote.c - a pool slot whose job runs on a fleet host: one exec
 * channel running the staged worker with --remote, the job line written
 * to its stdin (kept open: closing it stops the worker), its frames read
 * from stdout (common/remote_proto.h).  Snapshots are copied into a local
 * mirror of the worker's shm region, so progress and stall detection read
 * the same figures as for a local worker.  The outcome is the result
 * frame, never the channel's exit status; a channel that ends without one
 * (host lost, worker killed on the host, cut stream) is the host's
 * failure, and the pool tries the job elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/pool_priv.h"

/*
 * The job line: the pool's job text, with the host's store paths for this
 * machine's files and without the local database's file ids.
 */
static char *remote_job_line(const struct pool *p, const struct slot *s, size_t *len)
{
	struct job_desc copy = *s->job;
	char *text, *line;

	if (fleet_job_spec(p->o->fleet, s->rs->fh, s->job_idx, &copy.spec))
		return NULL;
	text = pool_job_text(p, &copy);
	job_spec_free(&copy.spec);
	if (!text)
		return NULL;
	*len = strlen(text);
	line = realloc(text, *len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[(*len)++] = '\n';
	line[*len] = 0;
	return line;
}

int remote_slot_start(struct pool *p, struct slot *s, struct verr *e)
{
	struct rslot *rs = s->rs;
	struct fleet_host *fh = rs->fh;
	struct ssh_chan_opts o = { .user = s };
	char *cmd = NULL, *line = NULL;
	size_t len = 0;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rs->fh = fh;
	remote_lines_init(&rs->lines, REMOTE_FRAME_MAX);
	rc = shm_create(&s->shm, e);
	if (rc)
		return rc;
	fcntl(s->shm.fd, F_SETFD, FD_CLOEXEC);
	cmd = fleet_job_command(p->o->fleet, fh, s->job_idx);
	line = remote_job_line(p, s, &len);
	if (!cmd || !line) {
		rc = -ENOMEM;
		verr_set(e, "cannot prepare job %s: out of memory", s->job->spec.name);
		goto fail;
	}
	o.command = cmd;
	rc = ssh_host_chan_open(fh->sh, &o, &rs->ch, e);
	if (rc)
		goto fail;
	ssh_conn_set_user(ssh_chan_conn(rs->ch), fh);
	if (ssh_chan_write(rs->ch, line, len)) {
		rc = -ENOMEM;
		verr_set(e, "cannot send job %s: out of memory", s->job->spec.name);
		goto fail;
	}
	s->start_ms = clock_ms();
	s->deadline_ms = s->start_ms + (uint64_t)((double)s->job->spec.timeout_ms *
						  p->o->timeout_scale) + p->o->grace_ms;
	fh->running++;
	free(cmd);
	free(line);
	return 0;
fail:
	if (rs->ch)
		ssh_chan_free(rs->ch);
	rs->ch = NULL;
	remote_lines_release(&rs->lines);
	shm_unmap(&s->shm);
	free(cmd);
	free(line);
	return rc;
}

/* ---- frames ---- */

static void mirror_snapshot(struct slot *s, const struct remote_snapshot *snap)
{
	struct shm_region *r = s->shm.r;
	uint32_t n = snap->ndisks < s->job->spec.ndisks ? snap->ndisks : s->job->spec.ndisks;
	uint64_t now = clock_ns(), age = snap->heartbeat_age_ms * 1000000ULL;

	atomic_store(&r->state, (uint32_t)snap->state);
	atomic_store(&r->ndisks, n);
	atomic_store(&r->heartbeat_ns, now > age ? now - age : 1);
	for (uint32_t i = 0; i < n; i++) {
#define MIRROR_X(name, unit, dir, kind) \
		atomic_store(&r->disk[i].name, snap->disk[i].name);
		VBLK_COUNTERS(MIRROR_X)
#undef MIRROR_X
	}
	s->rs->sched = snap->sched;
	s->rs->have_sched = true;
}

/* A host that sends what the protocol does not allow is not trusted further. */
static void remote_refuse(struct slot *s, const char *what, const char *msg)
{
	struct rslot *rs = s->rs;

	if (!rs->why[0])
		snprintf(rs->why, sizeof(rs->why), "%s: %s", what, msg);
	if (rs->ch)
		ssh_chan_close(rs->ch);
}

static void remote_frame(struct slot *s, const char *line, size_t len)
{
	static struct remote_frame f;	/* large (a VmResult); one loop, one thread */
	struct rslot *rs = s->rs;
	struct verr e = { "" };

	if (remote_frame_parse(line, len, &f, &e)) {
		remote_refuse(s, "bad frame from the remote worker", e.msg);
		return;
	}
	if (f.type == REMOTE_FRAME_HELLO) {
		rs->hello = true;
	} else if (!rs->hello) {
		remote_refuse(s, "remote worker", "a frame before its hello");
	} else if (rs->have_result) {
		remote_refuse(s, "remote worker", "a frame after its result");
	} else if (f.type == REMOTE_FRAME_SNAPSHOT) {
		mirror_snapshot(s, &f.snap);
	} else {
		rs->result = f.result;
		rs->have_result = true;
	}
}

static void remote_stderr(struct slot *s, const char *buf, size_t n)
{
	if (n >= sizeof(s->err)) {
		buf += n - (sizeof(s->err) - 1);
		n = sizeof(s->err) - 1;
	}
	if (s->err_len + n >= sizeof(s->err)) {
		size_t drop = s->err_len + n - (sizeof(s->err) - 1);

		memmove(s->err, s->err + drop, s->err_len - drop);
		s->err_len -= drop;
	}
	memcpy(s->err + s->err_len, buf, n);
	s->err_len += n;
	s->err[s->err_len] = 0;
}

static void rem_data(void *ctx, struct ssh_chan *ch, int stream, const void *buf,
		     size_t len)
{
	struct slot *s = ssh_chan_user(ch);
	struct verr e = { "" };
	const char *line;
	size_t n;

	(void)ctx;
	if (!s || !s->rs || s->rs->ch != ch)
		return;
	if (stream == 1) {
		remote_stderr(s, buf, len);
		return;
	}
	if (remote_lines_feed(&s->rs->lines, buf, len, &e)) {
		remote_refuse(s, "remote worker output", e.msg);
		return;
	}
	while (s->rs->ch && remote_lines_next(&s->rs->lines, &line, &n))
		remote_frame(s, line, n);
}

static void rem_closed(void *ctx, struct ssh_chan *ch)
{
	struct slot *s = ssh_chan_user(ch);
	struct rslot *rs;
	struct verr e = { "" };

	(void)ctx;
	if (!s || !s->rs || s->rs->ch != ch)
		return;
	rs = s->rs;
	if (!rs->have_result && !rs->why[0]) {
		if (ssh_chan_error(ch))
			snprintf(rs->why, sizeof(rs->why), "%s", ssh_chan_error(ch));
		else if (remote_lines_finish(&rs->lines, &e))
			snprintf(rs->why, sizeof(rs->why), "the result was cut: %s", e.msg);
		else
			snprintf(rs->why, sizeof(rs->why), "the worker's channel closed"
				 " without a result (exit status %d%s%s)",
				 ssh_chan_exit_status(ch), ssh_chan_exit_signal(ch)[0] ?
				 ", signal " : "", ssh_chan_exit_signal(ch));
	}
	rs->ch = NULL;
	rs->ended = true;
	ssh_chan_free(ch);
}

static void rem_lost(void *ctx, struct ssh_conn *c)
{
	struct fleet_host *fh = fleet_conn_host(c);

	(void)ctx;
	if (!fh)
		return;
	fleet_host_lost(fh, clock_ms(), ssh_conn_error(c));
}

void remote_events_install(struct pool *p)
{
	struct fleet_run *f = p->o->fleet;

	f->ev = (struct ssh_loop_ops){
		.lost = rem_lost, .chan_data = rem_data, .chan_closed = rem_closed,
	};
	f->ev_ctx = p;
}

/* ---- supervision and the end ---- */

void remote_slot_sample(const struct slot *s, struct task_sample *t)
{
	memset(t, 0, sizeof(*t));
	if (!s->rs->have_sched)
		return;
	t->cpu_ns = s->rs->sched.cpu_ns;
	t->wait_ns = s->rs->sched.wait_ns;
	t->state = s->rs->sched.runnable ? 'R' : 'S';
}

void remote_slot_stop(struct slot *s, bool hard)
{
	struct rslot *rs = s->rs;

	if (!rs->ch)
		return;
	if (hard) {
		ssh_chan_close(rs->ch);
	} else if (!rs->sent_eof) {
		rs->sent_eof = true;
		ssh_chan_send_eof(rs->ch);
	}
}

/* Our deadline or stall decision, when the worker could not report it itself. */
static void remote_result_ours(const struct slot *s, struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	pool_slot_counters(s, r);
	r->wall_us = (clock_ms() - s->start_ms) * 1000;
	r->exit_kind = s->why == KILL_TIMEOUT ? VM_EXIT_TIMEOUT : VM_EXIT_STALLED;
	snprintf(r->error, sizeof(r->error), "%s: remote worker stopped by vmorch (%.400s)",
		 s->why == KILL_TIMEOUT ? "timeout" : "heartbeat stalled", s->rs->why);
}

int remote_slot_result(struct pool *p, struct slot *s, struct vm_result *r,
		       char *why, size_t cap)
{
	struct rslot *rs = s->rs;

	(void)p;
	if (rs->have_result) {
		*r = rs->result;
		if (s->why == KILL_STALL) {
			r->exit_kind = VM_EXIT_STALLED;
			r->success = false;
		}
		return 1;
	}
	if (s->why == KILL_TIMEOUT || s->why == KILL_STALL) {
		remote_result_ours(s, r);
		return 1;
	}
	snprintf(why, cap, "host %s lost: %s", rs->fh->ih->name, rs->why);
	return 0;
}

void remote_slot_release(struct slot *s)
{
	struct rslot *rs = s->rs;
	struct fleet_host *fh = rs->fh;

	if (rs->ch)
		ssh_chan_free(rs->ch);
	remote_lines_release(&rs->lines);
	if (fh->running)
		fh->running--;
	memset(rs, 0, sizeof(*rs));
	rs->fh = fh;
}
