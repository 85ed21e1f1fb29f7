/*
 * test_shm.c - the shared region: live counters across processes, survival of
 * a killed writer, header validation and the result slot.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/shm.h"

/* Wait (at most 10 s) until disk 0 shows @n reads. */
static int wait_reads(struct shm_region *r, uint64_t n)
{
	struct vblk_snapshot s;

	for (int i = 0; i < 10000; i++) {
		shm_snapshot_disk(r, 0, &s);
		if (s.reads_completed == n)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void child_run(int fd, int go_fd)
{
	struct shm_map m;
	char c;

	/* The child maps the inherited fd the way a worker does. */
	if (shm_map_checked(fd, &m, NULL))
		_exit(2);
	for (int i = 0; i < 1000; i++)
		record_read(&m.r->disk[0], 4096);
	if (read(go_fd, &c, 1) != 1)
		_exit(3);
	for (int i = 0; i < 500; i++)
		record_read(&m.r->disk[0], 4096);
	for (;;)
		pause();
}

/* The parent sees a child's counters while it runs and after SIGKILL. */
static void test_live_counters_survive_sigkill(void **state)
{
	struct vblk_snapshot s;
	struct shm_map m;
	int go[2], status;
	pid_t pid;

	assert_int_equal(shm_create(&m, NULL), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		child_run(m.fd, go[0]);
	}
	close(go[0]);

	assert_int_equal(wait_reads(m.r, 1000), 0);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);	/* still alive */
	shm_snapshot_disk(m.r, 0, &s);
	assert_int_equal(s.bytes_read, 4096000);

	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(wait_reads(m.r, 1500), 0);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	shm_snapshot_disk(m.r, 0, &s);
	assert_int_equal(s.reads_completed, 1500);
	assert_int_equal(s.bytes_read, 6144000);
	assert_int_equal(s.writes_completed, 0);
	close(go[1]);
	shm_unmap(&m);
}

static void expect_refused(int fd, int want_rc, const char *want_msg)
{
	struct shm_map m2 = { .fd = -1 };
	struct verr e = { "" };

	assert_int_equal(shm_map_checked(fd, &m2, &e), want_rc);
	assert_null(m2.r);
	assert_non_null(strstr(e.msg, want_msg));
}

/* A wrong magic is refused and named. */
static void test_map_refuses_bad_magic(void **state)
{
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	m.r->hdr.magic = 0x1122334455667788ULL;
	expect_refused(m.fd, -EBADMSG,
		       "shm: bad magic 0x1122334455667788 (expected 0x4d524f564d4d5631)");
	shm_unmap(&m);
}

/* A region from another ABI version is refused. */
static void test_map_refuses_bad_version(void **state)
{
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	m.r->hdr.abi_version = 7;
	expect_refused(m.fd, -EPROTO, "shm: ABI version 7, this vmorch speaks 2");
	shm_unmap(&m);
}

/* A header that claims another size is refused. */
static void test_map_refuses_bad_size(void **state)
{
	char want[128];
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	m.r->hdr.size = 4096;
	snprintf(want, sizeof(want), "shm: region size 4096 (file %zu bytes), expected %zu",
		 sizeof(struct shm_region), sizeof(struct shm_region));
	expect_refused(m.fd, -EBADMSG, want);
	shm_unmap(&m);
}

/* A file too small to hold a header is refused before it is read. */
static void test_map_refuses_tiny_file(void **state)
{
	int fd = memfd_create("tiny", 0);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8), 0);
	expect_refused(fd, -EBADMSG, "shm: region is 8 bytes, too small for a header");
	close(fd);
}

/* A correct header over a truncated file is refused (no SIGBUS later). */
static void test_map_refuses_short_file(void **state)
{
	struct shm_header h = {
		.magic = SHM_MAGIC, .abi_version = SHM_ABI_VERSION,
		.size = sizeof(struct shm_region),
	};
	char want[128];
	int fd = memfd_create("short", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	assert_int_equal(ftruncate(fd, 65536), 0);
	snprintf(want, sizeof(want), "(file 65536 bytes), expected %zu",
		 sizeof(struct shm_region));
	expect_refused(fd, -EBADMSG, want);
	close(fd);
}

/* The region's size is sealed: nobody can shrink it under a reader. */
static void test_region_size_is_sealed(void **state)
{
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	assert_int_equal(ftruncate(m.fd, 4096), -1);
	assert_int_equal(errno, EPERM);
	shm_unmap(&m);
}

/* A result published by the writer is read back whole; none before. */
static void test_result_slot_round_trip(void **state)
{
	struct vm_result r = { 0 }, back;
	struct shm_map m;
	char *json;

	assert_int_equal(shm_create(&m, NULL), 0);
	assert_int_equal(shm_read_result(m.r, &back, NULL), 0);

	r.success = true;
	r.exit_kind = VM_EXIT_GUEST_PASS;
	r.ndisks = 1;
	r.disk[0].reads_completed = 1000;
	r.disk[0].bytes_read = 4096000;
	json = vm_result_encode(&r);
	assert_non_null(json);
	assert_int_equal(shm_publish_result(m.r, json, strlen(json)), 0);
	free(json);

	assert_int_equal(shm_read_result(m.r, &back, NULL), 1);
	assert_true(back.success);
	assert_int_equal(back.ndisks, 1);
	assert_int_equal(back.disk[0].reads_completed, 1000);
	assert_int_equal(back.disk[0].bytes_read, 4096000);
	shm_unmap(&m);
}

/* A scribbled result slot is an error, not a crash or a bogus result. */
static void test_result_slot_garbage_refused(void **state)
{
	struct vm_result back;
	struct verr e = { "" };
	struct shm_map m;

	assert_int_equal(shm_create(&m, NULL), 0);
	m.r->result_len = SHM_RESULT_MAX + 1;
	atomic_store(&m.r->result_ready, 1);
	assert_int_equal(shm_read_result(m.r, &back, &e), -EBADMSG);
	assert_string_equal(e.msg, "shm: result length 65537 out of range (1..65536)");

	memcpy(m.r->result_json, "{\"version\":1}", 13);
	m.r->result_len = 13;
	assert_int_equal(shm_read_result(m.r, &back, &e), -EINVAL);
	assert_string_equal(e.msg, "shm result slot: result: missing field 'success'");
	shm_unmap(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_counters_survive_sigkill),
		cmocka_unit_test(test_map_refuses_bad_magic),
		cmocka_unit_test(test_map_refuses_bad_version),
		cmocka_unit_test(test_map_refuses_bad_size),
		cmocka_unit_test(test_map_refuses_tiny_file),
		cmocka_unit_test(test_map_refuses_short_file),
		cmocka_unit_test(test_region_size_is_sealed),
		cmocka_unit_test(test_result_slot_round_trip),
		cmocka_unit_test(test_result_slot_garbage_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
