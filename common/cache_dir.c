/*
 * cache_dir.c - where vmorch caches things on this machine (see
 * cache_dir.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/cache_dir.h"

int cache_dir(const char *sub, char *out, size_t cap, struct verr *e)
{
	const char *v = getenv("VMORCH_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (v && *v)
		n = snprintf(out, cap, "%s/%s", v, sub);
	else if (xdg && *xdg)
		n = snprintf(out, cap, "%s/vmorch/%s", xdg, sub);
	else
		n = snprintf(out, cap, "%s/.cache/vmorch/%s", home && *home ? home : "/tmp", sub);
	if (n < 0 || (size_t)n >= cap) {
		verr_set(e, "cache directory: path too long");
		return -ENAMETOOLONG;
	}
	/* mkdir -p: each level, the last one's failure is the one that counts. */
	for (char *s = out + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(out, 0755);
			*s = '/';
		}
	}
	if (mkdir(out, 0755) && errno != EEXIST)
		return verr_errno(e, "cache directory %s", out);
	return 0;
}
