/*
 * worker_harness.c - fork + exec of vmm-worker for tests (see the header).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/worker_harness.h"

const char *harness_worker_path(void)
{
	static char path[4096];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(path, sizeof(path), "%s/vmm-worker/vmm-worker", b ? b : ".");
	return path;
}

uint64_t harness_now_ms(void)
{
	return clock_ns() / 1000000ULL;
}

void harness_job(struct job_spec *j, const char *workload, unsigned ndisks,
		 unsigned disk_mib)
{
	job_spec_init(j);
	j->name = strdup("test");
	j->memory = 64ULL << 20;
	j->timeout_ms = 20000;
	j->workload = strdup(workload);
	j->ndisks = ndisks;
	for (unsigned i = 0; i < ndisks; i++) {
		j->disk[i].size = (uint64_t)disk_mib << 20;
		snprintf(j->disk[i].serial, sizeof(j->disk[i].serial), "vmorch-test-%u", i % 10);
	}
}

int harness_start(struct worker_run *w, const struct job_spec *job)
{
	return harness_start_as(w, job, 0);
}

/* In the forked child: become @uid for good (groups first, while we may). */
static int harness_become(uid_t uid)
{
	if (uid == 0)
		return 0;
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

static int harness_spawn(struct worker_run *w, const struct job_spec *job, uid_t uid,
			 uint32_t console_cap)
{
	int in[2], err[2];
	char fdarg[16];
	char *text;
	size_t len;

	memset(w, 0, sizeof(*w));
	w->shm.fd = -1;
	w->stderr_fd = -1;
	if (shm_create(&w->shm, NULL))
		return -EIO;
	w->shm.r->console_cap = console_cap;
	text = job_spec_encode(job);
	if (!text || pipe(in) || pipe(err)) {
		free(text);
		return -EIO;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", w->shm.fd);
	w->pid = fork();
	if (w->pid == 0) {
		dup2(in[0], 0);
		dup2(err[1], 2);
		close(in[1]);
		close(err[0]);
		if (harness_become(uid)) {
			dprintf(2, "harness: cannot become uid %u: %s\n", (unsigned)uid,
				strerror(errno));
			_exit(126);
		}
		execl(harness_worker_path(), "vmm-worker", "--job", "-", "--shm-fd", fdarg,
		      (char *)NULL);
		dprintf(2, "harness: exec %s: %s\n", harness_worker_path(), strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(err[1]);
	len = strlen(text);
	if (write(in[1], text, len) != (ssize_t)len)
		len = 0;
	close(in[1]);
	free(text);
	w->stderr_fd = err[0];
	fcntl(w->stderr_fd, F_SETFL, O_NONBLOCK);
	return w->pid > 0 && len ? 0 : -EIO;
}

int harness_start_as(struct worker_run *w, const struct job_spec *job, uid_t uid)
{
	return harness_spawn(w, job, uid, 0);
}

static void harness_drain_stderr(struct worker_run *w)
{
	size_t n = strlen(w->stderr_text);
	ssize_t r;

	while (w->stderr_fd >= 0 && n < sizeof(w->stderr_text) - 1 &&
	       (r = read(w->stderr_fd, w->stderr_text + n,
			 sizeof(w->stderr_text) - 1 - n)) > 0)
		n += (size_t)r;
	w->stderr_text[n] = 0;
}

int harness_wait(struct worker_run *w, unsigned timeout_ms)
{
	uint64_t end = harness_now_ms() + timeout_ms;

	for (;;) {
		pid_t p = waitpid(w->pid, &w->status, WNOHANG);

		harness_drain_stderr(w);
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
		usleep(2000);
	}
}

int harness_run(const struct job_spec *job, struct vm_result *r, struct worker_run *w)
{
	return harness_run_console(job, 0, r, w);
}

int harness_run_console(const struct job_spec *job, uint32_t cap, struct vm_result *r,
			struct worker_run *w)
{
	struct verr e = { "" };
	int rc;

	rc = harness_spawn(w, job, 0, cap);
	if (rc)
		return rc;
	rc = harness_wait(w, (unsigned)job->timeout_ms + 10000);
	if (rc)
		return rc;
	rc = shm_read_result(w->shm.r, r, &e);
	if (rc != 1) {
		fprintf(stderr, "no result (%d): %s; worker stderr: %s\n", rc, e.msg,
			w->stderr_text);
		return rc < 0 ? rc : -ENOENT;
	}
	return 0;
}

void harness_cleanup(struct worker_run *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &w->status, 0);
	}
	if (w->stderr_fd >= 0)
		close(w->stderr_fd);
	shm_unmap(&w->shm);
	w->stderr_fd = -1;
}

double harness_metric(const struct vm_result *r, const char *name)
{
	for (uint32_t i = 0; i < r->nmetrics; i++)
		if (strcmp(r->metric[i].name, name) == 0)
			return r->metric[i].value;
	return -1;
}
