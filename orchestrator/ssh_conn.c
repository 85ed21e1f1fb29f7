/*
 * ssh_conn.c - one SSH connection to a fleet host, as a state machine that
 * the poll loop (ssh_loop.c) advances: queued -> TCP connect -> handshake
 * and host key check -> authentication (ssh_auth.c) -> control channel ->
 * ready -> down.
 *
 * Design notes (libssh2 1.10, Debian 12):
 *
 * - Non-blocking throughout.  What a connection waits for comes from
 *   libssh2_session_block_directions(); every state has a deadline, so a
 *   host that stops answering is noticed without a thread or signal.
 *
 * - One send at a time.  When a libssh2 call returns EAGAIN having sent
 *   part of a packet, 1.10 keeps the rest and refuses (BAD_USE) any other
 *   packet until that same call is repeated.  So after each EAGAIN the
 *   connection records the call as "owed" if a packet is half sent, and
 *   makes no other call on the session until the owed one completes.  The
 *   few calls that build their packet on the stack (send_eof) are only
 *   made when the socket has room for the whole packet.
 *
 * - Our own socket callbacks (LIBSSH2_CALLBACK_RECV/SEND) do three jobs:
 *   they time-stamp every byte that arrives (liveness), keep the server's
 *   first bytes (its KEXINIT, to explain a failed negotiation), and, once
 *   the connection is being torn down, fail every call so that no libssh2
 *   free or close can block on a dead host.
 *
 * - Keepalive.  libssh2_keepalive_send() is not used: 1.10 counts its
 *   interval in whole seconds of time() and turns 1 into 2, and keeps every
 *   reply (SSH_MSG_REQUEST_FAILURE) in the session's packet list for good,
 *   a list each channel read then walks.  Instead each connection holds a
 *   control channel (a session channel that never runs anything) and
 *   every keepalive_ms sends an "env" request on it with want-reply; sshd
 *   answers (it refuses the variable), libssh2 consumes the answer, and
 *   the control channel's reads pump the transport when no exec channel
 *   does.  The price is one of sshd's MaxSessions per connection.  A host
 *   from which no byte arrived for keepalive_max probes is lost.
 *
 * - Watchdog.  A write that makes no progress (queued stdin not taken, or
 *   an owed packet not leaving) for as long marks the host lost too:
 *   libssh2 1.10 can stall for good on a key re-exchange in the middle of
 *   a write, with keepalive answers still arriving.
 *
 * - Host keys: known_hosts is read by known_hosts.c before the handshake,
 *   to pin the host key algorithms to the types it lists for the host
 *   (libssh2_session_method_pref), and after it to judge the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "orchestrator/known_hosts.h"
#include "orchestrator/ssh_priv.h"

/* Keep this much of what the server sends first: its banner and KEXINIT. */
#define SNIFF_MAX	16384

const char *ssh_conn_state_name(enum ssh_conn_state s)
{
	static const char *const names[] = {
		[SSH_CONN_QUEUED] = "queued",
		[SSH_CONN_RESOLVING] = "resolving",
		[SSH_CONN_CONNECTING] = "connecting",
		[SSH_CONN_HANDSHAKE] = "handshake",
		[SSH_CONN_AUTH] = "authentication",
		[SSH_CONN_SETUP] = "channel set-up",
		[SSH_CONN_READY] = "ready",
		[SSH_CONN_DOWN] = "down",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

bool ssh_conn_handshaking(const struct ssh_conn *c)
{
	return c->state >= SSH_CONN_RESOLVING && c->state <= SSH_CONN_SETUP;
}

const char *ssh_last_error(struct ssh_conn *c)
{
	char *msg = NULL;

	if (!c->s)
		return "no session";
	ssh2.session_last_error(c->s, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

bool ssh_session_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
		return false;
	default:
		return true;
	}
}

void ssh_conn_fail(struct ssh_conn *c, const char *fmt, ...)
{
	char msg[VERR_MAX];
	va_list ap;

	if (c->state == SSH_CONN_DOWN)
		return;		/* the first reason wins */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	verr_set(&c->err, "%s: %s", c->name, msg);
	c->state = SSH_CONN_DOWN;
	c->notify_lost = true;
	for (size_t i = 0; i < c->nchans; i++)
		ssh_chan_abort(c->chans[i], c->err.msg);
	if (c->ctl)
		ssh_chan_abort(c->ctl, c->err.msg);
}

void ssh_conn_fail_io(struct ssh_conn *c, const char *what)
{
	if (*c->sock_err)
		ssh_conn_fail(c, "lost: %s (%s)", c->sock_err, what);
	else
		ssh_conn_fail(c, "%s: %s", what, ssh_last_error(c));
}

/* ---- the socket, as libssh2 sees it ---- */

static void note_sock_err(struct ssh_conn *c, int err)
{
	if (*c->sock_err || err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
		return;
	if (err)
		snprintf(c->sock_err, sizeof(c->sock_err), "%s", strerror(err));
	else
		snprintf(c->sock_err, sizeof(c->sock_err), "the host closed the connection");
}

static ssize_t conn_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
			 void **abstract)
{
	struct ssh_conn *c = *abstract;
	ssize_t n;

	if (c->dead)
		return -ECONNRESET;
	n = recv(fd, buf, len, flags);
	if (n < 0) {
		int err = errno;

		note_sock_err(c, err);
		return -err;
	}
	if (n == 0 && len)
		note_sock_err(c, 0);
	if (n > 0) {
		c->rx_bytes += (uint64_t)n;
		c->last_rx_ms = clock_ms();
		if (c->sniff && c->sniff_len < SNIFF_MAX) {
			size_t k = (size_t)n < SNIFF_MAX - c->sniff_len ?
				   (size_t)n : SNIFF_MAX - c->sniff_len;

			memcpy(c->sniff + c->sniff_len, buf, k);
			c->sniff_len += k;
		}
	}
	return n;
}

static ssize_t conn_send(libssh2_socket_t fd, const void *buf, size_t len,
			 int flags, void **abstract)
{
	struct ssh_conn *c = *abstract;
	ssize_t n;

	if (c->dead)
		return -EPIPE;
	n = send(fd, buf, len, flags | MSG_NOSIGNAL);
	if (n < 0) {
		int err = errno;

		note_sock_err(c, err);
		return -err;
	}
	return n;
}

void ssh_conn_note_eagain(struct ssh_conn *c, struct ssh_chan *ch, enum ssh_op op)
{
	if (c->owed || !c->s)
		return;
	if (ssh2.session_block_directions(c->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND) {
		c->owed = ch;
		c->owed_op = op;
		if (!c->write_wait_ms)
			c->write_wait_ms = clock_ms();
	}
}

bool ssh_conn_can_send_small(const struct ssh_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };

	if (c->owed || (ssh2.session_block_directions(c->s) &
			LIBSSH2_SESSION_BLOCK_OUTBOUND))
		return false;
	/*
	 * A TCP socket polls writable while it has room for a third of what
	 * it holds queued, far more than the hundred bytes such a packet
	 * takes: the send() cannot be cut short.
	 */
	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* ---- connect ---- */

static void conn_try_connect(struct ssh_conn *c)
{
	while (c->ai_next) {
		struct addrinfo *a = c->ai_next;
		char host[NI_MAXHOST] = "?";

		c->ai_next = a->ai_next;
		getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0,
			    NI_NUMERICHOST);
		c->fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			snprintf(c->connect_err, sizeof(c->connect_err), "socket: %s",
				 strerror(errno));
			continue;
		}
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			c->state = SSH_CONN_CONNECTING;
			return;
		}
		snprintf(c->connect_err, sizeof(c->connect_err), "connect to %s port %u: %s",
			 host, c->port, strerror(errno));
		close(c->fd);
		c->fd = -1;
	}
	ssh_conn_fail(c, "%s", c->connect_err);
}

/* The host name's lookup: still running, or its addresses to connect to. */
static void conn_resolve_step(struct ssh_conn *c, uint64_t now)
{
	char why[200];

	if (!ssh_resolve_poll(c->resolve, &c->ai, why, sizeof(why))) {
		c->resolve_check_ms = now;
		return;
	}
	c->resolve = NULL;
	if (!c->ai) {
		ssh_conn_fail(c, "cannot resolve %s: %s", c->address, why);
		return;
	}
	c->ai_next = c->ai;
	snprintf(c->connect_err, sizeof(c->connect_err), "%s has no address", c->address);
	conn_try_connect(c);
}

void ssh_conn_start(struct ssh_conn *c, uint64_t now)
{
	char why[200];

	c->started_ms = now;
	if (ssh_resolve_start(c->address, c->port, &c->resolve, why, sizeof(why))) {
		ssh_conn_fail(c, "cannot resolve %s: %s", c->address, why);
		return;
	}
	c->state = SSH_CONN_RESOLVING;
	conn_resolve_step(c, now);
}

static void conn_start_session(struct ssh_conn *c, uint64_t now);

static void conn_connect_step(struct ssh_conn *c, short revents, uint64_t now)
{
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		snprintf(c->connect_err, sizeof(c->connect_err), "connect to %s port %u: %s",
			 c->address, c->port, strerror(err));
		close(c->fd);
		c->fd = -1;
		conn_try_connect(c);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_start_session(c, now);
}

/* ---- handshake and host key ---- */

static void conn_start_session(struct ssh_conn *c, uint64_t now)
{
	struct kh_set set = { NULL, 0 };
	struct verr e = { "" };
	int rc;

	c->s = ssh2.session_init_ex(NULL, NULL, NULL, c);
	c->sniff = malloc(SNIFF_MAX);
	if (!c->s || !c->sniff) {
		ssh_conn_fail(c, "out of memory for an SSH session");
		return;
	}
	ssh2.session_set_blocking(c->s, 0);
	ssh2.session_callback_set(c->s, LIBSSH2_CALLBACK_RECV, (void *)conn_recv);
	ssh2.session_callback_set(c->s, LIBSSH2_CALLBACK_SEND, (void *)conn_send);

	c->pinned = false;
	if (c->policy != KH_OFF) {
		if (kh_lookup(c->known_hosts, c->khname, &set, &e)) {
			ssh_conn_fail(c, "%s", e.msg);
			return;
		}
		for (size_t i = 0; i < set.n; i++)
			for (int t = 0; kh_supported_types[t]; t++)
				if (!set.e[i].revoked && !strcmp(set.e[i].type, kh_supported_types[t]))
					c->pinned = true;
	}
	kh_set_hostkey_pref(&set, c->hostkey_pref, sizeof(c->hostkey_pref));
	kh_set_release(&set);
	rc = ssh2.session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, c->hostkey_pref);
	if (rc) {
		ssh_conn_fail(c, "libssh2 refuses host key types %s: %s", c->hostkey_pref,
			      ssh_last_error(c));
		return;
	}
	c->state = SSH_CONN_HANDSHAKE;
	c->last_rx_ms = now;
}

/* Is @name in the comma-separated @list? */
static bool namelist_has(const char *list, const char *name, size_t nlen)
{
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		if (l == nlen && !memcmp(p, name, l))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* Does any name of @a appear in @b? */
static bool namelists_meet(const char *a, const char *b)
{
	const char *p = a;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		if (l && namelist_has(b, p, l))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

static bool namelist_all_rsa(const char *list)
{
	char name[SSH_KEYTYPE_MAX];
	const char *p = list;

	if (!*p)
		return false;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		if (!ssh_keytype_is_rsa(name))
			return false;
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

/* libssh2's own list of a method kind, comma-separated. */
static void supported_algs(struct ssh_conn *c, int method, char *out, size_t size)
{
	const char **algs = NULL;
	int n = ssh2.session_supported_algs(c->s, method, &algs);
	size_t used = 0;

	out[0] = 0;
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s",
					 i ? "," : "", algs[i]);
	if (n > 0)
		ssh2.free(c->s, algs);
}

/* Say why the handshake failed, from what the server offered. */
static void conn_handshake_failed(struct ssh_conn *c, int rc)
{
	struct ssh_server_hello h;
	char kex[1024];
	int prc = ssh_server_hello_parse(c->sniff, c->sniff_len, &h);

	if (prc == -ENODATA && c->sniff_len == 0) {
		ssh_conn_fail(c, "%s closed the connection before the SSH banner "
			      "(sshd MaxStartups reached, or not an SSH server?): %s",
			      c->khname, ssh_last_error(c));
		return;
	}
	if (prc == -EPROTO) {
		ssh_conn_fail(c, "%s is not an SSH server: %s", c->khname, ssh_last_error(c));
		return;
	}
	if (prc == 0 && !namelists_meet(h.hostkey, c->hostkey_pref)) {
		if (c->pinned)
			ssh_conn_fail(c, "%s offers host key types %s, but %s lists only %s "
				      "for it: refusing (were the host's keys replaced? "
				      "check, then update known_hosts)",
				      c->khname, h.hostkey, c->known_hosts, c->hostkey_pref);
		else if (namelist_all_rsa(h.hostkey))
			ssh_conn_fail(c, "%s has only RSA host keys (it offers %s); libssh2 "
				      "1.10 checks RSA host keys only with SHA-1 signatures "
				      "(ssh-rsa), which OpenSSH 8.8 and later refuse: give "
				      "the host an ed25519 key (ssh-keygen -t ed25519)",
				      c->khname, h.hostkey);
		else
			ssh_conn_fail(c, "no host key type in common: %s offers %s, vmorch "
				      "accepts %s", c->khname, h.hostkey, c->hostkey_pref);
		return;
	}
	supported_algs(c, LIBSSH2_METHOD_KEX, kex, sizeof(kex));
	if (prc == 0 && *kex && !namelists_meet(h.kex, kex)) {
		ssh_conn_fail(c, "no key exchange method in common: %s offers %s, "
			      "libssh2 1.10 has %s", c->khname, h.kex, kex);
		return;
	}
	ssh_conn_fail(c, "SSH handshake with %s (%s) failed: %s (libssh2 error %d)",
		      c->khname, prc == 0 ? h.version : "no banner", ssh_last_error(c), rc);
}

static const char *verdict_name(enum kh_verdict v)
{
	return v == KH_MATCH ? "known" : v == KH_UNKNOWN ? "unknown" :
	       v == KH_CHANGED ? "changed" : "revoked";
}

/* Judge the host key; false with the connection failed. */
static bool conn_check_hostkey(struct ssh_conn *c)
{
	struct kh_set set = { NULL, 0 };
	struct verr e = { "" };
	enum kh_verdict v;
	char type[SSH_KEYTYPE_MAX], fp[SSH_FP_MAX];
	const char *blob;
	size_t len = 0;
	unsigned line = 0;
	int ktype;

	blob = ssh2.session_hostkey(c->s, &len, &ktype);
	if (!blob || !ssh_blob_keytype((const uint8_t *)blob, len, type)) {
		ssh_conn_fail(c, "%s sent no usable host key", c->khname);
		return false;
	}
	ssh_fingerprint((const uint8_t *)blob, len, fp);
	snprintf(c->hostkey, sizeof(c->hostkey), "%s %s", type, fp);
	if (c->policy == KH_OFF) {
		snprintf(c->hostkey_status, sizeof(c->hostkey_status),
			 "unchecked (host_key_check off)");
		return true;
	}
	if (kh_lookup(c->known_hosts, c->khname, &set, &e)) {
		ssh_conn_fail(c, "%s", e.msg);
		return false;
	}
	v = kh_set_check(&set, type, (const uint8_t *)blob, len, &line);
	kh_set_release(&set);
	if (v == KH_UNKNOWN && c->policy == KH_ACCEPT_NEW) {
		if (kh_append(c->known_hosts, c->khname, type, (const uint8_t *)blob, len,
			      &v, &line, &e)) {
			ssh_conn_fail(c, "%s", e.msg);
			return false;
		}
		if (v == KH_UNKNOWN) {
			snprintf(c->hostkey_status, sizeof(c->hostkey_status),
				 "recorded (known_hosts line %u)", line);
			return true;
		}
	}
	switch (v) {
	case KH_MATCH:
		snprintf(c->hostkey_status, sizeof(c->hostkey_status),
			 "known (known_hosts line %u)", line);
		return true;
	case KH_UNKNOWN:
		ssh_conn_fail(c, "host key of %s is not in %s: %s %s (host_key_check is strict)",
			      c->khname, c->known_hosts, type, fp);
		return false;
	case KH_CHANGED:
		ssh_conn_fail(c, "HOST KEY CHANGED for %s: it is now %s %s, unlike %s line %u; "
			      "refusing (a reinstalled host, or someone in the middle)",
			      c->khname, type, fp, c->known_hosts, line);
		return false;
	case KH_REVOKED:
		ssh_conn_fail(c, "host key of %s is revoked by %s line %u: %s %s",
			      c->khname, c->known_hosts, line, type, fp);
		return false;
	}
	ssh_conn_fail(c, "host key %s", verdict_name(v));
	return false;
}

static void conn_handshake_step(struct ssh_conn *c)
{
	int rc = ssh2.session_handshake(c->s, c->fd);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc) {
		conn_handshake_failed(c, rc);
		return;
	}
	free(c->sniff);
	c->sniff = NULL;
	if (!conn_check_hostkey(c))
		return;
	c->state = SSH_CONN_AUTH;
}

/* ---- the control channel, and being ready ---- */

static void conn_setup_step(struct ssh_conn *c, uint64_t now)
{
	struct ssh_chan *ctl = c->ctl;

	ctl->ch = ssh2.channel_open_ex(c->s, "session", sizeof("session") - 1,
				       32768, 32768, NULL, 0);
	if (!ctl->ch) {
		int rc = ssh2.session_last_errno(c->s);

		if (rc == LIBSSH2_ERROR_EAGAIN)
			return;
		ssh_conn_fail(c, "%s refuses a session channel (sshd MaxSessions 0?): %s",
			      c->khname, ssh_last_error(c));
		return;
	}
	ctl->state = SSH_CHAN_RUNNING;
	c->state = SSH_CONN_READY;
	c->was_ready = true;
	c->notify_connected = true;
	c->last_rx_ms = now;
	c->next_probe_ms = now + c->loop->o.keepalive_ms;
}

static void conn_ready_step(struct ssh_conn *c, uint64_t now)
{
	if (c->owed) {
		struct ssh_chan *ch = c->owed;
		enum ssh_op op = c->owed_op;

		c->owed = NULL;
		c->owed_op = SSH_OP_NONE;
		ssh_chan_retry(ch, op, now);
		if (c->state != SSH_CONN_READY || c->owed)
			return;
	}
	/*
	 * A read on one channel may take packets for another off the socket
	 * into libssh2's queue, where poll() cannot see them: go round until
	 * a pass moves nothing.  A connection that still moves after a few
	 * passes gets another step straight after the next poll(), so that
	 * a busy host cannot hold up the others.
	 */
	for (int pass = 0;; pass++) {
		uint64_t rx = c->rx_bytes;
		bool progress = ssh_chan_step(c->ctl, now);

		if (c->state != SSH_CONN_READY || c->owed)
			return;
		for (size_t i = 0; i < c->nchans; i++) {
			progress |= ssh_chan_step(c->chans[i], now);
			if (c->state != SSH_CONN_READY || c->owed)
				return;
		}
		if (!progress && rx == c->rx_bytes)
			break;
		if (pass == 8) {
			c->kick = true;
			break;
		}
	}
	/* Nothing left to write and nothing owed: no write is stalled. */
	{
		bool queued = false;

		for (size_t i = 0; i < c->nchans && !queued; i++)
			queued = c->chans[i]->in.len && c->chans[i]->state == SSH_CHAN_RUNNING;
		if (!queued)
			c->write_wait_ms = 0;
	}
}

static void conn_check_time(struct ssh_conn *c)
{
	const struct ssh_loop_opts *o = &c->loop->o;
	uint64_t limit = (uint64_t)o->keepalive_ms * o->keepalive_max;
	/* Not the step's "now": the socket callbacks stamp bytes as they come. */
	uint64_t now = clock_ms();

	if (c->state == SSH_CONN_DOWN || c->state == SSH_CONN_QUEUED)
		return;
	if (c->state != SSH_CONN_READY) {
		if (now - c->started_ms >= o->connect_timeout_ms)
			ssh_conn_fail(c, "timed out after %u ms in %s with %s",
				      o->connect_timeout_ms, ssh_conn_state_name(c->state),
				      c->khname);
		return;
	}
	if (now - c->last_rx_ms >= limit)
		ssh_conn_fail(c, "lost: nothing received for %.1f s (keepalive every %u ms, "
			      "%u missed)", (double)(now - c->last_rx_ms) / 1000,
			      o->keepalive_ms, o->keepalive_max);
	else if (c->write_wait_ms && now - c->write_wait_ms >= limit)
		ssh_conn_fail(c, "lost: a write made no progress for %.1f s",
			      (double)(now - c->write_wait_ms) / 1000);
}

void ssh_conn_step(struct ssh_conn *c, short revents, uint64_t now)
{
	switch (c->state) {
	case SSH_CONN_RESOLVING:
		conn_resolve_step(c, now);
		break;
	case SSH_CONN_CONNECTING:
		conn_connect_step(c, revents, now);
		break;
	case SSH_CONN_HANDSHAKE:
		conn_handshake_step(c);
		if (c->state != SSH_CONN_AUTH)
			break;
		/* fall through */
	case SSH_CONN_AUTH:
		if (ssh_auth_step(c) != 0)
			break;
		c->state = SSH_CONN_SETUP;
		/* fall through */
	case SSH_CONN_SETUP:
		conn_setup_step(c, now);
		if (c->state != SSH_CONN_READY)
			break;
		/* fall through */
	case SSH_CONN_READY:
		conn_ready_step(c, now);
		break;
	case SSH_CONN_QUEUED:
	case SSH_CONN_DOWN:
		break;
	}
	conn_check_time(c);
	if (c->state == SSH_CONN_DOWN)
		ssh_conn_teardown(c);
}

short ssh_conn_events(const struct ssh_conn *c)
{
	int dirs;

	switch (c->state) {
	case SSH_CONN_CONNECTING:
		return POLLOUT;
	case SSH_CONN_HANDSHAKE:
	case SSH_CONN_AUTH:
	case SSH_CONN_SETUP:
		/* One libssh2 call at a time: wait for what it waits for. */
		dirs = ssh2.session_block_directions(c->s);
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			return POLLOUT;
		return POLLIN;
	case SSH_CONN_READY:
		/*
		 * An owed packet must leave before anything else happens on the
		 * session, reads included: waiting for POLLIN too would spin
		 * while the host's bytes sit unread.
		 */
		if (c->owed)
			return POLLOUT;
		dirs = ssh2.session_block_directions(c->s);
		return (short)(POLLIN | (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0));
	default:
		return 0;
	}
}

uint64_t ssh_conn_deadline(const struct ssh_conn *c)
{
	const struct ssh_loop_opts *o = &c->loop->o;
	uint64_t limit = (uint64_t)o->keepalive_ms * o->keepalive_max, d;

	switch (c->state) {
	case SSH_CONN_RESOLVING:
		/* Asked again every 5 ms: glibc's thread has no descriptor to poll. */
		d = c->resolve_check_ms + 5;
		return d < c->started_ms + o->connect_timeout_ms ? d :
		       c->started_ms + o->connect_timeout_ms;
	case SSH_CONN_CONNECTING:
	case SSH_CONN_HANDSHAKE:
	case SSH_CONN_AUTH:
	case SSH_CONN_SETUP:
		return c->started_ms + o->connect_timeout_ms;
	case SSH_CONN_READY:
		d = c->last_rx_ms + limit;
		if (c->write_wait_ms && c->write_wait_ms + limit < d)
			d = c->write_wait_ms + limit;
		if (!c->ctl->probing && c->next_probe_ms < d)
			d = c->next_probe_ms;
		return d;
	default:
		return UINT64_MAX;
	}
}

/* ---- going away ---- */

void ssh_conn_teardown(struct ssh_conn *c)
{
	/* From here on every libssh2 call fails at once instead of waiting. */
	c->dead = true;
	for (size_t i = 0; i < c->nchans; i++) {
		if (c->chans[i]->ch)
			ssh2.channel_free(c->chans[i]->ch);
		c->chans[i]->ch = NULL;
	}
	if (c->ctl && c->ctl->ch) {
		ssh2.channel_free(c->ctl->ch);
		c->ctl->ch = NULL;
	}
	ssh_auth_release(c);
	if (c->s) {
		ssh2.session_free(c->s);
		c->s = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->resolve) {
		ssh_resolve_abandon(c->resolve);
		c->resolve = NULL;
	}
	if (c->ai) {
		freeaddrinfo(c->ai);
		c->ai = c->ai_next = NULL;
	}
	free(c->sniff);
	c->sniff = NULL;
	c->owed = NULL;
	c->opening = NULL;
}

void ssh_conn_destroy(struct ssh_conn *c)
{
	/* A polite goodbye when the session is idle; never wait for it. */
	if (c->state == SSH_CONN_READY && !c->owed &&
	    !(ssh2.session_block_directions(c->s) & LIBSSH2_SESSION_BLOCK_OUTBOUND))
		ssh2.session_disconnect_ex(c->s, SSH_DISCONNECT_BY_APPLICATION,
					   "vmorch done", "");
	ssh_conn_teardown(c);
	for (size_t i = 0; i < c->nchans; i++)
		ssh_chan_destroy(c->chans[i]);
	if (c->ctl)
		ssh_chan_destroy(c->ctl);
	free(c->chans);
	for (size_t i = 0; i < c->nidentities; i++)
		free(c->identities[i]);
	free(c->identities);
	free(c->name);
	free(c->address);
	free(c->login);
	free(c->known_hosts);
	free(c->agent_sock);
	free(c);
}

/* ---- the public face ---- */

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int ssh_conn_new(struct ssh_loop *l, const struct ssh_target *t,
		 struct ssh_conn **out, struct verr *e)
{
	struct ssh_conn *c;
	struct ssh_conn **grown;

	if (!t->address || !*t->address || !t->user || !*t->user ||
	    (t->policy != KH_OFF && (!t->known_hosts || !*t->known_hosts))) {
		verr_set(e, "%s: an SSH target needs an address, a user and a known_hosts file",
			 t->name ? t->name : "?");
		return -EINVAL;
	}
	if (t->port > 65535) {
		verr_set(e, "%s: port %u is out of range", t->name ? t->name : t->address,
			 t->port);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return verr_errno(e, "new SSH connection");
	c->loop = l;
	c->fd = -1;
	c->pfd_idx = -1;
	c->name = dup_or_empty(t->name && *t->name ? t->name : t->address);
	c->address = dup_or_empty(t->address);
	c->login = dup_or_empty(t->user);
	c->known_hosts = dup_or_empty(t->known_hosts);
	c->agent_sock = t->agent_sock ? strdup(t->agent_sock) : NULL;
	c->port = t->port ? t->port : 22;
	c->policy = t->policy;
	kh_host_name(c->address, c->port, c->khname, sizeof(c->khname));
	c->identities = calloc(t->nidentities + 1, sizeof(char *));
	c->nidentities = t->nidentities;
	if (!c->name || !c->address || !c->login || !c->known_hosts ||
	    (t->agent_sock && !c->agent_sock) || !c->identities)
		goto nomem;
	for (size_t i = 0; i < t->nidentities; i++)
		if (!(c->identities[i] = strdup(t->identities[i])))
			goto nomem;
	if (ssh_chan_new(c, true, NULL, &c->ctl))
		goto nomem;
	grown = realloc(l->conns, (l->nconns + 1) * sizeof(*grown));
	if (!grown)
		goto nomem;
	l->conns = grown;
	l->conns[l->nconns++] = c;
	c->state = SSH_CONN_QUEUED;
	*out = c;
	return 0;
nomem:
	ssh_conn_destroy(c);
	return verr_errno(e, "new SSH connection");
}

enum ssh_conn_state ssh_conn_state(const struct ssh_conn *c)
{
	return c->state;
}

bool ssh_conn_was_ready(const struct ssh_conn *c)
{
	return c->was_ready;
}

const char *ssh_conn_error(const struct ssh_conn *c)
{
	return c->err.msg;
}

const char *ssh_conn_name(const struct ssh_conn *c)
{
	return c->name;
}

const char *ssh_conn_auth_method(const struct ssh_conn *c)
{
	return c->auth_method;
}

const char *ssh_conn_hostkey(const struct ssh_conn *c)
{
	return c->hostkey;
}

const char *ssh_conn_hostkey_status(const struct ssh_conn *c)
{
	return c->hostkey_status;
}

unsigned ssh_conn_channels(const struct ssh_conn *c)
{
	unsigned n = 0;

	for (size_t i = 0; i < c->nchans; i++)
		n += c->chans[i]->state != SSH_CHAN_CLOSED;
	return n;
}

bool ssh_conn_has_room(const struct ssh_conn *c)
{
	return c->state != SSH_CONN_DOWN && ssh_conn_channels(c) < c->loop->o.max_channels;
}

void ssh_conn_set_user(struct ssh_conn *c, void *user)
{
	c->user = user;
}

void *ssh_conn_user(const struct ssh_conn *c)
{
	return c->user;
}
