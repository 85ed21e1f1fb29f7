/*
 * cpio.h - a writer for the "newc" cpio format (the one the Linux kernel
 * unpacks as an initramfs, Documentation/driver-api/early-userspace/
 * buffer-format.rst), into a growing memory buffer.
 */
#ifndef VMORCH_CPIO_H
#define VMORCH_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cpio {
	uint8_t *buf;
	size_t len, cap;
	uint32_t next_ino;
	int err;		/* first -errno, sticky: check once at the end */
};

void cpio_init(struct cpio *c);
void cpio_free(struct cpio *c);

/* Paths are relative to the archive root, without a leading '/'. */
void cpio_add_dir(struct cpio *c, const char *path, mode_t perm);
void cpio_add_file(struct cpio *c, const char *path, mode_t perm,
		   const void *data, size_t len);
void cpio_add_symlink(struct cpio *c, const char *path, const char *target);
/* A character device node, e.g. dev/console (5, 1). */
void cpio_add_chardev(struct cpio *c, const char *path, mode_t perm,
		      unsigned major, unsigned minor);

/* Append the TRAILER!!! entry; 0 or the first error of any add. */
int cpio_finish(struct cpio *c);

#endif
