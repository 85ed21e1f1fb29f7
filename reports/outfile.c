/*
 * outfile.c - documents rendered into memory, then printed or written to a
 * file that is replaced atomically (see outfile.h).  Used by `vmorch
 * report -o FILE` and by the diff/history commands for standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/outfile.h"

int outbuf_open(struct outbuf *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->data, &b->len);
	return b->f ? 0 : -ENOMEM;
}

int outbuf_close(struct outbuf *b)
{
	int rc = ferror(b->f) ? -EIO : 0;

	if (fclose(b->f) && !rc)
		rc = -ENOMEM;
	b->f = NULL;
	return rc;
}

void outbuf_release(struct outbuf *b)
{
	if (b->f)
		fclose(b->f);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int outbuf_put(const struct outbuf *b, FILE *f)
{
	if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
		return -EIO;
	return ferror(f) ? -EIO : 0;
}

/* ---- the database is never an output ---- */

/* Split @path into its directory ("." when none) and last component. */
static int path_split(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (!slash)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	return *dir ? 0 : -ENOMEM;
}

static const char *const db_companions[] = { "", "-wal", "-shm", "-journal" };

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Does an existing @path share its inode with the database or a companion? */
static bool path_is_db_inode(const char *path, const char *db_path)
{
	struct stat out, st;
	char name[4096];

	if (stat(path, &out))
		return false;
	for (size_t i = 0; i < sizeof(db_companions) / sizeof(*db_companions); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", db_path,
				     db_companions[i]) >= sizeof(name))
			continue;
		if (!stat(name, &st) && same_file(&out, &st))
			return true;
	}
	return false;
}

/* Is @path, by directory and name, where the database or a companion lives? */
static int path_is_db_name(const char *path, const char *db_path, bool *is)
{
	char *odir = NULL, *ddir = NULL;
	const char *obase, *dbase;
	struct stat os, ds;
	size_t dlen;
	int rc;

	*is = false;
	rc = path_split(path, &odir, &obase);
	if (!rc)
		rc = path_split(db_path, &ddir, &dbase);
	if (rc || stat(odir, &os) || stat(ddir, &ds) || !same_file(&os, &ds))
		goto out;
	dlen = strlen(dbase);
	for (size_t i = 0; i < sizeof(db_companions) / sizeof(*db_companions); i++)
		if (!strncmp(obase, dbase, dlen) &&
		    !strcmp(obase + dlen, db_companions[i]))
			*is = true;
out:
	free(odir);
	free(ddir);
	return rc;
}

int outfile_check_db(const char *path, const char *db_path, struct verr *e)
{
	bool is = path_is_db_inode(path, db_path);

	if (!is && path_is_db_name(path, db_path, &is)) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	if (!is)
		return 0;
	verr_set(e, "%s is the database %s or its -wal/-shm/-journal file:"
		 " refusing to overwrite it", path, db_path);
	return -EINVAL;
}

/* ---- writing ---- */

static int fd_write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A device or FIFO that exists is written in place: nothing to replace. */
static int outfile_write_special(const char *path, const char *data, size_t len,
				 struct verr *e)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return verr_errno(e, "write error: %s", path);
	rc = fd_write_all(fd, data, len);
	if (close(fd) && !rc && errno != EINTR)
		rc = -errno;
	if (rc)
		verr_set(e, "write error: %s: %s", path, strerror(-rc));
	return rc;
}

/* Mode of the new file: what creat(0666) would give under the umask. */
static mode_t outfile_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/* Write, set the mode, fsync and close @fd; -errno. */
static int outfile_fill(int fd, const char *data, size_t len)
{
	int rc = fd_write_all(fd, data, len);

	if (!rc && fchmod(fd, outfile_mode()))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc && errno != EINTR)
		rc = -errno;
	return rc;
}

static int outfile_temp(const char *path, char **tmp, struct verr *e)
{
	char *dir = NULL;
	const char *base;
	int fd;

	if (path_split(path, &dir, &base) ||
	    asprintf(tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		free(dir);
		*tmp = NULL;
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		fd = verr_errno(e, "write error: %s: cannot create a file in %s",
				path, dir);
		free(*tmp);
		*tmp = NULL;
	}
	free(dir);
	return fd;
}

int outfile_replace(const char *path, const char *data, size_t len,
		    struct verr *e)
{
	struct stat st;
	char *tmp;
	int fd, rc;

	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return outfile_write_special(path, data, len, e);
		verr_set(e, "write error: %s: not a regular file", path);
		return -EINVAL;
	}
	fd = outfile_temp(path, &tmp, e);
	if (fd < 0)
		return fd;
	rc = outfile_fill(fd, data, len);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		verr_set(e, "write error: %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}
