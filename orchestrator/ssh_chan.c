/*
 * ssh_chan.c - exec channels: open, run a command, stream its stdin from a
 * queue, its stdout and stderr to callbacks or buffers, end it.  Each
 * channel is a small state machine stepped by its connection
 * (ssh_conn.c), which makes sure only one libssh2 call at a time has a
 * packet in flight.  Also the connection's control channel: opened, never
 * run, used for keepalive probes and to pump the transport.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/ssh_priv.h"

/* The env request the keepalive probe sends; sshd refuses it (AcceptEnv). */
#define PROBE_VAR	"VMORCH_KEEPALIVE"

/* ---- byte queues ---- */

int ssh_buf_append(struct ssh_buf *b, const void *data, size_t len)
{
	/* One spare byte keeps the contents NUL-terminated. */
	if (b->head + b->len + len + 1 > b->cap) {
		if (b->head && b->len + len + 1 <= b->cap) {
			memmove(b->p, b->p + b->head, b->len);
			b->head = 0;
		} else {
			size_t cap = b->cap ? b->cap : 4096;
			uint8_t *p;

			while (cap < b->len + len + 1)
				cap *= 2;
			p = malloc(cap);
			if (!p)
				return -ENOMEM;
			if (b->len)
				memcpy(p, b->p + b->head, b->len);
			free(b->p);
			b->p = p;
			b->cap = cap;
			b->head = 0;
		}
	}
	memcpy(b->p + b->head + b->len, data, len);
	b->len += len;
	b->p[b->head + b->len] = 0;
	return 0;
}

void ssh_buf_consume(struct ssh_buf *b, size_t n)
{
	b->head += n;
	b->len -= n;
	if (!b->len)
		b->head = 0;
}

void ssh_buf_release(struct ssh_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- life ---- */

int ssh_chan_new(struct ssh_conn *c, bool ctl, const struct ssh_chan_opts *o,
		 struct ssh_chan **out)
{
	struct ssh_chan *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return -ENOMEM;
	ch->conn = c;
	ch->ctl = ctl;
	ch->state = SSH_CHAN_WAITING;
	if (!ctl) {
		struct ssh_chan **grown;

		ch->command = strdup(o->command);
		grown = ch->command ? realloc(c->chans, (c->nchans + 1) * sizeof(*grown)) : NULL;
		if (!grown) {
			free(ch->command);
			free(ch);
			return -ENOMEM;
		}
		c->chans = grown;
		c->chans[c->nchans++] = ch;
		ch->user = o->user;
		ch->capture_max = o->capture_max;
	}
	*out = ch;
	return 0;
}

void ssh_chan_destroy(struct ssh_chan *ch)
{
	ssh_buf_release(&ch->in);
	ssh_buf_release(&ch->out[0]);
	ssh_buf_release(&ch->out[1]);
	free(ch->command);
	free(ch);
}

static void chan_set_closed(struct ssh_chan *ch)
{
	struct ssh_conn *c = ch->conn;

	if (c->opening == ch)
		c->opening = NULL;
	ch->state = SSH_CHAN_CLOSED;
	ch->notify_closed = !ch->ctl;
	ssh_buf_release(&ch->in);
}

/* A failure of this channel only: say why and close it. */
static void chan_fail(struct ssh_chan *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void chan_fail(struct ssh_chan *ch, const char *fmt, ...)
{
	char msg[VERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ch->failed) {
		ch->failed = true;
		verr_set(&ch->err, "%s: %s", ch->conn->name, msg);
	}
	ssh_buf_release(&ch->in);
	ch->state = ch->ch ? SSH_CHAN_CLOSING : SSH_CHAN_CLOSED;
	if (ch->state == SSH_CHAN_CLOSED)
		chan_set_closed(ch);
}

/* A libssh2 call failed with @rc: the session's fault or the channel's? */
static void chan_error(struct ssh_chan *ch, int rc, const char *what)
{
	if (ssh_session_error(rc))
		ssh_conn_fail_io(ch->conn, what);
	else
		chan_fail(ch, "%s: %s", what, ssh_last_error(ch->conn));
}

void ssh_chan_abort(struct ssh_chan *ch, const char *why)
{
	if (ch->state == SSH_CHAN_CLOSED)
		return;
	if (!ch->failed) {
		ch->failed = true;
		verr_set(&ch->err, "%s", why);
	}
	chan_set_closed(ch);
}

void ssh_chan_deliver(struct ssh_chan *ch)
{
	struct ssh_loop *l = ch->conn->loop;

	if (!ch->notify_closed)
		return;
	ch->notify_closed = false;
	if (!ch->quiet && !ch->freed && !ch->conn->freed && l->ops.chan_closed)
		l->ops.chan_closed(l->ctx, ch);
}

/* ---- the libssh2 calls, one function each so an owed one can be repeated ---- */

static bool op_open(struct ssh_chan *ch)
{
	struct ssh_conn *c = ch->conn;
	int rc;

	ch->ch = ssh2.channel_open_ex(c->s, "session", sizeof("session") - 1,
				      LIBSSH2_CHANNEL_WINDOW_DEFAULT,
				      LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
	if (ch->ch) {
		c->opening = NULL;
		ch->state = SSH_CHAN_EXEC;
		return true;
	}
	rc = ssh2.session_last_errno(c->s);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(c, ch, SSH_OP_OPEN);
		return false;
	}
	c->opening = NULL;
	chan_error(ch, rc, "opening a channel");
	return true;
}

static bool op_exec(struct ssh_chan *ch)
{
	/* libssh2_channel_exec() is this call, as a macro. */
	int rc = ssh2.channel_process_startup(ch->ch, "exec", sizeof("exec") - 1,
					      ch->command, (unsigned)strlen(ch->command));

	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(ch->conn, ch, SSH_OP_EXEC);
		return false;
	}
	if (rc) {
		chan_error(ch, rc, "running the command");
		return true;
	}
	ch->state = SSH_CHAN_RUNNING;
	return true;
}

static void chan_take(struct ssh_chan *ch, int stream, const char *buf, size_t n)
{
	struct ssh_conn *c = ch->conn;
	struct ssh_loop *l = c->loop;

	if (ch->ctl || ch->close_wanted)
		return;
	if (ch->capture_max) {
		if (ch->out[stream].len + n > ch->capture_max) {
			ch->overflow = true;
			chan_fail(ch, "%s exceeds %zu bytes", stream ? "stderr" : "stdout",
				  ch->capture_max);
			return;
		}
		if (ssh_buf_append(&ch->out[stream], buf, n))
			chan_fail(ch, "out of memory for output");
		return;
	}
	if (!ch->quiet && !ch->freed && !c->freed && l->ops.chan_data)
		l->ops.chan_data(l->ctx, ch, stream, buf, n);
}

static bool op_read(struct ssh_chan *ch)
{
	struct ssh_conn *c = ch->conn;
	char buf[32768];
	bool progress = false;

	for (int stream = 0; stream < (ch->ctl ? 1 : 2); stream++) {
		/* At most 512 KiB at a time; the connection comes back for more. */
		for (int i = 0;; i++) {
			ssize_t n = ssh2.channel_read_ex(ch->ch, stream, buf,
							 ch->ctl ? 1024 : sizeof(buf));

			if (n > 0) {
				progress = true;
				chan_take(ch, stream, buf, (size_t)n);
				if (c->state != SSH_CONN_READY || ch->state != SSH_CHAN_RUNNING)
					return true;
				if (i == 15)
					break;
				continue;
			}
			if (n == LIBSSH2_ERROR_EAGAIN) {
				ssh_conn_note_eagain(c, ch, SSH_OP_READ);
				if (c->owed)
					return progress;
				break;
			}
			if (n == 0)
				break;
			chan_error(ch, (int)n, "reading");
			return true;
		}
	}
	if (!ch->ctl && !ch->remote_eof && ssh2.channel_eof(ch->ch) == 1) {
		ch->remote_eof = true;
		progress = true;
	}
	return progress;
}

static bool op_write(struct ssh_chan *ch, uint64_t now)
{
	struct ssh_conn *c = ch->conn;
	struct ssh_loop *l = c->loop;
	bool progress = false;

	while (ch->in.len) {
		ssize_t n = ssh2.channel_write_ex(ch->ch, 0,
						  (const char *)ch->in.p + ch->in.head,
						  ch->in.len);

		if (n > 0) {
			ssh_buf_consume(&ch->in, (size_t)n);
			c->write_wait_ms = 0;
			progress = true;
			continue;
		}
		if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
			/* No room in the remote window, or in the socket. */
			if (!c->write_wait_ms)
				c->write_wait_ms = now;
			if (n)
				ssh_conn_note_eagain(c, ch, SSH_OP_WRITE);
			return progress;
		}
		chan_error(ch, (int)n, "writing stdin");
		return true;
	}
	if (ch->was_queued) {
		ch->was_queued = false;
		if (!ch->quiet && !ch->freed && !c->freed && l->ops.chan_drained)
			l->ops.chan_drained(l->ctx, ch);
	}
	return progress;
}

static bool op_eof(struct ssh_chan *ch, bool owed)
{
	struct ssh_conn *c = ch->conn;
	int rc;

	/* send_eof builds its packet on the stack: it must leave whole. */
	if (!owed && !ssh_conn_can_send_small(c)) {
		c->want_out = true;
		return false;
	}
	rc = ssh2.channel_send_eof(ch->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(c, ch, SSH_OP_EOF);
		return false;
	}
	if (rc) {
		chan_error(ch, rc, "ending stdin");
		return true;
	}
	ch->eof_sent = true;
	return true;
}

static bool op_wait_closed(struct ssh_chan *ch)
{
	char *sig = NULL;
	size_t siglen = 0;
	int rc = ssh2.channel_wait_closed(ch->ch);

	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(ch->conn, ch, SSH_OP_WAIT_CLOSED);
		return false;
	}
	if (rc && ssh_session_error(rc)) {
		chan_error(ch, rc, "waiting for the channel to close");
		return true;
	}
	ch->exit_status = ssh2.channel_get_exit_status(ch->ch);
	if (ssh2.channel_get_exit_signal(ch->ch, &sig, &siglen, NULL, NULL, NULL,
					 NULL) == 0 && sig) {
		snprintf(ch->exit_signal, sizeof(ch->exit_signal), "%.*s", (int)siglen, sig);
		ssh2.free(ch->conn->s, sig);
	}
	ch->state = SSH_CHAN_CLOSING;
	return true;
}

static bool op_close(struct ssh_chan *ch, bool owed)
{
	struct ssh_conn *c = ch->conn;
	int rc;

	if (!ch->ch) {
		chan_set_closed(ch);
		return true;
	}
	/* libssh2_channel_close sends EOF first, from the stack, if we did not. */
	if (!owed && !ch->eof_sent && !ssh_conn_can_send_small(c)) {
		c->want_out = true;
		return false;
	}
	rc = ssh2.channel_close(ch->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(c, ch, SSH_OP_CLOSE);
		return false;
	}
	if (rc && ssh_session_error(rc)) {
		chan_error(ch, rc, "closing the channel");
		return true;
	}
	ssh2.channel_free(ch->ch);
	ch->ch = NULL;
	chan_set_closed(ch);
	return true;
}

static bool op_probe(struct ssh_chan *ch)
{
	struct ssh_conn *c = ch->conn;
	int rc = ssh2.channel_setenv_ex(ch->ch, PROBE_VAR, sizeof(PROBE_VAR) - 1, "1", 1);

	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_conn_note_eagain(c, ch, SSH_OP_PROBE);
		return false;
	}
	ch->probing = false;
	/* Refused (the usual answer) or accepted: either way the host answered. */
	if (rc && rc != LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
		ssh_conn_fail_io(c, "keepalive probe");
	return true;
}

bool ssh_chan_retry(struct ssh_chan *ch, enum ssh_op op, uint64_t now)
{
	switch (op) {
	case SSH_OP_OPEN:
		return op_open(ch);
	case SSH_OP_EXEC:
		return op_exec(ch);
	case SSH_OP_READ:
		return op_read(ch);
	case SSH_OP_WRITE:
		return op_write(ch, now);
	case SSH_OP_EOF:
		return op_eof(ch, true);
	case SSH_OP_WAIT_CLOSED:
		return op_wait_closed(ch);
	case SSH_OP_CLOSE:
		return op_close(ch, true);
	case SSH_OP_PROBE:
		return op_probe(ch);
	case SSH_OP_NONE:
		break;
	}
	return true;
}

/* ---- the state machine ---- */

static bool ctl_step(struct ssh_chan *ch, uint64_t now)
{
	struct ssh_conn *c = ch->conn;
	bool progress;

	if (ch->state != SSH_CHAN_RUNNING)
		return false;
	progress = op_read(ch);
	if (c->state != SSH_CONN_READY || c->owed)
		return progress;
	if (!ch->probing && now >= c->next_probe_ms) {
		ch->probing = true;
		c->next_probe_ms = now + c->loop->o.keepalive_ms;
	}
	if (ch->probing)
		progress |= op_probe(ch);
	return progress;
}

/* One transition of a running channel; true on progress. */
static bool running_step(struct ssh_chan *ch, uint64_t now)
{
	struct ssh_conn *c = ch->conn;
	bool progress = op_read(ch);

	if (c->state != SSH_CONN_READY || c->owed || ch->state != SSH_CHAN_RUNNING)
		return progress;
	if (ch->close_wanted) {
		ch->state = SSH_CHAN_CLOSING;
		return true;
	}
	progress |= op_write(ch, now);
	if (c->state != SSH_CONN_READY || c->owed || ch->state != SSH_CHAN_RUNNING)
		return progress;
	if (ch->eof_wanted && !ch->eof_sent && !ch->in.len) {
		progress |= op_eof(ch, false);
		if (c->state != SSH_CONN_READY || c->owed || ch->state != SSH_CHAN_RUNNING)
			return progress;
	}
	if (ch->remote_eof)
		progress |= op_wait_closed(ch);
	return progress;
}

bool ssh_chan_step(struct ssh_chan *ch, uint64_t now)
{
	struct ssh_conn *c = ch->conn;
	bool progress = false, more = true;

	if (ch->ctl)
		return ctl_step(ch, now);
	while (more && c->state == SSH_CONN_READY && !c->owed) {
		enum ssh_chan_state before = ch->state;

		switch (ch->state) {
		case SSH_CHAN_WAITING:
			if (ch->close_wanted) {
				chan_set_closed(ch);
				break;
			}
			if (c->opening && c->opening != ch)
				return progress;
			c->opening = ch;
			ch->state = SSH_CHAN_OPENING;
			/* fall through */
		case SSH_CHAN_OPENING:
			progress |= op_open(ch);
			break;
		case SSH_CHAN_EXEC:
			if (ch->close_wanted) {
				ch->state = SSH_CHAN_CLOSING;	/* closed before it ran */
				break;
			}
			progress |= op_exec(ch);
			break;
		case SSH_CHAN_RUNNING:
			progress |= running_step(ch, now);
			break;
		case SSH_CHAN_CLOSING:
			progress |= op_close(ch, false);
			break;
		case SSH_CHAN_CLOSED:
			return progress;
		}
		more = ch->state != before;
		progress |= more;
	}
	return progress;
}

/* ---- the public face ---- */

int ssh_chan_open(struct ssh_conn *c, const struct ssh_chan_opts *o,
		  struct ssh_chan **out, struct verr *e)
{
	int rc;

	if (!o->command || !*o->command) {
		verr_set(e, "%s: a channel needs a command", c->name);
		return -EINVAL;
	}
	if (c->state == SSH_CONN_DOWN || c->freed) {
		verr_set(e, "%s is down: %s", c->name, c->err.msg);
		return -ENOTCONN;
	}
	if (ssh_conn_channels(c) >= c->loop->o.max_channels) {
		verr_set(e, "%s: connection already has %u channels (sshd allows %d "
			 "sessions); open another connection", c->name, c->loop->o.max_channels,
			 SSH_SERVER_MAX_SESSIONS);
		return -EBUSY;
	}
	rc = ssh_chan_new(c, false, o, out);
	if (rc) {
		verr_set(e, "%s: out of memory for a channel", c->name);
		return rc;
	}
	c->kick = true;
	return 0;
}

int ssh_chan_write(struct ssh_chan *ch, const void *buf, size_t len)
{
	if (ch->eof_wanted || ch->close_wanted || ch->state == SSH_CHAN_CLOSED)
		return -EPIPE;
	if (!len)
		return 0;
	if (ssh_buf_append(&ch->in, buf, len))
		return -ENOMEM;
	ch->was_queued = true;
	ch->conn->kick = true;
	return 0;
}

size_t ssh_chan_queued(const struct ssh_chan *ch)
{
	return ch->in.len;
}

void ssh_chan_send_eof(struct ssh_chan *ch)
{
	ch->eof_wanted = true;
	ch->conn->kick = true;
}

void ssh_chan_close(struct ssh_chan *ch)
{
	if (ch->state == SSH_CHAN_CLOSED || ch->close_wanted)
		return;
	ch->close_wanted = true;
	if (!ch->failed) {
		ch->failed = true;
		verr_set(&ch->err, "%s: closed by vmorch", ch->conn->name);
	}
	ssh_buf_release(&ch->in);
	ch->conn->kick = true;
}

void ssh_chan_free(struct ssh_chan *ch)
{
	struct ssh_conn *c;

	if (!ch || ch->freed)
		return;
	c = ch->conn;
	ch->freed = true;
	if (ch->state == SSH_CHAN_CLOSED && !c->loop->depth) {
		ssh_conn_remove_chan(c, ch);
		ssh_chan_destroy(ch);
		return;
	}
	ssh_chan_close(ch);
	c->loop->reap = true;
}

bool ssh_chan_closed(const struct ssh_chan *ch)
{
	return ch->state == SSH_CHAN_CLOSED;
}

const char *ssh_chan_error(const struct ssh_chan *ch)
{
	return ch->failed ? ch->err.msg : NULL;
}

int ssh_chan_exit_status(const struct ssh_chan *ch)
{
	return ch->exit_status;
}

const char *ssh_chan_exit_signal(const struct ssh_chan *ch)
{
	return ch->exit_signal;
}

const char *ssh_chan_output(const struct ssh_chan *ch, int stream, size_t *len)
{
	const struct ssh_buf *b = &ch->out[stream ? 1 : 0];

	if (len)
		*len = b->len;
	return b->p ? (const char *)b->p + b->head : "";
}

struct ssh_conn *ssh_chan_conn(const struct ssh_chan *ch)
{
	return ch->conn;
}

void *ssh_chan_user(const struct ssh_chan *ch)
{
	return ch->user;
}
