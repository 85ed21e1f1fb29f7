/*
 * known_hosts.h - OpenSSH known_hosts files: looking a host up (plain and
 * hashed names, wildcards, "[host]:port"), judging the key a server
 * presented, and recording a new key by appending one line.
 *
 * The file is parsed here rather than by libssh2_knownhost_readfile(),
 * which in libssh2 1.10 stops at the first line it cannot parse (a
 * @cert-authority line, say) and so silently ignores every key after it,
 * and whose writefile() rewrites the file without the lines it dropped.
 * A line this parser does not understand is skipped, like OpenSSH does,
 * and the file is never rewritten.
 */
#ifndef VMORCH_KNOWN_HOSTS_H
#define VMORCH_KNOWN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "orchestrator/ssh_wire.h"

/* What to do with a host key that known_hosts does not vouch for. */
enum kh_policy {
	KH_STRICT,		/* refuse unknown and changed keys */
	KH_ACCEPT_NEW,		/* record unknown keys (one appended line), refuse changed ones */
	KH_OFF,			/* accept anything; the caller warns on every run */
};

/* Parse "strict" | "accept-new" | "off"; -EINVAL otherwise. */
int kh_policy_parse(const char *s, enum kh_policy *p);
const char *kh_policy_name(enum kh_policy p);

/* The name a host is recorded under: "host" for port 22, "[host]:port" otherwise. */
void kh_host_name(const char *host, unsigned port, char *out, size_t size);

/* One key line whose host patterns match the name looked up. */
struct kh_entry {
	unsigned line;			/* 1-based line number in the file */
	bool revoked;			/* an @revoked line */
	char type[SSH_KEYTYPE_MAX];
	uint8_t *blob;
	size_t len;
};

/* Every line of one file that names one host. */
struct kh_set {
	struct kh_entry *e;
	size_t n;
};

/*
 * Read @path and collect the lines whose host field matches @name (a
 * kh_host_name() result).  A missing file is an empty set.  @cert-authority
 * lines, comments and lines that do not parse are skipped.  0 or -errno
 * with @e set.
 */
int kh_lookup(const char *path, const char *name, struct kh_set *set, struct verr *e);
void kh_set_release(struct kh_set *set);

/* Host key types vmorch can verify, in the order it prefers them. */
extern const char *const kh_supported_types[];

/*
 * The host key algorithms to offer for a host with this set: the
 * supported types the set lists (not revoked), comma-separated in
 * preference order, or every supported type when it lists none.  The
 * result pins the handshake to the keys known_hosts can vouch for.
 */
void kh_set_hostkey_pref(const struct kh_set *set, char *out, size_t size);

enum kh_verdict {
	KH_MATCH,		/* a line has this very key */
	KH_UNKNOWN,		/* no line has a key of this type for the host */
	KH_CHANGED,		/* lines have keys of this type, none this one */
	KH_REVOKED,		/* an @revoked line has this key */
};

/*
 * Judge the key @blob of @type against @set, as OpenSSH does: revoked
 * wins, then a match, then another key of the same type (changed).
 * *@line gets the deciding line (0 for KH_UNKNOWN).
 */
enum kh_verdict kh_set_check(const struct kh_set *set, const char *type,
			     const uint8_t *blob, size_t len, unsigned *line);

/*
 * accept-new: under an exclusive flock() of @path (created 0600 if
 * missing), look @name up again and, when the key is still unknown,
 * append exactly one line "NAME TYPE BASE64\n" (after a '\n' if the file
 * did not end with one) and fsync it.  Nothing else in the file changes.
 * *@verdict gets what the file said under the lock (KH_UNKNOWN when the
 * line was added) and *@line the deciding or added line.  0 or -errno
 * with @e set.
 */
int kh_append(const char *path, const char *name, const char *type,
	      const uint8_t *blob, size_t len, enum kh_verdict *verdict,
	      unsigned *line, struct verr *e);

/* Does @name match one known_hosts host field (patterns or |1|salt|hash)? */
bool kh_host_field_matches(const char *field, size_t flen, const char *name);

#endif
