/*
 * sandbox.c - no_new_privs, no capabilities and a seccomp allow-list for
 * the running worker (see sandbox.h).  The list was taken from strace -f of
 * the worker running built-in and Linux guests, with and without disks and
 * throttles, to the end of the detached teardown; doc/architecture.md says
 * why each group is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include "vmm-worker/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZERS 1
#endif
#endif

/* Allowed with any arguments. */
static const int sandbox_allowed[] = {
	/*
	 * Guest memory and device I/O on descriptors opened during set-up; a
	 * --remote worker's frames, stdin watch and /proc re-reads (remote.c)
	 * need nothing more.
	 */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(preadv2), SCMP_SYS(pwritev2), SCMP_SYS(fdatasync), SCMP_SYS(fsync),
	/* Waiting: device threads on epoll, main loop on poll, throttle timers. */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(restart_syscall),
	/* malloc, thread stacks. */
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(mremap), SCMP_SYS(brk),
	/* Threads (pthread_create, pthread_join, pthread_kill of a vCPU). */
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
	/* Signals: SIGUSR1 kicks, the SIGTERM signalfd, abort(). */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack),
	/* Teardown: the child that pays for the VM's destruction (vm.c). */
	SCMP_SYS(pipe2), SCMP_SYS(setsid), SCMP_SYS(close), SCMP_SYS(close_range),
};

#ifdef SANDBOX_SANITIZERS
/*
 * Sanitizer builds only (the tests'): LeakSanitizer's check at exit stops
 * the world from a helper thread that ptraces the others and reads
 * /proc/self/task and /proc/self/maps; a report reads the binary to
 * symbolize.  A release build has none of these.
 */
static const int sandbox_allowed_sanitizers[] = {
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl), SCMP_SYS(getdents),
	SCMP_SYS(getdents64),
	SCMP_SYS(readlink), SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
	SCMP_SYS(getppid), SCMP_SYS(sched_getparam), SCMP_SYS(getrlimit),
	SCMP_SYS(prlimit64), SCMP_SYS(kill), SCMP_SYS(tkill),
};
#endif

static int sandbox_add(scmp_filter_ctx ctx, const int *nr, size_t n, struct verr *e)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr[i], 0);

		if (rc) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr[i]);

			verr_set(e, "seccomp: cannot allow %s: %s", name ? name : "?",
				 strerror(-rc));
			free(name);
			return rc;
		}
	}
	return 0;
}

/*
 * ioctl only of KVM's type (0xAE): KVM_RUN and friends on the VM and vCPU
 * descriptors.  Nothing else, so not TIOCSTI on an inherited terminal.
 */
static int sandbox_add_ioctl(scmp_filter_ctx ctx, struct verr *e)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, KVMIO << 8));

	if (rc)
		verr_set(e, "seccomp: cannot allow KVM ioctls: %s", strerror(-rc));
	return rc;
}

#ifdef SANDBOX_SANITIZERS
/* Opening for reading only (LeakSanitizer's /proc/self files). */
static int sandbox_add_open_ro(scmp_filter_ctx ctx, struct verr *e)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
					  O_RDONLY));

	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ,
					      O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	if (rc)
		verr_set(e, "seccomp: cannot allow read-only opens: %s", strerror(-rc));
	return rc;
}
#endif

int sandbox_prepare(struct sandbox *sb, struct verr *e)
{
	scmp_filter_ctx ctx;
	int rc;

	sb->filter = NULL;
	/* KILL_PROCESS, not KILL (thread): a half-dead worker must not linger. */
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		verr_set(e, "seccomp: cannot start a filter");
		return -ENOMEM;
	}
	rc = sandbox_add(ctx, sandbox_allowed,
			 sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]), e);
	if (!rc)
		rc = sandbox_add_ioctl(ctx, e);
#ifdef SANDBOX_SANITIZERS
	if (!rc)
		rc = sandbox_add(ctx, sandbox_allowed_sanitizers,
				 sizeof(sandbox_allowed_sanitizers) /
				 sizeof(sandbox_allowed_sanitizers[0]), e);
	if (!rc)
		rc = sandbox_add_open_ro(ctx, e);
#endif
	if (rc) {
		seccomp_release(ctx);
		return rc;
	}
	sb->filter = ctx;
	return 0;
}

/*
 * Effective, permitted and inheritable sets emptied with the raw capset
 * (no libcap for one call); ambient ones go with them.  The bounding set
 * only matters for an execve the filter forbids anyway, and dropping from
 * it needs CAP_SETPCAP: done when permitted, skipped for a non-root worker.
 */
static int sandbox_drop_caps(struct verr *e)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return verr_errno(e, "cannot drop capability %d from the bounding set",
					  cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return verr_errno(e, "cannot clear the ambient capabilities");
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return verr_errno(e, "capset");
	return 0;
}

int sandbox_enter(struct sandbox *sb, struct verr *e)
{
	int rc;

	if (!sb->filter) {
		verr_set(e, "seccomp: no filter was built");
		return -EINVAL;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return verr_errno(e, "cannot set no_new_privs");
	rc = sandbox_drop_caps(e);
	if (rc)
		return rc;
	rc = seccomp_load(sb->filter);
	if (rc) {
		verr_set(e, "seccomp: cannot load the filter: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

void sandbox_release(struct sandbox *sb)
{
	if (sb->filter)
		seccomp_release(sb->filter);
	sb->filter = NULL;
}

void sandbox_call_forbidden(void)
{
	/* A network socket: what a worker taken over by its guest would want. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
}
