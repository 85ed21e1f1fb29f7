/*
 * test_fleet_stage.c - staging files on a fleet host by sha256
 * (orchestrator/fleet_stage.c), against a real sshd on 127.0.0.2 started
 * by tests/fleet/sshd.sh: the worker lands executable with its exact
 * bytes, a wrong sha256 leaves nothing, an unwritable workdir is a clear
 * error, the host probe then sees the worker staged, and staging waits
 * while `vmorch hosts gc` holds the store lock.  Skips when
 * /usr/sbin/sshd is missing, unless CI is set (then it fails).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sha256.h"
#include "orchestrator/fleet_stage.h"
#include "orchestrator/host_probe.h"
#include "orchestrator/ssh.h"
#include "tests/fleet/sshd_harness.h"

static struct fleet F;
static bool have_fleet;
static unsigned port;
static char workdir[1024], known[1024], key[1024];

static void need_fleet(void)
{
	if (have_fleet)
		return;
	if (fleet_available())
		fail_msg("%s is there but the fake host did not start", FLEET_SSHD);
	if (getenv("CI"))
		fail_msg("%s is missing and CI is set (apt-get install openssh-server)",
			 FLEET_SSHD);
	skip();
}

struct conn {
	struct ssh_loop *l;
	struct ssh_conn *c;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_open(struct conn *k)
{
	const char *ids[] = { key };
	struct ssh_target t = {
		.name = "a", .address = "127.0.0.2", .port = port, .user = NULL,
		.identities = ids, .nidentities = 1, .agent_sock = "",
		.known_hosts = known, .policy = KH_ACCEPT_NEW,
	};
	struct ssh_loop_opts o;
	struct verr e = { "" };
	uint64_t end = now_ms() + 15000;
	char user[64];

	snprintf(user, sizeof(user), "%s", getenv("USER") ? getenv("USER") : "root");
	t.user = user;
	ssh_loop_opts_default(&o);
	assert_int_equal(ssh_loop_new(&o, &(struct ssh_loop_ops){ 0 }, NULL, &k->l, &e), 0);
	assert_int_equal(ssh_conn_new(k->l, &t, &k->c, &e), 0);
	while (ssh_conn_state(k->c) != SSH_CONN_READY && now_ms() < end) {
		assert_int_equal(ssh_conn_state(k->c) == SSH_CONN_DOWN, 0);
		assert_int_equal(ssh_loop_run_once(k->l, 100, &e), 0);
	}
	assert_int_equal(ssh_conn_state(k->c), SSH_CONN_READY);
}

static void conn_close(struct conn *k)
{
	ssh_loop_free(k->l);
}

static char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Files in @dir whose name starts with '.': temporaries left behind. */
static int dot_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* 1 MiB of a pattern, and its sha256. */
static char *payload(size_t *len, char sha[65])
{
	char *p = malloc(1 << 20);

	assert_non_null(p);
	for (size_t i = 0; i < (1 << 20); i++)
		p[i] = (char)(i * 131 + (i >> 12));
	*len = 1 << 20;
	sha256_hex(p, *len, sha);
	return p;
}

/* The worker lands at bin/<sha256>/vmm-worker, executable, byte for byte, no temporary left. */
static void test_worker_staged_exactly(void **state)
{
	struct conn k;
	struct verr e = { "" };
	char sha[65], path[PATH_MAX], dir[2048];
	size_t len, got_len;
	char *data, *got;
	struct stat st;

	need_fleet();
	data = payload(&len, sha);
	conn_open(&k);
	assert_int_equal(fleet_stage(k.l, k.c, workdir, data, len, sha,
				     FLEET_STAGE_WORKER, 30000, &e), 0);
	snprintf(dir, sizeof(dir), "%s/bin/%s", workdir, sha);
	snprintf(path, sizeof(path), "%s/vmm-worker", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	got = file_read(path, &got_len);
	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(dot_files(dir), 0);
	free(got);
	free(data);
	conn_close(&k);
	(void)state;
}

/* A wrong sha256 is refused on the host and leaves no file, final or temporary. */
static void test_wrong_sha_leaves_nothing(void **state)
{
	static const char wrong[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	struct conn k;
	struct verr e = { "" };
	char sha[65], want[512], dir[2048], path[PATH_MAX];
	size_t len;
	char *data;

	need_fleet();
	data = payload(&len, sha);
	conn_open(&k);
	assert_int_equal(fleet_stage(k.l, k.c, workdir, data, len, wrong,
				     FLEET_STAGE_CAS, 30000, &e), -EIO);
	snprintf(want, sizeof(want), "staging %s on a: sha256 mismatch: got %s", wrong, sha);
	assert_string_equal(e.msg, want);
	snprintf(dir, sizeof(dir), "%s/cas", workdir);
	snprintf(path, sizeof(path), "%s/%s", dir, wrong);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dot_files(dir), 0);
	free(data);
	conn_close(&k);
	(void)state;
}

/*
 * Fewer bytes than the command was built for (what a full disk leaves in
 * the temporary): refused by size, whatever the hash, and nothing stays.
 */
static void test_short_file_leaves_nothing(void **state)
{
	struct conn k;
	struct verr e = { "" };
	struct ssh_run_result r;
	char sha[65], dir[2048], path[PATH_MAX];
	size_t len;
	char *data, *cmd;

	need_fleet();
	data = payload(&len, sha);
	conn_open(&k);
	cmd = fleet_stage_command(workdir, sha, len + 1, FLEET_STAGE_CAS, &e);
	assert_non_null(cmd);
	if (ssh_run(k.l, k.c, cmd, data, len, 4096, 30000, &r, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "short write"));
	snprintf(dir, sizeof(dir), "%s/cas", workdir);
	snprintf(path, sizeof(path), "%s/%s", dir, sha);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dot_files(dir), 0);
	ssh_run_result_release(&r);
	free(cmd);
	free(data);
	conn_close(&k);
	(void)state;
}

/* A workdir the user cannot create is an error that says so. */
static void test_unwritable_workdir_is_clear(void **state)
{
	struct conn k;
	struct verr e = { "" };
	char sha[65], bad[PATH_MAX + 16];
	size_t len;
	char *data;
	FILE *f;

	need_fleet();
	snprintf(bad, sizeof(bad), "%s/afile", workdir);
	f = fopen(bad, "w");		/* a file where a directory must go */
	assert_non_null(f);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s/afile/w", workdir);
	data = payload(&len, sha);
	conn_open(&k);
	assert_int_equal(fleet_stage(k.l, k.c, bad, data, len, sha,
				     FLEET_STAGE_CAS, 30000, &e), -EIO);
	assert_non_null(strstr(e.msg, "on a: "));
	assert_non_null(strstr(e.msg, "Not a directory"));
	free(data);
	conn_close(&k);
	(void)state;
}

/* After staging, the host probe sees this worker staged. */
static void test_probe_sees_what_was_staged(void **state)
{
	struct conn k;
	struct verr e = { "" };
	struct ssh_run_result r;
	struct host_probe hp;
	char sha[65];
	size_t len;
	char *data, *cmd;

	need_fleet();
	data = payload(&len, sha);
	data[0] ^= 1;		/* another "worker" than the first test's */
	sha256_hex(data, len, sha);
	conn_open(&k);
	cmd = host_probe_command(workdir, sha, &e);
	assert_non_null(cmd);
	assert_int_equal(ssh_run(k.l, k.c, cmd, NULL, 0, 65536, 20000, &r, &e), 0);
	assert_int_equal(host_probe_parse(r.out, r.out_len, &hp, &e), 0);
	assert_false(hp.worker_staged);
	ssh_run_result_release(&r);
	assert_int_equal(fleet_stage(k.l, k.c, workdir, data, len, sha,
				     FLEET_STAGE_WORKER, 30000, &e), 0);
	assert_int_equal(ssh_run(k.l, k.c, cmd, NULL, 0, 65536, 20000, &r, &e), 0);
	assert_int_equal(host_probe_parse(r.out, r.out_len, &hp, &e), 0);
	assert_true(hp.worker_staged);
	ssh_run_result_release(&r);
	free(cmd);
	free(data);
	conn_close(&k);
	(void)state;
}

/*
 * Staging holds the store lock shared: while `vmorch hosts gc` holds it
 * exclusively (here a child of the test, for 1.5 s), the stage waits, and
 * then stages.
 */
static void test_stage_waits_for_gc_lock(void **state)
{
	struct conn k;
	struct verr e = { "" };
	char sha[65], lock[PATH_MAX], path[PATH_MAX + 80], go;
	int ready[2], fd, status;
	uint64_t t0, took;
	size_t len;
	char *data;
	pid_t gc;

	need_fleet();
	data = payload(&len, sha);
	data[1] ^= 1;		/* not a file an earlier test staged */
	sha256_hex(data, len, sha);
	conn_open(&k);
	snprintf(lock, sizeof(lock), "%s/lock", workdir);
	assert_int_equal(mkdir(workdir, 0755) == 0 || errno == EEXIST, 1);
	assert_int_equal(pipe(ready), 0);
	gc = fork();
	if (gc == 0) {
		fd = open(lock, O_RDWR | O_CREAT, 0644);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		usleep(1500 * 1000);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &go, 1), 1);
	close(ready[0]);
	t0 = now_ms();
	assert_int_equal(fleet_stage(k.l, k.c, workdir, data, len, sha,
				     FLEET_STAGE_CAS, 30000, &e), 0);
	took = now_ms() - t0;
	print_message("# staged %llu ms after the gc lock was taken\n",
		      (unsigned long long)took);
	assert_true(took >= 1300);
	assert_int_equal(waitpid(gc, &status, 0), gc);
	assert_int_equal(status, 0);
	snprintf(path, sizeof(path), "%s/cas/%s", workdir, sha);
	assert_int_equal(access(path, F_OK), 0);
	free(data);
	conn_close(&k);
	(void)state;
}

static int group_setup(void **state)
{
	if (!fleet_available())
		return 0;
	if (fleet_init(&F) || fleet_start(&F, 2, "ed25519", &port)) {
		fprintf(stderr, "# the fake host did not start\n");
		fleet_stop(&F);
		return 0;
	}
	fleet_path(&F, "work", workdir, sizeof(workdir));
	fleet_path(&F, "known_hosts", known, sizeof(known));
	fleet_path(&F, "id_ed25519", key, sizeof(key));
	have_fleet = true;
	(void)state;
	return 0;
}

static int group_teardown(void **state)
{
	fleet_stop(&F);
	(void)state;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_staged_exactly),
		cmocka_unit_test(test_wrong_sha_leaves_nothing),
		cmocka_unit_test(test_short_file_leaves_nothing),
		cmocka_unit_test(test_unwritable_workdir_is_clear),
		cmocka_unit_test(test_probe_sees_what_was_staged),
		cmocka_unit_test(test_stage_waits_for_gc_lock),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
