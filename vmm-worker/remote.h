/*
 * remote.h - the worker's end of a remote channel (`vmm-worker --remote`,
 * one SSH exec channel per job; frames in common/remote_proto.h).
 *
 * stdin carries one job line, then stays open as the liveness signal: its
 * end (EOF, an error, a hang-up) means "stop".  stdout carries the hello
 * frame, a snapshot of the shm region every period, and the result frame
 * last.  A reporter thread writes the snapshots and watches stdin; when
 * stdin ends or stdout breaks it raises stop_fd, which the main loop
 * treats like a timeout or a signal.
 */
#ifndef VMORCH_WORKER_REMOTE_H
#define VMORCH_WORKER_REMOTE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/shm.h"
#include "common/verr.h"
#include "common/vm_result.h"
#include "vmm-worker/sandbox.h"

#define REMOTE_PERIOD_MS	200
#define REMOTE_PERIOD_MIN_MS	20
#define REMOTE_PERIOD_MAX_MS	5000

enum remote_stop {
	REMOTE_STOP_NONE = 0,
	REMOTE_STOP_STDIN_EOF,		/* the orchestrator closed it, or the channel went */
	REMOTE_STOP_STDIN_ERROR,	/* read error or hang-up on stdin */
	REMOTE_STOP_STDOUT_ERROR,	/* a frame could not be written */
};

struct remote_channel {
	int in_fd, out_fd;
	unsigned period_ms;
	int stop_fd;			/* eventfd, raised once on a stop */
	int quit_fd;			/* eventfd: the reporter is to finish */
	int schedstat_fd, stat_fd;	/* the main thread's /proc files, or -1 */
	const struct shm_region *shm;	/* NULL until the reporter starts */
	struct sandbox *sb;
	pthread_t thread;
	bool thread_on;
	bool hello_sent;
	sem_t ready;			/* the reporter has entered its sandbox */
	bool sem_on;
	int ready_rc;
	struct verr ready_err;
	_Atomic int stop;		/* enum remote_stop, the first wins */
	_Atomic bool out_broken;	/* stdout failed: write nothing more */
};

/* VMORCH_SNAPSHOT_MS, or the default; -EINVAL with @e set when out of range. */
int remote_period_from_env(unsigned *ms, struct verr *e);

/* Ignore SIGPIPE (a closed channel is an EPIPE), make the eventfds. */
int remote_channel_open(struct remote_channel *ch, int in_fd, int out_fd,
			unsigned period_ms, struct verr *e);
void remote_channel_close(struct remote_channel *ch);

/*
 * Read the job line from stdin: a malloc'd, NUL-terminated copy without
 * its '\n'.  -EMSGSIZE when it is longer than @max bytes, -EPIPE when stdin
 * ends before the '\n', another -errno on a read error; @e says which.
 * Bytes after the '\n' are left to the liveness watch, which ignores them.
 */
int remote_read_job(struct remote_channel *ch, size_t max, char **text, size_t *len,
		    struct verr *e);

/*
 * Before the reporter runs (the store lock's wait): watch stdin for at most
 * @ms, ignoring bytes as the reporter does.  0, or -EPIPE/-errno with @e
 * set once it has ended, which also counts as the channel's stop.
 */
int remote_stdin_pause(struct remote_channel *ch, unsigned ms, struct verr *e);

/* The hello frame (once); a write error marks stdout broken. */
int remote_send_hello(struct remote_channel *ch);

/*
 * Start the reporter on @shm.  It opens the calling (main) thread's /proc
 * files, enters @sb's sandbox itself (it starts before the main thread's
 * own sandbox_enter, and seccomp, capabilities and no_new_privs are per
 * thread), and only then is this call's return; 0 or -errno with @e set.
 * Call with the signals the main thread handles blocked: the thread
 * inherits the mask, and blocks everything else too.
 */
int remote_reporter_start(struct remote_channel *ch, const struct shm_region *shm,
			  struct sandbox *sb, struct verr *e);

/* Readable once the VM should stop (see enum remote_stop). */
static inline int remote_stop_fd(const struct remote_channel *ch)
{
	return ch->stop_fd;
}

/* Why the channel asked for a stop, in words ("" when it did not). */
const char *remote_stop_reason(const struct remote_channel *ch);

/*
 * The end: stop the reporter, then write a last snapshot carrying @r's
 * own counters (state exited; only when the reporter ran, so a progress
 * display ends where the stored result is) and the result frame.  0, or
 * -errno when stdout failed.
 */
int remote_send_result(struct remote_channel *ch, const struct vm_result *r);

#endif
