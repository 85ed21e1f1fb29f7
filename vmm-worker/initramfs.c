/*
 * initramfs.c - builds the initramfs a Linux guest boots with (see
 * initramfs.h): the embedded vmorch-agent as /init, the modules that
 * virtio_mmio and virtio_blk need in load order, busybox when the host has
 * a static one.  Archives are cached by the SHA-256 of what goes in.
 *
 * Modules are found through modules.dep when the tree has one (depmod ran);
 * a kernel unpacked from a Debian .deb has none (its postinst runs depmod),
 * so then the tree is walked and each module's .modinfo "depends=" read.
 */
#include <dirent.h>
#include <stdarg.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "common/cache_dir.h"
#include "common/file_read.h"
#include "common/sha256.h"
#include "vmm-worker/cpio.h"
#include "vmm-worker/initramfs.h"
#include "vmm-worker/initramfs_files.h"

/* The agent binary, embedded at build time (guest/agent/local.mk); the
 * path is relative to the build directory, where the compiler runs. */
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".hidden initramfs_agent\n"
	".hidden initramfs_agent_end\n"
	"initramfs_agent:\n"
	".incbin \"guest/agent/vmorch-agent\"\n"
	"initramfs_agent_end:\n"
	".popsection\n");
extern const uint8_t initramfs_agent[], initramfs_agent_end[];

#define INITRAMFS_FORMAT	"vmorch-initramfs 1"	/* bump when the layout changes */
#define MAX_MODULES		64
#define MODULE_FILE_MAX		(64u << 20)

static const char *const wanted_modules[] = { "virtio_mmio", "virtio_blk" };

struct kmod {
	char name[64];		/* normalised: '-' -> '_' */
	char *path;		/* relative to the modules directory */
	char *deps;		/* modules.dep: relative paths, space separated */
};

struct kmod_index {
	char dir[PATH_MAX];
	bool have_dep;		/* modules.dep; else .modinfo */
	struct kmod *mod;
	size_t n, cap;
	char *builtin;		/* modules.builtin text, or NULL */
};

struct kmod_list {
	const struct kmod *mod[MAX_MODULES];
	size_t n;
};

/* ---- small file helpers ---- */

/* snprintf into a fixed buffer; paths longer than PATH_MAX are cut (and
 * then simply not found). */
static int strf(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int strf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- kernel release ---- */

static int release_copy(const char *s, size_t max, char *out, size_t cap)
{
	size_t n = 0;

	while (n < max && s[n] && s[n] != ' ' && s[n] != '\n' && (unsigned char)s[n] > ' ')
		n++;
	if (n == 0 || n >= cap || !strchr("0123456789", s[0]))
		return -1;
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

/* boot.rst: "HdrS" at 0x202; kernel_version (0x20e) + 0x200 points at
 * "6.1.0-56-cloud-amd64 (debian-kernel@...) #1 SMP ...". */
static int release_from_bzimage(const uint8_t *k, size_t len, char *out, size_t cap)
{
	uint16_t off;

	if (len < 0x210 || memcmp(k + 0x202, "HdrS", 4))
		return -1;
	memcpy(&off, k + 0x20e, 2);
	if (!off || (size_t)off + 0x200 >= len)
		return -1;
	return release_copy((const char *)k + off + 0x200, len - off - 0x200, out, cap);
}

/* An ELF vmlinux carries the banner "Linux version REL ..." in .rodata. */
static int release_from_banner(const uint8_t *k, size_t len, char *out, size_t cap)
{
	static const char tag[] = "Linux version ";
	const uint8_t *p = k, *end = k + len;

	while ((p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		p += sizeof(tag) - 1;
		if (!release_copy((const char *)p, (size_t)(end - p), out, cap))
			return 0;
	}
	return -1;
}

static int release_from_name(const char *kernel, char *out, size_t cap)
{
	const char *base = strrchr(kernel, '/');

	base = base ? base + 1 : kernel;
	if (strncmp(base, "vmlinuz-", 8) && strncmp(base, "vmlinux-", 8))
		return -1;
	return release_copy(base + 8, strlen(base + 8), out, cap);
}

static int kernel_release(const char *kernel, char *out, size_t cap, struct verr *e)
{
	uint8_t *k;
	size_t len;
	int rc;

	if ((rc = file_read_all(kernel, 1u << 30, &k, &len, e)))
		return rc;
	rc = release_from_bzimage(k, len, out, cap);
	if (rc && !memcmp(k, ELFMAG, SELFMAG))
		rc = release_from_banner(k, len, out, cap);
	free(k);
	if (rc)
		rc = release_from_name(kernel, out, cap);
	if (rc) {
		verr_set(e, "kernel %s: release not found (no version string in its header, "
			 "name not vmlinuz-RELEASE); set guest.modules", kernel);
		return -ENOENT;
	}
	return 0;
}

/* ---- the modules directory ---- */

static bool looks_like_modules_dir(const char *dir)
{
	char p[PATH_MAX];

	strf(p, sizeof(p), "%s/modules.dep", dir);
	if (is_file(p))
		return true;
	strf(p, sizeof(p), "%s/modules.order", dir);
	if (is_file(p))
		return true;
	strf(p, sizeof(p), "%s/kernel", dir);
	return is_dir(p);
}

/*
 * g->modules (a lib/modules/REL directory, or a lib/modules holding REL),
 * else DIR/lib/modules/REL for a kernel at DIR/boot/vmlinuz-REL (a .deb
 * unpacked with dpkg-deb -x), else /lib/modules/REL.
 */
static int modules_dir_find(const struct job_guest *g, char *out, size_t cap, struct verr *e)
{
	char rel[128], beside[PATH_MAX], kdir[PATH_MAX], *slash;
	int rc;

	if (g->modules) {
		errno = 0;
		if (!is_dir(g->modules)) {
			int err = errno;

			verr_set(e, "modules directory %s: %s", g->modules,
				 err ? strerror(err) : "not a directory");
			return err ? -err : -ENOTDIR;
		}
		if (!looks_like_modules_dir(g->modules) &&
		    kernel_release(g->kernel, rel, sizeof(rel), NULL) == 0) {
			strf(beside, sizeof(beside), "%s/%s", g->modules, rel);
			if (is_dir(beside)) {
				strf(out, cap, "%s", beside);
				return 0;
			}
		}
		strf(out, cap, "%s", g->modules);
		return 0;
	}
	if ((rc = kernel_release(g->kernel, rel, sizeof(rel), e)))
		return rc;
	strf(kdir, sizeof(kdir), "%s", g->kernel);
	slash = strrchr(kdir, '/');
	if (slash)
		*slash = 0;
	else
		strf(kdir, sizeof(kdir), ".");
	strf(beside, sizeof(beside), "%s/../lib/modules/%s", kdir, rel);
	if (is_dir(beside)) {
		if (!realpath(beside, out))
			strf(out, cap, "%s", beside);
		return 0;
	}
	strf(out, cap, "/lib/modules/%s", rel);
	if (is_dir(out))
		return 0;
	verr_set(e, "no modules directory for kernel %s (release %s): tried %s and "
		 "/lib/modules/%s; set guest.modules", g->kernel, rel, beside, rel);
	return -ENOENT;
}

/* ---- module index ---- */

static void kmod_name(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[n] = 0;
}

static bool kmod_file(const char *name)
{
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		size_t el = strlen(ext[i]);

		if (len > el && !strcmp(name + len - el, ext[i]))
			return true;
	}
	return false;
}

static int index_add(struct kmod_index *x, const char *rel, const char *deps)
{
	struct kmod *m;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		struct kmod *p = realloc(x->mod, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		x->mod = p;
		x->cap = cap;
	}
	m = &x->mod[x->n];
	kmod_name(rel, m->name, sizeof(m->name));
	m->path = strdup(rel);
	m->deps = deps ? strdup(deps) : NULL;
	if (!m->path || (deps && !m->deps))
		return -ENOMEM;
	x->n++;
	return 0;
}

static int index_load_dep(struct kmod_index *x, const char *text)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n'), *colon;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[8192];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			colon = strchr(buf, ':');
			if (colon) {
				buf[colon - buf] = 0;
				if (index_add(x, buf, colon + 1 + strspn(colon + 1, " ")))
					return -ENOMEM;
			}
		}
		line += len + (nl ? 1 : 0);
	}
	return 0;
}

static int index_walk(struct kmod_index *x, const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int rc = 0;

	strf(path, sizeof(path), "%s/%s", x->dir, rel);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!rc && (de = readdir(dir))) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		strf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (de->d_type == DT_DIR)
			rc = index_walk(x, sub);
		else if (kmod_file(de->d_name))
			rc = index_add(x, sub, NULL);
	}
	closedir(dir);
	return rc;
}

static void index_free(struct kmod_index *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->mod[i].path);
		free(x->mod[i].deps);
	}
	free(x->mod);
	free(x->builtin);
	memset(x, 0, sizeof(*x));
}

static int index_load(struct kmod_index *x, const char *dir, struct verr *e)
{
	char p[PATH_MAX];
	uint8_t *text;
	size_t len;
	int rc;

	memset(x, 0, sizeof(*x));
	strf(x->dir, sizeof(x->dir), "%s", dir);
	strf(p, sizeof(p), "%s/modules.builtin", dir);
	if (is_file(p) && file_read_all(p, MODULE_FILE_MAX, &text, &len, NULL) == 0)
		x->builtin = (char *)text;
	strf(p, sizeof(p), "%s/modules.dep", dir);
	if (is_file(p)) {
		if ((rc = file_read_all(p, MODULE_FILE_MAX, &text, &len, e)))
			return rc;
		x->have_dep = true;
		rc = index_load_dep(x, (char *)text);
		free(text);
	} else {
		rc = index_walk(x, "");
	}
	if (rc)
		verr_set(e, "%s: out of memory", dir);
	return rc;
}

static const struct kmod *index_by_name(const struct kmod_index *x, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->mod[i].name, name))
			return &x->mod[i];
	return NULL;
}

static const struct kmod *index_by_path(const struct kmod_index *x, const char *path)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->mod[i].path, path))
			return &x->mod[i];
	return NULL;
}

static bool index_builtin(const struct kmod_index *x, const char *name)
{
	const char *line = x->builtin;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[PATH_MAX], n[64];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			kmod_name(buf, n, sizeof(n));
			if (!strcmp(n, name))
				return true;
		}
		line += len + (nl ? 1 : 0);
	}
	return false;
}

/* "depends=a,b" from the module's ELF .modinfo section (uncompressed .ko). */
static int modinfo_depends(const uint8_t *ko, size_t len, char *out, size_t cap)
{
	const Elf64_Ehdr *eh = (const void *)ko;
	const Elf64_Shdr *sh, *strtab;

	out[0] = 0;
	if (len < sizeof(*eh) || memcmp(ko, ELFMAG, SELFMAG) ||
	    ko[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > len || (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum)
		return -EINVAL;
	sh = (const void *)(ko + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (strtab->sh_offset > len || strtab->sh_size > len - strtab->sh_offset)
		return -EINVAL;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *p, *end;

		if (sh[i].sh_name >= strtab->sh_size ||
		    strcmp((const char *)ko + strtab->sh_offset + sh[i].sh_name, ".modinfo") ||
		    sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)
			continue;
		p = (const char *)ko + sh[i].sh_offset;
		end = p + sh[i].sh_size;
		for (; p < end; p += strnlen(p, (size_t)(end - p)) + 1)
			if (!strncmp(p, "depends=", 8)) {
				strf(out, cap, "%.*s", (int)strnlen(p + 8, (size_t)(end - p - 8)),
					 p + 8);
				return 0;
			}
		return 0;
	}
	return -EINVAL;
}

/* A .ko or .ko.gz file's content, decompressed. */
static int kmod_read_plain(const char *path, uint8_t **out, size_t *len, struct verr *e)
{
	size_t plen = strlen(path), cap = 1u << 20, got = 0;
	uint8_t *buf;
	gzFile gz;
	int n;

	if (plen < 3 || strcmp(path + plen - 3, ".gz"))
		return file_read_all(path, MODULE_FILE_MAX, out, len, e);
	gz = gzopen(path, "rb");
	buf = malloc(cap);
	if (!gz || !buf) {
		verr_set(e, "%s: cannot open", path);
		goto bad;
	}
	while ((n = gzread(gz, buf + got, (unsigned)(cap - got))) > 0) {
		uint8_t *p;

		got += (size_t)n;
		if (got < cap)
			continue;
		if (cap >= MODULE_FILE_MAX || !(p = realloc(buf, cap * 2)))
			break;
		buf = p;
		cap *= 2;
	}
	if (n < 0) {
		verr_set(e, "%s: bad gzip data", path);
		goto bad;
	}
	gzclose(gz);
	*out = buf;
	*len = got;
	return 0;
bad:
	if (gz)
		gzclose(gz);
	free(buf);
	return -EIO;
}

/* The dependencies of @m as names, whichever way the index knows them. */
static int kmod_deps(const struct kmod_index *x, const struct kmod *m, char *out,
		     size_t cap, struct verr *e)
{
	char path[PATH_MAX];
	uint8_t *ko;
	size_t len;
	int rc;

	out[0] = 0;
	if (x->have_dep) {
		/* Relative paths; depmod lists them so that the last loads first. */
		const char *p = m->deps ? m->deps : "";
		const char *end = p + strlen(p);

		while (end > p) {
			const char *s = end;
			char name[64], one[PATH_MAX];

			while (s > p && s[-1] != ' ')
				s--;
			strf(one, sizeof(one), "%.*s", (int)(end - s), s);
			if (one[0]) {
				const struct kmod *d = index_by_path(x, one);

				if (!d) {
					verr_set(e, "module %s: dependency %s not in %s/modules.dep",
						 m->name, one, x->dir);
					return -ENOENT;
				}
				kmod_name(one, name, sizeof(name));
				strf(out + strlen(out), cap - strlen(out), "%s%s",
					 out[0] ? "," : "", name);
			}
			end = s > p ? s - 1 : p;
		}
		return 0;
	}
	strf(path, sizeof(path), "%s/%s", x->dir, m->path);
	if (strstr(m->path, ".ko.xz") || strstr(m->path, ".ko.zst")) {
		verr_set(e, "module %s: compressed, and %s has no modules.dep (run depmod -b)",
			 path, x->dir);
		return -ENOTSUP;
	}
	if ((rc = kmod_read_plain(path, &ko, &len, e)))
		return rc;
	rc = modinfo_depends(ko, len, out, cap);
	free(ko);
	if (rc)
		verr_set(e, "module %s: not an ELF64 kernel module", path);
	return rc;
}

/* Depth first: every dependency before the module that needs it. */
static int kmod_resolve(const struct kmod_index *x, const char *name, struct kmod_list *l,
			unsigned depth, struct verr *e)
{
	const struct kmod *m = index_by_name(x, name);
	char deps[1024], *save = NULL, *d;
	int rc;

	if (!m) {
		if (index_builtin(x, name))
			return 0;
		verr_set(e, "module %s not found in %s", name, x->dir);
		return -ENOENT;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->mod[i] == m)
			return 0;
	if (depth > 16) {
		verr_set(e, "module %s: dependency loop", name);
		return -ELOOP;
	}
	if ((rc = kmod_deps(x, m, deps, sizeof(deps), e)))
		return rc;
	for (d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save))
		if ((rc = kmod_resolve(x, d, l, depth + 1, e)))
			return rc;
	for (size_t i = 0; i < l->n; i++)	/* a loop may have added it */
		if (l->mod[i] == m)
			return 0;
	if (l->n == MAX_MODULES) {
		verr_set(e, "more than %d modules", MAX_MODULES);
		return -E2BIG;
	}
	l->mod[l->n++] = m;
	return 0;
}

/* The wanted modules, plus any named in $VMORCH_INITRAMFS_MODULES (e.g.
 * "virtio_pci" for a guest on a PCI machine). */
static int kmod_resolve_all(const struct kmod_index *x, struct kmod_list *l, struct verr *e)
{
	const char *extra = getenv("VMORCH_INITRAMFS_MODULES");
	char buf[512], *save = NULL, *w;
	int rc;

	l->n = 0;
	for (size_t i = 0; i < sizeof(wanted_modules) / sizeof(*wanted_modules); i++)
		if ((rc = kmod_resolve(x, wanted_modules[i], l, 0, e)))
			return rc;
	strf(buf, sizeof(buf), "%s", extra ? extra : "");
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		if ((rc = kmod_resolve(x, w, l, 0, e)))
			return rc;
	return 0;
}

/* ---- the archive ---- */

struct blob {
	const char *name;	/* archive path */
	uint8_t *data;
	size_t len;
};

struct inputs {
	struct guest_files files;	/* the job's own, with their libraries */
	struct kmod_list mods;
	struct blob mod[MAX_MODULES];
	char modname[MAX_MODULES][128];
	char order[MAX_MODULES * 160];
	uint8_t *busybox;
	size_t busybox_len;
};

static const char *module_basename(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* A statically linked busybox (Debian's busybox-static): no PT_INTERP. */
static int busybox_load(struct inputs *in)
{
	const char *env = getenv("VMORCH_BUSYBOX");
	const char *cand[] = { env, "/bin/busybox", "/usr/bin/busybox" };

	if (env && !strcmp(env, "none"))
		return 0;
	for (size_t i = 0; i < sizeof(cand) / sizeof(*cand); i++) {
		const Elf64_Ehdr *eh;
		bool dynamic = false;

		if (!cand[i] || file_read_all(cand[i], 64u << 20, &in->busybox, &in->busybox_len, NULL))
			continue;
		eh = (const void *)in->busybox;
		if (in->busybox_len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
		    eh->e_phoff > in->busybox_len ||
		    (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > in->busybox_len - eh->e_phoff) {
			dynamic = true;
		} else {
			const Elf64_Phdr *ph = (const void *)(in->busybox + eh->e_phoff);

			for (unsigned j = 0; j < eh->e_phnum; j++)
				dynamic |= ph[j].p_type == PT_INTERP;
		}
		if (!dynamic)
			return 0;
		free(in->busybox);
		in->busybox = NULL;
	}
	return 0;
}

static int inputs_load(struct inputs *in, const struct kmod_index *x, struct verr *e)
{
	size_t olen = 0;
	int rc;

	for (size_t i = 0; i < in->mods.n; i++) {
		char path[PATH_MAX];
		const char *base = module_basename(in->mods.mod[i]->path);

		strf(path, sizeof(path), "%s/%s", x->dir, in->mods.mod[i]->path);
		if ((rc = file_read_all(path, MODULE_FILE_MAX, &in->mod[i].data, &in->mod[i].len, e)))
			return rc;
		strf(in->modname[i], sizeof(in->modname[i]), "lib/modules/%s", base);
		in->mod[i].name = in->modname[i];
		olen += (size_t)strf(in->order + olen, sizeof(in->order) - olen,
					 "/lib/modules/%s\n", base);
	}
	return busybox_load(in);
}

static void inputs_free(struct inputs *in)
{
	guest_files_free(&in->files);
	for (size_t i = 0; i < in->mods.n; i++)
		free(in->mod[i].data);
	free(in->busybox);
}

static void inputs_hash(const struct inputs *in, char hex[65])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update_blob(&s, INITRAMFS_FORMAT, "", 0);
	sha256_update_blob(&s, "init", initramfs_agent,
			   (size_t)(initramfs_agent_end - initramfs_agent));
	for (size_t i = 0; i < in->mods.n; i++)
		sha256_update_blob(&s, in->mod[i].name, in->mod[i].data, in->mod[i].len);
	sha256_update_blob(&s, "order", in->order, strlen(in->order));
	sha256_update_blob(&s, "bin/busybox", in->busybox ? in->busybox : (const uint8_t *)"",
			   in->busybox_len);
	guest_files_hash(&in->files, &s);
	sha256_final_hex(&s, hex);
}

/* The job's files and their libraries, after what the agent needs. */
static int extras_build(const struct inputs *in, struct cpio *c)
{
	static const char *const fixed[] = { "dev", "proc", "sys", "lib", "lib/modules", "bin" };

	return guest_files_build(&in->files, c, fixed, in->busybox ? 6 : 5);
}

static int archive_build(const struct inputs *in, struct cpio *c)
{
	cpio_init(c);
	cpio_add_dir(c, "dev", 0755);
	cpio_add_chardev(c, "dev/console", 0600, 5, 1);
	cpio_add_dir(c, "proc", 0755);
	cpio_add_dir(c, "sys", 0755);
	cpio_add_dir(c, "lib", 0755);
	cpio_add_dir(c, "lib/modules", 0755);
	for (size_t i = 0; i < in->mods.n; i++)
		cpio_add_file(c, in->mod[i].name, 0644, in->mod[i].data, in->mod[i].len);
	cpio_add_file(c, "lib/modules/order", 0644, in->order, strlen(in->order));
	if (in->busybox) {
		cpio_add_dir(c, "bin", 0755);
		cpio_add_file(c, "bin/busybox", 0755, in->busybox, in->busybox_len);
		cpio_add_symlink(c, "bin/sh", "busybox");
	}
	cpio_add_file(c, "init", 0755, initramfs_agent,
		      (size_t)(initramfs_agent_end - initramfs_agent));
	return extras_build(in, c) ? -ENOMEM : cpio_finish(c);
}

/* gzip (RFC 1952) of @len bytes into @fd. */
static int gzip_write(int fd, const uint8_t *data, size_t len)
{
	uint8_t out[1 << 16];
	z_stream z = { 0 };
	int zr;

	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)data;
	z.avail_in = (uInt)len;	/* archives stay far below 4 GiB */
	do {
		size_t n, done = 0;

		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = deflate(&z, Z_FINISH);
		n = sizeof(out) - z.avail_out;
		while (done < n) {
			ssize_t w = write(fd, out + done, n - done);

			if (w < 0) {
				deflateEnd(&z);
				return -errno;
			}
			done += (size_t)w;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -EIO;
}


static int archive_store(const struct inputs *in, const char *path, struct verr *e)
{
	char tmp[PATH_MAX];
	struct cpio c;
	int fd, rc;

	if ((rc = archive_build(in, &c))) {
		verr_set(e, "initramfs: %s", strerror(-rc));
		goto out;
	}
	strf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = verr_errno(e, "initramfs %s", tmp);
		goto out;
	}
	rc = gzip_write(fd, c.buf, c.len);
	if (!rc && fchmod(fd, 0644))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	/* Atomic: a concurrent worker sees the old name or the whole file. */
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		verr_set(e, "initramfs %s: %s", path, strerror(-rc));
	}
out:
	cpio_free(&c);
	return rc;
}

int initramfs_get(const struct job_guest *g, char *out, size_t cap, struct verr *e)
{
	struct kmod_index x = { 0 };
	struct inputs *in;
	char mdir[PATH_MAX], cdir[PATH_MAX], hex[65];
	int rc;

	if (g->initramfs) {
		errno = 0;
		if (!is_file(g->initramfs)) {
			int err = errno;

			verr_set(e, "initramfs %s: %s", g->initramfs,
				 err ? strerror(err) : "not a regular file");
			return err ? -err : -EINVAL;
		}
		strf(out, cap, "%s", g->initramfs);
		return 0;
	}
	if (!g->kernel) {
		verr_set(e, "linux guest without a kernel");
		return -EINVAL;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		verr_set(e, "initramfs: out of memory");
		return -ENOMEM;
	}
	if ((rc = modules_dir_find(g, mdir, sizeof(mdir), e)) ||
	    (rc = index_load(&x, mdir, e)) ||
	    (rc = kmod_resolve_all(&x, &in->mods, e)) ||
	    (rc = inputs_load(in, &x, e)) ||
	    (rc = guest_files_load(&in->files, g, e)) ||
	    (rc = cache_dir("initramfs", cdir, sizeof(cdir), e)))
		goto out;
	inputs_hash(in, hex);
	if ((size_t)strf(out, cap, "%s/%s.cpio.gz", cdir, hex) >= cap) {
		verr_set(e, "initramfs: path too long");
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (!is_file(out))
		rc = archive_store(in, out, e);
out:
	inputs_free(in);
	free(in);
	index_free(&x);
	return rc;
}
