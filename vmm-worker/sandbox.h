/*
 * sandbox.h - least privilege for the worker, the process that parses
 * guest-controlled rings: no_new_privs, no capabilities, and a seccomp
 * allow-list of the system calls a running VM needs (doc/architecture.md).
 */
#ifndef VMORCH_SANDBOX_H
#define VMORCH_SANDBOX_H

#include "common/verr.h"

struct sandbox {
	void *filter;		/* a libseccomp scmp_filter_ctx, until loaded */
};

/*
 * Build the seccomp filter (not yet loaded).  Done once, at start, so that
 * a libseccomp that cannot build it fails the job before any VM exists.
 * 0 or -errno with @e set.
 */
int sandbox_prepare(struct sandbox *sb, struct verr *e);

/*
 * Set no_new_privs, drop every capability (effective, permitted,
 * inheritable, ambient, and the bounding set where permitted), and load
 * the filter.  Called on the only thread, after set-up and before any
 * other thread exists: capabilities are per thread, and threads created
 * afterwards inherit all three.  0 or -errno with @e set; a failure is the
 * host's (an infrastructure error).
 */
int sandbox_enter(struct sandbox *sb, struct verr *e);

void sandbox_release(struct sandbox *sb);

/* Test only: a system call the filter forbids (the process dies by SIGSYS). */
void sandbox_call_forbidden(void);

#endif
