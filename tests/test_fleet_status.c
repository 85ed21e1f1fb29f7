/*
 * test_fleet_status.c - the fleet hosts' states on `vmorch run`'s progress
 * line (fleet_run_status): each host by name while they fit, counts when
 * they do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orchestrator/fleet_run.h"

#define NHOSTS	40

static struct inv_host ih[NHOSTS];
static struct fleet_host fh[NHOSTS];

static void fleet_make(struct fleet_run *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	memset(fh, 0, sizeof(fh));
	for (size_t i = 0; i < n; i++) {
		snprintf(ih[i].name, sizeof(ih[i].name), "kvm%02zu", i + 1);
		fh[i].ih = &ih[i];
		fh[i].up = true;
	}
	f->h = fh;
	f->n = n;
}

/* Up hosts show their running jobs, the others "down". */
static void test_each_host_while_they_fit(void **state)
{
	struct fleet_run f;
	char buf[96];

	(void)state;
	fleet_make(&f, 3);
	fh[0].running = 2;
	fh[1].up = false;
	fleet_run_status(&f, buf, sizeof(buf));
	assert_string_equal(buf, "kvm01:2 kvm02:down kvm03:0");
}

/* 40 hosts do not fit in 96 bytes: counts instead, never a cut name. */
static void test_counts_when_they_do_not(void **state)
{
	struct fleet_run f;
	char buf[96];

	(void)state;
	fleet_make(&f, NHOSTS);
	for (size_t i = 0; i < NHOSTS; i++)
		fh[i].running = i % 3 == 0 ? 1 : 0;
	fh[5].up = fh[7].up = false;
	fleet_run_status(&f, buf, sizeof(buf));
	assert_string_equal(buf, "38 up (14 running), 2 down");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_host_while_they_fit),
		cmocka_unit_test(test_counts_when_they_do_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
