/*
 * elf_deps.c - a program's interpreter and shared libraries, found as the
 * host's loader finds them (see elf_deps.h).  Every offset read from a
 * file is checked against the file's size: the files are the user's.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/elf_deps.h"

#define LD_SO_CACHE	"/etc/ld.so.cache"
#define CACHE_MAGIC	"glibc-ld.so.cache1.1"
#define CACHE_OLD_MAGIC	"ld.so-1.7.0"
/* An entry's flags for a libc6 library of the x86-64 ABI. */
#define CACHE_X86_64	0x0303
#define DEPS_MAX	1024

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", NULL,
};

bool elf_deps_default_dir(const char *dir)
{
	for (size_t i = 0; default_dirs[i]; i++)
		if (!strcmp(dir, default_dirs[i]))
			return true;
	return false;
}

struct mapped {
	const uint8_t *p;
	size_t len;
};

static int map_file(const char *path, struct mapped *m)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	m->p = NULL;
	m->len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return -EINVAL;
	}
	m->p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		return -errno;
	}
	m->len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->p)
		munmap((void *)m->p, m->len);
	m->p = NULL;
}

/* A NUL-terminated string at @off, or NULL when it runs off the end. */
static const char *str_at(const struct mapped *m, uint64_t off)
{
	if (off >= m->len || !memchr(m->p + off, 0, m->len - off))
		return NULL;
	return (const char *)m->p + off;
}

/* ---- /etc/ld.so.cache ---- */

char *elf_deps_cache_lookup(const char *cache, const char *soname)
{
	struct mapped m;
	size_t base = 0, old = sizeof(CACHE_OLD_MAGIC) - 1;
	char *found = NULL;
	uint32_t n;

	if (map_file(cache ? cache : LD_SO_CACHE, &m))
		return NULL;
	/* An old-format table first: 12-byte entries, then the new one, 8-aligned. */
	if (m.len >= old + 4 && !memcmp(m.p, CACHE_OLD_MAGIC, old)) {
		memcpy(&n, m.p + old, 4);
		base = (old + 4 + (size_t)n * 12 + 7) & ~(size_t)7;
	}
	if (base + 48 > m.len || memcmp(m.p + base, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1))
		goto out;
	memcpy(&n, m.p + base + 20, 4);
	for (uint32_t i = 0; i < n; i++) {
		size_t at = base + 48 + (size_t)i * 24;
		int32_t flags;
		uint32_t key, value;
		const char *k, *v;

		if (at + 24 > m.len)
			break;
		memcpy(&flags, m.p + at, 4);
		memcpy(&key, m.p + at + 4, 4);
		memcpy(&value, m.p + at + 8, 4);
		if (flags != CACHE_X86_64)
			continue;
		/* New-format string offsets count from the start of the file. */
		k = str_at(&m, key);
		v = str_at(&m, value);
		if (k && v && !strcmp(k, soname)) {
			found = strdup(v);
			break;
		}
	}
out:
	unmap_file(&m);
	return found;
}

/* ---- one ELF object ---- */

struct object {
	char *interp;
	char **needed;
	size_t nneeded;
	char *runpath;		/* DT_RUNPATH, else DT_RPATH, $ORIGIN replaced */
	bool elf;
};

static void object_release(struct object *o)
{
	for (size_t i = 0; i < o->nneeded; i++)
		free(o->needed[i]);
	free(o->needed);
	free(o->interp);
	free(o->runpath);
	memset(o, 0, sizeof(*o));
}

/* The file offset of virtual address @va, through the PT_LOAD segments. */
static bool va_to_off(const struct mapped *m, const Elf64_Phdr *ph, unsigned n,
		      uint64_t va, uint64_t *off)
{
	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || va < ph[i].p_vaddr ||
		    va - ph[i].p_vaddr >= ph[i].p_filesz)
			continue;
		*off = ph[i].p_offset + (va - ph[i].p_vaddr);
		return *off < m->len;
	}
	return false;
}

/* @s with each $ORIGIN (or ${ORIGIN}) made @origin. */
static char *expand_origin(const char *s, const char *origin)
{
	size_t cap = strlen(s) * (strlen(origin) + 1) + 1, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	while (*s) {
		if (!strncmp(s, "$ORIGIN", 7) || !strncmp(s, "${ORIGIN}", 9)) {
			n += (size_t)snprintf(out + n, cap - n, "%s", origin);
			s += s[1] == '{' ? 9 : 7;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = 0;
	return out;
}

static int object_read(const char *path, struct object *o, struct verr *e)
{
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	uint64_t strtab = 0, ndyn = 0, off, run = 0, rpath = 0;
	bool has_strtab = false, has_run = false, has_rpath = false;
	struct mapped m;
	char *dir = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = map_file(path, &m);
	if (rc)
		return verr_errno(e, "%s", path);
	eh = (const Elf64_Ehdr *)m.p;
	if (m.len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		goto out;	/* a script, data, another machine's: nothing to add */
	o->elf = true;
	rc = -EINVAL;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > m.len ||
	    (m.len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum) {
		verr_set(e, "%s: malformed ELF program headers", path);
		goto out;
	}
	ph = (const Elf64_Phdr *)(m.p + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			const char *s = str_at(&m, ph[i].p_offset);

			if (!s || !(o->interp = strdup(s))) {
				verr_set(e, "%s: malformed PT_INTERP", path);
				goto out;
			}
		} else if (ph[i].p_type == PT_DYNAMIC) {
			if (ph[i].p_offset > m.len || ph[i].p_filesz > m.len - ph[i].p_offset) {
				verr_set(e, "%s: malformed PT_DYNAMIC", path);
				goto out;
			}
			dyn = (const Elf64_Dyn *)(m.p + ph[i].p_offset);
			ndyn = ph[i].p_filesz / sizeof(Elf64_Dyn);
		}
	}
	for (uint64_t i = 0; dyn && i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			has_strtab = va_to_off(&m, ph, eh->e_phnum, dyn[i].d_un.d_ptr, &strtab);
		else if (dyn[i].d_tag == DT_NEEDED)
			o->nneeded++;
		else if (dyn[i].d_tag == DT_RUNPATH)
			has_run = true, run = dyn[i].d_un.d_val;
		else if (dyn[i].d_tag == DT_RPATH)
			has_rpath = true, rpath = dyn[i].d_un.d_val;
	}
	if (o->nneeded && !has_strtab) {
		verr_set(e, "%s: DT_NEEDED without a string table", path);
		goto out;
	}
	o->needed = calloc(o->nneeded ? o->nneeded : 1, sizeof(*o->needed));
	if (!o->needed) {
		rc = verr_errno(e, "%s", path);
		goto out;
	}
	o->nneeded = 0;
	for (uint64_t i = 0; dyn && i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		const char *s;

		if (dyn[i].d_tag != DT_NEEDED)
			continue;
		s = (off = strtab + dyn[i].d_un.d_val) >= strtab ? str_at(&m, off) : NULL;
		if (!s || !(o->needed[o->nneeded] = strdup(s))) {
			verr_set(e, "%s: malformed DT_NEEDED", path);
			goto out;
		}
		o->nneeded++;
	}
	if (has_run || has_rpath) {
		const char *s = str_at(&m, strtab + (has_run ? run : rpath));

		dir = strdup(path);
		if (!s || !dir || !(o->runpath = expand_origin(s, dirname(dir)))) {
			verr_set(e, "%s: malformed DT_RUNPATH", path);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc && rc != -EINVAL)
		rc = -EINVAL;
	if (!o->elf)
		rc = 0;
	free(dir);
	unmap_file(&m);
	return rc;
}

/* ---- the closure ---- */

static bool is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* @name in the directories of the colon-separated @list, or NULL. */
static char *search_list(const char *list, const char *name)
{
	char *copy = strdup(list), *save = NULL, *found = NULL;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&found, "%s/%s", d, name) < 0)
			found = NULL;
		else if (!is_file(found)) {
			free(found);
			found = NULL;
		}
	}
	free(copy);
	return found;
}

/* Where the loader would find @name for an object whose search path is @runpath. */
static char *resolve(const char *name, const char *runpath)
{
	char *p = NULL;

	if (strchr(name, '/'))
		return is_file(name) ? strdup(name) : NULL;
	if (runpath && (p = search_list(runpath, name)))
		return p;
	if ((p = elf_deps_cache_lookup(NULL, name)) && is_file(p))
		return p;
	free(p);
	for (size_t i = 0; default_dirs[i]; i++) {
		if (asprintf(&p, "%s/%s", default_dirs[i], name) < 0)
			return NULL;
		if (is_file(p))
			return p;
		free(p);
	}
	return NULL;
}

/* Paths name one file when they resolve alike (/lib64 is a link here). */
static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (!strcmp(a, b))
		return true;
	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/*
 * Already in the closure, or the interpreter itself (libc names the
 * loader as DT_NEEDED; the loader answers for it, loaded once).
 */
static bool have(const struct elf_deps *d, const char *p)
{
	if (d->interp && same_file(d->interp, p))
		return true;
	for (size_t i = 0; i < d->nlibs; i++)
		if (same_file(d->lib[i], p))
			return true;
	return false;
}

int elf_deps_find(const char *path, struct elf_deps *d, struct verr *e)
{
	struct object o;
	size_t next = 0;
	const char *who = path;
	int rc;

	memset(d, 0, sizeof(*d));
	d->lib = calloc(DEPS_MAX, sizeof(*d->lib));
	if (!d->lib)
		return verr_errno(e, "%s", path);
	rc = object_read(path, &o, e);
	if (rc || !o.elf)
		goto done;
	d->interp = o.interp;
	o.interp = NULL;
	/* Breadth first: the program's libraries, then theirs, each once. */
	for (;;) {
		for (size_t i = 0; i < o.nneeded; i++) {
			char *p = resolve(o.needed[i], o.runpath);

			if (!p) {
				verr_set(e, "%s needs %s, which is not on this machine (not in"
					 " its RUNPATH, /etc/ld.so.cache or the default"
					 " directories)", who, o.needed[i]);
				rc = -ENOENT;
				goto done;
			}
			if (have(d, p)) {
				free(p);
				continue;
			}
			if (d->nlibs == DEPS_MAX) {
				free(p);
				verr_set(e, "%s: more than %d libraries", path, DEPS_MAX);
				rc = -E2BIG;
				goto done;
			}
			d->lib[d->nlibs++] = p;
		}
		object_release(&o);
		if (next == d->nlibs)
			break;
		who = d->lib[next++];
		rc = object_read(who, &o, e);
		if (rc)
			goto done;
	}
	return 0;
done:
	object_release(&o);
	return rc;
}

void elf_deps_release(struct elf_deps *d)
{
	for (size_t i = 0; i < d->nlibs; i++)
		free(d->lib[i]);
	free(d->lib);
	free(d->interp);
	memset(d, 0, sizeof(*d));
}
