/*
 * base64.h - RFC 4648 base64 (the standard alphabet), as OpenSSH writes it
 * in known_hosts, public keys, private key files and SHA256: fingerprints.
 */
#ifndef VMORCH_BASE64_H
#define VMORCH_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for @len bytes, padding included, no NUL. */
#define BASE64_ENCODED_LEN(len) (((len) + 2) / 3 * 4)

/*
 * Encode @len bytes into @out (BASE64_ENCODED_LEN(len) + 1 bytes) and
 * NUL-terminate it; without @pad the trailing '=' are left off, as in an
 * OpenSSH fingerprint.  Returns the string's length.
 */
size_t base64_encode(const void *in, size_t len, char *out, bool pad);

/*
 * Decode @len characters at @in into @out (room for len / 4 * 3 bytes).
 * Padding is optional; whitespace and any other character outside the
 * alphabet are refused, as are bits left over in the last character.
 * Returns the decoded length, or -1 when @in is not base64.
 */
long base64_decode(const char *in, size_t len, uint8_t *out);

#endif
