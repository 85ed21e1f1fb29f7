/*
 * ssh_lib.c - libssh2 loaded at run time, the first time SSH is used, and
 * the table of its functions (ssh_lib.h says why and how calls read).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "orchestrator/ssh_lib.h"

/* configure.ac defines it and checks that it loads. */
#ifndef VMORCH_LIBSSH2_SONAME
#error "VMORCH_LIBSSH2_SONAME (the libssh2 file to dlopen) comes from configure"
#endif

/* Debian's package that holds it, for the error message. */
#define LIBSSH2_PACKAGE	"libssh2-1"

struct ssh_lib ssh2;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc;
static struct verr load_err;

/* One function of libssh2, or NULL with load_err saying why. */
static void *lib_sym(void *h, const char *name)
{
	void *p;

	dlerror();
	p = dlsym(h, name);
	if (!p)
		verr_set(&load_err, "SSH needs libssh2 " LIBSSH2_VERSION " or later, but %s "
			 "(Debian: apt-get install " LIBSSH2_PACKAGE ")", dlerror());
	return p;
}

/* Resolve every function into @lib; 0, or -ELIBBAD with load_err set. */
static int lib_resolve(void *h, struct ssh_lib *lib)
{
#define SSH_LIB_RESOLVE(name)						\
	lib->name = (__typeof__(lib->name))lib_sym(h, "libssh2_" #name);	\
	if (!lib->name)							\
		return -ELIBBAD;
	SSH_LIB_SYMBOLS(SSH_LIB_RESOLVE)
#undef SSH_LIB_RESOLVE
	return 0;
}

static void lib_load(void)
{
	/* Ignored in set-uid programs, like LD_LIBRARY_PATH. */
	const char *file = secure_getenv("VMORCH_LIBSSH2");
	struct ssh_lib lib;
	void *h;

	if (!file || !*file)
		file = VMORCH_LIBSSH2_SONAME;
	h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		verr_set(&load_err, "SSH needs libssh2, which cannot be loaded: %s "
			 "(Debian: apt-get install " LIBSSH2_PACKAGE ")", dlerror());
		load_rc = -ELIBACC;
		return;
	}
	load_rc = lib_resolve(h, &lib);
	if (!load_rc && lib.init(0)) {
		verr_set(&load_err, "libssh2_init failed (%s)", file);
		load_rc = -EIO;
	}
	if (load_rc) {
		dlclose(h);
		return;
	}
	/* Never closed: libssh2 serves the process until it exits. */
	ssh2 = lib;
}

int ssh_lib_load(struct verr *e)
{
	pthread_once(&load_once, lib_load);
	if (load_rc)
		verr_set(e, "%s", load_err.msg);
	return load_rc;
}
