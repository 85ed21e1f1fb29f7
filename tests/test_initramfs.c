/*
 * test_initramfs.c - the cpio newc writer (read back by GNU cpio), module
 * resolution through modules.dep on fake trees, the content-hash cache,
 * the error messages, and an initramfs for Debian's own cloud kernel.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
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

#include "vmm-worker/cpio.h"
#include "vmm-worker/initramfs.h"

/* snprintf that must not truncate. */
#define FMT(buf, ...) assert_true((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf))

static char *user_cache;	/* $VMORCH_CACHE before the fixtures set it */

struct fixture {
	char root[64];		/* mkdtemp */
	char mods[128];		/* root/lib/modules/6.1.0-test */
	char kernel[128];	/* root/boot/vmlinuz-6.1.0-test */
	char cache[128];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* This test program: an ELF file with libraries, for files: to copy. */
static char *self_exe(void)
{
	static char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = 0;
	return self;
}

static void mkdirs(const char *path)
{
	char cmd[512];

	FMT(cmd, "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Output of a shell command, whole. */
static char *run(const char *fmt, ...)
{
	static char out[1 << 16];
	char cmd[1024];
	size_t n;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	return out;
}

/* A fake modules tree: virtio_mmio and virtio_blk need virtio and
 * virtio_ring, virtio needs virtio_ring (as in Debian 12's kernel). */
static const char fake_dep[] =
	"kernel/drivers/virtio/virtio_ring.ko:\n"
	"kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/net/dummy.ko:\n"
	"kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko "
	"kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko "
	"kernel/drivers/virtio/virtio_ring.ko\n";

static void fake_module(struct fixture *f, const char *rel)
{
	char path[512];

	FMT(path, "%s/%s", f->mods, rel);
	write_file(path, rel);		/* content: its own name */
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[512];

	FMT(f->root, "/tmp/test_initramfs.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	FMT(f->mods, "%s/lib/modules/6.1.0-test", f->root);
	FMT(f->kernel, "%s/boot/vmlinuz-6.1.0-test", f->root);
	FMT(f->cache, "%s/cache", f->root);
	FMT(p, "%s/kernel/drivers/virtio", f->mods);
	mkdirs(p);
	FMT(p, "%s/kernel/drivers/block", f->mods);
	mkdirs(p);
	FMT(p, "%s/kernel/drivers/net", f->mods);
	mkdirs(p);
	FMT(p, "%s/boot", f->root);
	mkdirs(p);
	write_file(f->kernel, "not really a kernel");
	FMT(p, "%s/modules.dep", f->mods);
	write_file(p, fake_dep);
	fake_module(f, "kernel/drivers/virtio/virtio_ring.ko");
	fake_module(f, "kernel/drivers/virtio/virtio.ko");
	fake_module(f, "kernel/drivers/virtio/virtio_mmio.ko");
	fake_module(f, "kernel/drivers/block/virtio_blk.ko");
	setenv("VMORCH_CACHE", f->cache, 1);
	setenv("VMORCH_BUSYBOX", "none", 1);
	unsetenv("VMORCH_INITRAMFS_MODULES");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	FMT(cmd, "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static struct job_guest guest_of(struct fixture *f)
{
	struct job_guest g = { .kind = JOB_GUEST_LINUX, .kernel = f->kernel };

	return g;
}

/* The writer's archive, read back by GNU cpio: names in order, a file's
 * bytes, a symlink's target. */
static void test_cpio_listed_by_cpio_t(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct cpio c;
	FILE *out;

	cpio_init(&c);
	cpio_add_dir(&c, "dev", 0755);
	cpio_add_chardev(&c, "dev/console", 0600, 5, 1);
	cpio_add_dir(&c, "bin", 0755);
	cpio_add_file(&c, "bin/hello", 0755, "hello, world\n", 13);
	cpio_add_symlink(&c, "bin/sh", "hello");
	cpio_add_file(&c, "empty", 0644, "", 0);
	cpio_add_file(&c, "init", 0755, "abc", 3);
	assert_int_equal(cpio_finish(&c), 0);
	assert_int_equal(c.len % 4, 0);
	FMT(path, "%s/t.cpio", f->root);
	out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(c.buf, 1, c.len, out), c.len);
	fclose(out);
	cpio_free(&c);

	assert_string_equal(run("cpio -t --quiet < %s", path),
			    "dev\ndev/console\nbin\nbin/hello\nbin/sh\nempty\ninit\n");
	assert_string_equal(run("cpio -i --quiet --to-stdout bin/hello < %s", path),
			    "hello, world\n");
	assert_string_equal(run("cpio -tv --quiet < %s | awk '{print $1, $NF}'", path),
			    "drwxr-xr-x dev\ncrw------- dev/console\ndrwxr-xr-x bin\n"
			    "-rwxr-xr-x bin/hello\nlrwxrwxrwx hello\n-rw-r--r-- empty\n"
			    "-rwxr-xr-x init\n");
}

/* modules.dep: every dependency before its user, each module once. */
static void test_modules_dep_load_order(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512];

	g.modules = f->mods;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), 0);
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout lib/modules/order", out),
			    "/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n"
			    "/lib/modules/virtio_mmio.ko\n/lib/modules/virtio_blk.ko\n");
	assert_string_equal(run("gzip -dc %s | cpio -t --quiet", out),
			    "dev\ndev/console\nproc\nsys\nlib\nlib/modules\n"
			    "lib/modules/virtio_ring.ko\nlib/modules/virtio.ko\n"
			    "lib/modules/virtio_mmio.ko\nlib/modules/virtio_blk.ko\n"
			    "lib/modules/order\ninit\n");
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout lib/modules/virtio.ko", out),
			    "kernel/drivers/virtio/virtio.ko");
}

/* A kernel at DIR/boot/vmlinuz-REL finds DIR/lib/modules/REL by itself;
 * extra modules come from $VMORCH_INITRAMFS_MODULES. */
static void test_modules_beside_kernel_and_extra(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512];

	fake_module(f, "kernel/drivers/net/dummy.ko");
	setenv("VMORCH_INITRAMFS_MODULES", "dummy", 1);
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), 0);
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout lib/modules/order", out),
			    "/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n"
			    "/lib/modules/virtio_mmio.ko\n/lib/modules/virtio_blk.ko\n"
			    "/lib/modules/dummy.ko\n");
}

/* A module listed in modules.builtin is part of the kernel: not packed. */
static void test_builtin_module_skipped(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512], p[512];

	FMT(p, "%s/modules.dep", f->mods);
	write_file(p, "kernel/drivers/block/virtio_blk.ko:\n");
	FMT(p, "%s/modules.builtin", f->mods);
	write_file(p, "kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio.ko\n"
		   "kernel/drivers/virtio/virtio_mmio.ko\n");
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), 0);
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout lib/modules/order", out),
			    "/lib/modules/virtio_blk.ko\n");
}

/* The second call finds the archive by its content hash and leaves it be. */
static void test_cache_hit_same_path_not_rewritten(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char a[512], b[512];
	struct stat sa, sb;

	assert_int_equal(initramfs_get(&g, a, sizeof(a), &e), 0);
	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(initramfs_get(&g, b, sizeof(b), &e), 0);
	assert_string_equal(a, b);
	assert_int_equal(stat(b, &sb), 0);
	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_equal(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	assert_int_equal(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	assert_int_equal(strncmp(a, f->cache, strlen(f->cache)), 0);
	assert_int_equal(strlen(a), strlen(f->cache) + strlen("/initramfs/") + 64 +
			 strlen(".cpio.gz"));
	/* A module's content is part of the key. */
	write_file(strcat(strcpy(b, f->mods), "/kernel/drivers/block/virtio_blk.ko"), "v2");
	assert_int_equal(initramfs_get(&g, b, sizeof(b), &e), 0);
	assert_string_not_equal(a, b);
}

/*
 * A job's files go in at their dst, an ELF program with its interpreter
 * and libraries at the host's paths; their contents are part of the key.
 */
static void test_files_with_their_libraries(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct job_file files[2];
	struct verr e = { "" };
	char out[512], again[512], script[256], list[4096];
	char *self = self_exe();

	FMT(script, "%s/t.sh", f->root);
	write_file(script, "#!/bin/sh\necho VMORCH-METRIC user.answer 42\n");
	files[0] = (struct job_file){ .src = self, .dst = "/opt/bin/prog" };
	files[1] = (struct job_file){ .src = script, .dst = "/opt/t.sh" };
	g.files = files;
	g.nfiles = 2;
	if (initramfs_get(&g, out, sizeof(out), &e))
		fail_msg("%s", e.msg);
	snprintf(list, sizeof(list), "%s", run("gzip -dc %s | cpio -t --quiet", out));
	assert_non_null(strstr(list, "\nopt\nopt/bin\nopt/bin/prog\n"));
	assert_non_null(strstr(list, "\nopt/t.sh\n"));
	assert_non_null(strstr(list, "lib64/ld-linux-x86-64.so.2\n"));
	assert_non_null(strstr(list, "lib/x86_64-linux-gnu/libc.so.6\n"));
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout opt/t.sh", out),
			    "#!/bin/sh\necho VMORCH-METRIC user.answer 42\n");
	assert_string_equal(run("gzip -dc %s | cpio -tv --quiet opt/t.sh | awk '{print $1}'", out),
			    "-rw-r--r--\n");
	/* The script's content is part of the key. */
	write_file(script, "#!/bin/sh\nexit 3\n");
	assert_int_equal(initramfs_get(&g, again, sizeof(again), &e), 0);
	assert_string_not_equal(out, again);
}

/*
 * A directory goes in with everything under it: files with their modes,
 * subdirectories (empty ones too), symlinks as symlinks, and the libraries
 * of the ELF programs in it.  Its content is part of the key.
 */
static void test_files_directory(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct job_file file;
	struct verr e = { "" };
	char out[512], again[512], dir[256], p[512], list[8192];
	char *self = self_exe();

	FMT(dir, "%s/suite", f->root);
	FMT(p, "%s/tests/empty", dir);
	mkdirs(p);
	FMT(p, "%s/run.sh", dir);
	write_file(p, "#!/bin/sh\necho VMORCH-METRIC user.n 1\n");
	assert_int_equal(chmod(p, 0755), 0);
	FMT(p, "%s/tests/b.txt", dir);
	write_file(p, "b\n");
	FMT(p, "%s/tests/a-link", dir);
	assert_int_equal(symlink("b.txt", p), 0);
	FMT(p, "cp %s %s/tests/prog", self, dir);
	assert_int_equal(system(p), 0);
	file = (struct job_file){ .src = dir, .dst = "/opt/suite" };
	g.files = &file;
	g.nfiles = 1;
	if (initramfs_get(&g, out, sizeof(out), &e))
		fail_msg("%s", e.msg);
	snprintf(list, sizeof(list), "%s", run("gzip -dc %s | cpio -t --quiet", out));
	assert_non_null(strstr(list, "\nopt\nopt/suite\nopt/suite/run.sh\nopt/suite/tests\n"
				     "opt/suite/tests/a-link\nopt/suite/tests/b.txt\n"
				     "opt/suite/tests/empty\nopt/suite/tests/prog\n"));
	assert_non_null(strstr(list, "lib/x86_64-linux-gnu/libc.so.6\n"));
	assert_string_equal(run("gzip -dc %s | cpio -tv --quiet opt/suite/run.sh "
				"opt/suite/tests/a-link opt/suite/tests/empty | awk '{print $1, $NF}'",
				out),
			    "-rwxr-xr-x opt/suite/run.sh\nlrwxrwxrwx b.txt\n"
			    "drwxr-xr-x opt/suite/tests/empty\n");
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout opt/suite/tests/b.txt",
				out), "b\n");
	/* A byte changed deep inside is a new key. */
	FMT(p, "%s/tests/b.txt", dir);
	write_file(p, "B\n");
	assert_int_equal(initramfs_get(&g, again, sizeof(again), &e), 0);
	assert_string_not_equal(out, again);
}

/*
 * A library outside the loader's default directories (here through a
 * RUNPATH; on a host often through ld.so.cache, which the guest lacks):
 * its directory is listed for the agent's LD_LIBRARY_PATH.  A program
 * whose libraries are all in default directories gets no such list.
 */
static void test_files_ld_library_path(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct job_file file;
	struct verr e = { "" };
	char out[512], cmd[2048], prog[512];

	FMT(cmd, "mkdir -p %s/vt/lib && cd %s/vt && printf 'int vt(void){return 7;}' > l.c &&"
	    " printf 'int vt(void); int main(void){return vt();}' > p.c &&"
	    " cc -shared -fPIC -o lib/libvt.so l.c && cc -o prog p.c -Llib -lvt"
	    " -Wl,--enable-new-dtags,-rpath,%s/vt/lib", f->root, f->root, f->root);
	assert_int_equal(system(cmd), 0);
	FMT(prog, "%s/vt/prog", f->root);
	file = (struct job_file){ .src = prog, .dst = "/opt/prog" };
	g.files = &file;
	g.nfiles = 1;
	if (initramfs_get(&g, out, sizeof(out), &e))
		fail_msg("%s", e.msg);
	FMT(cmd, "%s/vt/lib\n", f->root);
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout .vmorch/ld-library-path;"
				" echo", out), cmd);
	assert_non_null(strstr(run("gzip -dc %s | cpio -t --quiet", out), "/vt/lib/libvt.so\n"));

	/* This test program: libc and cmocka, in default directories. */
	file = (struct job_file){ .src = self_exe(), .dst = "/opt/self" };
	if (initramfs_get(&g, out, sizeof(out), &e))
		fail_msg("%s", e.msg);
	assert_null(strstr(run("gzip -dc %s | cpio -t --quiet", out), "ld-library-path"));
}

/* A file that is missing, or neither a file, a directory nor a symlink, is
 * refused before any VM. */
static void test_files_refused(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct job_file file = { .src = "/nonexistent/prog", .dst = "/opt/prog" };
	struct verr e = { "" };
	char out[512], fifo[512], want[600];

	g.files = &file;
	g.nfiles = 1;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	assert_string_equal(e.msg, "file /nonexistent/prog: No such file or directory");
	FMT(fifo, "%s/fifo", f->root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	file.src = f->root;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -EINVAL);
	FMT(want, "file %s: not a regular file, directory or symlink", fifo);
	assert_string_equal(e.msg, want);
}

static void test_missing_modules_dir_message(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512];

	g.modules = "/nonexistent/lib/modules/6.1.0-test";
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	assert_string_equal(e.msg, "modules directory /nonexistent/lib/modules/6.1.0-test: "
			    "No such file or directory");
}

static void test_missing_module_message(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512], p[512], want[512];

	FMT(p, "%s/modules.dep", f->mods);
	write_file(p, "kernel/drivers/virtio/virtio_ring.ko:\n"
		   "kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio_ring.ko\n");
	g.modules = f->mods;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	FMT(want, "module virtio_blk not found in %s", f->mods);
	assert_string_equal(e.msg, want);
}

/* No modules dir given, none beside the kernel, none in /lib/modules. */
static void test_no_modules_dir_beside_kernel_message(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512], want[1024], cmd[512];

	FMT(cmd, "rm -rf '%s/lib'", f->root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	FMT(want, "no modules directory for kernel %s (release 6.1.0-test): "
		 "tried %s/boot/../lib/modules/6.1.0-test and /lib/modules/6.1.0-test; "
		 "set guest.modules", f->kernel, f->root);
	assert_string_equal(e.msg, want);
}

static void test_kernel_release_not_found_message(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512], want[512];

	FMT(f->kernel, "%s/boot/bzImage", f->root);
	write_file(f->kernel, "no header here");
	g.kernel = f->kernel;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	FMT(want, "kernel %s: release not found (no version string in its "
		 "header, name not vmlinuz-RELEASE); set guest.modules", f->kernel);
	assert_string_equal(e.msg, want);
}

static void test_given_initramfs_used_as_is(void **state)
{
	struct fixture *f = *state;
	struct job_guest g = guest_of(f);
	struct verr e = { "" };
	char out[512];

	g.initramfs = f->kernel;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), 0);
	assert_string_equal(out, f->kernel);
	g.initramfs = "/nonexistent/initrd.gz";
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), -ENOENT);
	assert_string_equal(e.msg, "initramfs /nonexistent/initrd.gz: No such file or directory");
}

/* Debian's cloud kernel (no modules.dep in the .deb: dependencies come
 * from each module's .modinfo): /init, virtio_mmio, virtio_blk and their
 * dependencies, in load order. */
static void test_debian_kernel_initramfs(void **state)
{
	struct fixture *f = *state;
	const char *src = getenv("VMORCH_SRCDIR");
	struct job_guest g = { .kind = JOB_GUEST_LINUX };
	struct verr e = { "" };
	char dir[512], kernel[640], out[512], *nl;

	dir[0] = 0;
	/* The kernel goes to the user's cache, not the fixture's. */
	if (user_cache)
		FMT(kernel, "VMORCH_CACHE='%s' %s/scripts/fetch-test-kernel.sh"
			 " 2>/dev/null", user_cache, src ? src : ".");
	else
		FMT(kernel, "env -u VMORCH_CACHE %s/scripts/fetch-test-kernel.sh"
			 " 2>/dev/null", src ? src : ".");
	FMT(dir, "%s", run("%s", kernel));
	if ((nl = strchr(dir, '\n')))
		*nl = 0;
	if (!dir[0]) {
		if (getenv("CI"))
			fail_msg("scripts/fetch-test-kernel.sh could not fetch the kernel");
		skip();
	}
	FMT(kernel, "%s", run("ls %s/boot/vmlinuz-* | head -1", dir));
	if ((nl = strchr(kernel, '\n')))
		*nl = 0;
	g.kernel = kernel;
	(void)f;
	assert_int_equal(initramfs_get(&g, out, sizeof(out), &e), 0);
	assert_string_equal(run("gzip -dc %s | cpio -t --quiet | grep -E '^(init|lib/modules/.*)$'",
				out),
			    "lib/modules/virtio_ring.ko\nlib/modules/virtio.ko\n"
			    "lib/modules/virtio_mmio.ko\nlib/modules/virtio_blk.ko\n"
			    "lib/modules/order\ninit\n");
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout lib/modules/order", out),
			    "/lib/modules/virtio_ring.ko\n/lib/modules/virtio.ko\n"
			    "/lib/modules/virtio_mmio.ko\n/lib/modules/virtio_blk.ko\n");
	/* The packed module is the tree's file, byte for byte. */
	assert_string_equal(run("gzip -dc %s | cpio -i --quiet --to-stdout "
				"lib/modules/virtio_blk.ko | cmp - %s/lib/modules/*/kernel/"
				"drivers/block/virtio_blk.ko && echo same", out, dir),
			    "same\n");
}

/* `test_initramfs --build KERNEL [MODULES]` prints the path of the
 * initramfs for that kernel: tests/agent/qemu.sh boots it. */
static int build_only(int argc, char **argv)
{
	struct job_guest g = { .kind = JOB_GUEST_LINUX };
	struct verr e = { "" };
	char out[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: test_initramfs --build KERNEL [MODULES_DIR]\n");
		return 2;
	}
	g.kernel = argv[2];
	g.modules = argc > 3 ? argv[3] : NULL;
	if (initramfs_get(&g, out, sizeof(out), &e)) {
		fprintf(stderr, "test_initramfs: %s\n", e.msg);
		return 1;
	}
	puts(out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--build"))
		return build_only(argc, argv);
	user_cache = getenv("VMORCH_CACHE") ? strdup(getenv("VMORCH_CACHE")) : NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cpio_listed_by_cpio_t, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modules_dep_load_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modules_beside_kernel_and_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_module_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_same_path_not_rewritten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_with_their_libraries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_ld_library_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_modules_dir_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_module_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_modules_dir_beside_kernel_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_release_not_found_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_initramfs_used_as_is, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debian_kernel_initramfs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
