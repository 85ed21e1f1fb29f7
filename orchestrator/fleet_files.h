/*
 * fleet_files.h - the files of this machine that a run's jobs name (disk
 * images, kernels, initramfs archives), as fleet hosts get them: each once
 * per host, in the host's store under its sha256 (fleet_stage.h), and each
 * job sent with the store's paths.
 *
 * A Linux guest's initramfs is built here, by the local worker
 * (`vmm-worker --print-initramfs`), so a host gets one archive by hash and
 * never a modules directory.  A writable image goes as a clone (job.h):
 * the staged copy is shared by every job on the host and never written.
 * A job that names something that cannot travel (a block device, the
 * result database) runs only on this machine.
 */
#ifndef VMORCH_FLEET_FILES_H
#define VMORCH_FLEET_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/job.h"
#include "common/verr.h"
#include "orchestrator/jobdesc.h"

struct fleet_file {
	char *path;		/* on this machine */
	char sha256[65];
	uint64_t size;
	uint64_t dev, ino;	/* one entry per file, whatever its names */
};

#define FLEET_FILE_NONE	(-1)

/* What one job needs from the store: indices into fleet_files.f. */
struct fleet_job_files {
	bool local_only;		/* a block device, the database, a FIFO... */
	int disk[JOB_MAX_DISKS];	/* FLEET_FILE_NONE: a temporary disk */
	int kernel, initramfs, rootfs;
};

struct fleet_files {
	struct fleet_file *f;
	size_t n;
	struct fleet_job_files *job;	/* one per job of the run */
	size_t njobs;
};

/*
 * Hash every file @jobs name (each file once) and build the initramfs of
 * each Linux guest with @worker (the local vmm-worker).  A file that is
 * missing or unreadable is an error naming the job and the file; a block
 * device or one of @jobs' protected files only makes its job local.
 */
int fleet_files_collect(struct fleet_files *ff, const struct job_desc *jobs,
			size_t njobs, const char *worker, struct verr *e);
void fleet_files_release(struct fleet_files *ff);

#define FLEET_JOB_FILES_MAX	(JOB_MAX_DISKS + 3)

/* The store files job @job uses, as indices into @ff->f, into @idx: how many. */
size_t fleet_files_of_job(const struct fleet_files *ff, size_t job,
			  int idx[FLEET_JOB_FILES_MAX]);

/*
 * The job spec that job @job runs with on a host whose store is
 * @workdir: every file by its store path, writable images as clones, no
 * modules directory, no file ids of this machine.  @out's strings are
 * its own (job_spec_free).  0 or -ENOMEM.
 */
int fleet_files_job_spec(const struct fleet_files *ff, size_t job, const char *workdir,
			 const struct job_spec *in, struct job_spec *out);

/*
 * The sh command that lists, one per line, which of @shas a host's store
 * has, marking each as used now (mtime: `vmorch hosts gc` trims the
 * least recently used first).  Malloc'd, or NULL.
 */
char *fleet_files_check_command(const char *workdir, const char *const *shas, size_t n);

#endif
