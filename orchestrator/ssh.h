/*
 * ssh.h - vmorch's SSH transport: connections to fleet hosts and exec
 * channels on them, all non-blocking libssh2 driven by one poll loop (no
 * thread per host, no ssh subprocess).  It knows nothing of jobs; the pool
 * uses it through the calls and callbacks below.  Design notes are at the
 * top of ssh_conn.c, user-facing ones in doc/fleet.md ("Transport").
 *
 * Threading: none.  Every call here is made from the thread that runs the
 * loop.  Callbacks run inside ssh_loop_dispatch()/ssh_loop_run_once(); they
 * may queue work (ssh_chan_write, ssh_chan_send_eof, ssh_chan_open,
 * ssh_chan_close) and free channels or connections (the memory is released
 * when the dispatch returns), but must not run the loop themselves.
 *
 * Signals: the process must ignore SIGPIPE.  vmorch's own sends use
 * MSG_NOSIGNAL, but libssh2 1.10 writes to the ssh-agent socket with plain
 * send(), and an agent that dies mid-request would otherwise kill vmorch.
 */
#ifndef VMORCH_SSH_H
#define VMORCH_SSH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "orchestrator/known_hosts.h"

struct ssh_loop;
struct ssh_conn;
struct ssh_chan;

/* sshd's MaxSessions default: session channels one connection may hold. */
#define SSH_SERVER_MAX_SESSIONS	10

struct ssh_loop_opts {
	unsigned max_handshakes;	/* connections between connect() and ready, at once (8) */
	unsigned stagger_ms;		/* least time between two connect() starts (20) */
	unsigned connect_timeout_ms;	/* connect() to ready, at most (15000) */
	unsigned keepalive_ms;		/* a keepalive probe this often (5000) */
	unsigned keepalive_max;		/* probes' worth of silence, or of a write
					   making no progress, before a host is lost (3) */
	unsigned max_channels;		/* exec channels per connection (9: sshd's
					   default MaxSessions 10 less vmorch's control
					   channel; more only for hosts that allow more) */
};

/* Fill @o with the defaults in the comments above. */
void ssh_loop_opts_default(struct ssh_loop_opts *o);

/* What a connection is doing. */
enum ssh_conn_state {
	SSH_CONN_QUEUED,	/* waiting for a handshake slot (max_handshakes, stagger_ms) */
	SSH_CONN_RESOLVING,	/* looking up the host name, off the loop (ssh_resolve.h) */
	SSH_CONN_CONNECTING,	/* TCP connect() in progress */
	SSH_CONN_HANDSHAKE,	/* SSH banner, key exchange, host key check */
	SSH_CONN_AUTH,		/* ssh-agent keys, then identity files */
	SSH_CONN_SETUP,		/* opening the control channel */
	SSH_CONN_READY,		/* channels may run */
	SSH_CONN_DOWN,		/* failed to come up, or lost: ssh_conn_error() says why */
};

/* Events.  Any member may be NULL. */
struct ssh_loop_ops {
	/* @c reached SSH_CONN_READY. */
	void (*connected)(void *ctx, struct ssh_conn *c);
	/*
	 * @c went SSH_CONN_DOWN (could not connect, was refused, or was lost
	 * later); its channels got chan_closed first.  ssh_conn_error() says
	 * why; ssh_conn_was_ready() tells a lost host from one that never came up.
	 */
	void (*lost)(void *ctx, struct ssh_conn *c);
	/* Bytes from a channel's stdout (@stream 0) or stderr (1), for
	   channels opened without capture_max. */
	void (*chan_data)(void *ctx, struct ssh_chan *ch, int stream,
			  const void *buf, size_t len);
	/* Everything queued with ssh_chan_write() was handed to libssh2. */
	void (*chan_drained)(void *ctx, struct ssh_chan *ch);
	/* @ch ended: the remote side closed it, it was refused, or its
	   connection went down (ssh_chan_error() is then non-NULL). */
	void (*chan_closed)(void *ctx, struct ssh_chan *ch);
};

int ssh_loop_new(const struct ssh_loop_opts *o, const struct ssh_loop_ops *ops,
		 void *ctx, struct ssh_loop **out, struct verr *e);
/* Tear down every connection (no callbacks) and free the loop. */
void ssh_loop_free(struct ssh_loop *l);

/*
 * One poll() over every connection, then ssh_loop_dispatch().  Waits at
 * most @timeout_ms (-1: until something is due).  0, or -errno with @e
 * set when poll() fails.
 */
int ssh_loop_run_once(struct ssh_loop *l, int timeout_ms, struct verr *e);

/*
 * For a caller with its own poll(): write the loop's descriptors into
 * @fds (at most @max; returns how many it needs, which may be more, and
 * then only the first @max were written) and lower *@timeout_ms to when
 * the loop next has something due (a timeout, a keepalive, a queued
 * connect).  Poll them with yours, then hand them back to
 * ssh_loop_dispatch(); the loop remembers which entry is whose.
 */
size_t ssh_loop_pollfds(struct ssh_loop *l, struct pollfd *fds, size_t max,
			int *timeout_ms);
/* Step every connection whose descriptor is ready in @fds (as filled by
   ssh_loop_pollfds and polled), and every timer that is due. */
void ssh_loop_dispatch(struct ssh_loop *l, const struct pollfd *fds, size_t n);

/* Connections not DOWN, and of those how many are between connect and ready. */
size_t ssh_loop_live(const struct ssh_loop *l);
size_t ssh_loop_handshaking(const struct ssh_loop *l);

/* Where and how to connect.  Strings are copied. */
struct ssh_target {
	const char *name;		/* for messages: the inventory's host name */
	const char *address;		/* host name or IP; also the known_hosts name */
	unsigned port;			/* 0 means 22 */
	const char *user;
	const char *const *identities;	/* private key files, tried after the agent */
	size_t nidentities;
	const char *agent_sock;		/* NULL: $SSH_AUTH_SOCK; "": no agent */
	const char *known_hosts;	/* OpenSSH known_hosts file */
	enum kh_policy policy;
};

/*
 * Add a connection to @t; it starts when a handshake slot is free.  A
 * host name is looked up then on glibc's resolver thread (getaddrinfo_a),
 * so a slow DNS server holds up that connection only.
 */
int ssh_conn_new(struct ssh_loop *l, const struct ssh_target *t,
		 struct ssh_conn **out, struct verr *e);
/*
 * Close (a polite SSH disconnect when nothing is pending) and free @c and
 * its channels, without callbacks.  Pointers to its channels die with it.
 */
void ssh_conn_free(struct ssh_conn *c);

enum ssh_conn_state ssh_conn_state(const struct ssh_conn *c);
const char *ssh_conn_state_name(enum ssh_conn_state s);
bool ssh_conn_was_ready(const struct ssh_conn *c);
/* Why it is DOWN ("" otherwise). */
const char *ssh_conn_error(const struct ssh_conn *c);
const char *ssh_conn_name(const struct ssh_conn *c);
/* How it logged in: "agent key NAME (TYPE)" or "identity file PATH (TYPE)". */
const char *ssh_conn_auth_method(const struct ssh_conn *c);
/* The host key, "TYPE SHA256:...", and what known_hosts said of it:
   "known" (line N), "recorded" (appended), or "unchecked" (policy off). */
const char *ssh_conn_hostkey(const struct ssh_conn *c);
const char *ssh_conn_hostkey_status(const struct ssh_conn *c);
/* Exec channels open or opening on it, and whether one more fits. */
unsigned ssh_conn_channels(const struct ssh_conn *c);
bool ssh_conn_has_room(const struct ssh_conn *c);
void ssh_conn_set_user(struct ssh_conn *c, void *user);
void *ssh_conn_user(const struct ssh_conn *c);

/* ---- exec channels ---- */

struct ssh_chan_opts {
	const char *command;		/* run by the user's shell on the host */
	void *user;			/* ssh_chan_user() */
	/*
	 * 0: stdout and stderr go to ops->chan_data as they arrive.  Else
	 * they are kept (ssh_chan_output), at most this many bytes each; a
	 * channel whose output overflows is closed with an error.
	 */
	size_t capture_max;
};

/*
 * Open an exec channel on @c (queued until @c is ready).  -EBUSY when @c
 * already has max_channels (open another connection to the host: see
 * ssh_host below), -ENOTCONN when @c is DOWN.
 */
int ssh_chan_open(struct ssh_conn *c, const struct ssh_chan_opts *o,
		  struct ssh_chan **out, struct verr *e);
/* Queue @len bytes for the command's stdin (copied).  -EPIPE after
   send_eof or close. */
int ssh_chan_write(struct ssh_chan *ch, const void *buf, size_t len);
/* Bytes queued and not yet taken by libssh2. */
size_t ssh_chan_queued(const struct ssh_chan *ch);
/* End stdin once the queue is written. */
void ssh_chan_send_eof(struct ssh_chan *ch);
/* Stop now: drop the queue, close the channel (the command sees EOF on
   stdin); chan_closed follows with the error "closed by vmorch". */
void ssh_chan_close(struct ssh_chan *ch);
/* Free @ch; an open one is closed first, without further callbacks. */
void ssh_chan_free(struct ssh_chan *ch);

bool ssh_chan_closed(const struct ssh_chan *ch);
/* NULL when the channel ended by the remote side closing it; else why. */
const char *ssh_chan_error(const struct ssh_chan *ch);
/*
 * The command's exit status and signal name ("" when none), as the
 * server reported them.  Not to be trusted alone: libssh2 1.10 reports 0
 * when no exit-status message arrived at all, so a job's outcome must come
 * from what the command wrote, never from this.
 */
int ssh_chan_exit_status(const struct ssh_chan *ch);
const char *ssh_chan_exit_signal(const struct ssh_chan *ch);
/* Captured stdout (0) or stderr (1), NUL-terminated (NUL not counted). */
const char *ssh_chan_output(const struct ssh_chan *ch, int stream, size_t *len);
struct ssh_conn *ssh_chan_conn(const struct ssh_chan *ch);
void *ssh_chan_user(const struct ssh_chan *ch);

/* ---- several connections to one host ---- */

/*
 * A host's connections: enough of them that every channel has a session
 * slot (max_channels each).  A connection that goes DOWN stays in the list
 * (the caller sees it through ops->lost) and is not replaced: call
 * ssh_host_forget_down() to let the next open start a fresh one.
 */
struct ssh_host;

int ssh_host_new(struct ssh_loop *l, const struct ssh_target *t,
		 unsigned max_conns, struct ssh_host **out, struct verr *e);
/* Free the host and its connections (ssh_conn_free on each). */
void ssh_host_free(struct ssh_host *h);
/*
 * Open a channel on a live connection with room, starting a new
 * connection when none has; -EBUSY when max_conns are all full, -ENOTCONN
 * when they are all down and no new one may start.
 */
int ssh_host_chan_open(struct ssh_host *h, const struct ssh_chan_opts *o,
		       struct ssh_chan **out, struct verr *e);
size_t ssh_host_nconns(const struct ssh_host *h);
struct ssh_conn *ssh_host_conn(const struct ssh_host *h, size_t i);
/* Free the host's DOWN connections (no callbacks). */
void ssh_host_forget_down(struct ssh_host *h);

/* ---- run one short command and collect its output ---- */

struct ssh_run_result {
	char *out, *err;		/* NUL-terminated */
	size_t out_len, err_len;
	int exit_status;		/* untrusted, see ssh_chan_exit_status */
	char exit_signal[32];
};

/*
 * Run @command on @c (waiting for @c to be ready), feed it @in (may be
 * NULL; queued a slice at a time, so it may be a mapped file of any
 * size) then EOF, and collect at most @max_out bytes of stdout and of
 * stderr.  Runs the loop until the channel closes or @timeout_ms passes,
 * so other connections progress meanwhile; not to be called from a
 * callback.  0 with @r filled (release it), or -errno with @e set:
 * -ETIMEDOUT, -ENOTCONN when @c went down, -EMSGSIZE for too much output.
 */
int ssh_run(struct ssh_loop *l, struct ssh_conn *c, const char *command,
	    const void *in, size_t inlen, size_t max_out, unsigned timeout_ms,
	    struct ssh_run_result *r, struct verr *e);
void ssh_run_result_release(struct ssh_run_result *r);

/* One of several commands run at once (ssh_run_all). */
struct ssh_run_req {
	struct ssh_conn *conn;
	const char *command;
	const void *in;			/* stdin, or NULL; fed in slices */
	size_t inlen;
	size_t max_out;
	/* Its outcome: rc 0 with @r filled (release it), or -errno with @e. */
	int rc;
	struct ssh_run_result r;
	struct verr e;
};

/*
 * ssh_run for @n commands at once, each on its own connection or sharing
 * one, all on the loop: every request gets its outcome, each bounded by
 * @timeout_ms from the start.  Returns 0, or -errno with @e set when the
 * loop itself failed; the requests not yet over then carry that error as
 * their own, so a caller may read the requests alone.  Not from a
 * callback.
 */
int ssh_run_all(struct ssh_loop *l, struct ssh_run_req *q, size_t n, unsigned timeout_ms,
		struct verr *e);

#endif
