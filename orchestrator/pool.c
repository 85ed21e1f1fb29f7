/*
 * pool.c - the supervised pool of vmm-worker processes (see pool.h).
 *
 * One thread, one loop: start workers up to the limit, then sleep in poll()
 * on a signalfd (SIGCHLD, SIGINT, SIGTERM) and the workers' stderr pipes
 * for at most 100 ms; on each wake reap the exited (handing them to the
 * caller together, so they are stored in one transaction), enforce
 * deadlines and heartbeats, and report progress.  A worker's counters live
 * in its shm region, so a crash or a kill loses none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/pool_priv.h"

/* The fd every worker gets its shm region on; everything above it is closed. */
#define POOL_CHILD_SHM_FD	3


int64_t pool_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define now_ms clock_ms

/*
 * @name from $@env, else beside this executable or in the build tree's
 * vmm-worker/, else as a bare name for $PATH.
 */
static const char *pool_find_program(const char *name, const char *env_name,
				     char *buf, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;
	const char *env = getenv(env_name);

	if (env && *env) {
		snprintf(buf, cap, "%s", env);
		return buf;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, cap, "%s/%s", exe, name);
			if (access(buf, X_OK) == 0)
				return buf;
			snprintf(buf, cap, "%s/../vmm-worker/%s", exe, name);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, cap, "%s", name);	/* execvp searches $PATH */
	return buf;
}

const char *pool_find_worker(char *buf, size_t cap)
{
	return pool_find_program("vmm-worker", "VMORCH_WORKER", buf, cap);
}

const char *pool_find_static_worker(char *buf, size_t cap)
{
	return pool_find_program("vmm-worker-static", "VMORCH_STATIC_WORKER", buf, cap);
}

/* ---- starting ---- */

/*
 * posix_spawn, not fork: vmorch holds every job's description (megabytes
 * for a big matrix) and a fork would copy its page tables for each job.
 * The child gets its own process group (a terminal's Ctrl-C reaches only
 * vmorch), the signal mask vmorch had before blocking SIGCHLD, the job on
 * stdin, /dev/null as stdout, a pipe as stderr, its shm region as fd 3 and
 * nothing else: a descriptor vmorch inherited (the write end of `| cat`, a
 * caller's lock file) must not stay open for as long as a worker lives.
 * posix_spawn runs no code in the child, so the worker itself asks for
 * SIGKILL when its parent dies and checks that --parent-pid is still its
 * parent (it may have died before the request).
 */
static int slot_spawn(const struct pool *p, struct slot *s, int in_fd, int err_fd,
		      struct verr *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char fdarg[16], pidarg[16];
	char *argv[] = { "vmm-worker", "--job", "-", "--shm-fd", fdarg,
			 "--parent-pid", pidarg, NULL };
	int rc;

	snprintf(fdarg, sizeof(fdarg), "%d", POOL_CHILD_SHM_FD);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)getpid());
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* In this order: in_fd or err_fd may be 3, the shm fd may be 1. */
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	/* dup2 onto itself clears FD_CLOEXEC (POSIX 2018, glibc). */
	posix_spawn_file_actions_adddup2(&fa, s->shm.fd, POOL_CHILD_SHM_FD);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, POOL_CHILD_SHM_FD + 1);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &p->old_mask);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawnp(&s->pid, p->o->worker_path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		s->pid = 0;
		verr_set(e, "cannot run %s: %s", p->o->worker_path, strerror(rc));
		return -rc;
	}
	return 0;
}

/* The job as the worker sees it: its timeout scaled by --timeout-scale. */
char *pool_job_text(const struct pool *p, const struct job_desc *job)
{
	struct job_spec spec = job->spec;
	double t = (double)spec.timeout_ms * p->o->timeout_scale;

	spec.timeout_ms = t < 1 ? 1 : (uint64_t)t;
	return job_spec_encode(&spec);
}

static int slot_start(struct pool *p, struct slot *s, const struct job_desc *job,
		      struct verr *e)
{
	int in[2] = { -1, -1 }, err[2] = { -1, -1 };
	char *text = NULL;
	size_t len;
	int rc;

	s->shm.fd = s->err_fd = -1;
	rc = shm_create(&s->shm, e);
	if (rc)
		return rc;
	fcntl(s->shm.fd, F_SETFD, FD_CLOEXEC);	/* other workers must not inherit it */
	s->shm.r->console_cap = p->o->console_max;
	text = pool_job_text(p, job);
	if (!text) {
		rc = -ENOMEM;
		verr_set(e, "cannot prepare job %s: out of memory", job->spec.name);
		goto fail;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		rc = verr_errno(e, "cannot prepare job %s: pipe", job->spec.name);
		goto fail;
	}
	s->start_ms = now_ms();
	s->deadline_ms = s->start_ms + (uint64_t)((double)job->spec.timeout_ms *
						  p->o->timeout_scale) + p->o->grace_ms;
	rc = slot_spawn(p, s, in[0], err[1], e);
	if (rc)
		goto fail;
	close(in[0]);
	close(err[1]);
	/* A job is a few KiB: it fits in the pipe, the write cannot block. */
	len = strlen(text);
	if (write(in[1], text, len) != (ssize_t)len) {
		/* The worker will report a truncated job itself. */
	}
	close(in[1]);
	free(text);
	s->err_fd = err[0];
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	free(text);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	shm_unmap(&s->shm);
	return rc;
}

/* ---- finishing ---- */

static void slot_drain_stderr(struct slot *s)
{
	char buf[512];
	ssize_t n;

	while (s->err_fd >= 0 && (n = read(s->err_fd, buf, sizeof(buf))) > 0) {
		/* Keep the tail (buf is smaller than err): the last words explain. */
		if (s->err_len + (size_t)n >= sizeof(s->err)) {
			size_t drop = s->err_len + (size_t)n - (sizeof(s->err) - 1);

			memmove(s->err, s->err + drop, s->err_len - drop);
			s->err_len -= drop;
		}
		memcpy(s->err + s->err_len, buf, (size_t)n);
		s->err_len += (size_t)n;
		s->err[s->err_len] = 0;
	}
}

/* Counters straight from the region: what a dead worker leaves behind. */
void pool_slot_counters(const struct slot *s, struct vm_result *r)
{
	uint32_t n = atomic_load(&s->shm.r->ndisks);

	if (n > s->job->spec.ndisks)	/* never trust a count a worker wrote */
		n = s->job->spec.ndisks;
	r->ndisks = n;
	for (uint32_t i = 0; i < n; i++)
		shm_snapshot_disk(s->shm.r, i, &r->disk[i]);
}

static void last_line(const char *text, char *out, size_t cap)
{
	size_t len = strlen(text);
	const char *start;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	start = text + len;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(out, cap, "%.*s", (int)(text + len - start), start);
}

/* Signals a process raises on itself by faulting or aborting (seccomp: SIGSYS). */
static bool signal_is_crash(int sig)
{
	return sig == SIGSEGV || sig == SIGABRT || sig == SIGSYS || sig == SIGBUS ||
	       sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/*
 * A worker ended by a signal: ours (deadline, stall) say so; one the worker
 * raised itself is a crash; any other came from outside (the OOM killer, an
 * operator) and is the host's failure, not the test's.
 */
static void slot_result_signaled(const struct slot *s, int sig, struct vm_result *r)
{
	const char *what;

	r->exit_code = sig;
	if (s->why == KILL_TIMEOUT) {
		r->exit_kind = VM_EXIT_TIMEOUT;
		what = "timeout";
	} else if (s->why == KILL_STALL) {
		r->exit_kind = VM_EXIT_STALLED;
		what = "heartbeat stalled";
	} else if (signal_is_crash(sig)) {
		r->exit_kind = VM_EXIT_CRASHED;
		what = "crashed";
	} else {
		r->exit_kind = VM_EXIT_KILLED;
		what = "killed";
	}
	snprintf(r->error, sizeof(r->error), "%s: worker killed by signal %d (%s)",
		 what, sig, strsignal(sig));
}

/*
 * The worker ends the VM on SIGTERM/SIGINT/SIGHUP and reports a timeout with
 * exit code 128 + signal; unless that signal was our deadline, someone else
 * stopped it.
 */
static void slot_result_reclassify(const struct slot *s, struct vm_result *r)
{
	char msg[VM_ERROR_MAX + 1];
	int sig = (int)(r->exit_code - 128);

	if (r->exit_kind != VM_EXIT_TIMEOUT || s->why == KILL_TIMEOUT ||
	    r->exit_code <= 128 || r->exit_code >= 128 + NSIG)
		return;
	snprintf(msg, sizeof(msg), "%s", r->error);
	r->exit_kind = VM_EXIT_KILLED;
	r->exit_code = sig;
	r->success = false;
	snprintf(r->error, sizeof(r->error), "killed: signal %d (%s) not sent by vmorch: %.400s",
		 sig, strsignal(sig), msg);
}

static void slot_result(struct slot *s, int status, struct vm_result *r)
{
	struct verr e = { "" };
	char why[VM_ERROR_MAX + 1];
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = shm_read_result(s->shm.r, r, &e);
	/* 3 with a result: the worker met a host failure and said which (infra_error). */
	if (rc == 1 && (code == 0 || code == 3)) {
		slot_result_reclassify(s, r);
		return;
	}
	memset(r, 0, sizeof(*r));
	pool_slot_counters(s, r);
	r->wall_us = (now_ms() - s->start_ms) * 1000;
	last_line(s->err, why, sizeof(why));
	if (WIFSIGNALED(status)) {
		slot_result_signaled(s, WTERMSIG(status), r);
	} else if (code == 3) {
		/* The worker's "could not build or run the VM": the host's side. */
		r->exit_kind = VM_EXIT_INFRA;
		snprintf(r->error, sizeof(r->error), "worker exited with status 3: %.400s",
			 why[0] ? why : "(no message)");
	} else if (code != 0) {
		r->exit_kind = VM_EXIT_VMM_ERROR;
		r->exit_code = code;
		snprintf(r->error, sizeof(r->error), "worker exited with status %d: %.400s",
			 code, why[0] ? why : "(no message)");
	} else {
		r->exit_kind = VM_EXIT_VMM_ERROR;
		snprintf(r->error, sizeof(r->error), "worker gave no valid result: %.400s",
			 rc < 0 ? e.msg : "result slot empty");
	}
}

static void slot_release(struct slot *s)
{
	if (s->rs)
		remote_slot_release(s);
	if (s->err_fd >= 0)
		close(s->err_fd);
	shm_unmap(&s->shm);
	s->err_fd = -1;
	s->job = NULL;
	s->pid = 0;
	s->busy = false;
}

static uint64_t snapshot_ops(const struct vblk_snapshot *d)
{
	return d->reads_completed + d->writes_completed + d->flushes_completed;
}

/* Count a finished job's result into the totals. */
static void pool_count(struct pool *p, const struct vm_result *r)
{
	for (uint32_t i = 0; i < r->ndisks; i++) {
		p->done_ops += snapshot_ops(&r->disk[i]);
		p->done_bytes += r->disk[i].bytes_read + r->disk[i].bytes_written;
	}
	p->prog.done++;
	if (!r->success)
		p->prog.failed++;
}

/* ---- supervising ---- */

/*
 * The worker's main thread (its tid is its pid): schedstat's first two
 * fields are nanoseconds on a CPU and waiting on a run queue, stat's third
 * is the state.  Not the process totals: vCPU threads spinning in the guest
 * must not hide a deadlocked main thread.
 */
static void task_sample_read(pid_t pid, struct task_sample *t)
{
	char path[64], buf[512], *rp;
	unsigned long long cpu, wait;
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &cpu, &wait) == 2) {
			t->cpu_ns = cpu;
			t->wait_ns = wait;
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')) && rp[1] == ' ')
		t->state = rp[2];
	fclose(f);
}

/*
 * Starved, not stuck, over the last tick: the main thread is runnable but
 * got no CPU, or it spent at least half of the tick waiting on a run queue
 * (schedstat adds a wait only when the wait ends, hence both tests).  A
 * stopped, blocked or deadlocked thread waits on no run queue.
 */
static bool slot_starved(const struct slot *s, const struct task_sample *t, uint64_t dt_ms)
{
	uint64_t waited_ms;

	/* Unreadable (no /proc, the task gone): no evidence of a wait. */
	if (!t->state || !s->last.state || t->wait_ns < s->last.wait_ns)
		return false;
	waited_ms = (t->wait_ns - s->last.wait_ns) / 1000000ULL;
	if (t->state == 'R' && t->cpu_ns == s->last.cpu_ns)
		return true;
	return waited_ms * 2 >= dt_ms;
}

/*
 * A worker beats every 100 ms.  Silence is stuck in two ways.  Ticks count
 * toward a stall only while the main thread is not waiting for a CPU: a
 * host too loaded to run the worker has not found a bug in it (the job's
 * own timeout still applies); that catches a blocked or deadlocked thread.
 * And CPU time the main thread gets while silent counts too: beating costs
 * microseconds, so a thread that ran for a whole stall period without a
 * beat is spinning, however loaded the host (where it also waits on a run
 * queue for most of each tick).
 */
static bool slot_stalled(const struct pool *p, struct slot *s, uint64_t now)
{
	uint64_t hb = atomic_load(&s->shm.r->heartbeat_ns) / 1000000ULL;
	uint64_t alive_ms = now - s->start_ms;
	uint64_t silence = hb ? (now > hb ? now - hb : 0) : alive_ms;
	struct task_sample t;

	if (silence < 3 * POOL_TICK_MS || shm_get_state(s->shm.r) == SHM_STATE_EXITED) {
		s->quiet = false;
		return false;
	}
	if (s->rs)
		remote_slot_sample(s, &t);
	else
		task_sample_read(s->pid, &t);
	if (!s->quiet) {
		/* Unwatched until now: count the silence so far as stuck. */
		s->quiet = true;
		s->stuck_ms = silence;
		s->quiet_cpu_ns = 0;
	} else {
		if (!slot_starved(s, &t, now - s->last_ms))
			s->stuck_ms += now - s->last_ms;
		if (t.state && s->last.state && t.cpu_ns > s->last.cpu_ns)
			s->quiet_cpu_ns += t.cpu_ns - s->last.cpu_ns;
	}
	s->last = t;
	s->last_ms = now;
	return alive_ms > p->o->stall_ms &&
	       (s->stuck_ms > p->o->stall_ms || s->quiet_cpu_ns / 1000000ULL > p->o->stall_ms);
}

/* Ask a worker to stop (SIGTERM; a remote one: EOF on its stdin), or make it (SIGKILL; close). */
static void slot_stop(struct slot *s, bool hard)
{
	if (s->rs)
		remote_slot_stop(s, hard);
	else
		kill(s->pid, hard ? SIGKILL : SIGTERM);
}

static void slot_supervise(const struct pool *p, struct slot *s, uint64_t now)
{
	if (s->term_ms && now - s->term_ms >= p->o->grace_ms) {
		slot_stop(s, true);
		return;
	}
	if (s->term_ms)
		return;
	if (now >= s->deadline_ms) {
		s->why = KILL_TIMEOUT;
		s->term_ms = now;
		slot_stop(s, false);
		return;
	}
	if (slot_stalled(p, s, now)) {
		s->why = KILL_STALL;
		s->term_ms = now;
		slot_stop(s, true);
	}
}

static void pool_report(struct pool *p)
{
	uint64_t ops = p->done_ops, bytes = p->done_bytes;
	struct vblk_snapshot d;

	p->prog.running = 0;
	for (unsigned i = 0; i < p->nslots; i++) {
		const struct slot *s = &p->slot[i];

		if (!s->busy)
			continue;
		p->prog.running++;
		for (uint32_t k = 0; k < s->job->spec.ndisks; k++) {
			shm_snapshot_disk(s->shm.r, k, &d);
			ops += snapshot_ops(&d);
			bytes += d.bytes_read + d.bytes_written;
		}
	}
	p->prog.ops = ops;
	p->prog.bytes = bytes;
	p->prog.elapsed_ms = now_ms() - p->start_ms;
	if (p->ops->progress)
		p->ops->progress(p->ctx, &p->prog);
}

/* ---- the queue of jobs waiting for a slot ---- */

static void pend_push(struct pool *p, size_t job)
{
	p->pend[p->npend++] = job;
}

/* A slot can take @job: a local slot any job (fleet runs: one without placement). */
static bool slot_takes(const struct pool *p, const struct slot *s, size_t job)
{
	const struct job_desc *j = &p->jobs[job];

	if (!s->rs)
		return !p->o->fleet || !j->nlabels;
	if (!fleet_host_takes(p->o->fleet, s->rs->fh, job))
		return false;
	if (!p->track || p->track[job].avoid != s->rs->fh)
		return true;
	/* The host it was lost on: only when no other live host fits. */
	for (size_t h = 0; h < p->o->fleet->n; h++) {
		const struct fleet_host *fh = &p->o->fleet->h[h];

		if (fh != s->rs->fh && fleet_host_takes(p->o->fleet, fh, job))
			return false;
	}
	return true;
}

/*
 * The first waiting job @s can take; a job lost on a host goes elsewhere
 * when another host can take it, and back to that host only when none can.
 */
static bool pend_take(struct pool *p, const struct slot *s, size_t *job)
{
	for (size_t i = 0; i < p->npend; i++) {
		if (!slot_takes(p, s, p->pend[i]))
			continue;
		*job = p->pend[i];
		memmove(&p->pend[i], &p->pend[i + 1], (p->npend - i - 1) * sizeof(*p->pend));
		p->npend--;
		return true;
	}
	return false;
}

/* Some slot of a live host, or a local one, could ever take @job. */
static bool job_has_a_home(const struct pool *p, size_t job)
{
	const struct job_desc *j = &p->jobs[job];

	if (p->o->max_jobs && (!p->o->fleet || !j->nlabels))
		return true;
	for (unsigned i = 0; i < p->nslots; i++) {
		const struct fleet_host *fh = p->slot[i].rs ? p->slot[i].rs->fh : NULL;

		if (fh && fleet_host_fits(p->o->fleet, fh, job) &&
		    (fh->up || fleet_host_may_return(fh)))
			return true;
	}
	return false;
}

/* ---- finishing ---- */

static void attempt_close(struct pool *p, const struct slot *s, bool lost,
			  const char *why)
{
	struct job_track *t = &p->track[s->job_idx];
	struct pool_attempt *a;

	if (t->ntries >= POOL_MAX_TRIES)
		return;
	a = &t->tries[t->ntries++];
	a->host = s->rs->fh->ih->name;
	a->started_us = s->start_us;
	a->ended_us = pool_wall_us();
	a->host_lost = lost;
	snprintf(a->reason, sizeof(a->reason), "%s", why ? why : "");
}

/* A job with no host left to try: its result says so, counters as last seen. */
static void result_host_lost(const struct slot *s, const char *why, struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	if (s->busy)
		pool_slot_counters(s, r);
	r->exit_kind = VM_EXIT_HOST_LOST;
	r->wall_us = s->busy ? (now_ms() - s->start_ms) * 1000 : 0;
	snprintf(r->error, sizeof(r->error), "%.500s", why);
}

/*
 * A remote job ended.  1 with @r filled when it has a result to store, 0
 * when it was put back in the queue for another host, -1 when it was
 * stopped by an interrupt (not reported).
 */
static int remote_finish(struct pool *p, struct slot *s, struct vm_result *r)
{
	char why[VERR_MAX + 64];

	if (remote_slot_result(p, s, r, why, sizeof(why))) {
		attempt_close(p, s, false, "");
		return s->why == KILL_INTERRUPT ? -1 : 1;
	}
	if (s->why == KILL_INTERRUPT)
		return -1;
	attempt_close(p, s, true, why);
	p->track[s->job_idx].avoid = s->rs->fh;
	/* A host that lost a job is down until a later probe finds it well. */
	fleet_host_lost(s->rs->fh, now_ms(), why);
	if (p->track[s->job_idx].ntries <= p->o->retries && job_has_a_home(p, s->job_idx)) {
		pend_push(p, s->job_idx);
		p->prog.started--;
		return 0;
	}
	result_host_lost(s, why, r);
	return 1;
}

static void done_fill(struct pool *p, const struct slot *s, const struct vm_result *r,
		      const struct console_text *c, struct pool_done *d)
{
	*d = (struct pool_done){ .job = s->job, .r = r, .console = c->data ? c : NULL };
	if (s->rs) {
		d->host = s->rs->fh->ih->name;
		d->attempts = p->track[s->job_idx].tries;
		d->nattempts = p->track[s->job_idx].ntries;
	}
}

/*
 * A local job's console, from its region's ring: read once the worker is
 * gone, so nothing writes it any more.  Without memory the job is still
 * stored, with its tail only.
 */
static void slot_console(const struct pool *p, const struct slot *s, struct console_text *c)
{
	memset(c, 0, sizeof(*c));
	if (p->o->console_max)
		shm_read_console(s->shm.r, p->o->console_max, c);
}

/*
 * A slot whose job ended: 1 and @r filled to report (@c with a local job's
 * console), 0 when requeued, -1 to drop.
 */
static int slot_reap_one(struct pool *p, struct slot *s, struct vm_result *r,
			 struct console_text *c)
{
	int status, rc;

	if (s->rs) {
		if (!s->rs->ended)
			return -2;
		rc = remote_finish(p, s, r);
	} else {
		if (waitpid(s->pid, &status, WNOHANG) != s->pid)
			return -2;
		slot_drain_stderr(s);
		slot_result(s, status, r);
		rc = s->why == KILL_INTERRUPT ? -1 : 1;
		if (rc == 1)
			slot_console(p, s, c);
	}
	if (rc == 1 || rc == -1)
		pool_count(p, r);
	return rc;
}

/* The slots of one done() call, and the consoles read with them. */
static void pool_release_reaped(struct pool *p, struct slot **reaped, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		slot_release(reaped[j]);
		console_text_release(&p->cons[j]);
	}
}

/*
 * Collect every worker that exited and hand their results to the caller in
 * calls of at most POOL_MAX_JOBS, so it can store each group in one
 * transaction: a WAL commit's locks and page writes are shared by all of
 * them (doc/database.md).  Workers stopped by an interrupt are not
 * reported; a fleet job whose host was lost goes back to the queue.
 */
static int pool_reap(struct pool *p)
{
	struct pool_done d[POOL_MAX_JOBS];
	struct slot *reaped[POOL_MAX_JOBS];
	size_t nreaped = 0, nd = 0;
	int rc = 0;

	for (unsigned i = 0; i < p->nslots && !rc; i++) {
		struct slot *s = &p->slot[i];
		struct console_text *c;
		struct vm_result *r;
		int k;

		if (!s->busy)
			continue;
		r = &p->res[nreaped];
		c = &p->cons[nreaped];
		memset(c, 0, sizeof(*c));
		k = slot_reap_one(p, s, r, c);
		if (k == -2)
			continue;
		if (k == 1)
			done_fill(p, s, r, c, &d[nd++]);
		reaped[nreaped++] = s;
		if (nreaped == POOL_MAX_JOBS) {
			if (nd && p->ops->done)
				rc = p->ops->done(p->ctx, d, nd);
			pool_release_reaped(p, reaped, nreaped);
			nreaped = nd = 0;
		}
	}
	if (!rc && nd && p->ops->done)
		rc = p->ops->done(p->ctx, d, nd);
	pool_release_reaped(p, reaped, nreaped);
	pool_report(p);
	return rc;
}

/*
 * Jobs that no slot can ever take any more (every host that could is
 * lost, and no local slot fits): stored as host_lost, as their last
 * attempt left them.
 */
static int pool_drop_homeless(struct pool *p)
{
	struct pool_done d[POOL_MAX_JOBS];
	size_t nd = 0, i = 0;
	int rc = 0;

	while (i < p->npend && !rc) {
		size_t job = p->pend[i];
		struct slot ghost = { .job = &p->jobs[job], .job_idx = job };
		struct vm_result *r = &p->res[nd];
		const struct job_track *t = p->track ? &p->track[job] : NULL;
		char why[320];

		if (job_has_a_home(p, job)) {
			i++;
			continue;
		}
		memmove(&p->pend[i], &p->pend[i + 1], (p->npend - i - 1) * sizeof(*p->pend));
		p->npend--;
		snprintf(why, sizeof(why), "no fleet host left to run it%s%s",
			 t && t->ntries ? ": " : "",
			 t && t->ntries ? t->tries[t->ntries - 1].reason : "");
		result_host_lost(&ghost, why, r);
		pool_count(p, r);
		d[nd] = (struct pool_done){ .job = ghost.job, .r = r };
		if (t) {
			/* Never tried anywhere: no host's name. */
			d[nd].host = t->ntries ? t->tries[t->ntries - 1].host : "-";
			d[nd].attempts = t->tries;
			d[nd].nattempts = t->ntries;
		}
		if (++nd == POOL_MAX_JOBS || i >= p->npend) {
			rc = p->ops->done ? p->ops->done(p->ctx, d, nd) : 0;
			nd = 0;
		}
	}
	if (!rc && nd && p->ops->done)
		rc = p->ops->done(p->ctx, d, nd);
	return rc;
}

#define POOL_MAX_SSH_FDS	1024

static void pool_wait_events(struct pool *p)
{
	static struct pollfd pfd[1 + POOL_MAX_SLOTS + POOL_MAX_SSH_FDS];
	struct signalfd_siginfo si;
	nfds_t n = 0, nssh = 0;
	int timeout = POOL_TICK_MS;

	pfd[n++] = (struct pollfd){ .fd = p->sig_fd, .events = POLLIN };
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slot[i].busy && p->slot[i].err_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->slot[i].err_fd, .events = POLLIN };
	if (p->o->fleet) {
		nssh = ssh_loop_pollfds(p->o->fleet->loop, pfd + n, POOL_MAX_SSH_FDS, &timeout);
		if (nssh > POOL_MAX_SSH_FDS)
			nssh = POOL_MAX_SSH_FDS;
		if (timeout < 0 || timeout > POOL_TICK_MS)
			timeout = POOL_TICK_MS;
	}
	if (poll(pfd, n + nssh, timeout) < 0)
		return;
	/* Always: a queued connect or a keepalive is due with no descriptor ready. */
	if (p->o->fleet)
		ssh_loop_dispatch(p->o->fleet->loop, pfd + n, nssh);
	while (read(p->sig_fd, &si, sizeof(si)) == sizeof(si))
		;	/* SIGCHLD and friends: the loop looks at everything anyway */
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slot[i].busy && !p->slot[i].rs)
			slot_drain_stderr(&p->slot[i]);
}

/* Stop everything that runs: SIGTERM (EOF), a grace period, then SIGKILL (close). */
static void pool_stop_all(struct pool *p)
{
	uint64_t end = now_ms() + p->o->grace_ms;
	int status;

	for (unsigned i = 0; i < p->nslots; i++) {
		if (p->slot[i].busy) {
			p->slot[i].why = KILL_INTERRUPT;
			slot_stop(&p->slot[i], false);
		}
	}
	for (;;) {
		unsigned alive = 0;

		for (unsigned i = 0; i < p->nslots; i++) {
			struct slot *s = &p->slot[i];

			if (!s->busy)
				continue;
			if (s->rs ? s->rs->ended : waitpid(s->pid, &status, WNOHANG) == s->pid) {
				slot_release(s);
				continue;
			}
			alive++;
			if (now_ms() >= end)
				slot_stop(s, true);
		}
		if (!alive)
			break;
		if (p->o->fleet)
			pool_wait_events(p);
		else
			usleep(10000);
	}
}

static int pool_setup(struct pool *p, size_t njobs, struct verr *e)
{
	struct fleet_run *f = p->o->fleet;
	sigset_t set;
	unsigned k;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &p->old_mask);
	p->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sig_fd < 0)
		return verr_errno(e, "signalfd");
	p->nslots = p->o->max_jobs;
	for (size_t h = 0; f && h < f->n; h++)
		if (f->h[h].up)
			p->nslots += f->h[h].ih->slots;
	if (p->nslots > POOL_MAX_SLOTS) {
		verr_set(e, "%u job slots (--jobs and the hosts' slots): at most %d",
			 p->nslots, POOL_MAX_SLOTS);
		return -EINVAL;
	}
	p->slot = calloc(p->nslots ? p->nslots : 1, sizeof(*p->slot));
	p->res = calloc(POOL_MAX_JOBS, sizeof(*p->res));
	p->cons = calloc(POOL_MAX_JOBS, sizeof(*p->cons));
	p->pend = calloc(njobs ? njobs : 1, sizeof(*p->pend));
	p->track = f ? calloc(njobs ? njobs : 1, sizeof(*p->track)) : NULL;
	if (!p->slot || !p->res || !p->cons || !p->pend || (f && !p->track)) {
		verr_set(e, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->nslots; i++)
		p->slot[i].err_fd = -1;
	k = p->o->max_jobs;
	for (size_t h = 0; f && h < f->n; h++) {
		for (unsigned j = 0; f->h[h].up && j < f->h[h].ih->slots; j++) {
			p->slot[k].rs = calloc(1, sizeof(*p->slot[k].rs));
			if (!p->slot[k].rs) {
				verr_set(e, "out of memory");
				return -ENOMEM;
			}
			p->slot[k++].rs->fh = &f->h[h];
		}
	}
	for (size_t j = 0; j < njobs; j++)
		pend_push(p, j);
	if (f)
		remote_events_install(p);
	return 0;
}

static void pool_teardown(struct pool *p)
{
	if (p->sig_fd >= 0)
		close(p->sig_fd);
	sigprocmask(SIG_SETMASK, &p->old_mask, NULL);
	for (unsigned i = 0; p->slot && i < p->nslots; i++)
		free(p->slot[i].rs);
	free(p->slot);
	free(p->res);
	free(p->cons);
	free(p->pend);
	free(p->track);
}

/* Out of descriptors or processes for now: a running job will give some back. */
static bool start_error_is_transient(int rc)
{
	return rc == -EMFILE || rc == -ENFILE || rc == -EAGAIN || rc == -ENOMEM;
}

static int slot_start_any(struct pool *p, struct slot *s, size_t job, struct verr *e)
{
	struct rslot *rs = s->rs;

	memset(s, 0, sizeof(*s));
	s->rs = rs;
	s->err_fd = -1;
	s->job = &p->jobs[job];
	s->job_idx = job;
	s->start_us = pool_wall_us();
	return rs ? remote_slot_start(p, s, e) : slot_start(p, s, s->job, e);
}

/*
 * Start jobs in the free slots.  A start that fails for want of a resource
 * that running workers hold waits for one of them to end; any other failure
 * of a local start starts nothing more, and the jobs already running still
 * finish and are reported (a started job is never thrown away).  A fleet
 * host that cannot open a channel is down; its job waits for another.
 * Returns the failure to end with, or 0.
 */
static int pool_fill(struct pool *p, struct verr *e)
{
	for (unsigned i = 0; i < p->nslots && p->npend; i++) {
		struct slot *s = &p->slot[i];
		size_t job;
		int rc;

		if (s->busy || (s->rs && !s->rs->fh->up) || !pend_take(p, s, &job))
			continue;
		rc = slot_start_any(p, s, job, e);
		if (rc) {
			struct rslot *rs = s->rs;

			memmove(&p->pend[1], &p->pend[0], p->npend * sizeof(*p->pend));
			p->pend[0] = job;
			p->npend++;
			memset(s, 0, sizeof(*s));
			s->rs = rs;
			s->err_fd = -1;
			if (rs) {
				fleet_host_lost(rs->fh, now_ms(), e->msg);
				continue;
			}
			if (start_error_is_transient(rc) && p->prog.running)
				return 0;
			return rc;
		}
		s->busy = true;
		p->prog.started++;
		p->prog.running++;
	}
	return 0;
}

static bool pool_busy(const struct pool *p)
{
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slot[i].busy)
			return true;
	return false;
}

int pool_run(const struct pool_opts *o, const struct job_desc *jobs, size_t njobs,
	     const struct pool_ops *ops, void *ctx,
	     volatile sig_atomic_t *interrupted, struct verr *e)
{
	struct pool p = { .o = o, .ops = ops, .ctx = ctx, .jobs = jobs, .sig_fd = -1 };
	int rc, start_rc = 0;

	if (o->max_jobs > POOL_MAX_JOBS || (!o->max_jobs && !o->fleet)) {
		verr_set(e, "--jobs must be 1..64");
		return -EINVAL;
	}
	if (o->retries > POOL_MAX_RETRIES) {
		verr_set(e, "--retries must be 0..%d", POOL_MAX_RETRIES);
		return -EINVAL;
	}
	p.prog.total = njobs;
	p.start_ms = now_ms();
	rc = pool_setup(&p, njobs, e);
	if (rc)
		goto out;
	while ((p.npend && !start_rc) || pool_busy(&p)) {
		uint64_t now;

		if (*interrupted) {
			pool_stop_all(&p);
			rc = 1;
			goto out;
		}
		if (o->fleet)
			fleet_run_revive(o->fleet, now_ms());
		if (!start_rc)
			start_rc = pool_fill(&p, e);
		if (!start_rc && o->fleet && pool_drop_homeless(&p)) {
			rc = -EIO;
			verr_set(e, "storing a result failed; stopping");
			pool_stop_all(&p);
			goto out;
		}
		pool_report(&p);
		pool_wait_events(&p);
		rc = pool_reap(&p);
		if (rc) {
			verr_set(e, "storing a result failed; stopping");
			pool_stop_all(&p);
			goto out;
		}
		now = now_ms();
		for (unsigned i = 0; i < p.nslots; i++)
			if (p.slot[i].busy)
				slot_supervise(&p, &p.slot[i], now);
		pool_report(&p);
	}
	rc = start_rc;
out:
	pool_teardown(&p);
	return rc;
}
