/*
 * remote.c - the worker's end of a remote channel: the job line in, the
 * frames out, and the reporter thread that streams snapshots and watches
 * stdin for the end of the channel (see remote.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/remote_proto.h"
#include "vmm-worker/remote.h"

int remote_period_from_env(unsigned *ms, struct verr *e)
{
	const char *s = getenv("VMORCH_SNAPSHOT_MS");
	unsigned long v;
	char *end;

	*ms = REMOTE_PERIOD_MS;
	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < REMOTE_PERIOD_MIN_MS ||
	    v > REMOTE_PERIOD_MAX_MS) {
		verr_set(e, "VMORCH_SNAPSHOT_MS: '%s' is not %d..%d (milliseconds)", s,
			 REMOTE_PERIOD_MIN_MS, REMOTE_PERIOD_MAX_MS);
		return -EINVAL;
	}
	*ms = (unsigned)v;
	return 0;
}

int remote_channel_open(struct remote_channel *ch, int in_fd, int out_fd,
			unsigned period_ms, struct verr *e)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	memset(ch, 0, sizeof(*ch));
	ch->in_fd = in_fd;
	ch->out_fd = out_fd;
	ch->period_ms = period_ms;
	ch->stop_fd = ch->quit_fd = ch->schedstat_fd = ch->stat_fd = -1;
	/* A gone channel must be an EPIPE we handle, not a silent death. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return verr_errno(e, "ignoring SIGPIPE");
	ch->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->stop_fd < 0)
		return verr_errno(e, "eventfd");
	ch->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->quit_fd < 0)
		return verr_errno(e, "eventfd");
	if (sem_init(&ch->ready, 0, 0) < 0)
		return verr_errno(e, "sem_init");
	ch->sem_on = true;
	return 0;
}

static void fd_raise(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* An eventfd written once per event cannot overflow. */
	}
}

/* The first reason to stop wins; the main loop wakes once. */
static void channel_stop(struct remote_channel *ch, enum remote_stop why)
{
	int none = REMOTE_STOP_NONE;

	if (atomic_compare_exchange_strong(&ch->stop, &none, (int)why))
		fd_raise(ch->stop_fd);
}

const char *remote_stop_reason(const struct remote_channel *ch)
{
	switch ((enum remote_stop)atomic_load(&ch->stop)) {
	case REMOTE_STOP_STDIN_EOF:
		return "standard input closed";
	case REMOTE_STOP_STDIN_ERROR:
		return "standard input failed";
	case REMOTE_STOP_STDOUT_ERROR:
		return "standard output failed";
	default:
		return "";
	}
}

/*
 * Write a whole frame.  A failure (EPIPE: the channel is gone) ends the
 * VM, and nothing more is written: a frame cut in two must stay the last
 * bytes, so the reader sees a truncated stream rather than a spliced one.
 */
static int channel_write(struct remote_channel *ch, const char *p, size_t len)
{
	int rc;

	if (atomic_load(&ch->out_broken))
		return -EPIPE;
	while (len) {
		ssize_t n = write(ch->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			atomic_store(&ch->out_broken, true);
			channel_stop(ch, REMOTE_STOP_STDOUT_ERROR);
			return rc;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* @frame (malloc'd by an encoder, freed here) and its length; NULL: -ENOMEM. */
static int channel_send(struct remote_channel *ch, char *frame, size_t len)
{
	int rc;

	if (!frame)
		return -ENOMEM;
	rc = channel_write(ch, frame, len);
	free(frame);
	return rc;
}

/*
 * Read what poll found on stdin, after the job line (ignored).  The stop it
 * means, or REMOTE_STOP_NONE while stdin is open; errno says why on an error.
 */
static enum remote_stop stdin_consume(struct remote_channel *ch, short revents)
{
	char buf[4096];
	ssize_t n;

	if (revents & POLLNVAL) {
		errno = EBADF;
		return REMOTE_STOP_STDIN_ERROR;
	}
	n = read(ch->in_fd, buf, sizeof(buf));
	if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN)))
		return REMOTE_STOP_NONE;
	return n == 0 ? REMOTE_STOP_STDIN_EOF : REMOTE_STOP_STDIN_ERROR;
}

int remote_read_job(struct remote_channel *ch, size_t max, char **text, size_t *len,
		    struct verr *e)
{
	static char chunk[64 * 1024];
	struct remote_lines l;
	const char *line;
	size_t n;
	ssize_t r;
	int rc;

	remote_lines_init(&l, max);
	for (;;) {
		if (remote_lines_next(&l, &line, &n)) {
			*text = malloc(n + 1);
			rc = *text ? 0 : -ENOMEM;
			if (*text) {
				memcpy(*text, line, n + 1);
				*len = n;
			} else {
				verr_set(e, "job line: out of memory");
			}
			break;
		}
		r = read(ch->in_fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = verr_errno(e, "job line: reading standard input");
			break;
		}
		if (r == 0) {
			verr_set(e, "job line: standard input ended after %zu bytes, "
				 "before the line's end", remote_lines_pending(&l));
			rc = -EPIPE;
			break;
		}
		rc = remote_lines_feed(&l, chunk, (size_t)r, e);
		if (rc == -EMSGSIZE)
			verr_set(e, "job line: longer than %zu bytes", max);
		else if (rc)
			verr_prefix(e, "job line");
		if (rc)
			break;
	}
	remote_lines_release(&l);
	return rc;
}

int remote_stdin_pause(struct remote_channel *ch, unsigned ms, struct verr *e)
{
	struct pollfd pfd = { .fd = ch->in_fd, .events = POLLIN };
	enum remote_stop why;

	if (poll(&pfd, 1, (int)ms) <= 0)
		return 0;		/* nothing yet, or EINTR: the caller tries again */
	why = stdin_consume(ch, pfd.revents);
	if (why == REMOTE_STOP_NONE)
		return 0;
	channel_stop(ch, why);
	if (why == REMOTE_STOP_STDIN_EOF) {
		verr_set(e, "%s", remote_stop_reason(ch));
		return -EPIPE;
	}
	return verr_errno(e, "%s", remote_stop_reason(ch));
}

int remote_send_hello(struct remote_channel *ch)
{
	size_t len = 0;
	char *frame;

	if (ch->hello_sent)
		return 0;
	ch->hello_sent = true;
	frame = remote_hello_encode((uint32_t)getpid(), &len);
	return channel_send(ch, frame, len);
}

/* ---- the reporter thread ---- */

/* Re-read a /proc file from its start (seq_file regenerates it). */
static bool proc_read(int fd, char *buf, size_t cap)
{
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, buf, cap - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

/* The main thread's figures; zeros when /proc does not have them. */
static void reporter_sched(const struct remote_channel *ch, struct remote_sched *s)
{
	char schedstat[128], stat[1024];

	memset(s, 0, sizeof(*s));
	if (!proc_read(ch->schedstat_fd, schedstat, sizeof(schedstat)) ||
	    !proc_read(ch->stat_fd, stat, sizeof(stat)) ||
	    remote_sched_parse(schedstat, stat, s))
		memset(s, 0, sizeof(*s));
}

static void reporter_send_snapshot(struct remote_channel *ch)
{
	struct remote_snapshot snap;
	struct remote_sched sched;
	size_t len = 0;
	char *frame;

	reporter_sched(ch, &sched);
	remote_snapshot_from_region(ch->shm, clock_ns(), &sched, &snap);
	frame = remote_snapshot_encode(&snap, &len);
	channel_send(ch, frame, len);
}

/*
 * Anything on stdin after the job line is ignored; its end is the stop.
 * Returns false once stdin is done with (the watch is then dropped: an
 * ended pipe would make poll return at once, for ever).
 */
static bool reporter_watch_stdin(struct remote_channel *ch, short revents)
{
	enum remote_stop why = stdin_consume(ch, revents);

	if (why == REMOTE_STOP_NONE)
		return true;
	channel_stop(ch, why);
	return false;
}

static int poll_timeout_ms(uint64_t now, uint64_t next)
{
	return next > now ? (int)((next - now + 999999) / 1000000) : 0;
}

static void *reporter_main(void *arg)
{
	struct remote_channel *ch = arg;
	uint64_t period = (uint64_t)ch->period_ms * 1000000ULL, next = clock_ns();
	struct pollfd pfd[2] = {
		{ .fd = ch->in_fd, .events = POLLIN },
		{ .fd = ch->quit_fd, .events = POLLIN },
	};
	sigset_t all;

	/* Signals are the main thread's business (SIGTERM's signalfd, kicks). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ch->ready_rc = sandbox_enter(ch->sb, &ch->ready_err);
	sem_post(&ch->ready);
	if (ch->ready_rc)
		return NULL;
	for (;;) {
		uint64_t now = clock_ns();

		if (now >= next) {
			if (!atomic_load(&ch->out_broken))
				reporter_send_snapshot(ch);
			/* After a stall, the next one a period from now, not a burst. */
			next += period;
			if (next <= now)
				next = now + period;
		}
		if (poll(pfd, 2, poll_timeout_ms(now, next)) < 0) {
			if (errno == EINTR)
				continue;
			/* poll itself failed: nothing watches stdin any more. */
			channel_stop(ch, REMOTE_STOP_STDIN_ERROR);
			pfd[0].fd = -1;
			continue;
		}
		if (pfd[1].revents)
			return NULL;
		if (pfd[0].revents && !reporter_watch_stdin(ch, pfd[0].revents))
			pfd[0].fd = -1;
	}
}

/* The calling thread's /proc files, opened before any sandbox forbids it. */
static void reporter_open_proc(struct remote_channel *ch)
{
	char path[64];
	pid_t tid = gettid();

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	ch->schedstat_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	ch->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
}

int remote_reporter_start(struct remote_channel *ch, const struct shm_region *shm,
			  struct sandbox *sb, struct verr *e)
{
	int rc;

	ch->shm = shm;
	ch->sb = sb;
	reporter_open_proc(ch);
	if (ch->schedstat_fd < 0 || ch->stat_fd < 0)
		fprintf(stderr, "vmm-worker: /proc/self/task/%d/{schedstat,stat} unreadable: "
			"snapshots carry zero scheduler figures\n", (int)gettid());
	rc = pthread_create(&ch->thread, NULL, reporter_main, ch);
	if (rc) {
		verr_set(e, "cannot start the reporter thread: %s", strerror(rc));
		return -rc;
	}
	ch->thread_on = true;
	/* One seccomp_load at a time: the main thread loads the same filter later. */
	while (sem_wait(&ch->ready) < 0 && errno == EINTR)
		;
	if (ch->ready_rc) {
		pthread_join(ch->thread, NULL);
		ch->thread_on = false;
		verr_set(e, "reporter thread: %s", ch->ready_err.msg);
		return ch->ready_rc;
	}
	return 0;
}

static void reporter_stop(struct remote_channel *ch)
{
	if (!ch->thread_on)
		return;
	fd_raise(ch->quit_fd);
	pthread_join(ch->thread, NULL);
	ch->thread_on = false;
}

int remote_send_result(struct remote_channel *ch, const struct vm_result *r)
{
	bool reported = ch->thread_on;
	struct remote_snapshot snap;
	struct remote_sched sched;
	size_t len = 0;
	char *frame;
	int rc;

	reporter_stop(ch);
	rc = remote_send_hello(ch);
	if (reported) {
		/* The region as the result read it: the same counters, not a re-read. */
		reporter_sched(ch, &sched);
		remote_snapshot_from_region(ch->shm, clock_ns(), &sched, &snap);
		snap.state = SHM_STATE_EXITED;
		snap.ndisks = r->ndisks <= SHM_MAX_DISKS ? r->ndisks : SHM_MAX_DISKS;
		memcpy(snap.disk, r->disk, sizeof(snap.disk[0]) * snap.ndisks);
		frame = remote_snapshot_encode(&snap, &len);
		rc = channel_send(ch, frame, len);
	}
	if (!rc) {
		frame = remote_result_encode(r, &len);
		rc = channel_send(ch, frame, len);
	}
	return rc;
}

void remote_channel_close(struct remote_channel *ch)
{
	reporter_stop(ch);
	if (ch->stop_fd >= 0)
		close(ch->stop_fd);
	if (ch->quit_fd >= 0)
		close(ch->quit_fd);
	if (ch->schedstat_fd >= 0)
		close(ch->schedstat_fd);
	if (ch->stat_fd >= 0)
		close(ch->stat_fd);
	if (ch->sem_on)
		sem_destroy(&ch->ready);
	ch->sem_on = false;
	ch->stop_fd = ch->quit_fd = ch->schedstat_fd = ch->stat_fd = -1;
}
