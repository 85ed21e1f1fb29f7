/*
 * job.c - job spec JSON codec (see job.h for the fields).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "json_strict.h"

static const char *const guest_kind_names[] = {
	[JOB_GUEST_BUILTIN] = "builtin",
	[JOB_GUEST_LINUX] = "linux",
};

const char *job_guest_kind_name(enum job_guest_kind k)
{
	return (unsigned)k < 2 ? guest_kind_names[k] : "?";
}

static const char *const metrics_from_names[] = {
	[JOB_METRICS_LINES] = "lines",
	[JOB_METRICS_FIO_JSON] = "fio-json",
	[JOB_METRICS_NONE] = "none",
};

const char *job_metrics_from_name(enum job_metrics_from m)
{
	return (unsigned)m < 3 ? metrics_from_names[m] : "?";
}

int job_metrics_from_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, metrics_from_names[i]))
			return i;
	return -1;
}

void job_spec_init(struct job_spec *j)
{
	memset(j, 0, sizeof(*j));
	j->vcpus = 1;
	j->memory = 64ULL << 20;
	j->timeout_ms = 30000;
	j->guest.kind = JOB_GUEST_BUILTIN;
}

void job_spec_free(struct job_spec *j)
{
	free(j->name);
	free(j->workload);
	free(j->guest.kernel);
	free(j->guest.modules);
	free(j->guest.initramfs);
	free(j->guest.cmdline);
	for (uint32_t i = 0; i < j->guest.nfiles; i++) {
		free(j->guest.files[i].src);
		free(j->guest.files[i].dst);
	}
	free(j->guest.files);
	for (uint32_t i = 0; i < j->guest.run_argc; i++)
		free(j->guest.run_argv[i]);
	free(j->guest.run_argv);
	free(j->guest.run_shell);
	free(j->guest.rootfs);
	for (uint32_t i = 0; i < j->ndisks && i < JOB_MAX_DISKS; i++)
		free(j->disk[i].path);
	memset(j, 0, sizeof(*j));
}

/* ---- encoding ---- */

static int set_str(json_t *o, const char *key, const char *s)
{
	if (!s)
		return 0;
	return json_object_set_new(o, key, json_string(s)) ? -ENOMEM : 0;
}

static json_t *bucket_to_json(const struct job_bucket *b)
{
	json_t *o = json_object();

	if (!o || jset_u64(o, "size", b->size) ||
	    jset_u64(o, "one_time_burst", b->one_time_burst) ||
	    jset_u64(o, "refill_time_ms", b->refill_time_ms)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *disk_to_json(const struct job_disk *d)
{
	json_t *o = json_object(), *t = json_object();

	if (!o || !t)
		goto fail;
	if (set_str(o, "path", d->path) || jset_u64(o, "size", d->size) ||
	    json_object_set_new(o, "read_only", json_boolean(d->read_only)) ||
	    set_str(o, "serial", d->serial))
		goto fail;
	if (d->allow_block_device &&
	    json_object_set_new(o, "allow_block_device", json_true()))
		goto fail;
	if (d->clone && json_object_set_new(o, "clone", json_true()))
		goto fail;
	if (d->bw.size && json_object_set_new(t, "bandwidth", bucket_to_json(&d->bw)))
		goto fail;
	if (d->ops.size && json_object_set_new(t, "ops", bucket_to_json(&d->ops)))
		goto fail;
	if (json_object_size(t) && json_object_set(o, "throttle", t))
		goto fail;
	json_decref(t);
	return o;
fail:
	json_decref(t);
	json_decref(o);
	return NULL;
}

static json_t *files_to_json(const struct job_guest *g)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < g->nfiles; i++) {
		json_t *f = json_pack("{s:s, s:s}", "src", g->files[i].src,
				      "dst", g->files[i].dst);

		if (!f || json_array_append_new(a, f)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int job_guest_run_to_json(json_t *o, const struct job_guest *g)
{
	json_t *a;

	if (!job_guest_has_run(g))
		return 0;
	if (g->run_shell) {
		a = json_string(g->run_shell);
	} else {
		a = json_array();
		for (uint32_t i = 0; a && i < g->run_argc; i++)
			if (json_array_append_new(a, json_string(g->run_argv[i]))) {
				json_decref(a);
				a = NULL;
			}
	}
	if (json_object_set_new(o, "run", a))
		return -ENOMEM;
	return set_str(o, "metrics_from", job_metrics_from_name(g->metrics_from));
}

static json_t *guest_to_json(const struct job_guest *g)
{
	json_t *o = json_object();

	if (!o || set_str(o, "kind", job_guest_kind_name(g->kind)) ||
	    set_str(o, "kernel", g->kernel) || set_str(o, "modules", g->modules) ||
	    set_str(o, "initramfs", g->initramfs) || set_str(o, "cmdline", g->cmdline) ||
	    (g->nfiles && json_object_set_new(o, "files", files_to_json(g))) ||
	    job_guest_run_to_json(o, g) || set_str(o, "rootfs", g->rootfs) ||
	    (g->initramfs_agent && json_object_set_new(o, "initramfs_agent", json_true()))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *protect_to_json(const struct job_spec *j)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < j->nprotect; i++) {
		json_t *o = json_object();

		if (!o || jset_u64(o, "dev", j->protect[i].dev) ||
		    jset_u64(o, "ino", j->protect[i].ino) || json_array_append_new(a, o)) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *job_spec_to_json(const struct job_spec *j)
{
	json_t *o = json_object(), *disks = json_array();

	if (!o || !disks)
		goto fail;
	if (jset_u64(o, "version", JOB_SPEC_VERSION) || set_str(o, "name", j->name) ||
	    jset_u64(o, "vcpus", j->vcpus) || jset_u64(o, "memory", j->memory) ||
	    jset_u64(o, "timeout_ms", j->timeout_ms) ||
	    json_object_set_new(o, "guest", guest_to_json(&j->guest)) ||
	    set_str(o, "workload", j->workload))
		goto fail;
	for (uint32_t i = 0; i < j->ndisks; i++)
		if (json_array_append_new(disks, disk_to_json(&j->disk[i])))
			goto fail;
	if (json_object_set(o, "disks", disks))
		goto fail;
	json_decref(disks);
	disks = NULL;
	if (j->nprotect && json_object_set_new(o, "protect", protect_to_json(j)))
		goto fail;
	if (j->test_forbidden_syscall &&
	    json_object_set_new(o, "test", json_pack("{s:b}", "forbidden_syscall", 1)))
		goto fail;
	return o;
fail:
	json_decref(disks);
	json_decref(o);
	return NULL;
}

char *job_spec_encode(const struct job_spec *j)
{
	json_t *o = job_spec_to_json(j);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* ---- decoding ---- */

static const char *const job_keys[] = {
	"version", "name", "vcpus", "memory", "timeout_ms", "guest", "workload",
	"disks", "protect", "test", NULL
};
static const char *const test_keys[] = { "forbidden_syscall", NULL };
static const char *const guest_keys[] = {
	"kind", "kernel", "modules", "initramfs", "initramfs_agent", "cmdline", "files", "run",
	"metrics_from", "rootfs", NULL
};
static const char *const file_keys[] = { "src", "dst", NULL };
static const char *const disk_keys[] = {
	"path", "size", "read_only", "allow_block_device", "clone", "serial", "throttle",
	NULL
};
static const char *const protect_keys[] = { "dev", "ino", NULL };
static const char *const throttle_keys[] = { "bandwidth", "ops", NULL };
static const char *const bucket_keys[] = {
	"size", "one_time_burst", "refill_time_ms", NULL
};

static int bucket_from_json(const json_t *o, const char *what,
			    struct job_bucket *b, struct verr *e)
{
	int rc;

	if ((rc = jstrict_keys(o, what, bucket_keys, e)) ||
	    (rc = jstrict_u64_range(o, what, "size", 1, INT64_MAX, &b->size, e)) ||
	    (rc = jstrict_opt_u64(o, what, "one_time_burst", &b->one_time_burst, e)) ||
	    (rc = jstrict_u64_range(o, what, "refill_time_ms", 1, 3600000,
				    &b->refill_time_ms, e)))
		return rc;
	return 0;
}

static int throttle_from_json(const json_t *o, const char *what,
			      struct job_disk *d, struct verr *e)
{
	char sub[96];
	json_t *v;
	int rc;

	rc = jstrict_keys(o, what, throttle_keys, e);
	if (rc)
		return rc;
	if ((v = json_object_get(o, "bandwidth"))) {
		snprintf(sub, sizeof(sub), "%s.bandwidth", what);
		if ((rc = bucket_from_json(v, sub, &d->bw, e)))
			return rc;
	}
	if ((v = json_object_get(o, "ops"))) {
		snprintf(sub, sizeof(sub), "%s.ops", what);
		if ((rc = bucket_from_json(v, sub, &d->ops, e)))
			return rc;
	}
	return 0;
}

static int serial_check(const char *s, const char *what, struct verr *e)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e) {
			verr_set(e, "%s: field 'serial' must be printable ASCII", what);
			return -EINVAL;
		}
	}
	return 0;
}

static int disk_from_json(const json_t *o, const char *what, struct job_disk *d,
			  struct verr *e)
{
	char sub[80];
	json_t *t;
	int rc;

	if ((rc = jstrict_keys(o, what, disk_keys, e)) ||
	    (rc = jstrict_opt_strdup(o, what, "path", &d->path, e)) ||
	    (rc = jstrict_opt_u64(o, what, "size", &d->size, e)) ||
	    (rc = jstrict_opt_bool(o, what, "read_only", &d->read_only, e)) ||
	    (rc = jstrict_opt_bool(o, what, "allow_block_device",
				   &d->allow_block_device, e)) ||
	    (rc = jstrict_opt_bool(o, what, "clone", &d->clone, e)) ||
	    (rc = jstrict_opt_str(o, what, "serial", d->serial, sizeof(d->serial), e)) ||
	    (rc = serial_check(d->serial, what, e)))
		return rc;
	if (d->path && !d->path[0]) {
		verr_set(e, "%s: field 'path' is empty", what);
		return -EINVAL;
	}
	if (d->clone && (!d->path || d->read_only)) {
		verr_set(e, "%s: 'clone' copies a writable image: it needs a 'path' and"
			 " no 'read_only'", what);
		return -EINVAL;
	}
	if (!d->path && d->size == 0) {
		verr_set(e, "%s: needs a 'path' or a non-zero 'size'", what);
		return -EINVAL;
	}
	if (d->size % 512) {
		verr_set(e, "%s: field 'size' (%llu) is not a multiple of 512", what,
			 (unsigned long long)d->size);
		return -EINVAL;
	}
	if ((t = json_object_get(o, "throttle"))) {
		snprintf(sub, sizeof(sub), "%s.throttle", what);
		return throttle_from_json(t, sub, d, e);
	}
	return 0;
}

/* An absolute path without . or .. components, empty ones or a trailing '/'. */
static bool path_plain(const char *p)
{
	if (p[0] != '/' || !p[1] || p[strlen(p) - 1] == '/' || strstr(p, "//"))
		return false;
	for (const char *s = p; (s = strchr(s, '/')); s++)
		if (!strncmp(s, "/./", 3) || !strncmp(s, "/../", 4) || !strcmp(s, "/.") ||
		    !strcmp(s, "/.."))
			return false;
	return true;
}

/* Where the agent and the kernel live, a file may not go. */
static bool dst_reserved(const char *d)
{
	static const char *const dirs[] = { "/proc", "/sys", "/dev", "/lib/modules", NULL };

	if (!strcmp(d, "/init"))
		return true;
	for (size_t i = 0; dirs[i]; i++) {
		size_t n = strlen(dirs[i]);

		if (!strncmp(d, dirs[i], n) && (d[n] == '/' || !d[n]))
			return true;
	}
	return false;
}

bool job_file_dst_ok(const char *dst)
{
	return path_plain(dst) && !dst_reserved(dst);
}

static int files_from_json(const json_t *a, struct job_guest *g, struct verr *e)
{
	char what[48];
	size_t n;
	int rc;

	if (!json_is_array(a)) {
		verr_set(e, "job.guest: field 'files' must be an array");
		return -EINVAL;
	}
	n = json_array_size(a);
	if (n > JOB_MAX_FILES) {
		verr_set(e, "job.guest: field 'files' has %zu entries, at most %d", n,
			 JOB_MAX_FILES);
		return -E2BIG;
	}
	g->files = calloc(n ? n : 1, sizeof(*g->files));
	if (!g->files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *f = json_array_get(a, i);
		struct job_file *jf = &g->files[g->nfiles++];

		snprintf(what, sizeof(what), "job.guest.files[%zu]", i);
		if (!json_is_object(f)) {
			verr_set(e, "%s: expected an object", what);
			return -EINVAL;
		}
		if ((rc = jstrict_keys(f, what, file_keys, e)) ||
		    (rc = jstrict_opt_strdup(f, what, "src", &jf->src, e)) ||
		    (rc = jstrict_opt_strdup(f, what, "dst", &jf->dst, e)))
			return rc;
		if (!jf->src || !path_plain(jf->src)) {
			verr_set(e, "%s: 'src' must be an absolute path without . or .."
				 " components", what);
			return -EINVAL;
		}
		if (!jf->dst && !(jf->dst = strdup(jf->src)))
			return -ENOMEM;
		if (!job_file_dst_ok(jf->dst)) {
			verr_set(e, "%s: 'dst' must be an absolute path without . or .."
				 " components, and not /init, /proc, /sys, /dev or"
				 " /lib/modules", what);
			return -EINVAL;
		}
	}
	return 0;
}

/* One string of "run": not empty (argv[0]), no NUL, within the byte budget. */
static int run_str(const json_t *v, const char *what, bool first, size_t *bytes,
		   char **out, struct verr *e)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (!s) {
		verr_set(e, "%s: expected a string", what);
		return -EINVAL;
	}
	if (first && !len) {
		verr_set(e, "%s: must not be empty", what);
		return -EINVAL;
	}
	if (strlen(s) != len) {
		verr_set(e, "%s: holds a NUL character", what);
		return -EINVAL;
	}
	*bytes += len + 1;
	if (*bytes > JOB_RUN_MAX_BYTES) {
		verr_set(e, "job.guest: field 'run' is longer than %d bytes", JOB_RUN_MAX_BYTES);
		return -E2BIG;
	}
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int run_from_json(const json_t *o, struct job_guest *g, struct verr *e)
{
	const json_t *v = json_object_get(o, "run");
	const json_t *m = json_object_get(o, "metrics_from");
	char what[48];
	size_t n, bytes = 0;
	int rc, from = -1;

	if (m && json_is_string(m))
		from = job_metrics_from_parse(json_string_value(m));
	if (m && from < 0) {
		verr_set(e, "job.guest: field 'metrics_from' must be 'lines', 'fio-json' or"
			 " 'none'");
		return -EINVAL;
	}
	if (m && !v) {
		verr_set(e, "job.guest: field 'metrics_from' needs field 'run'");
		return -EINVAL;
	}
	if (!v)
		return 0;
	if (m)
		g->metrics_from = (enum job_metrics_from)from;
	if (json_is_string(v))
		return run_str(v, "job.guest.run", true, &bytes, &g->run_shell, e);
	if (!json_is_array(v) || !(n = json_array_size(v))) {
		verr_set(e, "job.guest: field 'run' must be a string or a non-empty array of"
			 " strings");
		return -EINVAL;
	}
	if (n > JOB_MAX_RUN_ARGS) {
		verr_set(e, "job.guest: field 'run' has %zu entries, at most %d", n,
			 JOB_MAX_RUN_ARGS);
		return -E2BIG;
	}
	g->run_argv = calloc(n, sizeof(*g->run_argv));
	if (!g->run_argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "job.guest.run[%zu]", i);
		rc = run_str(json_array_get(v, i), what, i == 0, &bytes, &g->run_argv[i], e);
		if (rc)
			return rc;
		g->run_argc++;
	}
	return 0;
}

static int guest_from_json(const json_t *o, struct job_guest *g, struct verr *e)
{
	const char *what = "job.guest";
	char kind[16];
	int rc;

	if ((rc = jstrict_keys(o, what, guest_keys, e)) ||
	    (rc = jstrict_str(o, what, "kind", kind, sizeof(kind), e)))
		return rc;
	if (strcmp(kind, "builtin") == 0) {
		g->kind = JOB_GUEST_BUILTIN;
	} else if (strcmp(kind, "linux") == 0) {
		g->kind = JOB_GUEST_LINUX;
	} else {
		verr_set(e, "%s: field 'kind' is '%s', expected 'builtin' or 'linux'",
			 what, kind);
		return -EINVAL;
	}
	if ((rc = jstrict_opt_strdup(o, what, "kernel", &g->kernel, e)) ||
	    (rc = jstrict_opt_strdup(o, what, "modules", &g->modules, e)) ||
	    (rc = jstrict_opt_strdup(o, what, "initramfs", &g->initramfs, e)) ||
	    (rc = jstrict_opt_strdup(o, what, "cmdline", &g->cmdline, e)) ||
	    (rc = jstrict_opt_strdup(o, what, "rootfs", &g->rootfs, e)) ||
	    (rc = jstrict_opt_bool(o, what, "initramfs_agent", &g->initramfs_agent, e)))
		return rc;
	if (g->initramfs_agent && !g->initramfs) {
		verr_set(e, "%s: field 'initramfs_agent' needs field 'initramfs'", what);
		return -EINVAL;
	}
	if (g->kind == JOB_GUEST_LINUX && !g->kernel) {
		verr_set(e, "%s: a linux guest needs field 'kernel'", what);
		return -EINVAL;
	}
	if (g->kind == JOB_GUEST_BUILTIN &&
	    (g->kernel || g->modules || g->initramfs || g->rootfs ||
	     json_object_get(o, "files") || json_object_get(o, "run") ||
	     json_object_get(o, "metrics_from"))) {
		verr_set(e, "%s: the builtin guest takes no kernel, modules, initramfs,"
			 " files or run", what);
		return -EINVAL;
	}
	if (json_object_get(o, "files") &&
	    (rc = files_from_json(json_object_get(o, "files"), g, e)))
		return rc;
	if ((rc = run_from_json(o, g, e)))
		return rc;
	/* The user's own archive is booted as it is: nothing goes into it. */
	if (g->initramfs && (g->nfiles || (job_guest_has_run(g) && !g->initramfs_agent))) {
		verr_set(e, "%s: field '%s' needs the agent's initramfs, which vmorch builds:"
			 " leave out field 'initramfs'", what, g->nfiles ? "files" : "run");
		return -EINVAL;
	}
	if (g->rootfs && !job_guest_has_run(g)) {
		verr_set(e, "%s: field 'rootfs' needs field 'run' (the program it serves)", what);
		return -EINVAL;
	}
	return 0;
}

static int disks_from_json(const json_t *a, struct job_spec *j, struct verr *e)
{
	char what[32];
	size_t n;

	if (!json_is_array(a)) {
		verr_set(e, "job: field 'disks' must be an array");
		return -EINVAL;
	}
	n = json_array_size(a);
	if (n > JOB_MAX_DISKS) {
		verr_set(e, "job: field 'disks' has %zu entries, at most %d", n,
			 JOB_MAX_DISKS);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		int rc;

		snprintf(what, sizeof(what), "job.disks[%zu]", i);
		j->ndisks = (uint32_t)i + 1;	/* so job_spec_free sees the path */
		rc = disk_from_json(json_array_get(a, i), what, &j->disk[i], e);
		if (rc)
			return rc;
	}
	return 0;
}

static int protect_from_json(const json_t *a, struct job_spec *j, struct verr *e)
{
	char what[32];
	size_t n;
	int rc;

	if (!json_is_array(a)) {
		verr_set(e, "job: field 'protect' must be an array");
		return -EINVAL;
	}
	n = json_array_size(a);
	if (n > JOB_MAX_PROTECT) {
		verr_set(e, "job: field 'protect' has %zu entries, at most %d", n,
			 JOB_MAX_PROTECT);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);

		snprintf(what, sizeof(what), "job.protect[%zu]", i);
		if ((rc = jstrict_keys(o, what, protect_keys, e)) ||
		    (rc = jstrict_u64(o, what, "dev", &j->protect[i].dev, e)) ||
		    (rc = jstrict_u64(o, what, "ino", &j->protect[i].ino, e)))
			return rc;
	}
	j->nprotect = (uint32_t)n;
	return 0;
}

int job_spec_from_json(const json_t *root, struct job_spec *out, struct verr *e)
{
	const char *what = "job";
	struct job_spec j;
	uint64_t version, vcpus;
	json_t *v;
	int rc;

	job_spec_init(&j);
	if ((rc = jstrict_keys(root, what, job_keys, e)) ||
	    (rc = jstrict_u64(root, what, "version", &version, e)))
		goto fail;
	if (version != JOB_SPEC_VERSION) {
		verr_set(e, "job: version %llu is not supported (this vmorch reads %d)",
			 (unsigned long long)version, JOB_SPEC_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if ((rc = jstrict_strdup(root, what, "name", &j.name, e)) ||
	    (rc = jstrict_u64_range(root, what, "vcpus", 1, JOB_MAX_VCPUS, &vcpus, e)) ||
	    (rc = jstrict_u64_range(root, what, "memory", JOB_MEM_MIN, JOB_MEM_MAX,
				    &j.memory, e)) ||
	    (rc = jstrict_u64_range(root, what, "timeout_ms", 1, 7 * 86400000ULL,
				    &j.timeout_ms, e)) ||
	    (rc = jstrict_opt_strdup(root, what, "workload", &j.workload, e)))
		goto fail;
	j.vcpus = (uint32_t)vcpus;
	if (j.memory % 4096) {
		verr_set(e, "job: field 'memory' (%llu) is not a multiple of 4096",
			 (unsigned long long)j.memory);
		rc = -EINVAL;
		goto fail;
	}
	v = json_object_get(root, "guest");
	if (!v) {
		verr_set(e, "job: missing field 'guest'");
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = guest_from_json(v, &j.guest, e)))
		goto fail;
	if (job_guest_has_run(&j.guest) && j.workload) {
		verr_set(e, "job: the guest runs either 'workload' or 'guest.run', not both");
		rc = -EINVAL;
		goto fail;
	}
	if ((v = json_object_get(root, "disks")) && (rc = disks_from_json(v, &j, e)))
		goto fail;
	if ((v = json_object_get(root, "protect")) && (rc = protect_from_json(v, &j, e)))
		goto fail;
	if ((v = json_object_get(root, "test")) &&
	    ((rc = jstrict_keys(v, "job.test", test_keys, e)) ||
	     (rc = jstrict_opt_bool(v, "job.test", "forbidden_syscall",
				    &j.test_forbidden_syscall, e))))
		goto fail;
	*out = j;
	return 0;
fail:
	job_spec_free(&j);
	return rc;
}

int job_spec_decode(const char *text, size_t len, struct job_spec *out,
		    struct verr *e)
{
	json_t *root = jstrict_loads(text, len, "job", e);
	int rc;

	if (!root)
		return -EINVAL;
	rc = job_spec_from_json(root, out, e);
	json_decref(root);
	return rc;
}
