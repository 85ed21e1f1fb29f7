/*
 * disk.h - the backing store of one virtio-blk disk: a raw image file from
 * the job, or a sparse temporary file that disappears with the process.
 */
#ifndef VMORCH_DISK_H
#define VMORCH_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/job.h"
#include "common/verr.h"

#define DISK_SECTOR 512

struct disk {
	int fd;
	uint64_t size;		/* bytes, a multiple of DISK_SECTOR */
	bool read_only;
};

/* Files that must never back a disk, by (st_dev, st_ino): the job's protect[]. */
struct disk_guard {
	const struct job_file_id *protect;
	uint32_t nprotect;
};

/*
 * Open @jd->path (O_RDONLY for read-only disks; capacity = file size rounded
 * down to a sector, or @jd->size if non-zero and smaller); with @jd->clone,
 * run on a private copy of it instead (reflinked where the file system can,
 * made in the image's directory and unlinked at once), or create a sparse
 * file of @jd->size bytes in $TMPDIR (default /var/tmp) that is unlinked at
 * once, so it goes away even if the worker crashes.  An opened image that is
 * in @g (NULL: none), or a block device without @jd->allow_block_device, is
 * refused with -EPERM; anything else but a regular file with -EINVAL.
 * 0 or -errno with @e set.
 */
int disk_open(struct disk *dk, const struct job_disk *jd, const struct disk_guard *g,
	      struct verr *e);

/* Transfer exactly the iovec's total at byte @off.  0 or -errno. */
int disk_read(struct disk *dk, struct iovec *iov, int niov, uint64_t off);
int disk_write(struct disk *dk, struct iovec *iov, int niov, uint64_t off);

/* fdatasync.  0 or -errno. */
int disk_flush(struct disk *dk);

void disk_close(struct disk *dk);

#endif
