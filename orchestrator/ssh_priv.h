/*
 * ssh_priv.h - the insides of the SSH transport, shared by ssh_loop.c,
 * ssh_conn.c, ssh_auth.c, ssh_chan.c and ssh_host.c and by nothing else.
 */
#ifndef VMORCH_SSH_PRIV_H
#define VMORCH_SSH_PRIV_H

#include <netdb.h>

#include "common/clock.h"
#include "orchestrator/ssh.h"
#include "orchestrator/ssh_resolve.h"
#include "orchestrator/ssh_lib.h"
#include "orchestrator/ssh_wire.h"

/* A byte queue: live bytes are p[head .. head+len). */
struct ssh_buf {
	uint8_t *p;
	size_t head, len, cap;
};

int ssh_buf_append(struct ssh_buf *b, const void *data, size_t len);
void ssh_buf_consume(struct ssh_buf *b, size_t n);
void ssh_buf_release(struct ssh_buf *b);

enum ssh_chan_state {
	SSH_CHAN_WAITING,	/* its connection is not ready, or another open is in flight */
	SSH_CHAN_OPENING,	/* libssh2_channel_open_session */
	SSH_CHAN_EXEC,		/* libssh2_channel_exec */
	SSH_CHAN_RUNNING,
	SSH_CHAN_CLOSING,	/* libssh2_channel_close, ours */
	SSH_CHAN_CLOSED,
};

/*
 * libssh2 calls a channel makes.  When one returns EAGAIN with a packet
 * half sent, that very call must be repeated before any other call on the
 * session sends (libssh2 1.10's _libssh2_transport_send returns BAD_USE
 * otherwise): the connection remembers it as "owed".
 */
enum ssh_op {
	SSH_OP_NONE,
	SSH_OP_OPEN,
	SSH_OP_EXEC,
	SSH_OP_READ,
	SSH_OP_WRITE,
	SSH_OP_EOF,
	SSH_OP_WAIT_CLOSED,
	SSH_OP_CLOSE,
	SSH_OP_PROBE,
};

struct ssh_chan {
	struct ssh_conn *conn;
	LIBSSH2_CHANNEL *ch;
	enum ssh_chan_state state;
	char *command;			/* NULL for the control channel */
	void *user;
	bool ctl;			/* the connection's control channel */
	bool quiet;			/* no callbacks (ssh_run's own channels) */
	bool freed;			/* ssh_chan_free'd: reap once closed */
	bool notify_closed;		/* chan_closed is due */
	struct ssh_buf in;		/* stdin not yet taken by libssh2 */
	bool eof_wanted, eof_sent, close_wanted, remote_eof;
	bool was_queued;		/* in had bytes since the last chan_drained */
	size_t capture_max;
	struct ssh_buf out[2];		/* captured stdout, stderr */
	int exit_status;
	char exit_signal[32];
	bool failed;
	bool overflow;			/* captured output went past capture_max */
	struct verr err;
	/* probe (control channel only) */
	bool probing;
};

struct ssh_conn {
	struct ssh_loop *loop;
	/* the target, copied */
	char *name, *address, *login, *known_hosts, *agent_sock;
	char **identities;
	size_t nidentities;
	unsigned port;
	enum kh_policy policy;
	char khname[300];		/* "[address]:port" or "address" */

	enum ssh_conn_state state;
	bool was_ready;
	bool freed;			/* ssh_conn_free'd inside a dispatch: reap after it */
	bool notify_connected, notify_lost;
	bool kick;			/* work was queued: step it even without I/O */
	bool want_out;			/* wait for room in the socket (see can_send_small) */
	void *user;
	struct verr err;

	int fd;
	int pfd_idx;			/* its entry in the last ssh_loop_pollfds(), or -1 */
	struct ssh_resolve *resolve;	/* the host name's lookup, while it runs */
	uint64_t resolve_check_ms;	/* when it was last asked about */
	struct addrinfo *ai, *ai_next;
	char connect_err[200];		/* why the previous address failed */
	LIBSSH2_SESSION *s;
	bool dead;			/* the socket callbacks fail: no libssh2 call can block */
	uint64_t started_ms;		/* connect() began */
	uint64_t last_rx_ms;		/* bytes last arrived */
	uint64_t rx_bytes;
	char sock_err[64];		/* how the socket failed, if it did */
	uint64_t write_wait_ms;		/* since when queued stdin made no progress (0: it does) */
	uint64_t next_probe_ms;

	/* first bytes from the server, to explain a failed negotiation */
	uint8_t *sniff;
	size_t sniff_len;
	char hostkey_pref[200];		/* what we offered */
	bool pinned;			/* hostkey_pref came from known_hosts */

	/* authentication (ssh_auth.c) */
	int auth_phase;
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *agent_id;
	size_t file_idx;
	char tried[240];		/* keys offered, for the failure message */
	char rsa_key[200];		/* the first RSA key offered, for the hint */
	char auth_notes[160];		/* identity files skipped and why */
	char auth_method[200];
	char hostkey[SSH_KEYTYPE_MAX + SSH_FP_MAX + 2];
	char hostkey_status[64];

	struct ssh_chan *ctl;
	struct ssh_chan **chans;	/* exec channels */
	size_t nchans, chans_cap;
	struct ssh_chan *opening;	/* libssh2 opens one channel at a time per session */
	struct ssh_chan *owed;
	enum ssh_op owed_op;
};

struct ssh_loop {
	struct ssh_loop_opts o;
	struct ssh_loop_ops ops;
	void *ctx;
	struct ssh_conn **conns;
	size_t nconns, conns_cap;
	uint64_t last_start_ms;
	struct pollfd *pfds;		/* ssh_loop_run_once's own array */
	size_t pfds_cap;
	bool started_any;
	int depth;			/* >0 inside a dispatch: frees are deferred */
	bool reap;			/* something was freed while depth > 0 */
};


/* ssh_conn.c */
void ssh_conn_start(struct ssh_conn *c, uint64_t now);
void ssh_conn_step(struct ssh_conn *c, short revents, uint64_t now);
/* When @c next needs a step without I/O (ms, UINT64_MAX for never). */
uint64_t ssh_conn_deadline(const struct ssh_conn *c);
short ssh_conn_events(const struct ssh_conn *c);
void ssh_conn_fail(struct ssh_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ssh_conn_teardown(struct ssh_conn *c);
void ssh_conn_destroy(struct ssh_conn *c);
bool ssh_conn_handshaking(const struct ssh_conn *c);
/* After a libssh2 call that returned EAGAIN: remember it if it left a
   packet half sent. */
void ssh_conn_note_eagain(struct ssh_conn *c, struct ssh_chan *ch, enum ssh_op op);
/* Is there room in the socket for a small packet to leave whole?  For
   libssh2 calls that build their packet on the stack (send_eof), which
   cannot be resumed once half sent. */
bool ssh_conn_can_send_small(const struct ssh_conn *c);
/* Is @rc a failure of the whole session (socket, protocol) rather than
   of one channel? */
bool ssh_session_error(int rc);
/* A libssh2 call failed for the whole session while doing @what: fail the
   connection, saying how the socket failed when it did. */
void ssh_conn_fail_io(struct ssh_conn *c, const char *what);
const char *ssh_last_error(struct ssh_conn *c);

/* ssh_auth.c: 0 authenticated, -EAGAIN, or -1 with the connection failed. */
int ssh_auth_step(struct ssh_conn *c);
void ssh_auth_release(struct ssh_conn *c);

/* ssh_chan.c */
int ssh_chan_new(struct ssh_conn *c, bool ctl, const struct ssh_chan_opts *o,
		 struct ssh_chan **out);
/* Run the channel's state machine as far as it goes; true on progress. */
bool ssh_chan_step(struct ssh_chan *ch, uint64_t now);
/* Repeat the owed call @op; true when it completed (or failed). */
bool ssh_chan_retry(struct ssh_chan *ch, enum ssh_op op, uint64_t now);
/* The connection went down: mark @ch closed with @why. */
void ssh_chan_abort(struct ssh_chan *ch, const char *why);
void ssh_chan_destroy(struct ssh_chan *ch);
void ssh_chan_deliver(struct ssh_chan *ch);

/* ssh_loop.c: run the due callbacks of @c and its channels. */
void ssh_loop_deliver(struct ssh_loop *l, struct ssh_conn *c);
/* Take @ch out of its connection's list (it is then the caller's to destroy). */
void ssh_conn_remove_chan(struct ssh_conn *c, struct ssh_chan *ch);

#endif
