/*
 * file_hash.c - a file's sha256, remembered by its identity and times
 * (see file_hash.h).  One small file a hashed file: "SIZE MTIME CTIME
 * SHA256", the times as seconds.nanoseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cache_dir.h"
#include "common/sha256.h"
#include "orchestrator/file_hash.h"

#define ENTRY_MAX	256

/*
 * A file's times come from a coarse clock (a jiffy on ext4 and tmpfs, up
 * to 2 s on FAT), so a write soon after the file was hashed may leave its
 * ctime as it was.  The hash of a file changed less than this long before
 * it was read is not kept: any later write then gives it a newer ctime.
 * (Git calls such an index entry "racily clean".)
 */
#define QUIET_NS	(3LL * 1000000000LL)

static long long timespec_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Were @st's mtime and ctime both well before @start? */
static bool file_quiet(const struct stat *st, const struct timespec *start)
{
	long long limit = timespec_ns(start) - QUIET_NS;

	return timespec_ns(&st->st_mtim) < limit && timespec_ns(&st->st_ctim) < limit;
}

static int entry_format(const struct stat *st, const char *sha, char *buf, size_t cap)
{
	return snprintf(buf, cap, "%lld %lld.%09ld %lld.%09ld %s\n", (long long)st->st_size,
			(long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			(long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, sha);
}

/* The cached hash, if the entry says exactly this size and these times. */
static bool entry_lookup(const char *entry, const struct stat *st, char out[65])
{
	char buf[ENTRY_MAX], want[ENTRY_MAX];
	ssize_t n;
	int fd = open(entry, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 65)
		return false;
	buf[n] = 0;
	memcpy(out, buf + n - 65, 64);
	out[64] = 0;
	/* The line must be what we would write for this file and that hash. */
	entry_format(st, out, want, sizeof(want));
	return !strcmp(buf, want) && strspn(out, "0123456789abcdef") == 64;
}

/* Written to a temporary and renamed: a reader never sees half a line. */
static void entry_store(const char *dir, const char *entry, const struct stat *st,
			const char *sha)
{
	char tmp[4200], line[ENTRY_MAX];
	int fd, len = entry_format(st, sha, line, sizeof(line));

	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) != len || close(fd) || rename(tmp, entry))
		unlink(tmp);
}

int file_sha256(const char *path, const struct stat *st, char out[65], struct verr *e)
{
	char dir[4096], entry[4200];
	struct verr ce = { "" };
	struct stat after;
	struct timespec start;
	bool cache = cache_dir("sha256", dir, sizeof(dir), &ce) == 0;
	int rc;

	snprintf(entry, sizeof(entry), "%s/%llu-%llu", dir, (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino);
	if (cache && entry_lookup(entry, st, out))
		return 0;
	clock_gettime(CLOCK_REALTIME, &start);
	rc = sha256_file_hex(path, out, e);
	if (rc)
		return rc;
	/* Kept only if the file was quiet before and while it was read. */
	if (cache && file_quiet(st, &start) && stat(path, &after) == 0 &&
	    after.st_dev == st->st_dev && after.st_ino == st->st_ino && after.st_size == st->st_size &&
	    after.st_ctim.tv_sec == st->st_ctim.tv_sec &&
	    after.st_ctim.tv_nsec == st->st_ctim.tv_nsec &&
	    after.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	    after.st_mtim.tv_nsec == st->st_mtim.tv_nsec)
		entry_store(dir, entry, st, out);
	return 0;
}
