/*
 * initramfs.h - the initramfs a Linux guest boots with: the guest agent as
 * /init, the kernel modules virtio_mmio and virtio_blk need (resolved
 * through modules.dep), and busybox for `command:` workloads when the
 * machine has it.  Built once per input set and cached by content hash.
 */
#ifndef VMORCH_INITRAMFS_H
#define VMORCH_INITRAMFS_H

#include <stddef.h>

#include "common/job.h"
#include "common/verr.h"

/*
 * Find or build the initramfs for @g (kernel, modules dir or NULL for the
 * one beside the kernel / from the kernel's release under /lib/modules,
 * cmdline).  Writes the path of a cached cpio.gz (newc) into @out.  When
 * @g->initramfs is set, that file is used as is (checked to exist).
 * 0, or -errno with a clear message in @e (missing modules directory,
 * missing module, unreadable agent...).
 */
int initramfs_get(const struct job_guest *g, char *out, size_t cap, struct verr *e);

#endif
