/*
 * test_host_facts.c - a machine's facts read from a fake /proc and /sys
 * tree, and their JSON form, which a fleet host sends and must be refused
 * when malformed.
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
#include <unistd.h>

#include <cmocka.h>

#include "common/host_facts.h"

struct root {
	char dir[64];
};

static void root_mkdir(struct root *r, const char *rel)
{
	char path[256], *p;

	snprintf(path, sizeof(path), "%s/%s", r->dir, rel);
	for (p = path + strlen(r->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void root_write(struct root *r, const char *rel, const char *text)
{
	char path[256], dir[256], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		root_mkdir(r, dir);
	}
	snprintf(path, sizeof(path), "%s/%s", r->dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int root_setup(void **state)
{
	struct root *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/vmorch-test-facts-XXXXXX");
	if (!mkdtemp(r->dir))
		return -1;
	*state = r;
	return 0;
}

static int root_teardown(void **state)
{
	struct root *r = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	if (system(cmd))
		return -1;
	free(r);
	return 0;
}

static const char cpuinfo[] =
	"processor\t: 0\n"
	"vendor_id\t: AuthenticAMD\n"
	"model name\t: AMD EPYC 7B13 64-Core Processor  \n"
	"flags\t\t: fpu vme svm\n"
	"\n"
	"processor\t: 1\n"
	"model name\t: AMD EPYC 7B13 64-Core Processor\n"
	"\n";

/* Every fact as the kernel shows it: release, first model name, CPU count, MemTotal. */
static void test_facts_read_from_proc_and_sys(void **state)
{
	struct root *r = *state;
	struct host_facts f;

	root_write(r, "proc/sys/kernel/osrelease", "6.1.0-57-cloud-amd64\n");
	root_write(r, "proc/cpuinfo", cpuinfo);
	root_write(r, "proc/meminfo", "MemTotal:       24576000 kB\nMemFree: 1 kB\n");
	root_write(r, "dev/kvm", "");
	root_mkdir(r, "sys/module/kvm_amd");
	host_facts_collect(&f, r->dir);
	assert_string_equal(f.kernel_release, "6.1.0-57-cloud-amd64");
	assert_string_equal(f.cpu_model, "AMD EPYC 7B13 64-Core Processor");
	assert_int_equal(f.cpus, 2);
	assert_int_equal(f.memory_bytes, 24576000ULL * 1024);
	assert_string_equal(f.kvm_flavour, "amd");
}

/* A PVM host may also have kvm_amd loaded: the flavour is pvm. */
static void test_pvm_named_before_hardware_module(void **state)
{
	struct root *r = *state;
	struct host_facts f;

	root_write(r, "dev/kvm", "");
	root_mkdir(r, "sys/module/kvm_amd");
	root_mkdir(r, "sys/module/kvm_pvm");
	host_facts_collect(&f, r->dir);
	assert_string_equal(f.kvm_flavour, "pvm");
}

/* Without /dev/kvm the flavour is none, whatever module is loaded. */
static void test_no_dev_kvm_is_none(void **state)
{
	struct root *r = *state;
	struct host_facts f;

	root_mkdir(r, "sys/module/kvm_intel");
	host_facts_collect(&f, r->dir);
	assert_string_equal(f.kvm_flavour, "none");
}

/* Facts that cannot be read are unknown or 0: they never stop a run. */
static void test_unreadable_facts_unknown(void **state)
{
	struct root *r = *state;
	struct host_facts f;

	root_write(r, "dev/kvm", "");
	host_facts_collect(&f, r->dir);
	assert_string_equal(f.kernel_release, "unknown");
	assert_string_equal(f.cpu_model, "unknown");
	assert_int_equal(f.cpus, 0);
	assert_int_equal(f.memory_bytes, 0);
	assert_string_equal(f.kvm_flavour, "unknown");
}

/* This machine's own facts: a release uname agrees with, at least one CPU. */
static void test_this_machine(void **state)
{
	struct host_facts f;
	FILE *p = popen("uname -r", "r");
	char release[128] = "";

	assert_non_null(p);
	assert_non_null(fgets(release, sizeof(release), p));
	pclose(p);
	release[strcspn(release, "\n")] = 0;
	host_facts_collect(&f, "/");
	assert_string_equal(f.kernel_release, release);
	assert_int_equal(f.cpus, sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(f.memory_bytes > 0);
	(void)state;
}

/* The JSON form reads back exactly. */
static void test_json_round_trip(void **state)
{
	const struct host_facts f = {
		.kernel_release = "6.12.9", .cpu_model = "Intel(R) Xeon(R) \"Gold\"",
		.cpus = 64, .memory_bytes = 274877906944ULL, .kvm_flavour = "intel",
	};
	struct host_facts back;
	struct verr e = { "" };
	json_t *o = host_facts_to_json(&f);

	assert_non_null(o);
	assert_int_equal(host_facts_from_json(o, &back, &e), 0);
	assert_memory_equal(&f, &back, sizeof(f));
	json_decref(o);
	(void)state;
}

static void assert_refused(const char *text, const char *want)
{
	struct host_facts f;
	struct verr e = { "" };
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	assert_int_equal(host_facts_from_json(o, &f, &e), -EINVAL);
	assert_string_equal(e.msg, want);
	json_decref(o);
}

/* A host's malformed facts are refused, naming the field. */
static void test_json_malformed_refused(void **state)
{
	assert_refused("[]", "host facts: expected an object");
	assert_refused("{\"kernel_release\":\"6\",\"cpu_model\":\"x\",\"cpus\":1,"
		       "\"memory_bytes\":1,\"kvm\":\"xen\"}",
		       "host facts: kvm: unknown flavour 'xen'");
	assert_refused("{\"kernel_release\":\"6\",\"cpu_model\":\"x\",\"cpus\":1,"
		       "\"memory_bytes\":1,\"kvm\":\"amd\",\"gpu\":1}",
		       "host facts: unknown field 'gpu'");
	(void)state;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, root_setup, root_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_facts_read_from_proc_and_sys),
		T(test_pvm_named_before_hardware_module),
		T(test_no_dev_kvm_is_none),
		T(test_unreadable_facts_unknown),
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_malformed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
