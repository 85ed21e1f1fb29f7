/*
 * sha1.c - SHA-1 after FIPS 180-4 §6.1 and HMAC after RFC 2104, written for
 * clarity: it hashes one host name per hashed known_hosts line.
 */
#include <string.h>

#include "orchestrator/sha1.h"

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1 *s, const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

void sha1_init(struct sha1 *s)
{
	static const uint32_t h0[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
	};

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->fill = 0;
}

void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	while (len) {
		size_t n = 64 - s->fill;

		if (n > len)
			n = len;
		memcpy(s->buf + s->fill, p, n);
		s->fill += n, p += n, len -= n;
		if (s->fill == 64) {
			sha1_block(s, s->buf);
			s->fill = 0;
		}
	}
}

void sha1_final(struct sha1 *s, uint8_t out[SHA1_LEN])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, lenbe[8];

	sha1_update(s, &pad, 1);
	while (s->fill != 56)
		sha1_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, lenbe, 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
	       uint8_t out[SHA1_LEN])
{
	uint8_t k[64] = { 0 }, ipad[64], opad[64], inner[SHA1_LEN];
	struct sha1 s;

	if (keylen > sizeof(k)) {
		sha1_init(&s);
		sha1_update(&s, key, keylen);
		sha1_final(&s, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	sha1_init(&s);
	sha1_update(&s, ipad, sizeof(ipad));
	sha1_update(&s, msg, msglen);
	sha1_final(&s, inner);
	sha1_init(&s);
	sha1_update(&s, opad, sizeof(opad));
	sha1_update(&s, inner, sizeof(inner));
	sha1_final(&s, out);
}
