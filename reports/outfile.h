/*
 * outfile.h - where a rendered document goes.  Renderers write into memory
 * first, so a failed query or renderer prints nothing; the finished bytes
 * then go to standard output, or replace a file atomically through a
 * temporary that cannot be redirected by a planted symlink.
 */
#ifndef VMORCH_OUTFILE_H
#define VMORCH_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "common/verr.h"

/* A document rendered into memory: render to @f, then outbuf_close(). */
struct outbuf {
	FILE *f;
	char *data;
	size_t len;
};

/* Open @b's memory stream; -ENOMEM. */
int outbuf_open(struct outbuf *b);
/* Close the stream: 0, or -ENOMEM/-EIO if what was rendered is incomplete. */
int outbuf_close(struct outbuf *b);
/* Free the bytes (and the stream if still open). */
void outbuf_release(struct outbuf *b);

/* Write @b's bytes to @f (standard output); 0 or -EIO.  @f is not flushed. */
int outbuf_put(const struct outbuf *b, FILE *f);

/*
 * Refuse an output @path that is the database @db_path or one of its
 * -wal, -shm or -journal files: the same device and inode when the file
 * exists, the same directory and name when it does not (a report named
 * like a hot journal would be rolled into the database).  0, or -EINVAL
 * with a message in @e.
 */
int outfile_check_db(const char *path, const char *db_path, struct verr *e);

/*
 * Replace @path with @len bytes of @data: a new temporary in @path's
 * directory (O_EXCL, so a planted symlink is never followed), written,
 * fsync'ed and closed with every error checked, then renamed over @path.
 * On failure the temporary is removed and @path is untouched.  An existing
 * character device or FIFO (/dev/stdout, /dev/null, a pipe) is written in
 * place.  0, or -errno with "write error: PATH: reason" in @e.
 */
int outfile_replace(const char *path, const char *data, size_t len,
		    struct verr *e);

#endif
