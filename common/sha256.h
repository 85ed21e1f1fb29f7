/*
 * sha256.h - SHA-256 (FIPS 180-4), for recording which scenario file a run
 * used and, later, content-addressed caches.
 */
#ifndef VMORCH_SHA256_H
#define VMORCH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* sha256_final() as hex (64 characters + NUL). */
void sha256_final_hex(struct sha256 *s, char out[65]);

/*
 * One named blob of a sequence: @name with its NUL, @len as 8 bytes, then
 * the bytes, so that no two different sequences feed the same stream (the
 * content keys of the initramfs cache).
 */
void sha256_update_blob(struct sha256 *s, const char *name, const void *data, size_t len);

/* Hex digest (64 characters + NUL) of @len bytes at @data. */
void sha256_hex(const void *data, size_t len, char out[65]);

/* Hex digest of a file's content; 0 or -errno with @e set. */
int sha256_file_hex(const char *path, char out[65], struct verr *e);

#endif
