/*
 * agent.h - vmorch-agent, the /init of a Linux guest: shared types of its
 * few parts (cmdline.c, system.c, disks.c, workload.c, jobfile.c, run.c,
 * metrics.c, main.c; the verify pattern is shared with the built-in guest
 * in guest/pattern.h).  jobfile.c, run.c and metrics.c report errors in a
 * caller's buffer, never through fail(), so the host tests can link them.
 * A static glibc program; see README.md for what it does and prints.
 */
#ifndef VMORCH_AGENT_H
#define VMORCH_AGENT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "guest/builtin/protocol.h"
#include "guest/pattern.h"

#define AGENT_MAX_DISKS		32	/* virtio-mmio windows from 0xfeb00000 */
#define AGENT_QD_MAX		1024
#define AGENT_SECTOR		512
#define AGENT_WAIT_MS		10000	/* every wait is bounded */

#define AGENT_JOB_MAX		(1u << 20)	/* bytes of job.json */
#define AGENT_RUN_PATH		"/bin:/sbin:/usr/bin:/usr/sbin"
#define AGENT_ROOTFS_DIR	"/rootfs"	/* the rootfs image, mounted read-only */
#define AGENT_CAPTURE_MAX	((size_t)16 << 20)	/* the program's stdout kept */
#define AGENT_KILL_GRACE_MS	1000	/* SIGTERM, then SIGKILL this much later */
/* The result holds at most 256 metrics (the worker's limit); the agent's
 * own take the rest. */
#define AGENT_MAX_USER_METRICS	200
#define AGENT_METRIC_NAME_MAX	63


struct agent_cfg {
	enum pattern pattern;
	uint32_t bs;
	uint64_t ops;
	uint32_t qd;
	uint32_t rwmix;
	uint64_t flush_every;
	uint64_t seed;
	uint64_t span;		/* 0: whole disk */
	bool verify;
	bool verify_pause;
	uint32_t ro_check;	/* writes to try on each read-only disk */
	char *command;		/* decoded command= (malloc'd), or NULL */
};

struct disk {
	char name[32];		/* vda */
	char dev[48];		/* /dev/vda */
	uint64_t addr;		/* MMIO base, or UINT64_MAX when unknown */
	char sysdev[4096];	/* resolved /sys/block/vdX/device, the tie-break */
	uint64_t bytes;
	bool read_only;
};

struct run_stats {
	uint64_t ops, reads, writes, flushes, bytes_read, bytes_written;
	uint64_t verify_errors;
	uint64_t ro_disks, ro_refused, ro_accepted;
	double seconds;		/* main ops phases only */
	uint32_t *lat_us;	/* one per main-phase op, all disks */
	uint64_t nlat, lat_cap;
};

enum metrics_from {
	METRICS_LINES,		/* VMORCH-METRIC <name> <value> lines */
	METRICS_FIO_JSON,	/* fio --output-format=json */
	METRICS_NONE,
};

/* /.vmorch/job.json, the user's program (jobfile.c). */
struct job {
	bool present;		/* the file existed */
	char nonce[GUEST_NONCE_LEN + 1];	/* or "" */
	uint64_t time_limit_ms;	/* on CLOCK_BOOTTIME; 0: none */
	uint64_t deadline_unix_ms;	/* the same limit on the host's wall clock; 0: none */
	char **argv;		/* "run" as an array (NULL-terminated), or NULL */
	char *shell;		/* "run" as a string, or NULL */
	enum metrics_from metrics_from;
	bool rootfs;		/* "rootfs_disk" given: run chrooted in that disk */
	unsigned rootfs_disk;	/* its index among the virtio disks */
};

struct metric {
	char name[AGENT_METRIC_NAME_MAX + 1];
	double value;
};

/* Metrics in first-seen order; a name set again keeps its place. */
struct metrics {
	struct metric *v;
	unsigned n, cap;
	unsigned *slot;		/* open-addressing index into v, +1; 0: empty */
	unsigned nslot;
};

struct run_opts {
	int out_fd;		/* the program's stdout is copied here (the console) */
	clockid_t clock;	/* of deadline_ms: CLOCK_BOOTTIME in the guest */
	uint64_t deadline_ms;	/* SIGTERM to the group then; 0: no limit */
	uint64_t kill_grace_ms;	/* SIGKILL this long after the SIGTERM */
	size_t capture_max;	/* stdout bytes kept for the metrics */
	bool init;		/* pid 1: reap every orphan, kill all at the end */
	const char *root;	/* chroot here first (the path search too), or NULL */
};

struct run_result {
	int exit_code;		/* 128 + signal when killed, as sys_spawn */
	int signal;		/* the signal that ended it, or 0 */
	bool timed_out;		/* the deadline passed */
	char *out;		/* captured stdout (malloc'd, NUL-terminated) */
	size_t out_len;
	bool out_cut;		/* more than capture_max bytes came */
	bool mid_line;		/* the last byte forwarded was not a newline */
	uint64_t ms;		/* start to end, on opts' clock */
};

/* Failure reason, first one wins; returns -1 so callers can `return fail()`. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *fail_reason(void);
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ns(void);

/* cmdline.c */
int cfg_parse(struct agent_cfg *cfg, const char *cmdline);

/* system.c */
void sys_mount_basics(void);
int sys_load_modules(const char *order_file);
int sys_prepare_shell(void);
int sys_run_command(const char *command, int *exit_code);
void sys_halt(bool pass);

/* disks.c */
int disks_find(struct disk *d, unsigned max, unsigned *n);
/* Sum of /sys/block/vdX/stat over the disks: what the block layer sent. */
void disks_kernel_stats(const struct disk *d, unsigned n, uint64_t out[5]);

/* workload.c */
int workload_run_disk(const struct disk *d, unsigned index,
		      const struct agent_cfg *cfg, struct run_stats *st);
int ro_check_disk(const struct disk *d, unsigned index,
		  const struct agent_cfg *cfg, struct run_stats *st);

/* A message for the caller's buffer; returns rc (a negative errno). */
static inline int __attribute__((format(printf, 4, 5)))
agent_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* "WHAT: strerror(errno)" for the caller's buffer; returns -errno, taken
 * before anything else can change it. */
static inline int agent_err_errno(char *err, size_t errlen, const char *what)
{
	int e = errno;

	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

/*
 * The program's deadline on CLOCK_BOOTTIME: job.json's time_limit_ms, or
 * earlier when its deadline_unix_ms, read on the guest's wall clock (the
 * host's, through kvm-clock), comes first: that one also counts the time
 * the VM took to reach the kernel.  A wall clock that is plainly wrong
 * (the deadline past, or further than the limit) is not used.
 * @now_real and @now_boot are the two clocks now, in ms.
 */
uint64_t job_deadline_ms(const struct job *job, uint64_t now_real, uint64_t now_boot);

/* jobfile.c */
int job_parse(struct job *job, const char *text, size_t len, char *err, size_t errlen);
/* Reads PATH (absent: job->present false, 0), then unlinks it and rmdirs
 * DIR, so the program cannot read the nonce. */
int job_load(struct job *job, const char *path, const char *dir, char *err, size_t errlen);
void job_release(struct job *job);

/* run.c */
/* The run's argv with ${diskN} replaced by d[N].dev; *argv is malloc'd
 * (run_argv_free).  A shell string becomes /bin/sh -c STRING. */
int run_build_argv(const struct job *job, const struct disk *d, unsigned ndisks,
		   char ***argv, char *err, size_t errlen);
int run_expand(const char *in, const struct disk *d, unsigned ndisks, char **out,
	       char *err, size_t errlen);
void run_argv_free(char **argv);
int run_program(char *const argv[], const struct run_opts *o, struct run_result *r,
		char *err, size_t errlen);
/* The verdict's reason: "" on exit status 0. */
void run_describe_end(const struct run_result *r, const struct run_opts *o,
		      char *buf, size_t len);
void run_result_release(struct run_result *r);
/* @clock in milliseconds. */
uint64_t agent_clock_ms(clockid_t clock);
/* All of @p to @fd, retried on EINTR; a dead console is not an error. */
void agent_write_all(int fd, const char *p, size_t n);

/* rootfs.c */
/* Take the rootfs disk out of @d (the test disks keep their numbers) and
 * mount it read-only at AGENT_ROOTFS_DIR with /proc, /sys, /dev and a
 * tmpfs /tmp inside. */
int rootfs_mount(const struct job *job, struct disk *d, unsigned *ndisks, char *err,
		 size_t errlen);

/* metrics.c */
int metrics_set(struct metrics *m, const char *name, double value);
const struct metric *metrics_find(const struct metrics *m, const char *name);
void metrics_release(struct metrics *m);
int metrics_from_lines(struct metrics *m, const char *buf, size_t len, bool cut,
		       char *err, size_t errlen);
int metrics_from_fio_json(struct metrics *m, const char *buf, size_t len, bool cut,
			  char *err, size_t errlen);
/* The program's metrics as its job asked, at most AGENT_MAX_USER_METRICS. */
int metrics_extract(struct metrics *m, enum metrics_from how, const char *buf,
		    size_t len, bool cut, char *err, size_t errlen);
/* ,"name":value for each metric, numbers that read back exactly. */
void metrics_print_json(FILE *f, const struct metrics *m);


#endif
