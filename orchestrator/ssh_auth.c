/*
 * ssh_auth.c - logging in, as one step of a connection's state machine:
 * the keys of ssh-agent first, then the identity files, in order.  Keys
 * only: a server that allows no "publickey" is refused with its list.
 *
 * libssh2 1.10 signs with RSA keys only as "ssh-rsa" (SHA-1), which
 * OpenSSH 8.8 and later refuse by default; the failure message names any
 * RSA key that was offered and suggests ed25519, since that is the likely
 * reason a key the host authorizes did not work.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/ssh_priv.h"

enum {
	AUTH_LIST,		/* ask which methods the server allows */
	AUTH_AGENT,		/* connect to the agent, take its next key */
	AUTH_AGENT_TRY,		/* offer that key */
	AUTH_FILES,		/* take the next identity file */
	AUTH_FILE_TRY,		/* offer it */
};

/* Append to a fixed-size note, comma-separated, silently cut when full. */
static void note(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 3 >= size)
		return;
	if (used)
		used += (size_t)snprintf(buf + used, size - used, ", ");
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static void agent_key_label(const struct libssh2_agent_publickey *id, char *out,
			    size_t size, char type[SSH_KEYTYPE_MAX])
{
	if (!ssh_blob_keytype(id->blob, id->blob_len, type))
		snprintf(type, SSH_KEYTYPE_MAX, "?");
	snprintf(out, size, "agent key %s (%s)",
		 id->comment && *id->comment ? id->comment : "without comment", type);
}

static void auth_failed(struct ssh_conn *c)
{
	char rsa[400] = "";

	if (*c->rsa_key)
		snprintf(rsa, sizeof(rsa), "; %s is an RSA key: libssh2 1.10 can sign only "
			 "with ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse: use an "
			 "ed25519 key (ssh-keygen -t ed25519) and authorize it on the host",
			 c->rsa_key);
	ssh_conn_fail(c, "no key logged in as %s on %s (tried: %s%s%s)%s", c->login,
		      c->khname, *c->tried ? c->tried : "none",
		      *c->auth_notes ? "; " : "", c->auth_notes, rsa);
}

/* An attempt failed: was it the key, or the connection? */
static bool key_refused(int rc)
{
	return rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
	       rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
	       rc == LIBSSH2_ERROR_AGENT_PROTOCOL ||
	       rc == LIBSSH2_ERROR_FILE ||
	       rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
}

static void agent_next(struct ssh_conn *c)
{
	struct libssh2_agent_publickey *prev = c->agent_id;
	char label[200], type[SSH_KEYTYPE_MAX];

	if (ssh2.agent_get_identity(c->agent, &c->agent_id, prev) != 0) {
		c->auth_phase = AUTH_FILES;
		return;
	}
	agent_key_label(c->agent_id, label, sizeof(label), type);
	note(c->tried, sizeof(c->tried), "%s", label);
	if (ssh_keytype_is_rsa(type) && !*c->rsa_key)
		snprintf(c->rsa_key, sizeof(c->rsa_key), "%s", label);
	c->auth_phase = AUTH_AGENT_TRY;
}

static void agent_start(struct ssh_conn *c)
{
	const char *sock = c->agent_sock ? c->agent_sock : getenv("SSH_AUTH_SOCK");

	c->auth_phase = AUTH_FILES;
	if (!sock || !*sock)
		return;
	c->agent = ssh2.agent_init(c->s);
	if (!c->agent)
		return;
	ssh2.agent_set_identity_path(c->agent, sock);
	/* The agent is a local socket: these two calls block, briefly. */
	if (ssh2.agent_connect(c->agent) || ssh2.agent_list_identities(c->agent)) {
		note(c->auth_notes, sizeof(c->auth_notes), "ssh-agent at %s unusable", sock);
		ssh_auth_release(c);
		return;
	}
	c->agent_id = NULL;
	agent_next(c);
}

static void file_next(struct ssh_conn *c)
{
	char type[SSH_KEYTYPE_MAX];
	struct verr e = { "" };
	bool encrypted;

	while (c->file_idx < c->nidentities) {
		const char *path = c->identities[c->file_idx];

		if (ssh_keyfile_probe(path, type, &encrypted, &e)) {
			note(c->auth_notes, sizeof(c->auth_notes), "%s", e.msg);
			c->file_idx++;
			continue;
		}
		if (encrypted) {
			note(c->auth_notes, sizeof(c->auth_notes),
			     "%s needs a passphrase (add it to ssh-agent)", path);
			c->file_idx++;
			continue;
		}
		note(c->tried, sizeof(c->tried), "%s", path);
		if (ssh_keytype_is_rsa(type) && !*c->rsa_key)
			snprintf(c->rsa_key, sizeof(c->rsa_key), "%s", path);
		c->auth_phase = AUTH_FILE_TRY;
		return;
	}
	auth_failed(c);
}

static bool methods_allow_publickey(const char *list)
{
	const char *p = strstr(list, "publickey");

	while (p) {
		if ((p == list || p[-1] == ',') && (p[9] == 0 || p[9] == ','))
			return true;
		p = strstr(p + 1, "publickey");
	}
	return false;
}

int ssh_auth_step(struct ssh_conn *c)
{
	char label[200], type[SSH_KEYTYPE_MAX];
	char *list;
	int rc;

	while (c->state == SSH_CONN_AUTH) {
		switch (c->auth_phase) {
		case AUTH_LIST:
			list = ssh2.userauth_list(c->s, c->login, (unsigned)strlen(c->login));
			if (!list) {
				if (ssh2.userauth_authenticated(c->s)) {
					snprintf(c->auth_method, sizeof(c->auth_method), "none");
					return 0;
				}
				if (ssh2.session_last_errno(c->s) == LIBSSH2_ERROR_EAGAIN)
					return -EAGAIN;
				ssh_conn_fail(c, "%s: asking for authentication methods: %s",
					      c->khname, ssh_last_error(c));
				return -1;
			}
			if (!methods_allow_publickey(list)) {
				ssh_conn_fail(c, "%s allows %s only %s; vmorch logs in with keys "
					      "(ssh-agent or identity files), never passwords",
					      c->khname, c->login, list);
				return -1;
			}
			c->auth_phase = AUTH_AGENT;
			break;
		case AUTH_AGENT:
			agent_start(c);
			break;
		case AUTH_AGENT_TRY:
			rc = ssh2.agent_userauth(c->agent, c->login, c->agent_id);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return -EAGAIN;
			if (rc == 0) {
				agent_key_label(c->agent_id, label, sizeof(label), type);
				snprintf(c->auth_method, sizeof(c->auth_method), "%s", label);
				ssh_auth_release(c);
				return 0;
			}
			if (!key_refused(rc)) {
				ssh_conn_fail_io(c, "offering agent keys");
				return -1;
			}
			agent_next(c);
			break;
		case AUTH_FILES:
			file_next(c);
			break;
		case AUTH_FILE_TRY: {
			const char *path = c->identities[c->file_idx];

			rc = ssh2.userauth_publickey_fromfile_ex(
				c->s, c->login, (unsigned)strlen(c->login), NULL, path, NULL);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return -EAGAIN;
			if (rc == 0) {
				bool enc;

				if (ssh_keyfile_probe(path, type, &enc, NULL))
					snprintf(type, sizeof(type), "?");
				snprintf(c->auth_method, sizeof(c->auth_method),
					 "identity file %s (%s)", path, *type ? type : "?");
				ssh_auth_release(c);
				return 0;
			}
			if (!key_refused(rc)) {
				char what[300];

				snprintf(what, sizeof(what), "offering %s", path);
				ssh_conn_fail_io(c, what);
				return -1;
			}
			c->file_idx++;
			c->auth_phase = AUTH_FILES;
			break;
		}
		default:
			ssh_conn_fail(c, "authentication: bad state %d", c->auth_phase);
			return -1;
		}
	}
	return -1;
}

void ssh_auth_release(struct ssh_conn *c)
{
	if (c->agent) {
		ssh2.agent_disconnect(c->agent);
		ssh2.agent_free(c->agent);
		c->agent = NULL;
		c->agent_id = NULL;
	}
}
