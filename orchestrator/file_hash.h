/*
 * file_hash.h - the sha256 of a file of this machine, remembered between
 * runs: hashing a 10 GiB image costs half a minute, and a fleet run needs
 * the hash of every image its jobs name, every time.
 */
#ifndef VMORCH_FILE_HASH_H
#define VMORCH_FILE_HASH_H

#include <sys/stat.h>

#include "common/verr.h"

/*
 * @path's sha256 (64 hex digits) into @out, @st being what stat() said of
 * it.  A hash is kept in the cache (cache_dir.h, "sha256/<dev>-<ino>")
 * with the file's size, mtime and ctime, and used while all three are
 * unchanged; any write to the file changes its ctime.  A file changed in
 * the last few seconds is hashed but not kept: its times may not change
 * again on the next write (file_hash.c, QUIET_NS).  A cache that
 * cannot be read or written only costs the hashing.  0 or -errno with @e
 * set (the file cannot be read).
 */
int file_sha256(const char *path, const struct stat *st, char out[65], struct verr *e);

#endif
