/*
 * file_read.h - a whole regular file of this machine into memory, for the
 * inputs a worker reads once (a kernel, modules, busybox, a guest's files).
 */
#ifndef VMORCH_FILE_READ_H
#define VMORCH_FILE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

/*
 * @path's bytes into *@out (malloc'd, one NUL byte past the end) and *@len.
 * A file that is not regular, or larger than @max, is refused ("PATH: not a
 * regular file of at most N MiB").  0 or -errno with @e naming @path.
 */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len,
		  struct verr *e);

#endif
