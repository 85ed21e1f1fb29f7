/*
 * remote_harness.c - a remote worker on pipes, for tests (see the header).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/remote_harness.h"
#include "tests/worker_harness.h"

int remote_start(struct remote_run *w, const char *exe, unsigned snapshot_ms)
{
	return remote_start_locked(w, exe, snapshot_ms, NULL);
}

int remote_start_locked(struct remote_run *w, const char *exe, unsigned snapshot_ms,
			const char *store_lock)
{
	int in[2], out[2], err[2];

	memset(w, 0, sizeof(*w));
	w->in_fd = w->out_fd = w->err_fd = -1;
	/* A worker gone early is an EPIPE here, not the end of the test. */
	signal(SIGPIPE, SIG_IGN);
	remote_lines_init(&w->lines, REMOTE_FRAME_MAX);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	w->pid = fork();
	if (w->pid == 0) {
		char ms[16];

		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		/* The worker must survive its channel's end by itself: no inherited SIG_IGN. */
		signal(SIGPIPE, SIG_DFL);
		if (snapshot_ms) {
			snprintf(ms, sizeof(ms), "%u", snapshot_ms);
			setenv("VMORCH_SNAPSHOT_MS", ms, 1);
		} else {
			unsetenv("VMORCH_SNAPSHOT_MS");
		}
		if (store_lock)
			execl(exe, "vmm-worker", "--remote", "--store-lock", store_lock,
			      (char *)NULL);
		else
			execl(exe, "vmm-worker", "--remote", (char *)NULL);
		dprintf(2, "harness: exec %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	w->in_fd = in[1];
	w->out_fd = out[0];
	w->err_fd = err[0];
	fcntl(w->err_fd, F_SETFL, O_NONBLOCK);
	return w->pid > 0 ? 0 : -EIO;
}

int remote_send(struct remote_run *w, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(w->in_fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int remote_send_job(struct remote_run *w, const struct job_spec *job)
{
	char *text = job_spec_encode(job);
	int rc;

	if (!text)
		return -ENOMEM;
	rc = remote_send(w, text, strlen(text));
	if (!rc)
		rc = remote_send(w, "\n", 1);
	free(text);
	return rc;
}

void remote_close_stdin(struct remote_run *w)
{
	if (w->in_fd >= 0)
		close(w->in_fd);
	w->in_fd = -1;
}

static void remote_drain_stderr(struct remote_run *w)
{
	size_t n = strlen(w->stderr_text);
	ssize_t r;

	while (w->err_fd >= 0 && n < sizeof(w->stderr_text) - 1 &&
	       (r = read(w->err_fd, w->stderr_text + n, sizeof(w->stderr_text) - 1 - n)) > 0)
		n += (size_t)r;
	w->stderr_text[n] = 0;
}

int remote_next_frame(struct remote_run *w, struct remote_frame *f,
		      unsigned timeout_ms, struct verr *e)
{
	uint64_t end = harness_now_ms() + timeout_ms;
	struct pollfd pfd;
	const char *line;
	char buf[16384];
	size_t len;
	ssize_t n;
	int rc;

	for (;;) {
		if (remote_lines_next(&w->lines, &line, &len)) {
			memset(f, 0, sizeof(*f));
			rc = remote_frame_parse(line, len, f, e);
			return rc ? rc : 1;
		}
		if (w->out_fd < 0)
			return remote_lines_finish(&w->lines, e);
		remote_drain_stderr(w);
		if (harness_now_ms() >= end) {
			verr_set(e, "no frame within %u ms", timeout_ms);
			return -ETIMEDOUT;
		}
		pfd = (struct pollfd){ .fd = w->out_fd, .events = POLLIN };
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(w->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(w->out_fd);
			w->out_fd = -1;
			continue;
		}
		rc = remote_lines_feed(&w->lines, buf, (size_t)n, e);
		if (rc)
			return rc;
	}
}

int remote_collect(struct remote_run *w, struct remote_transcript *t,
		   unsigned timeout_ms, struct verr *e)
{
	static struct remote_frame f;	/* 40 KiB: not on the stack */
	uint64_t end = harness_now_ms() + timeout_ms;
	bool have_result = false;
	int n = 0, rc;

	memset(t, 0, sizeof(*t));
	for (;; n++) {
		uint64_t now = harness_now_ms();

		rc = remote_next_frame(w, &f, now < end ? (unsigned)(end - now) : 0, e);
		if (rc < 0) {
			verr_prefix(e, "frame %d", n);
			return rc;
		}
		if (rc == 0)
			break;
		if (have_result) {
			verr_set(e, "frame %d: a frame after the result", n);
			return -EPROTO;
		}
		if ((n == 0) != (f.type == REMOTE_FRAME_HELLO)) {
			verr_set(e, "frame %d: %s", n, n ? "a second hello" : "not the hello");
			return -EPROTO;
		}
		if (f.type == REMOTE_FRAME_HELLO) {
			t->hello_pid = f.pid;
		} else if (f.type == REMOTE_FRAME_SNAPSHOT) {
			struct remote_snapshot *s = realloc(t->snap, sizeof(*s) * (size_t)(t->nsnap + 1));

			if (!s)
				return -ENOMEM;
			t->snap = s;
			t->snap[t->nsnap++] = f.snap;
		} else {
			t->result = f.result;
			have_result = true;
		}
	}
	if (!have_result) {
		verr_set(e, "the stream ended without a result frame (%d frames)", n);
		return -EPROTO;
	}
	return 0;
}

int remote_wait(struct remote_run *w, unsigned timeout_ms)
{
	uint64_t end = harness_now_ms() + timeout_ms;

	for (;;) {
		pid_t p = waitpid(w->pid, &w->status, WNOHANG);

		remote_drain_stderr(w);
		if (p == w->pid) {
			w->pid = 0;
			return 0;
		}
		if (harness_now_ms() > end) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, &w->status, 0);
			w->pid = 0;
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

void remote_transcript_release(struct remote_transcript *t)
{
	free(t->snap);
	t->snap = NULL;
	t->nsnap = 0;
}

void remote_cleanup(struct remote_run *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &w->status, 0);
		w->pid = 0;
	}
	remote_close_stdin(w);
	if (w->out_fd >= 0)
		close(w->out_fd);
	if (w->err_fd >= 0)
		close(w->err_fd);
	w->out_fd = w->err_fd = -1;
	remote_lines_release(&w->lines);
}
