/*
 * rootfs.c - the rootfs image of job.json's "rootfs_disk": an ext4 disk
 * (read-only, after the test disks) that the user's program runs chrooted
 * in, with the kernel's file systems and a writable /tmp mounted inside.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "agent.h"

struct inner_mount {
	const char *dir, *type, *src;
	unsigned long flags;
};

int rootfs_mount(const struct job *job, struct disk *d, unsigned *ndisks, char *err,
		 size_t errlen)
{
	static const struct inner_mount inner[] = {
		{ "proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV },
		{ "sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV },
		{ "dev", NULL, "/dev", MS_BIND | MS_REC },
		{ "tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV },
	};
	struct disk root;

	if (!job->rootfs)
		return 0;
	if (job->rootfs_disk >= *ndisks)
		return agent_err(err, errlen, -ENODEV, "rootfs: disk %u not found (%u disks)",
				 job->rootfs_disk, *ndisks);
	root = d[job->rootfs_disk];
	memmove(&d[job->rootfs_disk], &d[job->rootfs_disk + 1],
		(*ndisks - job->rootfs_disk - 1) * sizeof(*d));
	(*ndisks)--;
	mkdir(AGENT_ROOTFS_DIR, 0755);
	if (mount(root.dev, AGENT_ROOTFS_DIR, "ext4", MS_RDONLY, NULL)) {
		int e = errno;

		return agent_err(err, errlen, -e, "rootfs: mount %s (ext4, read-only): %s",
				 root.dev, strerror(e));
	}
	for (size_t i = 0; i < sizeof(inner) / sizeof(inner[0]); i++) {
		char at[64];
		struct stat st;

		snprintf(at, sizeof(at), "%s/%s", AGENT_ROOTFS_DIR, inner[i].dir);
		if (stat(at, &st) || !S_ISDIR(st.st_mode))
			return agent_err(err, errlen, -ENOENT, "rootfs: the image has no /%s"
					 " directory (scripts/make-rootfs.sh makes one)",
					 inner[i].dir);
		if (mount(inner[i].src, at, inner[i].type, inner[i].flags, NULL)) {
			int e = errno;

			return agent_err(err, errlen, -e, "rootfs: mount %s on /%s: %s",
					 inner[i].src, inner[i].dir, strerror(e));
		}
	}
	logmsg("rootfs: %s at 0x%llx mounted on %s", root.name,
	       (unsigned long long)root.addr, AGENT_ROOTFS_DIR);
	return 0;
}
