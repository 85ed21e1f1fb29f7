/*
 * shm.h - the shared-memory region between the orchestrator and one worker.
 *
 * The worker's device threads bump counters here directly; the orchestrator
 * maps the same memfd and reads them live, and still has them when the
 * worker dies.  The final VmResult is published as JSON in a slot behind a
 * release/acquire "ready" flag.  The reader validates everything it reads:
 * a buggy worker may have scribbled on the region.
 */
#ifndef VMORCH_SHM_H
#define VMORCH_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"

#include "console_ring.h"
#include "job.h"
#include "vblk_counters.h"
#include "verr.h"
#include "vm_result.h"

#define SHM_MAGIC	 0x4d524f564d4d5631ULL	/* "1VMMVORM" little-endian */
#define SHM_ABI_VERSION	 2	/* 2: the console ring */
#define SHM_MAX_DISKS	 JOB_MAX_DISKS
#define SHM_MAX_VCPUS	 JOB_MAX_VCPUS
#define SHM_RESULT_MAX	 (64 * 1024)

enum shm_state {
	SHM_STATE_STARTING = 0,	/* worker exec'd, reading its job */
	SHM_STATE_BOOTING,	/* VM built, guest not yet heard from */
	SHM_STATE_RUNNING,	/* guest printed or touched a device */
	SHM_STATE_EXITED,	/* VM gone, result (if any) published */
	SHM_STATE_NR
};

/* Why a vCPU left KVM_RUN, per vCPU: X(field). */
#define SHM_VCPU_EXITS(X) X(io) X(mmio) X(hlt) X(intr) X(other)

struct shm_vcpu_exits {
#define SHM_X_EXIT(n) _Atomic uint64_t n;
	SHM_VCPU_EXITS(SHM_X_EXIT)
#undef SHM_X_EXIT
};

struct shm_header {
	uint64_t magic;
	uint32_t abi_version;
	uint32_t reserved;
	uint64_t size;		/* sizeof(struct shm_region) of the writer */
};

struct shm_region {
	struct shm_header hdr;
	_Atomic uint32_t state;		/* enum shm_state */
	_Atomic uint32_t ndisks;
	_Atomic uint32_t nvcpus;
	_Atomic uint32_t worker_pid;
	_Atomic uint64_t heartbeat_ns;	/* CLOCK_MONOTONIC, bumped by the worker */
	_Atomic uint32_t guest_gate;	/* set by the orchestrator; the guest polls it (port 0xf5) */
	uint32_t reserved0;
	struct vblk_counters disk[SHM_MAX_DISKS];
	struct shm_vcpu_exits vcpu[SHM_MAX_VCPUS];
	_Atomic uint32_t result_ready;	/* release after result_len/json */
	uint32_t result_len;
	char result_json[SHM_RESULT_MAX];
	/*
	 * The guest's whole console, capped (console_ring.h): byte i at
	 * console[i % console_cap].  The creator sets console_cap before the
	 * worker starts (0: keep none); console_total counts every byte the
	 * guest printed, stored after the byte (release).  Pages the guest
	 * never reaches are never allocated.
	 */
	uint32_t console_cap;
	uint32_t reserved1;
	_Atomic uint64_t console_total;
	char console[VMORCH_CONSOLE_MAX];
};

struct shm_map {
	int fd;
	struct shm_region *r;
};

/* Create a zeroed, initialised region in a new memfd (close-on-exec off). */
int shm_create(struct shm_map *m, struct verr *e);

/* Map the region behind @fd after checking its size, magic and ABI version. */
int shm_map_checked(int fd, struct shm_map *m, struct verr *e);

/* Unmap and close. */
void shm_unmap(struct shm_map *m);

/* Check an already mapped header (also used by shm_map_checked). */
int shm_header_check(const struct shm_header *h, uint64_t file_size, struct verr *e);

void shm_set_state(struct shm_region *r, enum shm_state s);
enum shm_state shm_get_state(const struct shm_region *r);
void shm_heartbeat(struct shm_region *r);

/* Copy one disk's counters; -ERANGE if @disk is out of range. */
int shm_snapshot_disk(const struct shm_region *r, uint32_t disk,
		      struct vblk_snapshot *out);

/* Writer: copy @json (len bytes) into the slot and raise the flag (release). */
int shm_publish_result(struct shm_region *r, const char *json, size_t len);

/*
 * Reader: 1 and *out filled when a valid result is published, 0 when none
 * is, negative with @e set when the slot holds garbage.
 */
int shm_read_result(const struct shm_region *r, struct vm_result *out,
		    struct verr *e);

/*
 * Reader, once the worker is gone: the console it left in the ring, its
 * last min(total, @cap) bytes in order.  @cap is the one the creator set
 * (never the region's word, which the worker could have changed), at most
 * VMORCH_CONSOLE_MAX.  0 or -ENOMEM.
 */
int shm_read_console(const struct shm_region *r, uint32_t cap, struct console_text *out);

#endif
