/*
 * ssh_wire.h - the few pieces of the SSH wire format (RFC 4251 §5) that
 * vmorch reads itself rather than through libssh2: the key type inside a
 * public key blob, SHA256: fingerprints, the server's KEXINIT (to explain a
 * failed negotiation) and the key type of a private key file (to explain a
 * failed login).
 */
#ifndef VMORCH_SSH_WIRE_H
#define VMORCH_SSH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

/* "SHA256:" + 43 base64 characters + NUL, with room to spare. */
#define SSH_FP_MAX	64
/* Longest key type name vmorch keeps ("ecdsa-sha2-nistp521" is 19). */
#define SSH_KEYTYPE_MAX	64

/* A read cursor over wire data; every read checks the bounds. */
struct ssh_rd {
	const uint8_t *p;
	size_t len;
};

bool ssh_rd_u8(struct ssh_rd *r, uint8_t *v);
bool ssh_rd_u32(struct ssh_rd *r, uint32_t *v);
/* A string (uint32 length + bytes); *@s points into the cursor's data. */
bool ssh_rd_str(struct ssh_rd *r, const uint8_t **s, size_t *len);
bool ssh_rd_skip(struct ssh_rd *r, size_t n);

/*
 * The key type a public key blob names in its first string ("ssh-ed25519",
 * ...), NUL-terminated in @type; false when the blob does not start with a
 * printable name that fits.
 */
bool ssh_blob_keytype(const uint8_t *blob, size_t len, char type[SSH_KEYTYPE_MAX]);

/* The fingerprint OpenSSH prints by default: "SHA256:" + base64 of the
 * SHA-256 of the blob, without the '=' padding. */
void ssh_fingerprint(const uint8_t *blob, size_t len, char out[SSH_FP_MAX]);

/* True for the RSA key and signature names ("ssh-rsa", "rsa-sha2-256"...). */
bool ssh_keytype_is_rsa(const char *type);

/* What a server says about itself before any encryption. */
struct ssh_server_hello {
	char version[128];	/* its identification line, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2" */
	char kex[1024];		/* its kex_algorithms name-list */
	char hostkey[1024];	/* its server_host_key_algorithms name-list */
};

/*
 * Find the server's identification line and first binary packet (its
 * KEXINIT, RFC 4253 §4.2 and §7.1) in the first bytes it sent.  Returns 0,
 * or -ENODATA when @buf ends before both were seen, or -EPROTO when the
 * bytes are not an SSH server's greeting.  Name-lists too long for the
 * buffers are cut at the last whole name.
 */
int ssh_server_hello_parse(const uint8_t *buf, size_t len,
			   struct ssh_server_hello *h);

/*
 * The key type of a private key file: "ssh-ed25519", "ecdsa-sha2-nistp256",
 * "ssh-rsa"... for OpenSSH's own format (read from the public key it
 * carries unencrypted), the type implied by a PEM header otherwise, or ""
 * for a PKCS#8 file that does not say.  *@encrypted is set when the key
 * needs a passphrase.  0, or -errno with @e set (unreadable, not a key).
 */
int ssh_keyfile_probe(const char *path, char type[SSH_KEYTYPE_MAX],
		      bool *encrypted, struct verr *e);

#endif
