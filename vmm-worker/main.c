/*
 * main.c - the vmm-worker program: read a job, run its VM, publish the
 * VmResult.  One process, one VM.  The orchestrator passes a shm region fd;
 * alone (for debugging) the worker makes its own.
 *
 * Exit status: 0 when the VM ran and a VmResult was produced (whatever the
 * verdict), 2 for a bad command line or job, 3 when the VM could not be
 * built or run (no /dev/kvm, out of memory, a backing file missing...).
 * Once the job is read, a status 3 still publishes a VmResult whose kind is
 * infra_error and whose exit_code is the errno, so the orchestrator stores
 * the host's failure as such instead of guessing.
 *
 * --remote is the same worker on a fleet host, over one SSH channel: the
 * job is the first line of stdin, whose end later means "stop", and the
 * hello, live snapshots and the VmResult go out as frames on stdout
 * (vmm-worker/remote.c, common/remote_proto.h).  There, --store-lock holds
 * the host's store lock shared for the worker's life, so that `vmorch hosts
 * gc` deletes nothing the job uses (vmm-worker/store_lock.h).
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
#include "vmm-worker/initramfs.h"
#include "vmm-worker/remote.h"
#include "vmm-worker/result.h"
#include "vmm-worker/sandbox.h"
#include "vmm-worker/store_lock.h"
#include "vmm-worker/vm.h"

#define EXIT_USAGE	2
#define EXIT_INFRA	3
#define JOB_TEXT_MAX	(1 << 20)
#define HEARTBEAT_MS	100

struct options {
	const char *job;
	const char *result;
	const char *console;
	const char *store_lock;	/* --remote: the host's store lock, or NULL */
	int shm_fd;
	pid_t parent_pid;	/* 0: not given */
	bool remote;
	bool print_initramfs;
};

/* Where the worker's end goes: the shm slot and the --result file. */
struct outputs {
	struct shm_region *shm;	/* NULL until mapped */
	int result_fd;		/* -1: none */
	int console_fd;		/* -1: none */
	struct remote_channel *remote;	/* --remote: frames on stdout */
	uint64_t start_ns;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmm-worker --job FILE|- [--shm-fd N] [--result FILE|-] [--console FILE|-]\n"
"                  [--parent-pid N]\n"
"       vmm-worker --remote [--store-lock FILE] [--console FILE|-] [--parent-pid N]\n"
"       vmm-worker --print-initramfs --job FILE|-\n"
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
"                        (--result and --console never follow a symlink)\n"
"  -p, --parent-pid N    the pid of the vmorch that spawned this worker: exit\n"
"                        at once if it is already gone (the worker dies with\n"
"                        its parent in any case)\n"
"      --remote          the fleet protocol, for one SSH exec channel: the job\n"
"                        is the first line of standard input (one line of JSON,\n"
"                        at most 1 MiB); stdin then stays open, and its end\n"
"                        (EOF, error, hang-up) stops the VM within a second.\n"
"                        Standard output carries one JSON line per frame:\n"
"                        {\"vmorch-remote\":1,\"pid\":N} first, then\n"
"                        {\"snapshot\":{...}} every 200 ms (live counters,\n"
"                        heartbeat age, the main thread's scheduling), and\n"
"                        {\"result\":{VmResult}} last.  A bad job line still\n"
"                        gets its hello and a result frame (vmm_error, or\n"
"                        infra_error when the line never arrived whole).\n"
"      --print-initramfs print the path of the initramfs the job's Linux guest\n"
"                        boots with (built into the cache if need be), and\n"
"                        run nothing: vmorch stages that file on fleet hosts\n"
"      --store-lock FILE with --remote: before the job touches anything, take\n"
"                        a shared flock on FILE (created if missing), waiting\n"
"                        at most 8 s while `vmorch hosts gc` holds it, and keep\n"
"                        it until exit; failing that, the job ends as\n"
"                        infra_error saying why\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Exit status: 0 the VM ran to a result (pass or fail: see the result),\n"
"2 bad arguments or job, 3 the VM could not be built or run (then the\n"
"VmResult, when there is one, says infra_error with the errno).\n"
"\n"
"Environment: VMORCH_EXIT_STATS=1 prints, when the VM ends, its exits to user\n"
"space per vCPU and the ports and MMIO pages that caused the most of them.\n"
"VMORCH_SNAPSHOT_MS (20..5000) sets the --remote snapshot period.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "job", required_argument, NULL, 'j' },
		{ "shm-fd", required_argument, NULL, 's' },
		{ "result", required_argument, NULL, 'r' },
		{ "console", required_argument, NULL, 'c' },
		{ "parent-pid", required_argument, NULL, 'p' },
		{ "remote", no_argument, NULL, 'R' },
		{ "print-initramfs", no_argument, NULL, 'I' },
		{ "store-lock", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long pid;
	int c;

	o->shm_fd = -1;
	while ((c = getopt_long(argc, argv, "j:s:r:c:p:hV", longopts, NULL)) != -1) {
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
		case 'r':
			o->result = optarg;
			break;
		case 'c':
			o->console = optarg;
			break;
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || *end || pid <= 0 || pid > INT32_MAX) {
				fprintf(stderr, "vmm-worker: --parent-pid: not a process id: '%s'\n",
					optarg);
				return -1;
			}
			o->parent_pid = (pid_t)pid;
			break;
		case 'R':
			o->remote = true;
			break;
		case 'I':
			o->print_initramfs = true;
			break;
		case 'L':
			o->store_lock = optarg;
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
	if (o->remote && (o->job || o->shm_fd >= 0 || o->result)) {
		fprintf(stderr, "vmm-worker: --remote reads its job from standard input and "
			"writes its result there: no --job, --shm-fd or --result\n");
		return -1;
	}
	if (o->print_initramfs && (o->remote || !o->job || o->shm_fd >= 0 || o->result)) {
		fprintf(stderr, "vmm-worker: --print-initramfs takes --job and nothing else\n");
		return -1;
	}
	if (o->store_lock && !o->remote) {
		fprintf(stderr, "vmm-worker: --store-lock is a fleet host's, for --remote only\n");
		return -1;
	}
	if (!o->job && !o->remote) {
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
		verr_errno(e, "%s", path);
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
			verr_errno(e, "%s", path);
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

/*
 * O_NOFOLLOW: a symlink planted where the result or console should go must
 * not make the worker overwrite its target.
 */
static int open_output(const char *path, int std_fd)
{
	if (strcmp(path, "-") == 0)
		return fcntl(std_fd, F_DUPFD_CLOEXEC, 3);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
		    O_NOCTTY, 0644);
}

/*
 * Opened before the VM is built: after that the sandbox allows no open,
 * and a bad path should cost no VM.  Standalone (no --shm-fd), the result
 * goes to stdout unless --result says otherwise.
 */
static int outputs_open(struct outputs *out, const struct options *o, struct verr *e)
{
	const char *result = o->result ? o->result :
			     o->shm_fd < 0 && !o->remote ? "-" : NULL;

	if (result && (out->result_fd = open_output(result, 1)) < 0)
		return verr_errno(e, "--result %s", result);
	if (o->console && (out->console_fd = open_output(o->console, 2)) < 0)
		return verr_errno(e, "--console %s", o->console);
	return 0;
}

static void outputs_close(struct outputs *out)
{
	if (out->result_fd >= 0)
		close(out->result_fd);
	if (out->console_fd >= 0)
		close(out->console_fd);
	out->result_fd = out->console_fd = -1;
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

/*
 * Wait for the VM to end, beating the heart and enforcing the job's timeout.
 * A @remote channel's end (its stop_fd) stops the VM as a timeout does.
 */
static void wait_vm(struct vm *vm, const struct job_spec *job, int sig_fd,
		    const struct remote_channel *remote)
{
	uint64_t deadline = vm->start_ns + job->timeout_ms * 1000000ULL;
	struct pollfd pfd[3] = {
		{ .fd = vm->done_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
		{ .fd = remote ? remote_stop_fd(remote) : -1, .events = POLLIN },
	};

	for (;;) {
		uint64_t now = clock_ns();
		struct signalfd_siginfo si;

		shm_heartbeat(vm->shm);
		if (vm->serial.first_output_ns && shm_get_state(vm->shm) == SHM_STATE_BOOTING)
			shm_set_state(vm->shm, SHM_STATE_RUNNING);
		if (now >= deadline) {
			vm_finish(vm, VM_EXIT_TIMEOUT, 0, "no verdict within %llu ms",
				  (unsigned long long)job->timeout_ms);
			return;
		}
		if (poll(pfd, 3, HEARTBEAT_MS) < 0 && errno != EINTR) {
			int err = errno;

			vm_finish(vm, VM_EXIT_INFRA, err, "waiting for the VM: %s",
				  strerror(err));
			return;
		}
		if (pfd[0].revents)
			return;
		if (pfd[1].revents && read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			vm_finish(vm, VM_EXIT_TIMEOUT, 128 + (int)si.ssi_signo,
				  "stopped by signal %u before a verdict", si.ssi_signo);
			return;
		}
		if (pfd[2].revents) {
			vm_finish(vm, VM_EXIT_TIMEOUT, 0, "stopped: %s before a verdict",
				  remote_stop_reason(remote));
			return;
		}
	}
}

static int write_result(const struct outputs *out, const struct vm_result *r)
{
	char *json = vm_result_encode(r);
	size_t len;
	int rc = 0;

	if (!json) {
		fprintf(stderr, "vmm-worker: cannot encode the result\n");
		return -ENOMEM;
	}
	len = strlen(json);
	if (out->shm && shm_publish_result(out->shm, json, len))
		fprintf(stderr, "vmm-worker: result too large for the shm slot\n");
	if (out->remote && (rc = remote_send_result(out->remote, r)))
		fprintf(stderr, "vmm-worker: writing the result frame: %s\n", strerror(-rc));
	if (out->result_fd >= 0 &&
	    (write(out->result_fd, json, len) != (ssize_t)len ||
	     write(out->result_fd, "\n", 1) != 1)) {
		rc = -(errno ? errno : EIO);
		fprintf(stderr, "vmm-worker: writing the result: %s\n", strerror(-rc));
	}
	free(json);
	return rc;
}

/*
 * The host failed us (@rc = -errno): say so on stderr and in a VmResult of
 * kind infra_error carrying the errno, wherever results go.  Returns the
 * exit status.
 */
static int fail_infra(const struct outputs *out, struct vm_result *r,
		      const char *name, int rc, const char *msg)
{
	fprintf(stderr, "vmm-worker: %s%s%s\n", name ? name : "", name ? ": " : "", msg);
	memset(r, 0, sizeof(*r));
	r->exit_kind = VM_EXIT_INFRA;
	r->exit_code = rc < 0 ? -rc : EIO;
	r->wall_us = (clock_ns() - out->start_ns) / 1000;
	snprintf(r->error, sizeof(r->error), "%s", msg);
	write_result(out, r);
	return EXIT_INFRA;
}

/*
 * Die with vmorch.  posix_spawn runs no code in the child, so this is the
 * first thing the worker does.  The order closes the race: once the signal
 * is armed, a parent that dies kills us; a parent that died before that
 * has already made us someone else's child, which getppid() shows.  Both
 * are checked after the option parsing, which only reads argv.
 */
static int parent_watch_arm(void)
{
	return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static int parent_watch_check(pid_t parent)
{
	if (parent && getppid() != parent) {
		fprintf(stderr, "vmm-worker: vmorch (pid %d) is gone\n", (int)parent);
		return -ESRCH;
	}
	return 0;
}

/*
 * A job that could not be read or decoded: status 2, as for --job.  A
 * remote worker also says so in a result frame: vmm_error with exit code 2
 * (what the pool makes of a local worker's status 2) when the job was
 * refused, infra_error with the errno when it never arrived whole.
 */
static int fail_job(const struct outputs *out, struct vm_result *r,
		    enum vm_exit_kind kind, int err, const char *msg)
{
	if (out->remote) {
		memset(r, 0, sizeof(*r));
		r->exit_kind = kind;
		r->exit_code = kind == VM_EXIT_INFRA ? err : EXIT_USAGE;
		r->wall_us = (clock_ns() - out->start_ns) / 1000;
		snprintf(r->error, sizeof(r->error), "%s", msg);
		remote_send_result(out->remote, r);
	}
	return EXIT_USAGE;
}

/* Read and decode the job (--job FILE, or the remote job line); 0 or a status. */
static int job_load(const struct options *o, const struct outputs *out,
		    struct job_spec *job, struct vm_result *r)
{
	const char *name = o->remote ? "-" : o->job;
	struct verr e = { "" };
	char *text = NULL;
	size_t len;
	int rc;

	if (o->remote) {
		rc = remote_read_job(out->remote, JOB_TEXT_MAX, &text, &len, &e);
		remote_send_hello(out->remote);
		if (rc) {
			fprintf(stderr, "vmm-worker: %s\n", e.msg);
			return fail_job(out, r, rc == -EMSGSIZE ? VM_EXIT_VMM_ERROR :
					VM_EXIT_INFRA, -rc, e.msg);
		}
	} else {
		text = read_all(o->job, &len, &e);
		if (!text) {
			fprintf(stderr, "vmm-worker: job: %s\n", e.msg);
			return EXIT_USAGE;
		}
	}
	rc = job_spec_decode(text, len, job, &e);
	free(text);
	if (rc) {
		fprintf(stderr, "vmm-worker: %s: %s\n", name, e.msg);
		return fail_job(out, r, VM_EXIT_VMM_ERROR, -rc, e.msg);
	}
	return 0;
}

/*
 * --print-initramfs: the cached initramfs of the job's Linux guest (the one
 * it names, or the one built for its kernel and modules).  Exit 0 with the
 * path on stdout, 2 for a bad job, 3 when the archive cannot be built.
 */
static int initramfs_print(const char *job_path)
{
	char path[4096];
	struct job_spec job;
	struct verr e = { "" };
	size_t len;
	char *text = read_all(job_path, &len, &e);
	int rc;

	if (!text) {
		fprintf(stderr, "vmm-worker: job: %s\n", e.msg);
		return EXIT_USAGE;
	}
	rc = job_spec_decode(text, len, &job, &e);
	free(text);
	if (rc) {
		fprintf(stderr, "vmm-worker: %s: %s\n", job_path, e.msg);
		return EXIT_USAGE;
	}
	if (job.guest.kind != JOB_GUEST_LINUX) {
		fprintf(stderr, "vmm-worker: %s: the built-in guest has no initramfs\n",
			job.name);
		job_spec_free(&job);
		return EXIT_USAGE;
	}
	rc = initramfs_get(&job.guest, path, sizeof(path), &e);
	if (rc)
		fprintf(stderr, "vmm-worker: %s: %s\n", job.name, e.msg);
	else
		printf("%s\n", path);
	job_spec_free(&job);
	return rc ? EXIT_INFRA : fflush(stdout) ? EXIT_INFRA : 0;
}

static int store_lock_pause(void *ctx, unsigned ms, struct verr *e)
{
	return remote_stdin_pause(ctx, ms, e);
}

/*
 * --store-lock: before anything of the job (the shm region, outputs,
 * /dev/kvm, disks, the sandbox, which would forbid the open); while it
 * waits, the end of stdin still stops the job.
 */
static int store_lock_hold(const struct options *o, struct outputs *out, int *fd,
			   struct verr *e)
{
	if (!o->store_lock)
		return 0;
	return store_lock_take(o->store_lock, STORE_LOCK_WAIT_MS, store_lock_pause,
			       out->remote, fd, e);
}

/*
 * The whole console goes to the region's ring when its creator asked for
 * one (vmorch does; a worker alone or on a fleet host has nobody to read
 * it), at most VMORCH_CONSOLE_MAX bytes whatever the region's word says.
 */
static void console_attach(struct vm *vm, struct shm_region *shm)
{
	uint32_t cap = shm->console_cap;

	serial_set_ring(&vm->serial, shm->console,
			cap < VMORCH_CONSOLE_MAX ? cap : VMORCH_CONSOLE_MAX,
			&shm->console_total);
}

/* Build the VM, shut the sandbox, run the VM to its end; 0 or -errno with @e set. */
static int run_vm(struct vm *vm, const struct job_spec *job, struct outputs *out,
		  struct sandbox *sb, int sig_fd, struct verr *e)
{
	int rc;

	rc = vm_create(vm, job, out->shm, out->start_ns, e);
	if (rc)
		return rc;
	vm->serial.out_fd = out->console_fd;
	console_attach(vm, out->shm);
	vm->xstats = exit_stats_from_env();
	rc = sandbox_enter(sb, e);
	if (rc)
		return rc;
	rc = vm_start(vm, e);
	if (rc)
		return rc;
	shm_set_state(out->shm, SHM_STATE_BOOTING);
	if (job->test_forbidden_syscall)
		sandbox_call_forbidden();
	wait_vm(vm, job, sig_fd, out->remote);
	vm_stop(vm);
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm_result result;	/* static: no allocation needed to fail */
	static struct remote_channel remote;
	struct outputs out = { .result_fd = -1, .console_fd = -1 };
	struct options o = { 0 };
	struct verr e = { "" };
	struct sandbox sb = { 0 };
	struct job_spec job;
	struct shm_map m = { .fd = -1 };
	struct vm *vm = NULL;
	int sig_fd = -1, lock_fd = -1, rc, status = EXIT_INFRA;
	unsigned period_ms;

	out.start_ns = clock_ns();
	if (parent_watch_arm() < 0) {
		fprintf(stderr, "vmm-worker: PR_SET_PDEATHSIG: %s\n", strerror(errno));
		return EXIT_INFRA;
	}
	if (parse_options(argc, argv, &o))
		return EXIT_USAGE;
	if (o.print_initramfs)
		return initramfs_print(o.job);
	if (parent_watch_check(o.parent_pid))
		return EXIT_INFRA;
	if (o.remote) {
		if (remote_period_from_env(&period_ms, &e)) {
			fprintf(stderr, "vmm-worker: %s\n", e.msg);
			return EXIT_USAGE;
		}
		if (remote_channel_open(&remote, 0, 1, period_ms, &e)) {
			fprintf(stderr, "vmm-worker: %s\n", e.msg);
			remote_channel_close(&remote);
			return EXIT_INFRA;
		}
		out.remote = &remote;
	}
	status = job_load(&o, &out, &job, &result);
	if (status) {
		if (out.remote)
			remote_channel_close(out.remote);
		return status;
	}
	status = EXIT_INFRA;

	rc = store_lock_hold(&o, &out, &lock_fd, &e);
	if (rc) {
		status = fail_infra(&out, &result, job.name, rc, e.msg);
		goto out;
	}
	rc = o.shm_fd >= 0 ? shm_map_checked(o.shm_fd, &m, &e) : shm_create(&m, &e);
	if (rc) {
		if (out.remote)
			status = fail_infra(&out, &result, job.name, rc, e.msg);
		else
			fprintf(stderr, "vmm-worker: %s\n", e.msg);
		goto out;
	}
	out.shm = m.r;
	atomic_store(&m.r->worker_pid, (uint32_t)getpid());
	shm_set_state(m.r, SHM_STATE_STARTING);
	shm_heartbeat(m.r);
	if ((rc = outputs_open(&out, &o, &e)) || (rc = sandbox_prepare(&sb, &e))) {
		status = fail_infra(&out, &result, job.name, rc, e.msg);
		goto out;
	}
	sig_fd = signals_open();
	if (sig_fd < 0) {
		rc = verr_errno(&e, "signalfd");
		status = fail_infra(&out, &result, job.name, rc, e.msg);
		goto out;
	}
	/* After signals_open: the reporter inherits the blocked SIGTERM. */
	if (out.remote && (rc = remote_reporter_start(out.remote, m.r, &sb, &e))) {
		status = fail_infra(&out, &result, job.name, rc, e.msg);
		goto out;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		status = fail_infra(&out, &result, job.name, -ENOMEM, "out of memory");
		goto out;
	}
	rc = run_vm(vm, &job, &out, &sb, sig_fd, &e);
	if (rc) {
		status = fail_infra(&out, &result, job.name, rc, e.msg);
		vm_destroy(vm);
		goto out;
	}
	exit_stats_print(vm->xstats, m.r, vm->nvcpus, stderr);
	result_build(vm, &result);
	status = write_result(&out, &result) || vm_exit_kind_is_infra(result.exit_kind) ?
		 EXIT_INFRA : 0;
	vm_destroy_detached(vm);
out:
	if (out.remote)
		remote_channel_close(out.remote);
	outputs_close(&out);
	if (sig_fd >= 0)
		close(sig_fd);
	if (m.r)
		shm_set_state(m.r, SHM_STATE_EXITED);
	if (vm)
		exit_stats_free(vm->xstats);
	free(vm);
	sandbox_release(&sb);
	job_spec_free(&job);
	shm_unmap(&m);
	if (lock_fd >= 0)
		close(lock_fd);		/* the last thing: the job is over */
	return status;
}
