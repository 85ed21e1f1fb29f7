/*
 * test_host_probe.c - the host probe script, run here through sh as a fleet
 * host's login shell would run it, agrees with what this machine stores
 * for itself; and its answer is read strictly (a host may send anything).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/host_probe.h"
#include "tests/sh_run.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void probe_here(const char *workdir, struct host_probe *hp)
{
	struct verr e = { "" };
	char *cmd = host_probe_command(workdir, SHA, &e);
	size_t len;
	char *out;
	int status;

	assert_non_null(cmd);
	out = sh_run(cmd, &len, &status);
	assert_non_null(out);
	assert_int_equal(status, 0);
	if (host_probe_parse(out, len, hp, &e))
		fail_msg("%s\n%s", e.msg, out);
	free(out);
	free(cmd);
}

/* The probe sees this machine as host_facts_collect() does: one truth for both. */
static void test_probe_equals_local_facts(void **state)
{
	struct host_probe hp;
	struct host_facts local;

	probe_here("/tmp", &hp);
	host_facts_collect(&local, "/");
	assert_string_equal(hp.facts.kernel_release, local.kernel_release);
	assert_string_equal(hp.facts.cpu_model, local.cpu_model);
	assert_int_equal(hp.facts.cpus, local.cpus);
	assert_int_equal(hp.facts.memory_bytes, local.memory_bytes);
	assert_string_equal(hp.facts.kvm_flavour, local.kvm_flavour);
	assert_int_equal(hp.kvm_usable, access("/dev/kvm", R_OK | W_OK) == 0);
	(void)state;
}

/* Free space is the workdir's file system's, from its nearest existing parent. */
static void test_probe_free_space_of_missing_workdir(void **state)
{
	struct host_probe hp;
	struct statvfs sv;
	uint64_t avail;

	probe_here("/tmp/vmorch-no-such-dir/a/b", &hp);
	assert_int_equal(statvfs("/tmp", &sv), 0);
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	/* df rounds to KiB; other writers may move it a little meanwhile. */
	assert_true(hp.workdir_free_bytes + (64 << 20) >= avail);
	assert_true(hp.workdir_free_bytes <= avail + (64 << 20));
	assert_false(hp.worker_staged);
	(void)state;
}

/* A staged worker is seen, in a workdir whose name needs quoting. */
static void test_probe_sees_staged_worker(void **state)
{
	char dir[] = "/tmp/vmorch probe 'q'XXXXXX", path[256];
	struct host_probe hp;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bin", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin/" SHA, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin/" SHA "/vmm-worker", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	probe_here(dir, &hp);
	assert_false(hp.worker_staged);		/* not executable yet */
	assert_int_equal(chmod(path, 0755), 0);
	probe_here(dir, &hp);
	assert_true(hp.worker_staged);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bin/" SHA, dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bin", dir);
	rmdir(path);
	rmdir(dir);
	(void)state;
}

static void test_command_refuses_bad_arguments(void **state)
{
	struct verr e = { "" };

	assert_null(host_probe_command("var/tmp", SHA, &e));
	assert_string_equal(e.msg, "workdir var/tmp: must be an absolute path on one line");
	assert_null(host_probe_command("/var/tmp", "abc", &e));
	assert_string_equal(e.msg, "worker sha256 'abc': expected 64 lowercase hex digits");
	(void)state;
}

#define GOOD_HEAD "vmorch-probe 1\nkernel_release=6.1.0-57-cloud-amd64\n" \
	"cpu_model=AMD EPYC 7B13 \ncpus=2\nmem_kib=24576000\nkvm=amd\n"
#define GOOD_TAIL "kvm_access=yes\nworkdir_free_kib=1000\nworker_staged=no\nend\n"

/* A well-formed answer, every value exact. */
static void test_parse_exact(void **state)
{
	static const char out[] = GOOD_HEAD GOOD_TAIL;
	struct host_probe hp;
	struct verr e = { "" };

	assert_int_equal(host_probe_parse(out, sizeof(out) - 1, &hp, &e), 0);
	assert_string_equal(hp.facts.kernel_release, "6.1.0-57-cloud-amd64");
	assert_string_equal(hp.facts.cpu_model, "AMD EPYC 7B13");
	assert_int_equal(hp.facts.cpus, 2);
	assert_int_equal(hp.facts.memory_bytes, 24576000ULL * 1024);
	assert_string_equal(hp.facts.kvm_flavour, "amd");
	assert_true(hp.kvm_usable);
	assert_int_equal(hp.workdir_free_bytes, 1024000);
	assert_false(hp.worker_staged);
	(void)state;
}

static void assert_bad(const char *out, int rc, const char *want)
{
	struct host_probe hp;
	struct verr e = { "" };

	assert_int_equal(host_probe_parse(out, strlen(out), &hp, &e), rc);
	assert_string_equal(e.msg, want);
}

/* Each way a host's answer can be wrong is refused, saying how. */
static void test_parse_refuses_malformed(void **state)
{
	assert_bad("Welcome to kvm01!\n" GOOD_HEAD GOOD_TAIL, -EPROTO,
		   "host probe: the answer does not start with 'vmorch-probe 1'"
		   " (is the login shell printing a banner?)");
	assert_bad(GOOD_HEAD "kvm_access=yes\n", -EPROTO,
		   "host probe: the answer was cut short after 7 lines");
	assert_bad(GOOD_HEAD "kvm_access=yes\nworkdir_free_kib=1000\nworker_staged=no\nen",
		   -EPROTO, "host probe: the answer was cut short after 9 lines");
	assert_bad(GOOD_HEAD "kvm_access=yes\nend\n", -EPROTO,
		   "host probe: no workdir_free_kib line");
	assert_bad(GOOD_HEAD "cpus=3\n" GOOD_TAIL, -EINVAL,
		   "host probe line 7: cpus given twice");
	assert_bad(GOOD_HEAD "gpus=1\n" GOOD_TAIL, -EINVAL,
		   "host probe line 7: unknown key 'gpus'");
	assert_bad(GOOD_HEAD "hello\n" GOOD_TAIL, -EINVAL,
		   "host probe line 7: expected key=value or end");
	assert_bad("vmorch-probe 1\ncpus=-2\n", -EINVAL,
		   "host probe line 2: cpus: '-2' is not a number up to 4294967295");
	assert_bad("vmorch-probe 1\nmem_kib=12k\n", -EINVAL,
		   "host probe line 2: mem_kib: '12k' is not a number up to"
		   " 18014398509481983");
	assert_bad("vmorch-probe 1\nkvm=xen\n", -EINVAL,
		   "host probe line 2: kvm: unknown flavour 'xen'");
	assert_bad("vmorch-probe 1\nkvm_access=maybe\n", -EINVAL,
		   "host probe line 2: kvm_access: 'maybe' is neither yes nor no");
	assert_bad(GOOD_HEAD GOOD_TAIL "extra\n", -EPROTO,
		   "host probe: output after the end line");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_equals_local_facts),
		cmocka_unit_test(test_probe_free_space_of_missing_workdir),
		cmocka_unit_test(test_probe_sees_staged_worker),
		cmocka_unit_test(test_command_refuses_bad_arguments),
		cmocka_unit_test(test_parse_exact),
		cmocka_unit_test(test_parse_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
