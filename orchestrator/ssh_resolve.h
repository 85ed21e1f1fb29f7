/*
 * ssh_resolve.h - a host name looked up without blocking the SSH loop:
 * glibc's getaddrinfo_a does the lookup on a thread of its own, and the
 * loop asks whether it is done on each step.  An IP address is answered
 * at once.
 */
#ifndef VMORCH_SSH_RESOLVE_H
#define VMORCH_SSH_RESOLVE_H

#include <netdb.h>
#include <stddef.h>

struct ssh_resolve;

/*
 * Start looking up @name (port @port, TCP).  0 with *@out set, or -1 with
 * the reason in @err.  For an IP address *@out is already done.
 */
int ssh_resolve_start(const char *name, unsigned port, struct ssh_resolve **out,
		      char *err, size_t cap);

/*
 * 0 while the lookup runs; 1 when it is over: *@ai holds the addresses
 * (the caller's, freeaddrinfo) or is NULL with the reason in @err.  After
 * 1, @r is freed.
 */
int ssh_resolve_poll(struct ssh_resolve *r, struct addrinfo **ai, char *err, size_t cap);

/* Stop waiting for @r: cancelled, or freed once its thread is done. */
void ssh_resolve_abandon(struct ssh_resolve *r);

/* Abandoned lookups whose thread has not finished yet (collected first). */
size_t ssh_resolve_pending(void);

#endif
