/*
 * job.h - the job spec: one VM run, as the orchestrator hands it to a
 * vmm-worker (a file, stdin, or an SSH channel).  JSON, strict and versioned.
 */
#ifndef VMORCH_JOB_H
#define VMORCH_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "verr.h"

#define JOB_SPEC_VERSION 1
#define JOB_MAX_DISKS	 8
#define JOB_MAX_VCPUS	 64
#define JOB_SERIAL_MAX	 20	/* virtio 1.2 §5.2.6: GET_ID returns 20 bytes */
#define JOB_MEM_MIN	 (2ULL << 20)
#define JOB_MEM_MAX	 (256ULL << 30)
#define JOB_MAX_PROTECT	 4	/* the database, its -wal, -shm and -journal */

/*
 * One token bucket, with Firecracker's knobs: @size tokens refill completely
 * every @refill_time_ms; @one_time_burst extra tokens are spent once, first.
 * @size == 0 means no limit.
 */
struct job_bucket {
	uint64_t size;
	uint64_t one_time_burst;
	uint64_t refill_time_ms;
};

struct job_disk {
	char *path;		/* raw image, or NULL for a sparse temporary file */
	uint64_t size;		/* bytes; required without @path */
	bool read_only;
	bool allow_block_device;	/* @path may be a block device */
	/*
	 * Run on a private copy of @path (reflinked where the file system
	 * can), made beside it and unlinked at once: a fleet host's staged
	 * image is shared by every job and must never be written.
	 */
	bool clone;
	char serial[JOB_SERIAL_MAX + 1];
	struct job_bucket bw;	/* bytes */
	struct job_bucket ops;	/* requests */
};

enum job_guest_kind {
	JOB_GUEST_BUILTIN = 0,	/* the embedded freestanding test guest */
	JOB_GUEST_LINUX,	/* a kernel (bzImage or vmlinux) and initramfs */
};

#define JOB_MAX_FILES	64

/* A file of this machine copied into a Linux guest's initramfs. */
struct job_file {
	char *src;		/* absolute, on this machine */
	char *dst;		/* absolute, in the guest */
};

/*
 * A file's place in the guest is good: absolute, no . or .. or empty
 * components, and not /init or under /proc, /sys, /dev or /lib/modules.
 */
bool job_file_dst_ok(const char *dst);

#define JOB_MAX_RUN_ARGS	256
#define JOB_RUN_MAX_BYTES	(64 * 1024)	/* run's strings together */

/* Where the figures of a Linux guest's program come from (its stdout). */
enum job_metrics_from {
	JOB_METRICS_LINES = 0,	/* "VMORCH-METRIC user.NAME VALUE" lines */
	JOB_METRICS_FIO_JSON,	/* fio --output-format=json */
	JOB_METRICS_NONE,
};

const char *job_metrics_from_name(enum job_metrics_from m);
/* The value, or -1 for an unknown name. */
int job_metrics_from_parse(const char *name);

struct job_guest {
	enum job_guest_kind kind;
	char *kernel;		/* linux only */
	char *modules;		/* linux only, optional */
	char *initramfs;	/* linux only, optional */
	/*
	 * @initramfs is one the worker's own builder made (a fleet host's
	 * staged copy of it), not the user's: it has the agent, so the job
	 * file still goes after it.
	 */
	bool initramfs_agent;
	char *cmdline;		/* extra words, optional */
	/* linux only: files for the initramfs, each ELF one with its libraries */
	struct job_file *files;
	uint32_t nfiles;
	/*
	 * linux only: the user's program, run by the agent once the disks
	 * are there: an argv (@run_argc > 0) or one string for /bin/sh -c
	 * (@run_shell), "${diskN}" standing for the Nth test disk's device.
	 */
	char **run_argv;
	uint32_t run_argc;
	char *run_shell;
	enum job_metrics_from metrics_from;
	/*
	 * linux only, with run: an ext4 image attached read-only after the
	 * test disks (not one of them: no counters in the result, no
	 * ${diskN}), which the agent mounts and chroots into to run.
	 */
	char *rootfs;
};

static inline bool job_guest_has_run(const struct job_guest *g)
{
	return g->run_argc || g->run_shell;
}

/*
 * Set "run" (the argv as an array, or the shell string) and "metrics_from"
 * in @o when @g runs a program: the job spec's form, which the guest's job
 * file shares.  0, or -ENOMEM.
 */
int job_guest_run_to_json(json_t *o, const struct job_guest *g);

/*
 * A file the worker must never use as a disk, by device and inode: the
 * orchestrator's result database and its companions.  The worker compares
 * what it has opened, so no rename or symlink race gets past the check.
 */
struct job_file_id {
	uint64_t dev;
	uint64_t ino;
};

struct job_spec {
	char *name;		/* "scenario/vm[params]#repeat", for messages */
	uint32_t vcpus;
	uint64_t memory;	/* bytes, 4 KiB multiple */
	uint64_t timeout_ms;
	struct job_guest guest;
	char *workload;		/* key=value words the guest runs */
	uint32_t ndisks;
	struct job_disk disk[JOB_MAX_DISKS];
	uint32_t nprotect;
	struct job_file_id protect[JOB_MAX_PROTECT];
	/*
	 * Test only (JSON "test": {"forbidden_syscall": true}): once its
	 * sandbox is in, the worker makes a system call the seccomp filter
	 * forbids, so tests can see that such a call kills it.
	 */
	bool test_forbidden_syscall;
};

/* Defaults for every optional field; strings NULL. */
void job_spec_init(struct job_spec *j);
void job_spec_free(struct job_spec *j);

json_t *job_spec_to_json(const struct job_spec *j);
/* Malloc'd compact JSON text, or NULL. */
char *job_spec_encode(const struct job_spec *j);

int job_spec_from_json(const json_t *root, struct job_spec *out, struct verr *e);
int job_spec_decode(const char *text, size_t len, struct job_spec *out,
		    struct verr *e);

const char *job_guest_kind_name(enum job_guest_kind k);

#endif
