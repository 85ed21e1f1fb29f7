/*
 * cache_dir.h - vmorch's cache on this machine: $VMORCH_CACHE, else
 * $XDG_CACHE_HOME/vmorch, else ~/.cache/vmorch.  The initramfs archives
 * live under it, and the hashes of files the fleet sends.
 */
#ifndef VMORCH_CACHE_DIR_H
#define VMORCH_CACHE_DIR_H

#include <stddef.h>

#include "common/verr.h"

/*
 * The cache's subdirectory @sub (one name), made if missing along with
 * the cache itself, into @out.  0 or -errno with @e set.
 */
int cache_dir(const char *sub, char *out, size_t cap, struct verr *e);

#endif
