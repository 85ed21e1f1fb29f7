/*
 * cpio.c - the newc cpio writer (see cpio.h).  Each entry is a 110-byte
 * ASCII header ("070701" + 13 eight-digit hex fields), the NUL-terminated
 * name, padding to 4 bytes, the data, padding to 4 bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm-worker/cpio.h"

#define CPIO_HDR_LEN 110

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
	c->next_ino = 1;
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

static int cpio_reserve(struct cpio *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 64 * 1024;
	uint8_t *p;

	if (c->err)
		return c->err;
	if (more > SIZE_MAX - c->len)
		return c->err = -EOVERFLOW;
	while (cap < c->len + more)
		cap *= 2;
	if (cap == c->cap)
		return 0;
	p = realloc(c->buf, cap);
	if (!p)
		return c->err = -ENOMEM;
	c->buf = p;
	c->cap = cap;
	return 0;
}

static void cpio_pad4(struct cpio *c)
{
	while (c->len % 4)
		c->buf[c->len++] = 0;
}

static void cpio_entry(struct cpio *c, const char *name, uint32_t mode,
		       unsigned rmajor, unsigned rminor, const void *data,
		       size_t len)
{
	size_t namesz = strlen(name) + 1;
	char hdr[CPIO_HDR_LEN + 1];

	if (len > UINT32_MAX || namesz > 4096) {
		c->err = c->err ? c->err : -EFBIG;
		return;
	}
	if (cpio_reserve(c, CPIO_HDR_LEN + namesz + 3 + len + 3))
		return;
	/* magic ino mode uid gid nlink mtime filesize devmajor devminor
	 * rdevmajor rdevminor namesize check; mtime 0 keeps the archive a pure
	 * function of its inputs (it is cached by content hash). */
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 c->next_ino++, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u,
		 (uint32_t)len, 0u, 0u, rmajor, rminor, (uint32_t)namesz, 0u);
	memcpy(c->buf + c->len, hdr, CPIO_HDR_LEN);
	c->len += CPIO_HDR_LEN;
	memcpy(c->buf + c->len, name, namesz);
	c->len += namesz;
	cpio_pad4(c);
	if (len)
		memcpy(c->buf + c->len, data, len);
	c->len += len;
	cpio_pad4(c);
}

void cpio_add_dir(struct cpio *c, const char *path, mode_t perm)
{
	cpio_entry(c, path, S_IFDIR | (perm & 07777), 0, 0, NULL, 0);
}

void cpio_add_file(struct cpio *c, const char *path, mode_t perm,
		   const void *data, size_t len)
{
	cpio_entry(c, path, S_IFREG | (perm & 07777), 0, 0, data, len);
}

void cpio_add_symlink(struct cpio *c, const char *path, const char *target)
{
	cpio_entry(c, path, S_IFLNK | 0777, 0, 0, target, strlen(target));
}

void cpio_add_chardev(struct cpio *c, const char *path, mode_t perm,
		      unsigned major, unsigned minor)
{
	cpio_entry(c, path, S_IFCHR | (perm & 07777), major, minor, NULL, 0);
}

int cpio_finish(struct cpio *c)
{
	cpio_entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
	return c->err;
}
