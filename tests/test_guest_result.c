/*
 * test_guest_result.c - how a Linux guest's verdict reaches the worker:
 * the job file appended to the initramfs (vmm-worker/guest_job.c) with its
 * nonce and the program's time limit; the console keeping only the result
 * line that carries the nonce (serial.c); and the payload's status, reason
 * and figures (guest_result.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "vmm-worker/guest_job.h"
#include "vmm-worker/guest_result.h"
#include "vmm-worker/serial.h"

static void test_time_limit_keeps_a_margin(void **state)
{
	static const struct { uint64_t timeout, limit; } t[] = {
		{ 60000, 54000 },	/* a tenth */
		{ 10000, 7000 },	/* at least 3 s */
		{ 3600000, 3570000 },	/* at most 30 s */
		{ 3500, 500 },
		{ 3000, 1500 },		/* no room for the margin: half */
		{ 1, 1 },
	};
	struct job_spec j;

	(void)state;
	job_spec_init(&j);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		j.timeout_ms = t[i].timeout;
		assert_int_equal(guest_job_time_limit_ms(&j), t[i].limit);
	}
}

/* The one file of the archive: its name and bytes, by reading the newc headers. */
static json_t *archive_job_file(const uint8_t *buf, size_t len)
{
	size_t at = 0;

	while (at + 110 <= len && !memcmp(buf + at, "070701", 6)) {
		char field[9] = "";
		unsigned long namesize, filesize;
		const char *name = (const char *)buf + at + 110;

		memcpy(field, buf + at + 54, 8);
		filesize = strtoul(field, NULL, 16);
		memcpy(field, buf + at + 94, 8);
		namesize = strtoul(field, NULL, 16);
		at = (at + 110 + namesize + 3) & ~(size_t)3;
		if (!strcmp(name, GUEST_JOB_FILE + 1))
			return json_loadb((const char *)buf + at, filesize, 0, NULL);
		at = (at + filesize + 3) & ~(size_t)3;
	}
	return NULL;
}

static void test_job_file_carries_run_and_nonce(void **state)
{
	struct guest_job a, b;
	struct job_spec j;
	struct verr e = { "" };
	struct timespec now;
	json_int_t wall;
	json_t *o;

	(void)state;
	job_spec_init(&j);
	j.guest.kind = JOB_GUEST_LINUX;
	j.timeout_ms = 60000;
	j.guest.run_argc = 2;
	j.guest.run_argv = calloc(2, sizeof(char *));
	j.guest.run_argv[0] = strdup("fio");
	j.guest.run_argv[1] = strdup("--filename=${disk0}");
	j.guest.metrics_from = JOB_METRICS_FIO_JSON;
	j.guest.rootfs = strdup("/img/debian.raw");
	j.ndisks = 2;
	if (guest_job_build(&a, &j, &e) || guest_job_build(&b, &j, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(strlen(a.nonce), GUEST_NONCE_LEN);
	assert_int_equal(strspn(a.nonce, "0123456789abcdef"), GUEST_NONCE_LEN);
	assert_string_not_equal(a.nonce, b.nonce);
	assert_int_equal(a.cpio_len % 4, 0);
	o = archive_job_file(a.cpio, a.cpio_len);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "nonce")), a.nonce);
	assert_int_equal(json_integer_value(json_object_get(o, "time_limit_ms")), 54000);
	assert_string_equal(json_string_value(json_object_get(o, "metrics_from")), "fio-json");
	assert_int_equal(json_array_size(json_object_get(o, "run")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "run"), 1)),
			    "--filename=${disk0}");
	assert_int_equal(json_integer_value(json_object_get(o, "rootfs_disk")), 2);
	/* The same limit on the wall clock, from when the file was made. */
	clock_gettime(CLOCK_REALTIME, &now);
	wall = (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + 54000;
	assert_true(json_integer_value(json_object_get(o, "deadline_unix_ms")) <= wall);
	assert_true(json_integer_value(json_object_get(o, "deadline_unix_ms")) > wall - 10000);
	assert_int_equal(json_object_size(o), 6);
	json_decref(o);
	guest_job_free(&a);
	guest_job_free(&b);

	/* The agent's own workload: the nonce alone. */
	job_spec_free(&j);
	job_spec_init(&j);
	j.guest.kind = JOB_GUEST_LINUX;
	if (guest_job_build(&a, &j, &e))
		fail_msg("%s", e.msg);
	o = archive_job_file(a.cpio, a.cpio_len);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "nonce")), a.nonce);
	json_decref(o);
	guest_job_free(&a);
	job_spec_free(&j);
}

static void serial_print(struct serial *s, const char *text)
{
	for (; *text; text++) {
		uint8_t c = (uint8_t)*text;

		serial_io(s, SERIAL_PORT_BASE, &c, true);
	}
}

/* Only the line with the nonce is the result; what else is printed is not. */
static void test_console_takes_only_the_nonce_line(void **state)
{
	static const char nonce[] = "0123456789abcdef0123456789abcdef";
	struct serial *s = calloc(1, sizeof(*s));
	char buf[256];

	(void)state;
	serial_init(s, -1);
	serial_set_nonce(s, nonce);
	serial_print(s, "VMORCH-RESULT {\"status\":\"pass\"}\n");
	assert_false(serial_result_line(s, buf, sizeof(buf)));
	serial_print(s, "VMORCH-RESULT 0123456789abcdef0123456789abcde {\"status\":\"pass\"}\n");
	assert_false(serial_result_line(s, buf, sizeof(buf)));
	serial_print(s, "VMORCH-RESULT 0123456789abcdef0123456789abcdef {\"status\":\"fail\"}\r\n");
	assert_true(serial_result_line(s, buf, sizeof(buf)));
	assert_string_equal(buf, "{\"status\":\"fail\"}");
	/* A forgery printed later does not replace it. */
	serial_print(s, "VMORCH-RESULT 0123456789abcdef0123456789abcdefX{\"status\":\"pass\"}\n");
	serial_print(s, "VMORCH-RESULT {\"status\":\"pass\"}\n");
	assert_true(serial_result_line(s, buf, sizeof(buf)));
	assert_string_equal(buf, "{\"status\":\"fail\"}");
	serial_destroy(s);

	/* No nonce (the built-in guest, a user's own initramfs): any result line. */
	serial_init(s, -1);
	serial_print(s, "VMORCH-RESULT {\"status\":\"pass\"}\n");
	assert_true(serial_result_line(s, buf, sizeof(buf)));
	assert_string_equal(buf, "{\"status\":\"pass\"}");
	serial_destroy(s);
	free(s);
}

static void test_payload_status_reason_figures(void **state)
{
	struct vm_result *r = calloc(1, sizeof(*r));
	enum guest_status st;
	char reason[64], *big;
	struct verr e = { "" };
	size_t len = 0;

	(void)state;
	assert_int_equal(guest_result_parse("{\"status\":\"pass\",\"exit_code\":0,"
					    "\"user.answer\":42}", r, &st, reason,
					    sizeof(reason), &e), 0);
	assert_int_equal(st, GUEST_STATUS_PASS);
	assert_int_equal(r->nmetrics, 2);
	assert_string_equal(r->metric[1].name, "user.answer");
	assert_true(r->metric[1].value == 42.0);

	memset(r, 0, sizeof(*r));
	assert_int_equal(guest_result_parse("{\"status\":\"timeout\",\"reason\":\"run: killed\"}",
					    r, &st, reason, sizeof(reason), &e), 0);
	assert_int_equal(st, GUEST_STATUS_TIMEOUT);
	assert_string_equal(reason, "run: killed");
	assert_int_equal(guest_result_parse("{\"status\":\"PASS\"}", r, &st, reason,
					    sizeof(reason), &e), 0);
	assert_int_equal(st, GUEST_STATUS_FAIL);
	assert_int_equal(guest_result_parse("[1]", r, &st, reason, sizeof(reason), &e),
			 -EINVAL);

	/* One figure more than a result holds is an error, not a cut. */
	big = malloc(64 * (VM_RESULT_MAX_METRICS + 2));
	len += (size_t)sprintf(big, "{\"status\":\"pass\"");
	for (int i = 0; i <= VM_RESULT_MAX_METRICS; i++)
		len += (size_t)sprintf(big + len, ",\"user.m%d\":%d", i, i);
	strcpy(big + len, "}");
	memset(r, 0, sizeof(*r));
	assert_int_equal(guest_result_parse(big, r, &st, reason, sizeof(reason), &e), -E2BIG);
	assert_int_equal(st, GUEST_STATUS_FAIL);
	assert_string_equal(e.msg, "guest result line: more figures than a result holds (256)");
	free(big);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_limit_keeps_a_margin),
		cmocka_unit_test(test_job_file_carries_run_and_nonce),
		cmocka_unit_test(test_console_takes_only_the_nonce_line),
		cmocka_unit_test(test_payload_status_reason_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
