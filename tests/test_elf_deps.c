/*
 * test_elf_deps.c - a program's interpreter and libraries, found as the
 * host's loader finds them (common/elf_deps.c): the same set ldd(1)
 * prints, nothing for a script or a static program, a missing library
 * named with who needs it, a malformed file refused.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/elf_deps.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/vmorch-test-elf-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static bool in_list(char *const *list, size_t n, const char *p)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (!realpath(p, a))
		return false;
	for (size_t i = 0; i < n; i++)
		if (realpath(list[i], b) && !strcmp(a, b))
			return true;
	return false;
}

/* This test program's closure is what ldd says, no more, no less. */
static void test_same_as_ldd(void **state)
{
	struct elf_deps d;
	struct verr e = { "" };
	char self[PATH_MAX], cmd[PATH_MAX + 64], line[1024];
	size_t nldd = 0;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;

	(void)state;
	assert_true(n > 0);
	self[n] = 0;
	if (elf_deps_find(self, &d, &e))
		fail_msg("%s", e.msg);
	assert_non_null(d.interp);
	assert_true(d.nlibs >= 1);
	snprintf(cmd, sizeof(cmd), "ldd '%s'", self);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *arrow = strstr(line, " => "), *path, *end;

		if (strstr(line, "linux-vdso"))
			continue;
		path = arrow ? arrow + 4 : line + strspn(line, " \t");
		end = strstr(path, " (");
		if (!end || path[0] != '/')
			continue;
		*end = 0;
		if (!strcmp(path, d.interp) || in_list(&d.interp, 1, path))
			continue;	/* ldd lists the interpreter too */
		nldd++;
		if (!in_list(d.lib, d.nlibs, path))
			fail_msg("ldd lists %s, elf_deps does not", path);
	}
	pclose(f);
	assert_int_equal(d.nlibs, nldd);
	elf_deps_release(&d);
}

/* A script, and a program linked statically, need nothing. */
static void test_script_and_static_need_nothing(void **state)
{
	struct elf_deps d;
	struct verr e = { "" };
	char script[128];
	FILE *f;

	(void)state;
	snprintf(script, sizeof(script), "%s/t.sh", tmpdir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho hi\n", f);
	fclose(f);
	assert_int_equal(elf_deps_find(script, &d, &e), 0);
	assert_null(d.interp);
	assert_int_equal(d.nlibs, 0);
	elf_deps_release(&d);
	if (access("/bin/busybox", X_OK) == 0 && system("ldd /bin/busybox >/dev/null 2>&1")) {
		assert_int_equal(elf_deps_find("/bin/busybox", &d, &e), 0);
		assert_null(d.interp);
		assert_int_equal(d.nlibs, 0);
		elf_deps_release(&d);
	}
}

/* Copy this program with every "libc.so.6" made "libc.so.9": refused, named. */
static void test_missing_library_named(void **state)
{
	struct elf_deps d;
	struct verr e = { "" };
	char self[PATH_MAX], copy[128], want[256], *buf;
	FILE *in, *out;
	long len;

	(void)state;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	in = fopen(self, "rb");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	len = ftell(in);
	fseek(in, 0, SEEK_SET);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, in), (size_t)len);
	fclose(in);
	for (char *p = buf; (p = memmem(p, (size_t)(buf + len - p), "libc.so.6", 10)); p += 10)
		p[8] = '9';
	snprintf(copy, sizeof(copy), "%s/prog", tmpdir);
	out = fopen(copy, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(buf, 1, (size_t)len, out), (size_t)len);
	fclose(out);
	free(buf);
	assert_int_equal(elf_deps_find(copy, &d, &e), -ENOENT);
	snprintf(want, sizeof(want), "%s needs libc.so.9, which is not on this machine", copy);
	assert_non_null(strstr(e.msg, want));
	elf_deps_release(&d);
}

/* ELF magic over garbage: refused as malformed, never read past the end. */
static void test_malformed_refused(void **state)
{
	static const unsigned char hdr[64] = {
		0x7f, 'E', 'L', 'F', 2, 1, 1, 0, [16] = 2, 0, 62, 0,
		[32] = 0xff, 0xff, 0xff, 0x7f,		/* e_phoff far past the end */
		[54] = 56, 0, 4, 0,			/* e_phentsize, e_phnum */
	};
	struct elf_deps d;
	struct verr e = { "" };
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(hdr, 1, sizeof(hdr), f);
	fclose(f);
	assert_int_equal(elf_deps_find(path, &d, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "malformed ELF program headers"));
	elf_deps_release(&d);
}

/* The cache answers for the x86-64 libc. */
static void test_cache_lookup(void **state)
{
	char *p = elf_deps_cache_lookup(NULL, "libc.so.6");

	(void)state;
	if (access("/etc/ld.so.cache", R_OK))
		skip();
	assert_non_null(p);
	assert_int_equal(access(p, R_OK), 0);
	assert_non_null(strstr(p, "libc.so.6"));
	free(p);
	assert_null(elf_deps_cache_lookup(NULL, "libvmorch-no-such.so.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_ldd),
		cmocka_unit_test(test_script_and_static_need_nothing),
		cmocka_unit_test(test_missing_library_named),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_cache_lookup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
