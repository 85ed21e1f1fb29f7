/*
 * remote_proto.h - the frames a remote worker (`vmm-worker --remote`, run
 * on a fleet host over one SSH exec channel) writes on its stdout, and the
 * line splitter that cuts a byte stream into them.
 *
 * Each frame is one line of compact JSON ending in '\n':
 *   {"vmorch-remote":1,"pid":N}                       hello, first
 *   {"snapshot":{"state":...,"heartbeat_age_ms":N,
 *     "sched":{"cpu_ns":N,"wait_ns":N,"runnable":B},
 *     "disks":[{counters}...],"vcpus":[{exits}...]}}  every ~200 ms
 *   {"result":{VmResult}}                             last, exactly once
 * The worker encodes them; the orchestrator decodes them with
 * remote_frame_parse, which trusts nothing: the host may be broken or
 * hostile, so every type and range is checked and anything else refused.
 */
#ifndef VMORCH_REMOTE_PROTO_H
#define VMORCH_REMOTE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm.h"
#include "vblk_counters.h"
#include "verr.h"
#include "vm_result.h"

#define REMOTE_PROTO_VERSION	1
/* Twice the largest VmResult the shm slot takes: no honest frame is longer. */
#define REMOTE_FRAME_MAX	(2 * SHM_RESULT_MAX)

enum remote_frame_type {
	REMOTE_FRAME_HELLO = 1,
	REMOTE_FRAME_SNAPSHOT,
	REMOTE_FRAME_RESULT,
};

/* One vCPU's exits, a plain copy of struct shm_vcpu_exits. */
struct remote_vcpu_exits {
#define REMOTE_X_EXIT(n) uint64_t n;
	SHM_VCPU_EXITS(REMOTE_X_EXIT)
#undef REMOTE_X_EXIT
};

/*
 * The worker's main thread (the one that beats the heart) as the host's
 * /proc shows it: nanoseconds on a CPU and waiting on a run queue
 * (schedstat), and whether it is runnable now (stat's state 'R').
 */
struct remote_sched {
	uint64_t cpu_ns;
	uint64_t wait_ns;
	bool runnable;
};

struct remote_snapshot {
	enum shm_state state;
	uint64_t heartbeat_age_ms;	/* measured on the worker's host */
	struct remote_sched sched;
	uint32_t ndisks;
	struct vblk_snapshot disk[SHM_MAX_DISKS];
	uint32_t nvcpus;
	struct remote_vcpu_exits vcpu[SHM_MAX_VCPUS];
};

struct remote_frame {
	enum remote_frame_type type;
	union {
		uint32_t pid;			/* HELLO: the worker's pid on its host */
		struct remote_snapshot snap;	/* SNAPSHOT */
		struct vm_result result;	/* RESULT */
	};
};

/* "starting", "booting", "running", "exited"; NULL for anything else. */
const char *remote_state_name(enum shm_state s);

/*
 * Parse the text of /proc/.../schedstat ("cpu wait slices") and
 * /proc/.../stat ("pid (comm) S ...") into @out; -EINVAL when either is
 * not in that form.
 */
int remote_sched_parse(const char *schedstat, const char *stat,
		       struct remote_sched *out);

/*
 * Copy the region's live figures: state, heartbeat age at @now_ns (0 when
 * the heart has not beaten or beat "later" than @now_ns), counters of the
 * disks and vCPUs it announces (clamped to the region's capacity).
 */
void remote_snapshot_from_region(const struct shm_region *r, uint64_t now_ns,
				 const struct remote_sched *sched,
				 struct remote_snapshot *out);

/*
 * Encoders: a malloc'd frame ending in '\n', its length (with the '\n')
 * in *len; NULL when out of memory or when a value does not fit JSON's
 * integers (a counter above INT64_MAX) or a field is out of range.
 */
char *remote_hello_encode(uint32_t pid, size_t *len);
char *remote_snapshot_encode(const struct remote_snapshot *s, size_t *len);
char *remote_result_encode(const struct vm_result *r, size_t *len);

/*
 * Decode one frame: @line holds @len bytes without the terminating '\n'
 * (as remote_lines_next gives them).  0 and *out filled, or a negative
 * errno with @e naming what is wrong; *out is then unspecified.
 */
int remote_frame_parse(const char *line, size_t len, struct remote_frame *out,
		       struct verr *e);

/*
 * Line splitter for a byte stream that arrives in chunks of any size.
 * Feed each chunk, then take complete lines until there are none; at the
 * end of the stream, remote_lines_finish says whether a line was cut off.
 * A line longer than @max_line bytes (without its '\n') is refused as soon
 * as it is seen, before it is stored; the refusal sticks.
 */
struct remote_lines {
	char *buf;
	size_t len;		/* bytes held */
	size_t off;		/* start of the first line not yet taken */
	size_t scan;		/* no '\n' in [off, scan) */
	size_t cap;
	size_t max_line;
	size_t cur;		/* length of the line being received so far */
	int err;		/* 0, or the refusal that sticks */
	char why[128];
};

void remote_lines_init(struct remote_lines *l, size_t max_line);
void remote_lines_release(struct remote_lines *l);

/* 0, or -EMSGSIZE (line too long) / -ENOMEM with @e set. */
int remote_lines_feed(struct remote_lines *l, const void *data, size_t n,
		      struct verr *e);

/*
 * 1 and the next complete line in *line, *len (without '\n', NUL-terminated
 * in place, valid until the next feed), or 0 when no complete line is held.
 */
int remote_lines_next(struct remote_lines *l, const char **line, size_t *len);

/* At the end of the stream: 0, or -EBADMSG when a line lacks its '\n'. */
int remote_lines_finish(const struct remote_lines *l, struct verr *e);

/* Bytes held of the line not yet complete (what a finish would refuse). */
size_t remote_lines_pending(const struct remote_lines *l);

#endif
