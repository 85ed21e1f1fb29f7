/*
 * disk.c - backing store for virtio-blk (see disk.h): positional vectored
 * I/O straight between the file and guest memory, no bounce buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <libgen.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-worker/disk.h"

/* True when @st is one of the files the job says must never be a disk. */
static bool disk_is_protected(const struct stat *st, const struct disk_guard *g)
{
	for (uint32_t i = 0; g && i < g->nprotect; i++)
		if (g->protect[i].dev == (uint64_t)st->st_dev &&
		    g->protect[i].ino == (uint64_t)st->st_ino)
			return true;
	return false;
}

/*
 * Judge what was opened, not the name: a symlink, a hard link or a rename
 * after the orchestrator looked all land here as the same (dev, ino).
 */
static int disk_check_file(const struct disk *dk, const struct job_disk *jd,
			   const struct disk_guard *g, struct verr *e)
{
	struct stat st;

	if (fstat(dk->fd, &st) < 0)
		return verr_errno(e, "cannot stat disk image %s", jd->path);
	if (disk_is_protected(&st, g)) {
		verr_set(e, "%s is the result database (or its -wal/-shm/-journal); "
			 "refusing to use it as a disk", jd->path);
		return -EPERM;
	}
	if (S_ISBLK(st.st_mode) && jd->clone) {
		verr_set(e, "%s is a block device: only an image file can be cloned",
			 jd->path);
		return -EINVAL;
	}
	if (S_ISBLK(st.st_mode) && !jd->allow_block_device) {
		verr_set(e, "%s is a block device; set allow_block_device: true on "
			 "the disk to use it", jd->path);
		return -EPERM;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		verr_set(e, "%s is neither a regular file nor a block device", jd->path);
		return -EINVAL;
	}
	return 0;
}

/* O_TMPFILE where the file system has it, else mkstemp + unlink. */
static int disk_tmpfile(const char *dir, struct verr *e)
{
	char *name = NULL;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (asprintf(&name, "%s/vmorch-disk-XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0)
		unlink(name);
	else
		fd = verr_errno(e, "cannot create a temporary disk in %s", dir);
	free(name);
	return fd;
}

/* Copy @len bytes: in the kernel where it can, else through a buffer. */
static int disk_copy(int src, int dst, uint64_t len)
{
	static char buf[1 << 16];
	loff_t in = 0, out = 0;
	ssize_t n;

	while ((uint64_t)in < len) {
		n = copy_file_range(src, &in, dst, &out, (size_t)(len - (uint64_t)in), 0);
		if (n > 0)
			continue;
		if (n == 0)
			return -EIO;	/* the image shrank under us */
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != EINVAL)
			return -errno;
		break;
	}
	while ((uint64_t)in < len) {
		size_t want = len - (uint64_t)in < sizeof(buf) ? (size_t)(len - (uint64_t)in)
							      : sizeof(buf);

		n = pread(src, buf, want, in);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		if (pwrite(dst, buf, (size_t)n, out) != n)
			return -EIO;
		in += n;
		out += n;
	}
	return 0;
}

/*
 * The private copy a clone disk runs on, in the image's own directory so
 * that a reflink (FICLONE: btrfs, XFS) can share its extents; unlinked
 * from the start, so a crash leaves nothing behind.
 */
static int disk_clone(int src, const char *path, uint64_t len, struct verr *e)
{
	char *copy = strdup(path);
	int fd, rc;

	if (!copy)
		return -ENOMEM;
	fd = disk_tmpfile(dirname(copy), e);
	free(copy);
	if (fd < 0)
		return fd;
	if (ioctl(fd, FICLONE, src) == 0)
		return fd;
	rc = disk_copy(src, fd, len);
	if (rc) {
		close(fd);
		errno = -rc;
		return verr_errno(e, "cannot copy disk image %s", path);
	}
	return fd;
}

static int disk_open_path(struct disk *dk, const struct job_disk *jd,
			  const struct disk_guard *g, struct verr *e)
{
	off_t end;
	int rc, fd;

	/* O_NONBLOCK: a FIFO given as an image must not hang the open. */
	dk->fd = open(jd->path, (jd->read_only || jd->clone ? O_RDONLY : O_RDWR) |
		      O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (dk->fd < 0)
		return verr_errno(e, "cannot open disk image %s%s", jd->path,
				  jd->read_only ? " read-only" : "");
	rc = disk_check_file(dk, jd, g, e);
	if (rc)
		goto fail;
	if (fcntl(dk->fd, F_SETFL, 0) < 0) {
		rc = verr_errno(e, "disk image %s", jd->path);
		goto fail;
	}
	/* lseek, not fstat: it also sizes block devices. */
	end = lseek(dk->fd, 0, SEEK_END);
	if (end < 0) {
		rc = verr_errno(e, "cannot size disk image %s", jd->path);
		goto fail;
	}
	dk->size = (uint64_t)end / DISK_SECTOR * DISK_SECTOR;
	if (jd->size && jd->size > dk->size) {
		rc = -EINVAL;
		verr_set(e, "disk image %s holds %llu bytes, the job asks for %llu",
			 jd->path, (unsigned long long)dk->size,
			 (unsigned long long)jd->size);
		goto fail;
	}
	if (jd->size)
		dk->size = jd->size;
	if (dk->size == 0) {
		rc = -EINVAL;
		verr_set(e, "disk image %s is smaller than one %d-byte sector",
			 jd->path, DISK_SECTOR);
		goto fail;
	}
	if (jd->clone) {
		fd = disk_clone(dk->fd, jd->path, (uint64_t)end, e);
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		close(dk->fd);
		dk->fd = fd;
	}
	return 0;
fail:
	close(dk->fd);
	dk->fd = -1;
	return rc;
}

static int disk_open_temp(struct disk *dk, const struct job_disk *jd, struct verr *e)
{
	const char *dir = getenv("TMPDIR");
	int rc;

	if (!dir || !*dir)
		dir = "/var/tmp";
	dk->size = jd->size / DISK_SECTOR * DISK_SECTOR;
	if (dk->size == 0) {
		verr_set(e, "temporary disk needs a size of at least %d bytes",
			 DISK_SECTOR);
		return -EINVAL;
	}
	dk->fd = disk_tmpfile(dir, e);
	if (dk->fd < 0)
		return dk->fd;
	/* ftruncate keeps it sparse: no blocks until the guest writes. */
	if (ftruncate(dk->fd, (off_t)dk->size) < 0) {
		rc = verr_errno(e, "cannot size a %llu-byte temporary disk in %s",
				(unsigned long long)dk->size, dir);
		close(dk->fd);
		dk->fd = -1;
		return rc;
	}
	return 0;
}

int disk_open(struct disk *dk, const struct job_disk *jd, const struct disk_guard *g,
	      struct verr *e)
{
	dk->fd = -1;
	dk->size = 0;
	dk->read_only = jd->read_only;
	if (jd->path)
		return disk_open_path(dk, jd, g, e);
	return disk_open_temp(dk, jd, e);
}

/* Drop @n transferred bytes from the front of the iovec array. */
static void iov_advance(struct iovec **iov, int *niov, size_t n)
{
	while (n && *niov) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (char *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*niov)--;
	}
	while (*niov && (*iov)->iov_len == 0) {
		(*iov)++;
		(*niov)--;
	}
}

static int disk_rw(struct disk *dk, struct iovec *iov, int niov, uint64_t off,
		   bool write)
{
	ssize_t n;

	iov_advance(&iov, &niov, 0);
	while (niov > 0) {
		n = write ? pwritev(dk->fd, iov, niov, (off_t)off)
			  : preadv(dk->fd, iov, niov, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)	/* the file shrank under us */
			return -EIO;
		off += (uint64_t)n;
		iov_advance(&iov, &niov, (size_t)n);
	}
	return 0;
}

int disk_read(struct disk *dk, struct iovec *iov, int niov, uint64_t off)
{
	return disk_rw(dk, iov, niov, off, false);
}

int disk_write(struct disk *dk, struct iovec *iov, int niov, uint64_t off)
{
	if (dk->read_only)
		return -EROFS;
	return disk_rw(dk, iov, niov, off, true);
}

int disk_flush(struct disk *dk)
{
	return fdatasync(dk->fd) < 0 ? -errno : 0;
}

void disk_close(struct disk *dk)
{
	if (dk->fd >= 0)
		close(dk->fd);
	dk->fd = -1;
}
