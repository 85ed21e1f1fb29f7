/*
 * known_hosts.c - reading, judging against and appending to OpenSSH
 * known_hosts files (the format of sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
 *
 * Hashed names (`|1|salt|hash`) are checked with our own HMAC-SHA1
 * (orchestrator/sha1.c) rather than by loading the line into libssh2's
 * knownhost list: that list is filled by a reader that gives up at the
 * first line it does not understand, and checking one name against one
 * hashed field is five lines of code that tests can pin down.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/base64.h"
#include "orchestrator/known_hosts.h"
#include "orchestrator/sha1.h"

/* A known_hosts file bigger than this is refused rather than read. */
#define KH_MAX_FILE	(64u << 20)

const char *const kh_supported_types[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	NULL,
};

int kh_policy_parse(const char *s, enum kh_policy *p)
{
	if (!strcmp(s, "strict"))
		*p = KH_STRICT;
	else if (!strcmp(s, "accept-new"))
		*p = KH_ACCEPT_NEW;
	else if (!strcmp(s, "off"))
		*p = KH_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *kh_policy_name(enum kh_policy p)
{
	switch (p) {
	case KH_STRICT:
		return "strict";
	case KH_ACCEPT_NEW:
		return "accept-new";
	case KH_OFF:
		return "off";
	}
	return "?";
}

void kh_host_name(const char *host, unsigned port, char *out, size_t size)
{
	if (port == 0 || port == 22)
		snprintf(out, size, "%s", host);
	else
		snprintf(out, size, "[%s]:%u", host, port);
}

/* OpenSSH's wildcards: '*' any run, '?' one character, case-insensitive. */
static bool glob_match(const char *p, const char *pend, const char *s)
{
	while (p < pend) {
		if (*p == '*') {
			while (p < pend && *p == '*')
				p++;
			if (p == pend)
				return true;
			for (; *s; s++)
				if (glob_match(p, pend, s))
					return true;
			return false;
		}
		if (!*s)
			return false;
		if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return false;
		p++, s++;
	}
	return *s == 0;
}

/* "|1|" base64(salt) "|" base64(HMAC-SHA1(salt, name)) */
static bool hashed_matches(const char *f, size_t flen, const char *name)
{
	const char *sep;
	uint8_t salt[64], want[SHA1_LEN + 3], got[SHA1_LEN];
	long slen, hlen;

	f += 3, flen -= 3;
	sep = memchr(f, '|', flen);
	if (!sep || (size_t)(sep - f) / 4 * 3 > sizeof(salt) ||
	    (flen - (size_t)(sep - f) - 1) / 4 * 3 > sizeof(want))
		return false;
	slen = base64_decode(f, (size_t)(sep - f), salt);
	hlen = base64_decode(sep + 1, flen - (size_t)(sep - f) - 1, want);
	if (slen <= 0 || hlen != SHA1_LEN)
		return false;
	hmac_sha1(salt, (size_t)slen, name, strlen(name), got);
	return !memcmp(got, want, SHA1_LEN);
}

bool kh_host_field_matches(const char *f, size_t flen, const char *name)
{
	bool positive = false;

	if (flen > 3 && !memcmp(f, "|1|", 3))
		return hashed_matches(f, flen, name);
	while (flen) {
		const char *comma = memchr(f, ',', flen);
		size_t plen = comma ? (size_t)(comma - f) : flen;
		bool negate = plen && f[0] == '!';

		if (glob_match(f + negate, f + plen, name)) {
			if (negate)
				return false;	/* a negated match overrides any other */
			positive = true;
		}
		if (!comma)
			break;
		f += plen + 1, flen -= plen + 1;
	}
	return positive;
}

/* The next whitespace-separated field of [*p, end); false at the end. */
static bool next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return false;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return true;
}

/* Parse one line; add it to @set when it is a key line naming @name. */
static int parse_line(const char *s, const char *end, unsigned lineno,
		      const char *name, struct kh_set *set)
{
	const char *f, *hosts, *type, *key;
	size_t flen, hlen, tlen, klen;
	bool revoked = false;
	struct kh_entry *grown, *ent;
	uint8_t *blob;
	long blen;
	char btype[SSH_KEYTYPE_MAX];

	if (!next_field(&s, end, &f, &flen) || f[0] == '#')
		return 0;
	if (f[0] == '@') {
		if (flen == 8 && !memcmp(f, "@revoked", 8))
			revoked = true;
		else
			return 0;	/* @cert-authority, or a marker we do not know */
		if (!next_field(&s, end, &f, &flen))
			return 0;
	}
	hosts = f, hlen = flen;
	if (!next_field(&s, end, &type, &tlen) || !next_field(&s, end, &key, &klen))
		return 0;
	if (tlen >= SSH_KEYTYPE_MAX || !kh_host_field_matches(hosts, hlen, name))
		return 0;

	blob = malloc(klen / 4 * 3 + 3);
	if (!blob)
		return -ENOMEM;
	blen = base64_decode(key, klen, blob);
	/* The type inside the blob must be the line's: else it is garbage. */
	if (blen <= 0 || !ssh_blob_keytype(blob, (size_t)blen, btype) ||
	    strlen(btype) != tlen || memcmp(btype, type, tlen)) {
		free(blob);
		return 0;
	}
	grown = realloc(set->e, (set->n + 1) * sizeof(*set->e));
	if (!grown) {
		free(blob);
		return -ENOMEM;
	}
	set->e = grown;
	ent = &set->e[set->n++];
	ent->line = lineno;
	ent->revoked = revoked;
	memcpy(ent->type, btype, tlen + 1);
	ent->blob = blob;
	ent->len = (size_t)blen;
	return 0;
}

static int parse_text(const char *text, size_t len, const char *name,
		      struct kh_set *set)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int rc;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		rc = parse_line(p, le, lineno, name, set);
		if (rc)
			return rc;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* The whole file behind @fd, NUL-terminated; *@len excludes the NUL. */
static int slurp_fd(int fd, const char *path, char **text, size_t *len, struct verr *e)
{
	struct stat st;
	size_t fill = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return verr_errno(e, "known_hosts %s", path);
	if ((uint64_t)st.st_size > KH_MAX_FILE) {
		verr_set(e, "known_hosts %s is larger than %u MiB", path, KH_MAX_FILE >> 20);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return verr_errno(e, "known_hosts %s", path);
	while (fill < (size_t)st.st_size) {
		ssize_t got = pread(fd, buf + fill, (size_t)st.st_size - fill, (off_t)fill);

		if (got < 0) {
			int rc = verr_errno(e, "read known_hosts %s", path);

			free(buf);
			return rc;
		}
		if (got == 0)
			break;
		fill += (size_t)got;
	}
	buf[fill] = 0;
	*text = buf;
	*len = fill;
	return 0;
}

/* What kh_append needs to know about the file besides its keys. */
struct kh_file_shape {
	unsigned lines;		/* lines in the file, a last unterminated one included */
	bool ends_newline;	/* empty, or ends with '\n' */
};

static int lookup_fd(int fd, const char *path, const char *name,
		     struct kh_set *set, struct kh_file_shape *shape, struct verr *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = slurp_fd(fd, path, &text, &len, e);
	if (rc)
		return rc;
	rc = parse_text(text, len, name, set);
	if (rc)
		verr_set(e, "known_hosts %s: out of memory", path);
	if (shape) {
		shape->lines = 0;
		for (size_t i = 0; i < len; i++)
			shape->lines += text[i] == '\n';
		shape->ends_newline = len == 0 || text[len - 1] == '\n';
		shape->lines += !shape->ends_newline;
	}
	free(text);
	return rc;
}

int kh_lookup(const char *path, const char *name, struct kh_set *set, struct verr *e)
{
	int fd, rc;

	set->e = NULL;
	set->n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return verr_errno(e, "known_hosts %s", path);
	}
	rc = lookup_fd(fd, path, name, set, NULL, e);
	close(fd);
	if (rc)
		kh_set_release(set);
	return rc;
}

void kh_set_release(struct kh_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->e[i].blob);
	free(set->e);
	set->e = NULL;
	set->n = 0;
}

void kh_set_hostkey_pref(const struct kh_set *set, char *out, size_t size)
{
	size_t used = 0;
	bool any = false;

	out[0] = 0;
	for (int pass = 0; pass < 2 && !any; pass++) {
		for (int t = 0; kh_supported_types[t]; t++) {
			bool listed = pass == 1;

			for (size_t i = 0; i < set->n && !listed; i++)
				listed = !set->e[i].revoked &&
					 !strcmp(set->e[i].type, kh_supported_types[t]);
			if (!listed)
				continue;
			used += (size_t)snprintf(out + used, used < size ? size - used : 0,
						 "%s%s", used ? "," : "", kh_supported_types[t]);
			any = true;
		}
	}
}

enum kh_verdict kh_set_check(const struct kh_set *set, const char *type,
			     const uint8_t *blob, size_t len, unsigned *line)
{
	unsigned changed = 0, match = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct kh_entry *k = &set->e[i];
		bool same = k->len == len && !memcmp(k->blob, blob, len);

		if (k->revoked) {
			if (same) {
				*line = k->line;
				return KH_REVOKED;
			}
			continue;
		}
		if (same && !match)
			match = k->line;
		else if (!strcmp(k->type, type) && !changed)
			changed = k->line;
	}
	*line = match ? match : changed;
	return match ? KH_MATCH : changed ? KH_CHANGED : KH_UNKNOWN;
}

int kh_append(const char *path, const char *name, const char *type,
	      const uint8_t *blob, size_t len, enum kh_verdict *verdict,
	      unsigned *line, struct verr *e)
{
	struct kh_set set = { NULL, 0 };
	struct kh_file_shape shape;
	size_t need, at = 0;
	char *text = NULL;
	ssize_t w;
	int fd, rc;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return verr_errno(e, "open known_hosts %s for appending", path);
	if (flock(fd, LOCK_EX) < 0) {
		rc = verr_errno(e, "lock known_hosts %s", path);
		goto out;
	}
	rc = lookup_fd(fd, path, name, &set, &shape, e);
	if (rc)
		goto out;
	*verdict = kh_set_check(&set, type, blob, len, line);
	if (*verdict != KH_UNKNOWN)
		goto out;

	need = 1 + strlen(name) + 1 + strlen(type) + 1 + BASE64_ENCODED_LEN(len) + 2;
	text = malloc(need);
	if (!text) {
		rc = verr_errno(e, "append to known_hosts %s", path);
		goto out;
	}
	if (!shape.ends_newline)
		text[at++] = '\n';
	at += (size_t)sprintf(text + at, "%s %s ", name, type);
	at += base64_encode(blob, len, text + at, true);
	text[at++] = '\n';

	/* One write() with O_APPEND: the line lands whole at the end. */
	w = write(fd, text, at);
	if (w != (ssize_t)at) {
		if (w >= 0)
			errno = EIO;
		rc = verr_errno(e, "append to known_hosts %s", path);
		goto out;
	}
	if (fsync(fd) < 0) {
		rc = verr_errno(e, "fsync known_hosts %s", path);
		goto out;
	}
	*line = shape.lines + 1;
out:
	free(text);
	kh_set_release(&set);
	close(fd);
	return rc;
}
