/*
 * ssh_wire.c - reading SSH wire data and key files for vmorch's own checks
 * and messages (see ssh_wire.h).  Every input here comes from a server or
 * a file and is bounds-checked; nothing is trusted to be well formed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha256.h"
#include "orchestrator/base64.h"
#include "orchestrator/ssh_wire.h"

bool ssh_rd_u8(struct ssh_rd *r, uint8_t *v)
{
	if (r->len < 1)
		return false;
	*v = r->p[0];
	r->p++, r->len--;
	return true;
}

bool ssh_rd_u32(struct ssh_rd *r, uint32_t *v)
{
	if (r->len < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4, r->len -= 4;
	return true;
}

bool ssh_rd_str(struct ssh_rd *r, const uint8_t **s, size_t *len)
{
	uint32_t n;
	struct ssh_rd save = *r;

	if (!ssh_rd_u32(r, &n) || n > r->len) {
		*r = save;
		return false;
	}
	*s = r->p;
	*len = n;
	r->p += n, r->len -= n;
	return true;
}

bool ssh_rd_skip(struct ssh_rd *r, size_t n)
{
	if (n > r->len)
		return false;
	r->p += n, r->len -= n;
	return true;
}

static bool printable_name(const uint8_t *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ',')
			return false;
	return true;
}

bool ssh_blob_keytype(const uint8_t *blob, size_t len, char type[SSH_KEYTYPE_MAX])
{
	struct ssh_rd r = { blob, len };
	const uint8_t *s;
	size_t n;

	if (!ssh_rd_str(&r, &s, &n) || n >= SSH_KEYTYPE_MAX || !printable_name(s, n))
		return false;
	memcpy(type, s, n);
	type[n] = 0;
	return true;
}

void ssh_fingerprint(const uint8_t *blob, size_t len, char out[SSH_FP_MAX])
{
	uint8_t h[32];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, blob, len);
	sha256_final(&s, h);
	memcpy(out, "SHA256:", 7);
	base64_encode(h, sizeof(h), out + 7, false);
}

bool ssh_keytype_is_rsa(const char *type)
{
	return !strcmp(type, "ssh-rsa") || !strncmp(type, "rsa-sha2-", 9) ||
	       !strncmp(type, "ssh-rsa-cert", 12);
}

/* Copy a name-list, cutting it at the last whole name that fits. */
static void copy_namelist(char *dst, size_t size, const uint8_t *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	memcpy(dst, s, n);
	dst[n] = 0;
	if (n < len) {
		char *comma = strrchr(dst, ',');

		if (comma)
			*comma = 0;
		else
			dst[0] = 0;
	}
	for (size_t i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] < ' ' || (unsigned char)dst[i] >= 0x7f)
			dst[i] = '?';
}

int ssh_server_hello_parse(const uint8_t *buf, size_t len,
			   struct ssh_server_hello *h)
{
	size_t off = 0;
	struct ssh_rd r, payload;
	uint32_t plen;
	uint8_t padlen, type;
	const uint8_t *s;
	size_t n;

	/* RFC 4253 §4.2: lines before the one starting "SSH-" may come first. */
	for (;;) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t l;

		if (!nl)
			return -ENODATA;
		l = (size_t)(nl - (buf + off));
		if (l >= 4 && !memcmp(buf + off, "SSH-", 4)) {
			size_t vl = l;

			if (vl && buf[off + vl - 1] == '\r')
				vl--;
			if (vl >= sizeof(h->version))
				vl = sizeof(h->version) - 1;
			memcpy(h->version, buf + off, vl);
			h->version[vl] = 0;
			for (size_t i = 0; i < vl; i++)
				if ((unsigned char)h->version[i] < ' ' ||
				    (unsigned char)h->version[i] >= 0x7f)
					h->version[i] = '?';
			off += l + 1;
			break;
		}
		off += l + 1;
		if (off > 8192)
			return -EPROTO;
	}

	r = (struct ssh_rd){ buf + off, len - off };
	if (!ssh_rd_u32(&r, &plen))
		return -ENODATA;
	if (plen < 2 || plen > 35000)
		return -EPROTO;
	if (r.len < plen)
		return -ENODATA;
	r.len = plen;
	if (!ssh_rd_u8(&r, &padlen) || padlen >= plen)
		return -EPROTO;
	payload = (struct ssh_rd){ r.p, plen - 1 - padlen };
	if (!ssh_rd_u8(&payload, &type) || type != 20 /* SSH_MSG_KEXINIT */ ||
	    !ssh_rd_skip(&payload, 16))
		return -EPROTO;
	if (!ssh_rd_str(&payload, &s, &n))
		return -EPROTO;
	copy_namelist(h->kex, sizeof(h->kex), s, n);
	if (!ssh_rd_str(&payload, &s, &n))
		return -EPROTO;
	copy_namelist(h->hostkey, sizeof(h->hostkey), s, n);
	return 0;
}

/* The payload of a "-----BEGIN <label>-----" block, base64-decoded. */
static long pem_body(const char *text, const char *label, uint8_t **out)
{
	char begin[64], end[64];
	const char *b, *e;
	char *clean;
	size_t n = 0;
	long len;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	b = strstr(text, begin);
	if (!b)
		return -1;
	b += strlen(begin);
	e = strstr(b, end);
	if (!e)
		return -1;
	clean = malloc((size_t)(e - b) + 1);
	*out = malloc((size_t)(e - b) / 4 * 3 + 3);
	if (!clean || !*out) {
		free(clean);
		free(*out);
		*out = NULL;
		return -1;
	}
	for (const char *p = b; p < e; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			clean[n++] = *p;
	len = base64_decode(clean, n, *out);
	free(clean);
	if (len < 0) {
		free(*out);
		*out = NULL;
	}
	return len;
}

/* openssh-key-v1 (PROTOCOL.key in OpenSSH): magic, cipher, kdf, kdf
 * options, number of keys, then the first public key blob in clear. */
static int openssh_key_type(const uint8_t *d, size_t len, char type[SSH_KEYTYPE_MAX],
			    bool *encrypted)
{
	static const char magic[] = "openssh-key-v1";
	struct ssh_rd r = { d, len };
	const uint8_t *cipher, *s, *blob;
	size_t cipher_len, n, blob_len;
	uint32_t nkeys;

	if (len < sizeof(magic) || memcmp(d, magic, sizeof(magic)))
		return -EINVAL;
	ssh_rd_skip(&r, sizeof(magic));
	if (!ssh_rd_str(&r, &cipher, &cipher_len) || !ssh_rd_str(&r, &s, &n) ||
	    !ssh_rd_str(&r, &s, &n) || !ssh_rd_u32(&r, &nkeys) || nkeys < 1 ||
	    !ssh_rd_str(&r, &blob, &blob_len) ||
	    !ssh_blob_keytype(blob, blob_len, type))
		return -EINVAL;
	*encrypted = !(cipher_len == 4 && !memcmp(cipher, "none", 4));
	return 0;
}

int ssh_keyfile_probe(const char *path, char type[SSH_KEYTYPE_MAX],
		      bool *encrypted, struct verr *e)
{
	static const struct {
		const char *label, *type;
	} pem[] = {
		{ "RSA PRIVATE KEY", "ssh-rsa" },
		{ "EC PRIVATE KEY", "ecdsa-sha2" },
		{ "DSA PRIVATE KEY", "ssh-dss" },
		{ "ENCRYPTED PRIVATE KEY", "" },
		{ "PRIVATE KEY", "" },
	};
	char *text = NULL, begin[64];
	ssize_t got;
	size_t fill = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return verr_errno(e, "identity file %s", path);
	text = malloc(65537);
	if (!text) {
		rc = verr_errno(e, "identity file %s", path);
		goto out;
	}
	while (fill < 65536 && (got = read(fd, text + fill, 65536 - fill)) > 0)
		fill += (size_t)got;
	if (got < 0) {
		rc = verr_errno(e, "identity file %s", path);
		goto out;
	}
	text[fill] = 0;
	*encrypted = false;
	type[0] = 0;

	if (strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----")) {
		uint8_t *d = NULL;
		long len = pem_body(text, "OPENSSH PRIVATE KEY", &d);

		rc = len < 0 ? -EINVAL : openssh_key_type(d, (size_t)len, type, encrypted);
		free(d);
		if (rc)
			verr_set(e, "identity file %s: damaged OpenSSH private key", path);
		goto out;
	}
	for (size_t i = 0; i < sizeof(pem) / sizeof(pem[0]); i++) {
		snprintf(begin, sizeof(begin), "-----BEGIN %s-----", pem[i].label);
		if (strstr(text, begin)) {
			snprintf(type, SSH_KEYTYPE_MAX, "%s", pem[i].type);
			*encrypted = !strcmp(pem[i].label, "ENCRYPTED PRIVATE KEY") ||
				     strstr(text, "ENCRYPTED") != NULL;
			goto out;
		}
	}
	rc = -EINVAL;
	verr_set(e, "identity file %s is not a private key (a .pub file?)", path);
out:
	free(text);
	close(fd);
	return rc;
}
