/*
 * agent.h - vmorch-agent, the /init of a Linux guest: shared types of its
 * few parts (cmdline.c, system.c, disks.c, workload.c, main.c; the verify pattern
 * is shared with the built-in guest in guest/pattern.h).
 * A static glibc program; see README.md for what it does and prints.
 */
#ifndef VMORCH_AGENT_H
#define VMORCH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/pattern.h"

#define AGENT_MAX_DISKS		32	/* virtio-mmio windows from 0xfeb00000 */
#define AGENT_QD_MAX		1024
#define AGENT_SECTOR		512
#define AGENT_WAIT_MS		10000	/* every wait is bounded */


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


#endif
