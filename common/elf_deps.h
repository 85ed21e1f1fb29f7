/*
 * elf_deps.h - what a host program needs to run elsewhere: its program
 * interpreter and the shared libraries it names (DT_NEEDED), and theirs,
 * found the way the host's loader finds them (DT_RPATH, DT_RUNPATH with
 * $ORIGIN, /etc/ld.so.cache, the default directories).  For a user's
 * program copied into a Linux guest's initramfs (issue 12's `files:`), so
 * that a missing library is refused before any VM starts.
 */
#ifndef VMORCH_ELF_DEPS_H
#define VMORCH_ELF_DEPS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/verr.h"

struct elf_deps {
	char *interp;		/* PT_INTERP, or NULL (static, or not ELF) */
	char **lib;		/* each library's path on the host, first found first */
	size_t nlibs;
};

/*
 * The closure of @path.  A file that is not a 64-bit x86 ELF object, or a
 * static one, needs nothing: 0 with nothing set.  -ENOENT names the first
 * library no directory has and who needs it; -EINVAL a malformed ELF
 * file.  Release with elf_deps_release either way.
 */
int elf_deps_find(const char *path, struct elf_deps *d, struct verr *e);
void elf_deps_release(struct elf_deps *d);

/*
 * Is @dir one the loader searches without being told (so a library found
 * elsewhere was found through a RUNPATH or ld.so.cache, and a guest
 * without that cache needs LD_LIBRARY_PATH for it)?
 */
bool elf_deps_default_dir(const char *dir);

/*
 * Where @soname is, by /etc/ld.so.cache (@cache, NULL for the host's),
 * for x86-64: a path (malloc'd), or NULL.
 */
char *elf_deps_cache_lookup(const char *cache, const char *soname);

#endif
