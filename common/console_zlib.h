/*
 * console_zlib.h - a console's bytes compressed for the database (zlib
 * format, RFC 1950), and back.  A guest's console is mostly text and
 * shrinks 3-10 times; a hostile one of random bytes does not, and the cap
 * (console_ring.h) bounds it anyway.
 */
#ifndef VMORCH_CONSOLE_ZLIB_H
#define VMORCH_CONSOLE_ZLIB_H

#include <stddef.h>

/* The most a stored console may inflate to: a damaged row cannot make us allocate more. */
#define CONSOLE_STORED_MAX	(64u << 20)

/* Deflate @len bytes of @data into a malloc'd *@z of *@zlen bytes; 0 or -ENOMEM. */
int console_deflate(const char *data, size_t len, unsigned char **z, size_t *zlen);

/*
 * Inflate @z (@zlen bytes) into a malloc'd *@out of exactly @len bytes plus
 * a NUL: the length the row says it holds.  -EBADMSG for a stream that is
 * corrupt, or inflates to fewer or more bytes; -EFBIG when @len is above
 * CONSOLE_STORED_MAX; -ENOMEM.
 */
int console_inflate(const unsigned char *z, size_t zlen, size_t len, char **out);

#endif
