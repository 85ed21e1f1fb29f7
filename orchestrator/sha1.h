/*
 * sha1.h - SHA-1 and HMAC-SHA1, for one job only: matching a host name
 * against a hashed known_hosts entry (`|1|salt|hash`, where hash is
 * HMAC-SHA1 keyed with the salt).  Not for anything that needs collision
 * resistance.
 */
#ifndef VMORCH_SHA1_H
#define VMORCH_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

struct sha1 {
	uint32_t h[5];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t len);
void sha1_final(struct sha1 *s, uint8_t out[SHA1_LEN]);

/* HMAC-SHA1 (RFC 2104) of @msg under @key. */
void hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
	       uint8_t out[SHA1_LEN]);

#endif
