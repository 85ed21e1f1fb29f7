/*
 * base64.c - RFC 4648 §4 base64, strict on input: a known_hosts key that
 * does not decode cleanly is a line vmorch does not understand.
 */
#include "orchestrator/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t len, char *out, bool pad)
{
	const uint8_t *p = in;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (n > 1)
			out[o++] = alphabet[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (n > 2)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, pads = 0;

	while (len && in[len - 1] == '=' && pads < 2)
		len--, pads++;
	if (pads && (len + pads) % 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 6 left-over bits cannot come from whole bytes; 2 or 4 must be 0. */
	if (bits >= 6 || (acc & ((1u << bits) - 1)))
		return -1;
	return (long)o;
}
