/*
 * run.c - the user's program from job.json: ${diskN} expanded to the
 * disks' device nodes, run in a process group of its own with stdout on a
 * pipe that the agent copies to the console and keeps for metrics.c, and
 * ended at the in-guest time limit.  In the guest the agent is pid 1
 * (run_opts.init); the host tests run the same code as a plain parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "agent.h"

#define RUN_TICK_MS	50	/* how often the loop looks whether it ended */
#define RUN_DRAIN_MS	1000	/* output still in the pipe once it ended */
#define RUN_DIE_MS	5000	/* SIGKILL to gone, at most */
#define DISK_REF	"${disk"

/* "${diskN}" at S: its length, N in *index; 0 when S is other text. */
static size_t disk_ref(const char *s, unsigned long *index)
{
	size_t pre = strlen(DISK_REF), i = pre;
	unsigned long n = 0;

	if (strncmp(s, DISK_REF, pre))
		return 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		n = n > AGENT_MAX_DISKS ? n : n * 10 + (unsigned long)(s[i] - '0');
	if (i == pre || s[i] != '}')
		return 0;
	*index = n;
	return i + 1;
}

int run_expand(const char *in, const struct disk *d, unsigned ndisks, char **out,
	       char *err, size_t errlen)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int rc = 0;

	if (!f)
		return agent_err(err, errlen, -ENOMEM, "run: out of memory");
	while (*in) {
		unsigned long index;
		size_t len = disk_ref(in, &index);

		if (!len) {
			fputc(*in++, f);
			continue;
		}
		if (index >= ndisks) {
			rc = agent_err(err, errlen, -EINVAL, "run: %.*s: the VM has %u disk%s",
				       len < 32 ? (int)len : 32, in, ndisks,
				       ndisks == 1 ? "" : "s");
			break;
		}
		fputs(d[index].dev, f);
		in += len;
	}
	if (fclose(f) && !rc)
		rc = agent_err(err, errlen, -ENOMEM, "run: out of memory");
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

void run_argv_free(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

/*
 * Is @path a program a process chrooted to @root could exec?  Resolved as
 * that process would: an absolute link in the image (Debian's /usr/bin/awk
 * -> /etc/alternatives/awk, Alpine's /bin/sh -> /bin/busybox) points into
 * the image, not into the initramfs (RESOLVE_IN_ROOT; a kernel before 5.6
 * has no openat2: the links then resolve as they did).  @root NULL: /.
 * @path is absolute.  With @root the agent is pid 1, uid 0: any execute
 * bit will do, as the kernel's own check for root.
 */
static bool exec_ok_in(const char *root, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	struct stat st;
	int dfd, fd;
	bool ok;

	if (!root)
		return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(dfd, path + 1, O_PATH | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return false;
	ok = !fstat(fd, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0111);
	close(fd);
	return ok;
}

int run_build_argv(const struct job *job, const struct disk *d, unsigned ndisks,
		   char ***argv, char *err, size_t errlen)
{
	char *const *src = job->argv;
	char *shell[] = { "/bin/sh", "-c", job->shell, NULL };
	size_t n = 0;
	char **v;
	int rc = 0;

	if (job->shell) {
		if (!exec_ok_in(job->rootfs ? AGENT_ROOTFS_DIR : NULL, shell[0]))
			return agent_err(err, errlen, -ENOENT, "run: no /bin/sh in the %s",
					 job->rootfs ? "rootfs image" : "initramfs");
		src = shell;
	}
	while (src[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return agent_err(err, errlen, -ENOMEM, "run: out of memory");
	/* The shell's own words are expanded too: they hold no ${. */
	for (size_t i = 0; !rc && i < n; i++)
		rc = run_expand(src[i], d, ndisks, &v[i], err, errlen);
	if (rc) {
		run_argv_free(v);
		return rc;
	}
	*argv = v;
	return 0;
}

/* argv[0] as execvp would find it, over AGENT_RUN_PATH only, under @root
 * (the path it gives is the one inside). */
static int run_resolve(const char *name, const char *root, char **path, char *err,
		       size_t errlen)
{
	const char *dir = AGENT_RUN_PATH;

	if (strchr(name, '/')) {
		*path = strdup(name);
		return *path ? 0 : agent_err(err, errlen, -ENOMEM, "run: out of memory");
	}
	while (*dir) {
		size_t len = strcspn(dir, ":");
		char *p;

		if (asprintf(&p, "%.*s/%s", (int)len, dir, name) < 0)
			return agent_err(err, errlen, -ENOMEM, "run: out of memory");
		if (exec_ok_in(root, p)) {
			*path = p;
			return 0;
		}
		free(p);
		dir += len + (dir[len] == ':');
	}
	return agent_err(err, errlen, -ENOENT, "run: \"%s\": not found in %s", name,
			 AGENT_RUN_PATH);
}

uint64_t agent_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the child: stdin /dev/null, stdout the pipe, stderr as it is; an
 * exec failure goes back to the parent as an errno on ERR_FD. */
static __attribute__((noreturn)) void run_child(const char *path, char *const argv[],
						const char *root, int out_fd, int err_fd)
{
	int null, e;

	setpgid(0, 0);
	null = open("/dev/null", O_RDONLY);
	if (root && (chroot(root) || chdir("/")))
		null = -1;
	if (null >= 0 && dup2(null, 0) == 0 && dup2(out_fd, 1) == 1) {
		if (null > 1)
			close(null);
		execv(path, argv);
	}
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

void agent_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* the console is gone: keep running */
		p += w;
		n -= (size_t)w;
	}
}

/* Keep up to capture_max bytes (NUL-terminated), remembering a cut. */
static void run_capture(struct run_result *r, const struct run_opts *o, const char *p,
			size_t n, size_t *cap)
{
	size_t room = o->capture_max - r->out_len;

	if (n > room) {
		r->out_cut = true;
		n = room;
	}
	if (r->out_len + n + 1 > *cap) {
		size_t want = *cap ? *cap : 65536;
		char *b;

		while (want < r->out_len + n + 1)
			want *= 2;
		if (want > o->capture_max + 1)
			want = o->capture_max + 1;
		b = realloc(r->out, want);
		if (!b) {
			r->out_cut = true;	/* as good as cut: metrics stop here */
			return;
		}
		r->out = b;
		*cap = want;
	}
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
	r->out[r->out_len] = 0;
}

/* One read of the pipe: to the console at once, and into the capture.
 * Returns false at end of file. */
static bool run_pump(int fd, const struct run_opts *o, struct run_result *r, size_t *cap)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	agent_write_all(o->out_fd, buf, (size_t)n);
	r->mid_line = buf[n - 1] != '\n';
	run_capture(r, o, buf, (size_t)n, cap);
	return true;
}

struct run_state {
	pid_t pid;
	int fd;			/* the pipe, -1 once at end of file */
	size_t cap;		/* bytes allocated for the capture */
	bool exited;
	int status;
};

/* Without blocking.  As pid 1 every zombie is ours to reap (orphans of the
 * program come to us); elsewhere only our child is. */
static void run_reap(struct run_state *s, bool init)
{
	for (;;) {
		int status;
		pid_t w = waitpid(init ? -1 : s->pid, &status, WNOHANG);

		if (w <= 0)
			return;
		if (w == s->pid) {
			s->exited = true;
			s->status = status;
		}
	}
}

/* Wait up to MS for the pipe, reading what comes. */
static void run_poll(struct run_state *s, const struct run_opts *o, struct run_result *r,
		     uint64_t ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	if (s->fd < 0) {
		poll(NULL, 0, (int)ms);
		return;
	}
	if (poll(&p, 1, (int)ms) > 0 && !run_pump(s->fd, o, r, &s->cap)) {
		close(s->fd);
		s->fd = -1;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Until the program ends: SIGTERM to its group at the deadline, SIGKILL
 * kill_grace_ms later, give up RUN_DIE_MS after that. */
static int run_wait(struct run_state *s, const struct run_opts *o, struct run_result *r,
		    char *err, size_t errlen)
{
	uint64_t kill_at = UINT64_MAX, give_up = UINT64_MAX;

	for (;;) {
		uint64_t now, wait;

		run_reap(s, o->init);
		if (s->exited)
			return 0;
		now = agent_clock_ms(o->clock);
		if (o->deadline_ms && !r->timed_out && now >= o->deadline_ms) {
			r->timed_out = true;
			killpg(s->pid, SIGTERM);
			kill_at = now + o->kill_grace_ms;
		}
		if (now >= kill_at && give_up == UINT64_MAX) {
			killpg(s->pid, SIGKILL);
			give_up = now + RUN_DIE_MS;
		}
		if (now >= give_up)
			return agent_err(err, errlen, -ETIMEDOUT,
					 "run: still running %u ms after SIGKILL", RUN_DIE_MS);
		/* Until the next of those times, at most a tick (give_up > now). */
		wait = min_u64(RUN_TICK_MS, give_up - now);
		if (o->deadline_ms && !r->timed_out)
			wait = min_u64(wait, o->deadline_ms - now);
		if (kill_at > now)
			wait = min_u64(wait, kill_at - now);
		run_poll(s, o, r, wait);
	}
}

/* The program has ended: nothing it left behind may write into the
 * result line, so its group goes (as pid 1: every process); then what
 * is left in the pipe, for a bounded time. */
static void run_finish(struct run_state *s, const struct run_opts *o, struct run_result *r)
{
	uint64_t end;

	killpg(s->pid, SIGKILL);
	if (o->init)
		kill(-1, SIGKILL);
	end = agent_clock_ms(o->clock) + RUN_DRAIN_MS;
	while (s->fd >= 0) {
		uint64_t now = agent_clock_ms(o->clock);

		if (now >= end)
			break;
		run_poll(s, o, r, end - now);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (o->init)
		run_reap(s, true);
}

/* The errno the child sent when execv failed; 0 once exec closed the pipe. */
static int exec_errno(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == sizeof(e) ? e : 0;
}

int run_program(char *const argv[], const struct run_opts *o, struct run_result *r,
		char *err, size_t errlen)
{
	struct run_state s = { .fd = -1 };
	int out[2] = { -1, -1 }, ep[2] = { -1, -1 };
	char *path = NULL;
	uint64_t t0;
	int rc, e;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	rc = run_resolve(argv[0], o->root, &path, err, errlen);
	if (rc)
		return rc;
	if (pipe2(out, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		rc = agent_err_errno(err, errlen, "run: pipe");
		goto out;
	}
	t0 = agent_clock_ms(o->clock);
	s.pid = fork();
	if (s.pid < 0) {
		rc = agent_err_errno(err, errlen, "run: fork");
		goto out;
	}
	if (s.pid == 0)
		run_child(path, argv, o->root, out[1], ep[1]);
	setpgid(s.pid, s.pid);	/* as the child does: no race on who is first */
	close(out[1]);
	close(ep[1]);
	out[1] = ep[1] = -1;
	s.fd = out[0];
	out[0] = -1;
	e = exec_errno(ep[0]);
	ep[0] = -1;
	if (e) {
		/* The child is in _exit already: this wait is short. */
		rc = agent_err(err, errlen, -e, "run: exec %s: %s", path, strerror(e));
		s.exited = waitpid(s.pid, &s.status, 0) == s.pid;
	} else {
		rc = run_wait(&s, o, r, err, errlen);
	}
	run_finish(&s, o, r);
	if (s.exited && WIFSIGNALED(s.status)) {
		r->signal = WTERMSIG(s.status);
		r->exit_code = 128 + r->signal;
	} else if (s.exited) {
		r->exit_code = WEXITSTATUS(s.status);
	}
	r->ms = agent_clock_ms(o->clock) - t0;
out:
	for (unsigned i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	free(path);
	return rc;
}

void run_describe_end(const struct run_result *r, const struct run_opts *o,
		      char *buf, size_t len)
{
	const char *abbrev = r->signal ? sigabbrev_np(r->signal) : NULL;

	if (r->timed_out)
		snprintf(buf, len, "run: killed at the in-guest time limit (%llu ms after boot)",
			 (unsigned long long)o->deadline_ms);
	else if (r->signal)
		snprintf(buf, len, "run: killed by signal %d%s%s%s", r->signal,
			 abbrev ? " (SIG" : "", abbrev ? abbrev : "", abbrev ? ")" : "");
	else if (r->exit_code)
		snprintf(buf, len, "run: exited with status %d", r->exit_code);
	else if (len)
		buf[0] = 0;
}

void run_result_release(struct run_result *r)
{
	free(r->out);
	r->out = NULL;
	r->out_len = 0;
}
