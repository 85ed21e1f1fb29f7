/*
 * test_ssh.c - the SSH transport (orchestrator/ssh*.c) against real
 * OpenSSH servers on 127.0.0.N started by tests/fleet/sshd.sh: logging in
 * with the agent and with identity files, commands and their bytes, the
 * host key policies, the RSA refusals, keepalive and crash detection, the
 * write watchdog and the channel limit.  Skips when /usr/sbin/sshd is
 * missing, unless CI is set (then it fails).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/ssh.h"
#include "tests/fleet/sshd_harness.h"

static struct fleet F;
static bool have_fleet;
static unsigned port2;		/* host 2: ed25519, shared by the tests that leave it alone */

/* ---- events ---- */

struct sink {
	char *buf;
	size_t len, cap;
	bool closed;
};

static struct {
	int connected, lost, closed;
	size_t max_handshaking;
} ev;

static void sink_add(struct sink *s, const void *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = 0;
}

static void on_connected(void *ctx, struct ssh_conn *c)
{
	ev.connected++;
}

static void on_lost(void *ctx, struct ssh_conn *c)
{
	ev.lost++;
}

static void on_data(void *ctx, struct ssh_chan *ch, int stream, const void *buf, size_t len)
{
	struct sink *s = ssh_chan_user(ch);

	if (s && stream == 0)
		sink_add(s, buf, len);
}

static void on_closed(void *ctx, struct ssh_chan *ch)
{
	struct sink *s = ssh_chan_user(ch);

	ev.closed++;
	if (s)
		s->closed = true;
}

static const struct ssh_loop_ops ops = {
	.connected = on_connected,
	.lost = on_lost,
	.chan_data = on_data,
	.chan_closed = on_closed,
};

/* ---- helpers ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void need_fleet(void)
{
	if (have_fleet)
		return;
	if (fleet_available())
		fail_msg("%s is there but the fake hosts did not start", FLEET_SSHD);
	if (getenv("CI"))
		fail_msg("%s is missing and CI is set (apt-get install openssh-server)",
			 FLEET_SSHD);
	skip();
}

static struct ssh_loop *new_loop(const struct ssh_loop_opts *o)
{
	struct ssh_loop_opts d;
	struct ssh_loop *l;
	struct verr e = { "" };

	memset(&ev, 0, sizeof(ev));
	if (!o) {
		ssh_loop_opts_default(&d);
		d.connect_timeout_ms = 10000;
		o = &d;
	}
	assert_int_equal(ssh_loop_new(o, &ops, NULL, &l, &e), 0);
	return l;
}

static void run_for(struct ssh_loop *l, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct verr e = { "" };

	while (now_ms() < end) {
		assert_int_equal(ssh_loop_run_once(l, (int)(end - now_ms()), &e), 0);
		if (ssh_loop_handshaking(l) > ev.max_handshaking)
			ev.max_handshaking = ssh_loop_handshaking(l);
	}
}

/* Run the loop until *@flag is true (or the connection settles), at most @ms. */
static bool run_until(struct ssh_loop *l, bool (*done)(const void *), const void *arg,
		      unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct verr e = { "" };

	while (!done(arg)) {
		uint64_t t = now_ms();

		if (t >= end)
			return false;
		assert_int_equal(ssh_loop_run_once(l, (int)(end - t), &e), 0);
		if (ssh_loop_handshaking(l) > ev.max_handshaking)
			ev.max_handshaking = ssh_loop_handshaking(l);
	}
	return true;
}

static bool conn_settled(const void *arg)
{
	enum ssh_conn_state s = ssh_conn_state(arg);

	return s == SSH_CONN_READY || s == SSH_CONN_DOWN;
}

static bool conn_down(const void *arg)
{
	return ssh_conn_state(arg) == SSH_CONN_DOWN;
}

static bool chan_done(const void *arg)
{
	return ssh_chan_closed(arg);
}

static const char *path(const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	return fleet_path(&F, name, buf[i], sizeof(buf[i]));
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* "[127.0.0.N]:PORT ssh-ed25519 BASE64" for host @n as it is now. */
static void kh_line(int n, unsigned port, char *out, size_t size)
{
	char type[64], b64[4000];

	assert_int_equal(fleet_host_pubkey(&F, n, "ed25519", type, sizeof(type), b64,
					   sizeof(b64)), 0);
	snprintf(out, size, "[127.0.0.%d]:%u %s %s", n, port, type, b64);
}

static void host_fp(int n, char *fp, size_t size)
{
	char p[64];

	snprintf(p, sizeof(p), "h%d/ssh_host_ed25519_key.pub", n);
	assert_int_equal(fleet_fingerprint(path(p), fp, size), 0);
}

struct tgt {
	struct ssh_target t;
	char name[16], addr[32];
	const char *ids[2];
};

/* Host @n as a target: known_hosts @kh, policy @p, identity @id (or none),
   the agent only when @agent. */
static void target(struct tgt *g, int n, unsigned port, const char *kh,
		   enum kh_policy p, const char *id, bool agent)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "h%d", n);
	snprintf(g->addr, sizeof(g->addr), "127.0.0.%d", n);
	g->ids[0] = id;
	g->t = (struct ssh_target){
		.name = g->name,
		.address = g->addr,
		.port = port,
		.user = "root",
		.identities = g->ids,
		.nidentities = id ? 1 : 0,
		.agent_sock = agent ? F.agent_sock : "",
		.known_hosts = kh,
		.policy = p,
	};
}

/* The state must be @want; else say what went wrong. */
static void expect_state(struct ssh_conn *c, enum ssh_conn_state want)
{
	if (ssh_conn_state(c) != want)
		fail_msg("%s is %s, not %s: %s", ssh_conn_name(c),
			 ssh_conn_state_name(ssh_conn_state(c)), ssh_conn_state_name(want),
			 ssh_conn_error(c));
}

static void expect_no_chan_error(struct ssh_chan *ch)
{
	if (ssh_chan_error(ch))
		fail_msg("channel failed: %s", ssh_chan_error(ch));
}

static struct ssh_conn *connect_to(struct ssh_loop *l, struct tgt *g)
{
	struct ssh_conn *c;
	struct verr e = { "" };

	assert_int_equal(ssh_conn_new(l, &g->t, &c, &e), 0);
	assert_true(run_until(l, conn_settled, c, 15000));
	return c;
}

/* A known_hosts file holding host @n's current key. */
static const char *kh_for(int n, unsigned port, const char *name)
{
	char line[4200];

	kh_line(n, port, line, sizeof(line) - 1);
	strcat(line, "\n");
	write_file(path(name), line);
	return path(name);
}

static struct ssh_conn *ready_conn(struct ssh_loop *l, struct tgt *g)
{
	struct ssh_conn *c;

	target(g, 2, port2, kh_for(2, port2, "kh_ready"), KH_STRICT, path("id_ed25519"),
	       false);
	c = connect_to(l, g);
	if (ssh_conn_state(c) != SSH_CONN_READY)
		fail_msg("not ready: %s", ssh_conn_error(c));
	return c;
}

/* ---- logging in ---- */

/* The agent's ed25519 key logs in; known_hosts vouches for the host. */
static void test_agent_key_logs_in(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;

	need_fleet();
	l = new_loop(NULL);
	target(&g, 2, port2, kh_for(2, port2, "kh_agent"), KH_STRICT, NULL, true);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c), "");
	expect_state(c, SSH_CONN_READY);
	assert_string_equal(ssh_conn_auth_method(c), "agent key vmorch-test-ed25519 (ssh-ed25519)");
	assert_string_equal(ssh_conn_hostkey_status(c), "known (known_hosts line 1)");
	assert_int_equal(ev.connected, 1);
	assert_int_equal(ev.lost, 0);
	ssh_loop_free(l);
}

/* With no agent, the identity file logs in. */
static void test_identity_file_logs_in(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char want[PATH_MAX + 64], fp[128];

	need_fleet();
	l = new_loop(NULL);
	c = ready_conn(l, &g);
	snprintf(want, sizeof(want), "identity file %s (ssh-ed25519)", path("id_ed25519"));
	assert_string_equal(ssh_conn_auth_method(c), want);
	host_fp(2, fp, sizeof(fp));
	snprintf(want, sizeof(want), "ssh-ed25519 %s", fp);
	assert_string_equal(ssh_conn_hostkey(c), want);
	ssh_loop_free(l);
}

/* An RSA user key that the host authorizes still cannot log in, and the
   message says why and what to do. */
static void test_rsa_user_key_refused_with_hint(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char want[1024];
	const char *rsa = path("id_rsa");

	need_fleet();
	l = new_loop(NULL);
	target(&g, 2, port2, kh_for(2, port2, "kh_rsa_user"), KH_STRICT, rsa, false);
	c = connect_to(l, &g);
	expect_state(c, SSH_CONN_DOWN);
	assert_false(ssh_conn_was_ready(c));
	snprintf(want, sizeof(want),
		 "h2: no key logged in as root on [127.0.0.2]:%u (tried: %s); %s is an RSA "
		 "key: libssh2 1.10 can sign only with ssh-rsa (SHA-1), which OpenSSH 8.8 "
		 "and later refuse: use an ed25519 key (ssh-keygen -t ed25519) and "
		 "authorize it on the host", port2, rsa, rsa);
	assert_string_equal(ssh_conn_error(c), want);
	assert_int_equal(ev.lost, 1);
	assert_int_equal(ev.connected, 0);
	ssh_loop_free(l);
}

/* A host with only an RSA host key fails at the handshake, saying so. */
static void test_rsa_only_host_refused_at_handshake(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	unsigned port;
	char want[1024];
	const char *kh = path("kh_rsa_host");

	need_fleet();
	assert_int_equal(fleet_start(&F, 3, "rsa", &port), 0);
	l = new_loop(NULL);
	target(&g, 3, port, kh, KH_ACCEPT_NEW, path("id_ed25519"), false);
	c = connect_to(l, &g);
	expect_state(c, SSH_CONN_DOWN);
	snprintf(want, sizeof(want),
		 "h3: [127.0.0.3]:%u has only RSA host keys (it offers rsa-sha2-512,"
		 "rsa-sha2-256); libssh2 1.10 checks RSA host keys only with SHA-1 "
		 "signatures (ssh-rsa), which OpenSSH 8.8 and later refuse: give the host "
		 "an ed25519 key (ssh-keygen -t ed25519)", port);
	assert_string_equal(ssh_conn_error(c), want);
	/* Nothing was recorded. */
	assert_int_equal(access(kh, F_OK), -1);
	ssh_loop_free(l);
	fleet_host(&F, "crash", 3);
}

/* ---- host keys ---- */

/* strict: a host known_hosts does not list is refused, with its key type
   and fingerprint as ssh-keygen prints it. */
static void test_strict_refuses_unknown_key(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char want[1024], fp[128], other[4200];
	const char *kh = path("kh_unknown");

	need_fleet();
	/* The host's key, but recorded for another host name. */
	kh_line(2, port2, other, sizeof(other));
	memcpy(other, "[127.0.0.9]", 11);
	write_file(kh, other);
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	host_fp(2, fp, sizeof(fp));
	snprintf(want, sizeof(want),
		 "h2: host key of [127.0.0.2]:%u is not in %s: ssh-ed25519 %s "
		 "(host_key_check is strict)", port2, kh, fp);
	assert_string_equal(ssh_conn_error(c), want);
	assert_int_equal(ev.connected, 0);
	assert_int_equal(ev.lost, 1);
	ssh_loop_free(l);
}

/* An entry without a port names port 22 only: it does not vouch for the
   same address on another port. */
static void test_entry_without_port_does_not_match_other_port(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char line[4200], fp[128], want[1024];
	const char *kh = path("kh_noport");

	need_fleet();
	kh_line(2, port2, line, sizeof(line));
	/* "[127.0.0.2]:PORT ssh-ed25519 ..." -> "127.0.0.2 ssh-ed25519 ..." */
	memmove(line, line + 1, strlen(line));
	memmove(strchr(line, ']'), strchr(line, ' '), strlen(strchr(line, ' ')) + 1);
	assert_memory_equal(line, "127.0.0.2 ssh-ed25519 ", 22);
	write_file(kh, line);
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	host_fp(2, fp, sizeof(fp));
	snprintf(want, sizeof(want),
		 "h2: host key of [127.0.0.2]:%u is not in %s: ssh-ed25519 %s "
		 "(host_key_check is strict)", port2, kh, fp);
	assert_string_equal(ssh_conn_error(c), want);
	ssh_loop_free(l);
}

/* accept-new appends exactly one line and leaves every other byte as it
   was, lines it cannot parse included; the next strict connect accepts. */
static void test_accept_new_appends_one_line(void **state)
{
	static const char before[] =
		"# fleet hosts, kept by hand\n"
		"\n"
		"this line is not a key line at all\n"
		"@cert-authority *.example.org ssh-ed25519 "
		"AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
		"[127.0.0.9]:2222 ssh-ed25519 "
		"AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char want[8192], line[4200];
	const char *kh = path("kh_accept_new");
	char *after;

	need_fleet();
	write_file(kh, before);
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_ACCEPT_NEW, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c), "");
	assert_string_equal(ssh_conn_hostkey_status(c), "recorded (known_hosts line 6)");
	after = read_file(kh);
	kh_line(2, port2, line, sizeof(line));
	/* The old last line had no newline: one is added before ours. */
	snprintf(want, sizeof(want), "%s\n%s\n", before, line);
	assert_string_equal(after, want);
	free(after);

	target(&g, 2, port2, kh, KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c), "");
	assert_string_equal(ssh_conn_hostkey_status(c), "known (known_hosts line 6)");
	ssh_loop_free(l);
}

/* A host whose key changed is refused with the new key's fingerprint, by
   accept-new as by strict, and known_hosts is left alone. */
static void test_changed_key_refused(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	unsigned port;
	char want[1024], fp[128];
	const char *kh = path("kh_changed");
	char *before, *after;

	need_fleet();
	assert_int_equal(fleet_start(&F, 4, "ed25519", &port), 0);
	l = new_loop(NULL);
	target(&g, 4, port, kh, KH_ACCEPT_NEW, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_hostkey_status(c), "recorded (known_hosts line 1)");
	ssh_conn_free(c);

	assert_int_equal(fleet_host(&F, "rekey", 4), 0);
	before = read_file(kh);
	host_fp(4, fp, sizeof(fp));
	for (int p = 0; p < 2; p++) {
		target(&g, 4, port, kh, p ? KH_STRICT : KH_ACCEPT_NEW, path("id_ed25519"),
		       false);
		c = connect_to(l, &g);
		snprintf(want, sizeof(want),
			 "h4: HOST KEY CHANGED for [127.0.0.4]:%u: it is now ssh-ed25519 %s, "
			 "unlike %s line 1; refusing (a reinstalled host, or someone in the "
			 "middle)", port, fp, kh);
		assert_string_equal(ssh_conn_error(c), want);
	}
	after = read_file(kh);
	assert_string_equal(after, before);
	free(before);
	free(after);
	ssh_loop_free(l);
	fleet_host(&F, "crash", 4);
}

/* A hashed entry (ssh-keygen -H) vouches for the host. */
static void test_hashed_entry_matches(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char cmd[PATH_MAX * 2];
	const char *kh = kh_for(2, port2, "kh_hashed");
	char *text;

	need_fleet();
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -H -f '%s' >/dev/null 2>&1", kh);
	assert_int_equal(system(cmd), 0);
	text = read_file(kh);
	assert_memory_equal(text, "|1|", 3);
	assert_null(strstr(text, "127.0.0.2"));
	free(text);
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c), "");
	assert_string_equal(ssh_conn_hostkey_status(c), "known (known_hosts line 1)");
	ssh_loop_free(l);
}

/* An @revoked line for the host's key refuses it, even beside a line
   that lists the same key. */
static void test_revoked_key_refused(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	char line[4200], text[9000], want[1024], fp[128];
	const char *kh = path("kh_revoked");

	need_fleet();
	kh_line(2, port2, line, sizeof(line));
	snprintf(text, sizeof(text), "%s\n@revoked * %s\n", line, strchr(line, ' ') + 1);
	write_file(kh, text);
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	host_fp(2, fp, sizeof(fp));
	snprintf(want, sizeof(want), "h2: host key of [127.0.0.2]:%u is revoked by %s "
		 "line 2: ssh-ed25519 %s", port2, kh, fp);
	assert_string_equal(ssh_conn_error(c), want);
	ssh_loop_free(l);
}

/* A host with ed25519 and ECDSA keys shows the one known_hosts lists:
   the handshake offers only the types listed for the host. */
static void test_known_types_pin_the_host_key(void **state)
{
	static const char *const kinds[] = { "ecdsa", "ed25519" };
	static const char *const types[] = { "ecdsa-sha2-nistp256", "ssh-ed25519" };
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	unsigned port;
	const char *kh = path("kh_pinned");

	need_fleet();
	assert_int_equal(fleet_start(&F, 9, "both", &port), 0);
	l = new_loop(NULL);
	for (int i = 0; i < 2; i++) {
		char type[64], b64[4000], line[4200], pub[64], fp[128], want[256];

		assert_int_equal(fleet_host_pubkey(&F, 9, kinds[i], type, sizeof(type), b64,
						   sizeof(b64)), 0);
		assert_string_equal(type, types[i]);
		snprintf(line, sizeof(line), "[127.0.0.9]:%u %s %s\n", port, type, b64);
		write_file(kh, line);
		snprintf(pub, sizeof(pub), "h9/ssh_host_%s_key.pub", kinds[i]);
		assert_int_equal(fleet_fingerprint(path(pub), fp, sizeof(fp)), 0);

		target(&g, 9, port, kh, KH_STRICT, path("id_ed25519"), false);
		c = connect_to(l, &g);
		expect_state(c, SSH_CONN_READY);
		snprintf(want, sizeof(want), "%s %s", types[i], fp);
		assert_string_equal(ssh_conn_hostkey(c), want);
		assert_string_equal(ssh_conn_hostkey_status(c), "known (known_hosts line 1)");
		ssh_conn_free(c);
	}
	ssh_loop_free(l);
	fleet_host(&F, "crash", 9);
}

/* off: any key is accepted, known_hosts is neither read nor written. */
static void test_off_accepts_any_key(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	const char *kh = path("kh_never_written");

	need_fleet();
	l = new_loop(NULL);
	target(&g, 2, port2, kh, KH_OFF, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c), "");
	assert_string_equal(ssh_conn_hostkey_status(c), "unchecked (host_key_check off)");
	assert_int_equal(access(kh, F_OK), -1);
	ssh_loop_free(l);
}

/* ---- commands ---- */

/* 1 MiB through cat comes back byte for byte. */
static void test_cat_round_trip_1mib(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch;
	struct tgt g;
	struct sink s = { 0 };
	struct verr e = { "" };
	struct ssh_chan_opts o = { .command = "cat", .user = &s };
	size_t n = 1 << 20;
	uint8_t *data = malloc(n);
	uint32_t x = 12345;

	need_fleet();
	assert_non_null(data);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (uint8_t)(x >> 16);
	}
	l = new_loop(NULL);
	c = ready_conn(l, &g);
	assert_int_equal(ssh_chan_open(c, &o, &ch, &e), 0);
	assert_int_equal(ssh_chan_write(ch, data, n), 0);
	ssh_chan_send_eof(ch);
	assert_int_equal(ssh_chan_write(ch, "x", 1), -EPIPE);
	if (!run_until(l, chan_done, ch, 20000))
		fail_msg("still open after 20 s: %zu bytes back, %zu queued", s.len,
			 ssh_chan_queued(ch));
	expect_no_chan_error(ch);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.buf, data, n);
	assert_int_equal(ssh_chan_exit_status(ch), 0);
	assert_int_equal(ev.closed, 1);
	ssh_chan_free(ch);
	free(s.buf);
	free(data);
	ssh_loop_free(l);
}

/* A short command's stdout, stderr and exit status. */
static void test_run_collects_output_and_status(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	struct ssh_run_result r;
	struct verr e = { "" };

	need_fleet();
	l = new_loop(NULL);
	c = ready_conn(l, &g);
	assert_int_equal(ssh_run(l, c, "echo hello; echo oops >&2; exit 3", NULL, 0, 4096,
				 10000, &r, &e), 0);
	assert_string_equal(r.out, "hello\n");
	assert_int_equal(r.out_len, 6);
	assert_string_equal(r.err, "oops\n");
	assert_int_equal(r.exit_status, 3);
	assert_string_equal(r.exit_signal, "");
	ssh_run_result_release(&r);

	/* stdin is fed, then closed. */
	assert_int_equal(ssh_run(l, c, "tr a-z A-Z", "fleet\n", 6, 4096, 10000, &r, &e), 0);
	assert_string_equal(r.out, "FLEET\n");
	ssh_run_result_release(&r);

	/* Too much output is an error, not a silent cut. */
	assert_int_equal(ssh_run(l, c, "head -c 5000 /dev/zero", NULL, 0, 4096, 10000, &r,
				 &e), -EMSGSIZE);
	assert_string_equal(e.msg, "h2: stdout exceeds 4096 bytes");
	expect_state(c, SSH_CONN_READY);
	ssh_loop_free(l);
}

/* The host is this machine: its kernel release is ours. */
static void test_run_reads_host_facts(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	struct ssh_run_result r;
	struct verr e = { "" };
	struct utsname u;
	char want[sizeof(u.release) + 2];

	need_fleet();
	assert_int_equal(uname(&u), 0);
	snprintf(want, sizeof(want), "%s\n", u.release);
	l = new_loop(NULL);
	c = ready_conn(l, &g);
	assert_int_equal(ssh_run(l, c, "uname -r", NULL, 0, 4096, 10000, &r, &e), 0);
	assert_string_equal(r.out, want);
	ssh_run_result_release(&r);
	ssh_loop_free(l);
}

/* sshd allows 10 sessions per connection, one of them vmorch's control
   channel: 12 channels at once take two connections, 9 + 3. */
static void test_twelve_channels_take_two_connections(void **state)
{
	struct ssh_loop *l;
	struct ssh_host *h;
	struct ssh_chan *ch[12];
	struct sink s[12];
	struct tgt g;
	struct verr e = { "" };
	uint64_t end;
	size_t started;

	need_fleet();
	memset(s, 0, sizeof(s));
	l = new_loop(NULL);
	target(&g, 2, port2, kh_for(2, port2, "kh_twelve"), KH_STRICT, path("id_ed25519"),
	       false);
	assert_int_equal(ssh_host_new(l, &g.t, 3, &h, &e), 0);
	for (int i = 0; i < 12; i++) {
		struct ssh_chan_opts o = { .command = "echo started; cat", .user = &s[i] };

		assert_int_equal(ssh_host_chan_open(h, &o, &ch[i], &e), 0);
	}
	/* Every command runs at the same time: each said "started". */
	end = now_ms() + 20000;
	do {
		started = 0;
		run_for(l, 50);
		for (int i = 0; i < 12; i++)
			started += s[i].len >= 8;
	} while (started < 12 && now_ms() < end);
	assert_int_equal(started, 12);
	assert_int_equal(ssh_host_nconns(h), 2);
	assert_int_equal(ssh_conn_channels(ssh_host_conn(h, 0)), 9);
	assert_int_equal(ssh_conn_channels(ssh_host_conn(h, 1)), 3);
	assert_false(ssh_conn_has_room(ssh_host_conn(h, 0)));

	/* A full connection says so. */
	{
		struct ssh_chan_opts o = { .command = "true" };
		struct ssh_chan *x;

		assert_int_equal(ssh_chan_open(ssh_host_conn(h, 0), &o, &x, &e), -EBUSY);
		assert_string_equal(e.msg, "h2: connection already has 9 channels (sshd allows "
				    "10 sessions); open another connection");
	}
	for (int i = 0; i < 12; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d\n", i);
		assert_int_equal(ssh_chan_write(ch[i], id, strlen(id)), 0);
		ssh_chan_send_eof(ch[i]);
	}
	for (int i = 0; i < 12; i++) {
		char want[32];

		assert_true(run_until(l, chan_done, ch[i], 10000));
		expect_no_chan_error(ch[i]);
		snprintf(want, sizeof(want), "started\n%d\n", i);
		assert_string_equal(s[i].buf, want);
		ssh_chan_free(ch[i]);
		free(s[i].buf);
	}
	assert_int_equal(ssh_conn_channels(ssh_host_conn(h, 0)), 0);
	ssh_host_free(h);
	ssh_loop_free(l);
}

/* Closing a channel ourselves: the command sees EOF, the channel ends
   with "closed by vmorch", and the connection serves the next one. */
static void test_close_by_caller_keeps_connection(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch;
	struct tgt g;
	struct sink s = { 0 };
	struct verr e = { "" };
	struct ssh_chan_opts o = { .command = "echo up; cat", .user = &s };
	struct ssh_run_result r;

	need_fleet();
	l = new_loop(NULL);
	c = ready_conn(l, &g);
	assert_int_equal(ssh_chan_open(c, &o, &ch, &e), 0);
	for (int i = 0; i < 250 && s.len < 3; i++)
		run_for(l, 20);
	assert_string_equal(s.buf, "up\n");
	ssh_chan_close(ch);
	assert_int_equal(ssh_chan_write(ch, "x", 1), -EPIPE);
	assert_true(run_until(l, chan_done, ch, 5000));
	assert_string_equal(ssh_chan_error(ch), "h2: closed by vmorch");
	assert_int_equal(ev.closed, 1);
	ssh_chan_free(ch);
	expect_state(c, SSH_CONN_READY);
	assert_int_equal(ssh_conn_channels(c), 0);
	assert_int_equal(ssh_run(l, c, "echo again", NULL, 0, 100, 10000, &r, &e), 0);
	assert_string_equal(r.out, "again\n");
	ssh_run_result_release(&r);
	free(s.buf);
	ssh_loop_free(l);
}

/* Callbacks may free what they are told about: the channel in
   chan_closed, the connection in lost. */
static struct ssh_conn *freed_in_lost;
static int freed_chans;

static void free_on_closed(void *ctx, struct ssh_chan *ch)
{
	freed_chans++;
	ssh_chan_free(ch);
}

static void free_on_lost(void *ctx, struct ssh_conn *c)
{
	freed_in_lost = c;
	ssh_conn_free(c);
}

static void test_callbacks_may_free(void **state)
{
	static const struct ssh_loop_ops freeing = {
		.lost = free_on_lost,
		.chan_closed = free_on_closed,
	};
	struct ssh_loop_opts o;
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch[2];
	struct tgt g;
	struct verr e = { "" };
	struct ssh_chan_opts co = { .command = "true" };

	need_fleet();
	ssh_loop_opts_default(&o);
	assert_int_equal(ssh_loop_new(&o, &freeing, NULL, &l, &e), 0);
	target(&g, 30, 1, path("kh_none"), KH_STRICT, path("id_ed25519"), false);
	assert_int_equal(ssh_conn_new(l, &g.t, &c, &e), 0);
	assert_int_equal(ssh_chan_open(c, &co, &ch[0], &e), 0);
	assert_int_equal(ssh_chan_open(c, &co, &ch[1], &e), 0);
	freed_in_lost = NULL;
	freed_chans = 0;
	for (int i = 0; i < 50 && !freed_in_lost; i++)
		assert_int_equal(ssh_loop_run_once(l, 100, &e), 0);
	assert_ptr_equal(freed_in_lost, c);
	assert_int_equal(freed_chans, 2);
	assert_int_equal(ssh_loop_live(l), 0);
	ssh_loop_free(l);
}

/* ---- connecting many ---- */

/* At most max_handshakes connections are between connect and ready. */
static void test_handshakes_are_capped(void **state)
{
	struct ssh_loop_opts o;
	struct ssh_loop *l;
	struct ssh_conn *c[6];
	struct tgt g;
	struct verr e = { "" };
	int ready = 0;

	need_fleet();
	ssh_loop_opts_default(&o);
	o.max_handshakes = 2;
	o.stagger_ms = 0;
	l = new_loop(&o);
	target(&g, 2, port2, kh_for(2, port2, "kh_cap"), KH_STRICT, path("id_ed25519"),
	       false);
	for (int i = 0; i < 6; i++)
		assert_int_equal(ssh_conn_new(l, &g.t, &c[i], &e), 0);
	for (int i = 0; i < 6; i++)
		assert_true(run_until(l, conn_settled, c[i], 15000));
	for (int i = 0; i < 6; i++)
		ready += ssh_conn_state(c[i]) == SSH_CONN_READY;
	assert_int_equal(ready, 6);
	assert_int_equal(ev.max_handshaking, 2);
	ssh_loop_free(l);
}

/* Nothing listening: down at once, saying where it tried. */
static void test_refused_connection_is_down(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;

	need_fleet();
	l = new_loop(NULL);
	target(&g, 30, 1, path("kh_none"), KH_STRICT, path("id_ed25519"), false);
	c = connect_to(l, &g);
	assert_string_equal(ssh_conn_error(c),
			    "h30: connect to 127.0.0.30 port 1: Connection refused");
	assert_int_equal(ev.lost, 1);
	ssh_loop_free(l);
}

/* A host that accepts TCP but never speaks times out in the handshake. */
static void test_silent_host_times_out(void **state)
{
	struct ssh_loop_opts o;
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	struct verr e = { "" };
	unsigned port;
	uint64_t t0;
	char want[256];

	need_fleet();
	assert_int_equal(fleet_start(&F, 8, "ed25519", &port), 0);
	assert_int_equal(fleet_host(&F, "partition", 8), 0);
	ssh_loop_opts_default(&o);
	o.connect_timeout_ms = 1500;
	l = new_loop(&o);
	target(&g, 8, port, path("kh_silent"), KH_ACCEPT_NEW, path("id_ed25519"), false);
	t0 = now_ms();
	assert_int_equal(ssh_conn_new(l, &g.t, &c, &e), 0);
	assert_true(run_until(l, conn_down, c, 5000));
	assert_in_range(now_ms() - t0, 1500, 2500);
	snprintf(want, sizeof(want), "h8: timed out after 1500 ms in handshake with "
		 "[127.0.0.8]:%u", port);
	assert_string_equal(ssh_conn_error(c), want);
	ssh_loop_free(l);
	fleet_host(&F, "crash", 8);
}

/* ---- losing hosts ---- */

static struct ssh_loop *fast_keepalive_loop(void)
{
	struct ssh_loop_opts o;

	ssh_loop_opts_default(&o);
	o.keepalive_ms = 1000;
	o.keepalive_max = 3;
	return new_loop(&o);
}

/* An idle connection stays up on keepalive answers; once its sshd and
   everything under it are stopped (a partition), it is lost within
   keepalive_max + 1 intervals, and its channel is closed with it. */
static void test_partition_detected_by_keepalive(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch;
	struct tgt g;
	struct sink s = { 0 };
	struct verr e = { "" };
	struct ssh_chan_opts o = { .command = "cat", .user = &s };
	unsigned port;
	uint64_t t0, took;
	double silent = 0;

	need_fleet();
	assert_int_equal(fleet_start(&F, 5, "ed25519", &port), 0);
	l = fast_keepalive_loop();
	target(&g, 5, port, kh_for(5, port, "kh_partition"), KH_STRICT,
	       path("id_ed25519"), false);
	c = connect_to(l, &g);
	expect_state(c, SSH_CONN_READY);
	assert_int_equal(ssh_chan_open(c, &o, &ch, &e), 0);
	run_for(l, 4500);	/* idle for 4.5 intervals: still up */
	expect_state(c, SSH_CONN_READY);

	assert_int_equal(fleet_host(&F, "partition", 5), 0);
	t0 = now_ms();
	assert_true(run_until(l, conn_down, c, 8000));
	took = now_ms() - t0;
	/*
	 * What keepalive promises is counted from the last answer, not from
	 * the partition: the message says 3.x s of silence (never less than
	 * keepalive_max intervals).  From the partition it can be less, when
	 * a starved sshd answered late before it; never more than
	 * keepalive_max + 1 intervals, plus a second for a loaded machine.
	 * The message gives the silence to a tenth of a second.
	 */
	assert_true(took <= 5000);
	assert_int_equal(sscanf(ssh_conn_error(c), "h5: lost: nothing received for %lf s",
				&silent), 1);
	assert_true(silent >= 3.0 && silent < 5.0);
	assert_non_null(strstr(ssh_conn_error(c), " s (keepalive every 1000 ms, 3 missed)"));
	assert_true(ssh_conn_was_ready(c));
	assert_true(ssh_chan_closed(ch));
	assert_string_equal(ssh_chan_error(ch), ssh_conn_error(c));
	assert_int_equal(ev.closed, 1);
	assert_int_equal(ev.lost, 1);
	ssh_loop_free(l);
	fleet_host(&F, "crash", 5);
}

/* SIGKILL of the host's sshd and its children: lost at once. */
static void test_crash_detected(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch;
	struct tgt g;
	struct verr e = { "" };
	struct ssh_chan_opts o = { .command = "sleep 60" };
	unsigned port;
	uint64_t t0;

	need_fleet();
	assert_int_equal(fleet_start(&F, 6, "ed25519", &port), 0);
	l = fast_keepalive_loop();
	target(&g, 6, port, kh_for(6, port, "kh_crash"), KH_STRICT, path("id_ed25519"),
	       false);
	c = connect_to(l, &g);
	expect_state(c, SSH_CONN_READY);
	assert_int_equal(ssh_chan_open(c, &o, &ch, &e), 0);
	run_for(l, 300);
	assert_false(ssh_chan_closed(ch));

	assert_int_equal(fleet_host(&F, "crash", 6), 0);
	t0 = now_ms();
	assert_true(run_until(l, conn_down, c, 5000));
	assert_in_range(now_ms() - t0, 0, 1000);
	/* The kernel closes a killed sshd's socket: FIN, or RST if it held
	   unread bytes. */
	if (strcmp(ssh_conn_error(c), "h6: lost: the host closed the connection (reading)") &&
	    strcmp(ssh_conn_error(c), "h6: lost: Connection reset by peer (reading)"))
		fail_msg("unexpected: %s", ssh_conn_error(c));
	assert_true(ssh_chan_closed(ch));
	assert_string_equal(ssh_chan_error(ch), ssh_conn_error(c));
	ssh_loop_free(l);
}

/* A write that makes no progress (the command never reads its stdin, so
   the window stays shut) loses the host even though keepalive answers
   still arrive: the watchdog for libssh2's stalls. */
static void test_stalled_write_trips_watchdog(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct ssh_chan *ch;
	struct tgt g;
	struct verr e = { "" };
	struct ssh_chan_opts o = { .command = "sleep 60" };
	size_t n = 8 << 20;
	char *junk = calloc(1, n);
	unsigned port;
	uint64_t t0;

	need_fleet();
	assert_non_null(junk);
	assert_int_equal(fleet_start(&F, 7, "ed25519", &port), 0);
	l = fast_keepalive_loop();
	target(&g, 7, port, kh_for(7, port, "kh_watchdog"), KH_STRICT, path("id_ed25519"),
	       false);
	c = connect_to(l, &g);
	assert_int_equal(ssh_chan_open(c, &o, &ch, &e), 0);
	assert_int_equal(ssh_chan_write(ch, junk, n), 0);
	t0 = now_ms();
	assert_true(run_until(l, conn_down, c, 10000));
	assert_in_range(now_ms() - t0, 3000, 5000);
	assert_memory_equal(ssh_conn_error(c), "h7: lost: a write made no progress for 3.", 41);
	assert_true(ssh_chan_queued(ch) < n);
	free(junk);
	ssh_loop_free(l);
	fleet_host(&F, "crash", 7);
}

/* ---- the loop inside someone else's poll() ---- */

/* The pool's way: export the descriptors, poll them with others, dispatch. */
static void test_external_poll_drives_connection(void **state)
{
	struct ssh_loop *l;
	struct ssh_conn *c;
	struct tgt g;
	struct verr e = { "" };
	struct pollfd fds[8];
	int pipefd[2];
	uint64_t end;

	need_fleet();
	assert_int_equal(pipe(pipefd), 0);
	l = new_loop(NULL);
	target(&g, 2, port2, kh_for(2, port2, "kh_external"), KH_STRICT,
	       path("id_ed25519"), false);
	assert_int_equal(ssh_conn_new(l, &g.t, &c, &e), 0);
	end = now_ms() + 10000;
	while (ssh_conn_state(c) != SSH_CONN_READY && now_ms() < end) {
		int timeout = 500;
		size_t n;

		fds[0] = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
		n = ssh_loop_pollfds(l, fds + 1, 7, &timeout);
		assert_true(n <= 7);
		assert_true(timeout <= 500);
		assert_true(poll(fds, n + 1, timeout) >= 0);
		assert_int_equal(fds[0].revents, 0);
		ssh_loop_dispatch(l, fds + 1, n);
	}
	expect_state(c, SSH_CONN_READY);
	assert_int_equal(ev.connected, 1);
	close(pipefd[0]);
	close(pipefd[1]);
	ssh_loop_free(l);
}

/* ---- set-up ---- */

static int group_setup(void **state)
{
	if (!fleet_available())
		return 0;
	if (fleet_init(&F) || fleet_agent(&F, "id_ed25519") ||
	    fleet_start(&F, 2, "ed25519", &port2)) {
		fprintf(stderr, "# the fake fleet did not start\n");
		fleet_stop(&F);
		return 0;
	}
	have_fleet = true;
	return 0;
}

static int group_teardown(void **state)
{
	fleet_stop(&F);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_key_logs_in),
		cmocka_unit_test(test_identity_file_logs_in),
		cmocka_unit_test(test_rsa_user_key_refused_with_hint),
		cmocka_unit_test(test_rsa_only_host_refused_at_handshake),
		cmocka_unit_test(test_strict_refuses_unknown_key),
		cmocka_unit_test(test_entry_without_port_does_not_match_other_port),
		cmocka_unit_test(test_accept_new_appends_one_line),
		cmocka_unit_test(test_changed_key_refused),
		cmocka_unit_test(test_hashed_entry_matches),
		cmocka_unit_test(test_revoked_key_refused),
		cmocka_unit_test(test_known_types_pin_the_host_key),
		cmocka_unit_test(test_off_accepts_any_key),
		cmocka_unit_test(test_cat_round_trip_1mib),
		cmocka_unit_test(test_run_collects_output_and_status),
		cmocka_unit_test(test_run_reads_host_facts),
		cmocka_unit_test(test_twelve_channels_take_two_connections),
		cmocka_unit_test(test_close_by_caller_keeps_connection),
		cmocka_unit_test(test_callbacks_may_free),
		cmocka_unit_test(test_handshakes_are_capped),
		cmocka_unit_test(test_refused_connection_is_down),
		cmocka_unit_test(test_silent_host_times_out),
		cmocka_unit_test(test_partition_detected_by_keepalive),
		cmocka_unit_test(test_crash_detected),
		cmocka_unit_test(test_stalled_write_trips_watchdog),
		cmocka_unit_test(test_external_poll_drives_connection),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
