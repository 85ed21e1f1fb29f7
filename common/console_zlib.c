/*
 * console_zlib.c - compressing consoles for the database (see the header).
 *
 * deflateInit's default window and hash (32 KiB + 256 KiB) cost ~800 us
 * to allocate and fault in on this machine kind, for a 500-byte console
 * that then compresses in 10 us; so the window follows the input's size.
 * Level 6 up to 64 KiB (5 ms), level 1 above: a hostile guest's full MiB
 * takes 15 ms instead of 65 ms of the pool's one thread (measured with
 * zlib 1.2.13, text from doc/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "console_zlib.h"

#define LEVEL_SMALL_MAX	(64u << 10)

/* The smallest window (2^9..2^15) that spans @len, and a hash to match. */
static void deflate_fit(size_t len, int *window_bits, int *mem_level)
{
	int wb = 9;

	while (wb < 15 && ((size_t)1 << wb) < len)
		wb++;
	*window_bits = wb;
	*mem_level = wb - 6 < 1 ? 1 : wb - 6 > 8 ? 8 : wb - 6;
}

int console_deflate(const char *data, size_t len, unsigned char **z, size_t *zlen)
{
	z_stream s = { 0 };
	int wb, ml, rc = -ENOMEM;
	uLong bound;

	*z = NULL;
	*zlen = 0;
	deflate_fit(len, &wb, &ml);
	if (deflateInit2(&s, len <= LEVEL_SMALL_MAX ? 6 : 1, Z_DEFLATED, wb, ml,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&s, (uLong)len);
	*z = malloc(bound);
	if (!*z)
		goto out;
	s.next_in = (Bytef *)data;
	s.avail_in = (uInt)len;
	s.next_out = *z;
	s.avail_out = (uInt)bound;
	/* deflateBound() is enough for one Z_FINISH call. */
	if (deflate(&s, Z_FINISH) != Z_STREAM_END) {
		free(*z);
		*z = NULL;
		rc = -EIO;
		goto out;
	}
	*zlen = s.total_out;
	rc = 0;
out:
	deflateEnd(&s);
	return rc;
}

int console_inflate(const unsigned char *z, size_t zlen, size_t len, char **out)
{
	z_stream s = { 0 };
	unsigned char extra;
	int zrc, rc = -EBADMSG;

	*out = NULL;
	if (len > CONSOLE_STORED_MAX)
		return -EFBIG;
	*out = malloc(len + 1);
	if (!*out || inflateInit(&s) != Z_OK) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	s.next_in = (Bytef *)z;
	s.avail_in = (uInt)zlen;
	s.next_out = (Bytef *)*out;
	s.avail_out = (uInt)len;
	zrc = inflate(&s, Z_FINISH);
	if (zrc == Z_BUF_ERROR && s.avail_out == 0) {
		/* Full, not finished: one byte more than the row says is too many. */
		s.next_out = &extra;
		s.avail_out = 1;
		zrc = inflate(&s, Z_FINISH);
		if (zrc == Z_STREAM_END && s.avail_out == 0)
			zrc = Z_DATA_ERROR;
	}
	if (zrc == Z_STREAM_END && s.total_out == len && s.avail_in == 0)
		rc = 0;
	inflateEnd(&s);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	(*out)[len] = 0;
	return 0;
}
