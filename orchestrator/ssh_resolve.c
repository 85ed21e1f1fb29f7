/*
 * ssh_resolve.c - host names looked up off the loop (see ssh_resolve.h).
 * A lookup the loop stops waiting for may still run on glibc's thread,
 * which writes into its request: such a request is kept on a list and
 * freed once glibc says it is over, on a later start or poll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/ssh_resolve.h"

struct ssh_resolve {
	struct gaicb cb;
	struct addrinfo hints;
	char port[16];
	char *name;
	bool done;			/* answered at once: cb.ar_result holds it */
	int rc;
	struct ssh_resolve *next;	/* on the abandoned list */
};

static struct ssh_resolve *abandoned;

static void resolve_free(struct ssh_resolve *r)
{
	if (r->cb.ar_result)
		freeaddrinfo(r->cb.ar_result);
	free(r->name);
	free(r);
}

/* Free the abandoned lookups glibc has finished with. */
static void resolve_collect(void)
{
	struct ssh_resolve **p = &abandoned;

	while (*p) {
		struct ssh_resolve *r = *p;

		if (gai_error(&r->cb) == EAI_INPROGRESS) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		resolve_free(r);
	}
}

static bool resolve_numeric(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static void resolve_why(int rc, char *err, size_t cap)
{
	snprintf(err, cap, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
}

int ssh_resolve_start(const char *name, unsigned port, struct ssh_resolve **out,
		      char *err, size_t cap)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	struct gaicb *list[1];
	struct ssh_resolve *r;

	resolve_collect();
	r = calloc(1, sizeof(*r));
	if (!r || !(r->name = strdup(name))) {
		free(r);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	snprintf(r->port, sizeof(r->port), "%u", port);
	r->hints = (struct addrinfo){ .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	r->cb = (struct gaicb){ .ar_name = r->name, .ar_service = r->port,
				.ar_request = &r->hints };
	if (resolve_numeric(name)) {
		r->hints.ai_flags |= AI_NUMERICHOST;
		r->rc = getaddrinfo(r->name, r->port, &r->hints, &r->cb.ar_result);
		r->done = true;
	} else {
		list[0] = &r->cb;
		r->rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
		if (r->rc) {
			resolve_why(r->rc, err, cap);
			resolve_free(r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

int ssh_resolve_poll(struct ssh_resolve *r, struct addrinfo **ai, char *err, size_t cap)
{
	int rc = r->done ? r->rc : gai_error(&r->cb);

	resolve_collect();
	if (rc == EAI_INPROGRESS)
		return 0;
	*ai = NULL;
	if (rc)
		resolve_why(rc, err, cap);
	else
		*ai = r->cb.ar_result;
	if (!rc)
		r->cb.ar_result = NULL;	/* the caller's now */
	resolve_free(r);
	return 1;
}

size_t ssh_resolve_pending(void)
{
	size_t n = 0;

	resolve_collect();
	for (struct ssh_resolve *r = abandoned; r; r = r->next)
		n++;
	return n;
}

void ssh_resolve_abandon(struct ssh_resolve *r)
{
	if (!r)
		return;
	if (!r->done && gai_cancel(&r->cb) == EAI_NOTCANCELED) {
		r->next = abandoned;
		abandoned = r;
		return;
	}
	resolve_free(r);
}
