/*
 * initramfs_files.c - a job's own files in a Linux guest's initramfs (see
 * initramfs_files.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/elf_deps.h"
#include "common/file_read.h"
#include "vmm-worker/initramfs_files.h"

/* A new entry at @dst, or NULL: @dst is there already (the first one wins). */
static struct guest_entry *entry_new(struct guest_files *f, const char *dst, int *rc,
				     struct verr *e)
{
	struct guest_entry *x;

	*rc = 0;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].dst, dst))
			return NULL;
	if (f->n == GUEST_FILES_MAX) {
		verr_set(e, "files: more than %d entries with their libraries", GUEST_FILES_MAX);
		*rc = -E2BIG;
		return NULL;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct guest_entry *v = realloc(f->v, cap * sizeof(*v));

		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		f->v = v;
		f->cap = cap;
	}
	x = &f->v[f->n];
	memset(x, 0, sizeof(*x));
	if (!(x->dst = strdup(dst))) {
		*rc = -ENOMEM;
		return NULL;
	}
	f->n++;
	return x;
}

/*
 * A regular file, then its interpreter and libraries at the host's paths:
 * the whole closure (elf_deps_find), so a library added here (@lib) brings
 * nothing more.
 */
static int file_add(struct guest_files *f, const char *src, const char *dst,
		    const struct stat *st, bool lib, struct verr *e)
{
	struct elf_deps d = { 0 };
	struct guest_entry *x;
	int rc;

	x = entry_new(f, dst, &rc, e);
	if (!x)
		return rc;
	x->kind = GUEST_ENTRY_FILE;
	x->lib = lib;
	x->mode = st->st_mode & 0111 ? 0755 : 0644;
	rc = file_read_all(src, GUEST_FILE_MAX, &x->data, &x->len, e);
	if (!rc && !lib)
		rc = elf_deps_find(src, &d, e);
	if (!rc && d.interp) {
		struct stat ist;

		rc = stat(d.interp, &ist) ? verr_errno(e, "file %s", d.interp) :
			file_add(f, d.interp, d.interp, &ist, true, e);
	}
	for (size_t k = 0; !rc && k < d.nlibs; k++) {
		struct stat lst;

		rc = stat(d.lib[k], &lst) ? verr_errno(e, "file %s", d.lib[k]) :
			file_add(f, d.lib[k], d.lib[k], &lst, true, e);
	}
	elf_deps_release(&d);
	return rc;
}

static int link_add(struct guest_files *f, const char *src, const char *dst, struct verr *e)
{
	char target[PATH_MAX];
	ssize_t n = readlink(src, target, sizeof(target) - 1);
	struct guest_entry *x;
	int rc;

	if (n < 0)
		return verr_errno(e, "file %s", src);
	x = entry_new(f, dst, &rc, e);
	if (!x)
		return rc;
	x->kind = GUEST_ENTRY_LINK;
	x->data = malloc((size_t)n + 1);
	if (!x->data)
		return -ENOMEM;
	memcpy(x->data, target, (size_t)n);
	x->data[n] = 0;
	x->len = (size_t)n;
	return 0;
}

static int entry_add(struct guest_files *f, const char *src, const char *dst,
		     const struct stat *st, unsigned depth, struct verr *e);

/* A directory and what is under it, in name order. */
static int dir_add(struct guest_files *f, const char *src, const char *dst,
		   unsigned depth, struct verr *e)
{
	struct dirent **names = NULL;
	struct guest_entry *x;
	int n, rc = 0;

	if (depth > GUEST_FILES_DEPTH) {
		verr_set(e, "file %s: directories nested more than %d deep", src,
			 GUEST_FILES_DEPTH);
		return -ELOOP;
	}
	x = entry_new(f, dst, &rc, e);
	if (rc)
		return rc;
	if (x)
		x->kind = GUEST_ENTRY_DIR;
	n = scandir(src, &names, NULL, alphasort);
	if (n < 0)
		return verr_errno(e, "directory %s", src);
	for (int i = 0; i < n; i++) {
		char s[PATH_MAX], d[PATH_MAX];
		const char *name = names[i]->d_name;
		struct stat st;

		if (rc || !strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if ((size_t)snprintf(s, sizeof(s), "%s/%s", src, name) >= sizeof(s) ||
		    (size_t)snprintf(d, sizeof(d), "%s/%s", strcmp(dst, "/") ? dst : "",
				     name) >= sizeof(d)) {
			verr_set(e, "file %s/%s: path too long", src, name);
			rc = -ENAMETOOLONG;
		} else if (lstat(s, &st)) {
			rc = verr_errno(e, "file %s", s);
		} else {
			rc = entry_add(f, s, d, &st, depth + 1, e);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int entry_add(struct guest_files *f, const char *src, const char *dst,
		     const struct stat *st, unsigned depth, struct verr *e)
{
	if (S_ISREG(st->st_mode))
		return file_add(f, src, dst, st, false, e);
	if (S_ISDIR(st->st_mode))
		return dir_add(f, src, dst, depth, e);
	if (S_ISLNK(st->st_mode))
		return link_add(f, src, dst, e);
	verr_set(e, "file %s: not a regular file, directory or symlink", src);
	return -EINVAL;
}

/* GUEST_LD_PATH_FILE, when some library lies outside the default directories. */
static int ld_path_add(struct guest_files *f, struct verr *e)
{
	char *path = NULL;
	size_t len = 0, n = f->n;
	struct guest_entry *x;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *dst = f->v[i].dst, *slash = strrchr(dst, '/');
		size_t dlen = (size_t)(slash - dst);
		char dir[PATH_MAX];
		char *grown;
		bool have = false;

		if (!f->v[i].lib || !slash || dlen >= sizeof(dir))
			continue;
		memcpy(dir, dst, dlen);
		dir[dlen] = 0;
		if (elf_deps_default_dir(dir))
			continue;
		for (const char *p = path; p && *p && !have; p += strcspn(p, ":") + !!p[strcspn(p, ":")])
			have = strcspn(p, ":") == dlen && !strncmp(p, dir, dlen);
		if (have)
			continue;
		grown = realloc(path, len + dlen + 2);
		if (!grown) {
			free(path);
			return -ENOMEM;
		}
		path = grown;
		len += (size_t)sprintf(path + len, "%s%s", len ? ":" : "", dir);
	}
	if (!path)
		return 0;
	x = entry_new(f, GUEST_LD_PATH_FILE, &rc, e);
	if (!x) {
		free(path);
		return rc;
	}
	x->kind = GUEST_ENTRY_FILE;
	x->mode = 0644;
	x->data = (uint8_t *)path;
	x->len = len;
	return 0;
}

int guest_files_load(struct guest_files *f, const struct job_guest *g, struct verr *e)
{
	int rc = 0;

	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < g->nfiles && !rc; i++) {
		struct stat st;

		if (stat(g->files[i].src, &st))
			rc = verr_errno(e, "file %s", g->files[i].src);
		else
			rc = entry_add(f, g->files[i].src, g->files[i].dst, &st, 0, e);
	}
	if (!rc)
		rc = ld_path_add(f, e);
	if (rc == -ENOMEM && !e->msg[0])
		verr_set(e, "files: out of memory");
	return rc;
}

void guest_files_hash(const struct guest_files *f, struct sha256 *s)
{
	static const char *const kind[] = { "file", "dir", "link" };

	for (size_t i = 0; i < f->n; i++) {
		const struct guest_entry *x = &f->v[i];

		sha256_update_blob(s, x->dst, x->data ? x->data : (const uint8_t *)"", x->len);
		sha256_update_blob(s, kind[x->kind], x->mode == 0755 ? "0755" : "0644", 4);
	}
}

static bool dir_made(char **made, size_t nmade, const char *dir)
{
	for (size_t i = 0; i < nmade; i++)
		if (!strcmp(made[i], dir))
			return true;
	return false;
}

/* @dir (no leading '/') into the archive once, its parents first. */
static int dir_ensure(struct cpio *c, const char *path, bool self, char ***made,
		      size_t *nmade, size_t *cap)
{
	char dir[PATH_MAX];
	size_t len = strlen(path);

	for (size_t at = 0; at <= len; at++) {
		if (path[at] != '/' && (path[at] || !self))
			continue;
		snprintf(dir, sizeof(dir), "%.*s", (int)at, path);
		if (!dir[0] || dir_made(*made, *nmade, dir))
			continue;
		if (*nmade == *cap) {
			char **m = realloc(*made, (*cap * 2) * sizeof(**made));

			if (!m)
				return -ENOMEM;
			*made = m;
			*cap *= 2;
		}
		if (!((*made)[*nmade] = strdup(dir)))
			return -ENOMEM;
		(*nmade)++;
		cpio_add_dir(c, dir, 0755);
	}
	return 0;
}

int guest_files_build(const struct guest_files *f, struct cpio *c,
		      const char *const *fixed, size_t nfixed)
{
	size_t nmade = 0, cap = nfixed + 64;
	char **made = calloc(cap, sizeof(*made));
	int rc = 0;

	if (!made)
		return -ENOMEM;
	for (size_t i = 0; i < nfixed && !rc; i++)
		if (!(made[nmade++] = strdup(fixed[i])))
			rc = -ENOMEM;
	for (size_t i = 0; i < f->n && !rc; i++) {
		const struct guest_entry *x = &f->v[i];
		const char *p = x->dst + 1;	/* cpio names have no leading '/' */

		rc = dir_ensure(c, p, x->kind == GUEST_ENTRY_DIR, &made, &nmade, &cap);
		if (rc || x->kind == GUEST_ENTRY_DIR)
			continue;
		if (x->kind == GUEST_ENTRY_LINK)
			cpio_add_symlink(c, p, (const char *)x->data);
		else
			cpio_add_file(c, p, x->mode, x->data, x->len);
	}
	for (size_t i = 0; i < nmade; i++)
		free(made[i]);
	free(made);
	return rc;
}

void guest_files_free(struct guest_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].dst);
		free(f->v[i].data);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
