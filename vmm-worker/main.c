/*
 * main.c - the vmm-worker program: read a job, run its VM, publish the
 * VmResult.  One process, one VM.  The orchestrator passes a shm region fd;
 * alone (for debugging) the worker makes its own.
 *
 * Exit status: 0 when the VM ran and a VmResult was produced (whatever the
 * verdict), 2 for a bad command line or job, 3 when the VM could not be
 * built or run (no /dev/kvm, out of memory, a backing file missing...).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/job.h"
#include "common/shm.h"
#include "common/vm_result.h"
#include "vmm-worker/result.h"
#include "vmm-worker/vm.h"

#define EXIT_USAGE	2
#define EXIT_INFRA	3
#define JOB_TEXT_MAX	(1 << 20)
#define HEARTBEAT_MS	100

struct options {
	const char *job;
	const char *result;
	const char *console;
	int shm_fd;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmm-worker --job FILE|- [--shm-fd N] [--result FILE|-] [--console FILE|-]\n"
"\n"
"Run one KVM virtual machine described by a job spec (JSON) and write its\n"
"VmResult (JSON).\n"
"\n"
"  -j, --job FILE|-      the job spec; '-' reads it from standard input\n"
"  -s, --shm-fd N        an inherited vmorch shared-memory region to publish\n"
"                        live counters and the result in (default: a private one)\n"
"  -r, --result FILE|-   also write the VmResult JSON there ('-' = stdout;\n"
"                        the default when no --shm-fd is given)\n"
"  -c, --console FILE|-  copy the guest console there ('-' = stderr)\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Exit status: 0 the VM ran to a result (pass or fail: see the result),\n"
"2 bad arguments or job, 3 the VM could not be built or run.\n"
"\n"
"Environment: VMORCH_EXIT_STATS=1 prints, when the VM ends, its exits to user\n"
"space per vCPU and the ports and MMIO pages that caused the most of them.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "job", required_argument, NULL, 'j' },
		{ "shm-fd", required_argument, NULL, 's' },
		{ "parent-pid", required_argument, NULL, 'p' },
		{ "result", required_argument, NULL, 'r' },
		{ "console", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->shm_fd = -1;
	while ((c = getopt_long(argc, argv, "j:s:p:r:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->job = optarg;
			break;
		case 's':
			errno = 0;
			o->shm_fd = (int)strtol(optarg, &end, 10);
			if (errno || *end || o->shm_fd < 0) {
				fprintf(stderr, "vmm-worker: --shm-fd: not a file descriptor: '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'p':
			/* Die with vmorch; it may already be gone (then getppid differs). */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != (pid_t)strtol(optarg, NULL, 10))
				exit(EXIT_INFRA);
			break;
		case 'r':
			o->result = optarg;
			break;
		case 'c':
			o->console = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("vmm-worker (vmorch) %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmm-worker: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->job) {
		fprintf(stderr, "vmm-worker: --job is required (try --help)\n");
		return -1;
	}
	return 0;
}

static char *read_all(const char *path, size_t *len, struct verr *e)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	if (fd < 0) {
		verr_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 1 >= cap || !buf) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			verr_set(e, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > JOB_TEXT_MAX) {
			verr_set(e, "%s: larger than %d bytes", path, JOB_TEXT_MAX);
			goto fail;
		}
	}
	buf[n] = 0;
	*len = n;
	if (fd)
		close(fd);
	return buf;
fail:
	free(buf);
	if (fd > 0)
		close(fd);
	return NULL;
}

static int open_output(const char *path, int std_fd)
{
	if (strcmp(path, "-") == 0)
		return dup(std_fd);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* SIGTERM/SIGINT end the VM cleanly; block them so the signalfd sees them. */
static int signals_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Wait for the VM to end, beating the heart and enforcing the job's timeout. */
static void wait_vm(struct vm *vm, const struct job_spec *job, int sig_fd)
{
	uint64_t deadline = vm->start_ns + job->timeout_ms * 1000000ULL;
	struct pollfd pfd[2] = {
		{ .fd = vm->done_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};

	for (;;) {
		uint64_t now = shm_now_ns();
		struct signalfd_siginfo si;

		shm_heartbeat(vm->shm);
		if (vm->serial.first_output_ns && shm_get_state(vm->shm) == SHM_STATE_BOOTING)
			shm_set_state(vm->shm, SHM_STATE_RUNNING);
		if (now >= deadline) {
			vm_finish(vm, VM_EXIT_TIMEOUT, 0, "no verdict within %llu ms",
				  (unsigned long long)job->timeout_ms);
			return;
		}
		if (poll(pfd, 2, HEARTBEAT_MS) < 0 && errno != EINTR)
			return;
		if (pfd[0].revents)
			return;
		if (pfd[1].revents && read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			vm_finish(vm, VM_EXIT_TIMEOUT, 128 + (int)si.ssi_signo,
				  "stopped by signal %u before a verdict", si.ssi_signo);
			return;
		}
	}
}

static int write_result(const struct options *o, struct shm_region *shm,
			const struct vm_result *r)
{
	char *json = vm_result_encode(r);
	size_t len;
	int rc = 0;

	if (!json) {
		fprintf(stderr, "vmm-worker: cannot encode the result\n");
		return -ENOMEM;
	}
	len = strlen(json);
	if (shm_publish_result(shm, json, len))
		fprintf(stderr, "vmm-worker: result too large for the shm slot\n");
	if (o->result || o->shm_fd < 0) {
		int fd = open_output(o->result ? o->result : "-", 1);

		if (fd < 0 || write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
			fprintf(stderr, "vmm-worker: writing %s: %s\n",
				o->result ? o->result : "stdout", strerror(errno));
			rc = -EIO;
		}
		if (fd >= 0)
			close(fd);
	}
	free(json);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t start_ns = shm_now_ns();
	struct options o = { 0 };
	struct verr e = { "" };
	struct job_spec job;
	struct shm_map m = { .fd = -1 };
	struct vm_result *r = NULL;
	struct vm *vm = NULL;
	int sig_fd, console_fd = -1, status = EXIT_INFRA;
	char *text;
	size_t len;

	if (parse_options(argc, argv, &o))
		return EXIT_USAGE;
	text = read_all(o.job, &len, &e);
	if (!text) {
		fprintf(stderr, "vmm-worker: job: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (job_spec_decode(text, len, &job, &e)) {
		fprintf(stderr, "vmm-worker: %s: %s\n", o.job, e.msg);
		free(text);
		return EXIT_USAGE;
	}
	free(text);

	if (o.shm_fd >= 0 ? shm_map_checked(o.shm_fd, &m, &e) : shm_create(&m, &e)) {
		fprintf(stderr, "vmm-worker: %s\n", e.msg);
		goto out;
	}
	atomic_store(&m.r->worker_pid, (uint32_t)getpid());
	shm_set_state(m.r, SHM_STATE_STARTING);
	shm_heartbeat(m.r);
	sig_fd = signals_open();

	vm = calloc(1, sizeof(*vm));
	r = calloc(1, sizeof(*r));
	if (!vm || !r || sig_fd < 0) {
		fprintf(stderr, "vmm-worker: out of memory or signalfd failed\n");
		goto out;
	}
	if (o.console && (console_fd = open_output(o.console, 2)) < 0) {
		fprintf(stderr, "vmm-worker: --console %s: %s\n", o.console,
			strerror(errno));
		goto out;
	}
	if (vm_create(vm, &job, m.r, start_ns, &e)) {
		fprintf(stderr, "vmm-worker: %s: %s\n", job.name, e.msg);
		goto out_vm;
	}
	vm->serial.out_fd = console_fd;
	vm->xstats = exit_stats_from_env();
	if (vm_start(vm, &e)) {
		fprintf(stderr, "vmm-worker: %s: %s\n", job.name, e.msg);
		goto out_vm;
	}
	shm_set_state(m.r, SHM_STATE_BOOTING);
	wait_vm(vm, &job, sig_fd);
	vm_stop(vm);
	exit_stats_print(vm->xstats, m.r, vm->nvcpus, stderr);
	result_build(vm, r);
	status = write_result(&o, m.r, r) ? EXIT_INFRA : 0;
	vm_destroy_detached(vm);
	goto out;
out_vm:
	vm_destroy(vm);
out:
	if (console_fd >= 0)
		close(console_fd);
	if (m.r)
		shm_set_state(m.r, SHM_STATE_EXITED);
	if (vm)
		exit_stats_free(vm->xstats);
	free(vm);
	free(r);
	job_spec_free(&job);
	shm_unmap(&m);
	return status;
}
