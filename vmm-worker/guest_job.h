/*
 * guest_job.h - what the agent of a Linux guest learns of its job besides
 * the workload words on the command line: the user's program (run:), where
 * its figures come from, its time limit, and the nonce that binds the
 * agent's result line to this run.
 *
 * With a rootfs image, "rootfs_disk" is its place among the virtio disks
 * (after the test disks), so the agent mounts it and keeps it out of the
 * ${diskN} numbering.
 *
 * It travels as /.vmorch/job.json in a small newc cpio archive appended to
 * the initramfs (Linux unpacks concatenated archives), so the cached
 * initramfs stays the same for every job.  The agent reads the file and
 * removes it before the program starts: the program never sees the nonce,
 * so whatever it prints cannot pass for the agent's verdict.
 */
#ifndef VMORCH_GUEST_JOB_H
#define VMORCH_GUEST_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/job.h"
#include "common/verr.h"
#include "guest/builtin/protocol.h"

struct guest_job {
	char nonce[GUEST_NONCE_LEN + 1];
	uint8_t *cpio;		/* the archive to append, malloc'd */
	size_t cpio_len;
};

#define GUEST_JOB_MARGIN_MIN_MS	3000
#define GUEST_JOB_MARGIN_MAX_MS	30000

/*
 * The in-guest time limit of @job's program, in ms: its timeout less a
 * tenth of it, the margin kept within 3 s..30 s (half the timeout when it
 * is shorter than that), so the agent stops the program and reports before
 * the worker ends the VM.  The job file gives it twice: on the guest's
 * CLOCK_BOOTTIME (time_limit_ms) and on the wall clock from now
 * (deadline_unix_ms), which also counts the VM's way to the kernel; the
 * agent takes whichever comes first (a nested guest took 5 s to boot, more
 * than a tenth of 30 s).
 */
uint64_t guest_job_time_limit_ms(const struct job_spec *job);

/* A fresh nonce and the archive for @job.  0 or -errno with @e set. */
int guest_job_build(struct guest_job *gj, const struct job_spec *job, struct verr *e);

void guest_job_free(struct guest_job *gj);

#endif
