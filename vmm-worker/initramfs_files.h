/*
 * initramfs_files.h - a job's own files in a Linux guest's initramfs
 * (guest.files): each file at its place, each directory with everything
 * under it, and for every ELF program its interpreter and the shared
 * libraries it needs, found as the host's loader finds them.  Read whole,
 * hashed into the initramfs cache key, written after the agent's entries.
 */
#ifndef VMORCH_INITRAMFS_FILES_H
#define VMORCH_INITRAMFS_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/job.h"
#include "common/sha256.h"
#include "common/verr.h"
#include "guest/builtin/protocol.h"
#include "vmm-worker/cpio.h"

#define GUEST_FILES_MAX		16384		/* entries, libraries included */
#define GUEST_FILE_MAX		(256u << 20)	/* bytes of one file */
#define GUEST_FILES_DEPTH	32		/* directories within directories */
/*
 * GUEST_LD_PATH_FILE (guest/builtin/protocol.h): the directories of the
 * libraries that the host's loader found outside its default directories
 * (through ld.so.cache); the guest has no such cache, so the agent gives
 * them to the program as LD_LIBRARY_PATH.
 */

enum guest_entry_kind { GUEST_ENTRY_FILE, GUEST_ENTRY_DIR, GUEST_ENTRY_LINK };

struct guest_entry {
	enum guest_entry_kind kind;
	char *dst;		/* absolute, in the guest */
	uint8_t *data;		/* a file's bytes, a link's target */
	size_t len;
	unsigned mode;		/* files: 0755 or 0644 */
	bool lib;		/* a library or loader some program needs */
};

struct guest_files {
	struct guest_entry *v;
	size_t n, cap;
};

/*
 * Read @g's files.  A path that names a symlink is followed; inside a
 * directory, symlinks stay symlinks and entries are taken in name order
 * (so the cache key does not depend on the order readdir gives).  A file
 * that is not regular, a directory or a symlink, a library the host
 * lacks, or more than the limits above, is an error naming it.
 * 0 or -errno with @e set; @f is then to be freed all the same.
 */
int guest_files_load(struct guest_files *f, const struct job_guest *g, struct verr *e);

/* Every entry's kind, place, mode and bytes, into @s. */
void guest_files_hash(const struct guest_files *f, struct sha256 *s);

/*
 * Append the entries to @c, each missing parent directory first; @fixed
 * names (without a leading '/') the directories the archive already has.
 */
int guest_files_build(const struct guest_files *f, struct cpio *c,
		      const char *const *fixed, size_t nfixed);

void guest_files_free(struct guest_files *f);

#endif
