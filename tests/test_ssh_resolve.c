/*
 * test_ssh_resolve.c - host names looked up off the SSH loop
 * (orchestrator/ssh_resolve.c): an IP address is answered at once, a name
 * (localhost, from /etc/hosts) through glibc's resolver thread, and a
 * lookup abandoned while it runs is no one's to free twice.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "orchestrator/ssh_resolve.h"

/* Poll @r until it is over, at most 10 s; its addresses or NULL. */
static struct addrinfo *wait_for(struct ssh_resolve *r, char *err, size_t cap)
{
	struct timespec ms = { 0, 1000000 };
	struct addrinfo *ai = NULL;

	for (int i = 0; i < 10000; i++) {
		if (ssh_resolve_poll(r, &ai, err, cap))
			return ai;
		nanosleep(&ms, NULL);
	}
	fail_msg("the lookup did not end within 10 s");
	return NULL;
}

static void test_ip_address_at_once(void **state)
{
	struct ssh_resolve *r;
	struct addrinfo *ai = NULL;
	char err[200] = "";

	(void)state;
	assert_int_equal(ssh_resolve_start("127.0.0.2", 2222, &r, err, sizeof(err)), 0);
	assert_int_equal(ssh_resolve_poll(r, &ai, err, sizeof(err)), 1);
	assert_non_null(ai);
	assert_int_equal(ai->ai_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port), 2222);
	assert_int_equal(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr,
			 htonl(0x7f000002));
	freeaddrinfo(ai);
}

static void test_name_through_the_resolver(void **state)
{
	struct ssh_resolve *r;
	struct addrinfo *ai;
	char err[200] = "";
	bool loopback = false;

	(void)state;
	assert_int_equal(ssh_resolve_start("localhost", 22, &r, err, sizeof(err)), 0);
	ai = wait_for(r, err, sizeof(err));
	if (!ai)
		fail_msg("localhost: %s", err);
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		if (a->ai_family == AF_INET)
			loopback |= ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr ==
				    htonl(INADDR_LOOPBACK);
		else if (a->ai_family == AF_INET6)
			loopback |= !memcmp(&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr,
					    &in6addr_loopback, sizeof(in6addr_loopback));
	}
	assert_true(loopback);
	freeaddrinfo(ai);
}

/* Abandoned at once, then again after it ended: both are freed (ASan). */
static void test_abandoned_lookups_are_freed(void **state)
{
	struct ssh_resolve *r;
	char err[200] = "";
	struct addrinfo *ai;

	(void)state;
	assert_int_equal(ssh_resolve_start("localhost", 22, &r, err, sizeof(err)), 0);
	ssh_resolve_abandon(r);
	assert_int_equal(ssh_resolve_start("127.0.0.3", 22, &r, err, sizeof(err)), 0);
	ssh_resolve_abandon(r);
	/* A later lookup collects what the first left, whenever glibc is done. */
	assert_int_equal(ssh_resolve_start("localhost", 22, &r, err, sizeof(err)), 0);
	ai = wait_for(r, err, sizeof(err));
	assert_non_null(ai);
	freeaddrinfo(ai);
	for (int i = 0; i < 10000 && ssh_resolve_pending(); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	assert_int_equal(ssh_resolve_pending(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_address_at_once),
		cmocka_unit_test(test_name_through_the_resolver),
		cmocka_unit_test(test_abandoned_lookups_are_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
