/*
 * scenario.c - scenario files: read once, parsed into a positioned tree
 * (ytree.c), and checked against the schema: the top level, then each VM
 * (guest, disks, workload, expectations, placement) built into a struct
 * job_desc through the typed getters (ytree_get.c).  The matrix and the
 * expansion into jobs are scenario_matrix.c.
 *
 * The tree is kept after loading because matrix values are substituted into
 * VM definitions per job: a scalar "${bs}" stands for the matrix value node
 * itself, so an error in a matrix value points at the value where it was
 * written.  scenario_load() builds every VM for every combination once, so
 * a file that loads also expands.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/sha256.h"
#include "orchestrator/expect.h"
#include "orchestrator/jobname.h"
#include "orchestrator/scenario.h"
#include "orchestrator/scenario_priv.h"

#define SCENARIO_PATH_MAX	4095
#define REPEAT_MAX		1000
#define WORKLOAD_MAX		1024

/* ---- paths ---- */

/* Relative to the scenario file's directory, so a scenario is portable. */
static int get_path(struct ctx *c, const struct ytree_node *n, const char *what,
		    char **out)
{
	const char *t = NULL;
	int r;

	r = ytree_get_text(&c->doc, n, what, &t);
	if (r)
		return r;
	if (t[0] == '/')
		*out = strdup(t);
	else if (asprintf(out, "%s/%s", c->s->dir, t) < 0)
		*out = NULL;
	if (!*out) {
		verr_set(c->doc.e, "%s: out of memory", c->s->path);
		return -ENOMEM;
	}
	return 0;
}

/* ---- one VM, as one job ---- */

const char *const scenario_vm_keys[] = {
	"name", "vcpus", "memory", "guest", "disks", "workload", "timeout",
	"repeat", "expect", "placement", NULL
};

const struct ytree_node *scenario_vm_get(const struct scenario *s,
					 const struct ytree_node *vm,
					 const char *key)
{
	const struct ytree_node *v = ytree_map_get(vm, key, NULL);

	if (!v && s->defaults)
		v = ytree_map_get(s->defaults, key, NULL);
	return v;
}

/* Numbers, worded as "a whole number", "a size like 64M", "a time like 30s". */
#define NUM_COUNT(lo, hi, range) { YTREE_NUM_COUNT, lo, hi, 1, range, NULL, NULL }
#define NUM_SIZE(lo, hi, align, range, align_text) \
	{ YTREE_NUM_SIZE, lo, hi, align, range, align_text, "64M" }
#define NUM_TIME(lo, hi, range) { YTREE_NUM_TIME, lo, hi, 1, range, NULL, "30s" }

static const struct ytree_num rule_vcpus = NUM_COUNT(1, JOB_MAX_VCPUS, "1..64");
static const struct ytree_num rule_memory =
	NUM_SIZE(2ULL << 20, 3ULL << 30, 4096, "2M..3G", "4k");
static const struct ytree_num rule_timeout = NUM_TIME(1, 24ULL * 3600 * 1000, "1ms..24h");
static const struct ytree_num rule_repeat = NUM_COUNT(1, REPEAT_MAX, "1..1000");
static const struct ytree_num rule_disk_size =
	NUM_SIZE(512, 1ULL << 40, 512, "512..1T", "512");
static const struct ytree_num rule_bucket_bytes =
	NUM_SIZE(1, UINT64_MAX >> 1, 1, "1 or more", NULL);
static const struct ytree_num rule_bucket_burst_bytes =
	NUM_SIZE(0, UINT64_MAX >> 1, 1, "0 or more", NULL);
static const struct ytree_num rule_bucket_ops =
	NUM_COUNT(1, UINT64_MAX >> 1, "1 or more");
static const struct ytree_num rule_bucket_burst_ops =
	NUM_COUNT(0, UINT64_MAX >> 1, "0 or more");
static const struct ytree_num rule_refill = NUM_TIME(1, 3600 * 1000, "1ms..1h");

/* One entry of files: a path (the same in the guest), or {src, dst}. */
static int build_file(struct ctx *c, const struct ytree_node *n, struct job_file *f)
{
	static const char *const keys[] = { "src", "dst", NULL };
	const struct ytree_node *v;
	const char *t = NULL;
	int r;

	if (n->kind == YTREE_SCALAR) {
		r = get_path(c, n, "files", &f->src);
		if (!r && !(f->dst = strdup(f->src)))
			r = -ENOMEM;
		v = n;
	} else {
		r = ytree_get_map_keys(&c->doc, n, keys, "files entry");
		if (r)
			return r;
		if (!(v = ytree_map_get(n, "src", NULL)))
			return fail_at(c, n, "missing required key 'src' in files entry");
		r = get_path(c, v, "src", &f->src);
		if (!r && (v = ytree_map_get(n, "dst", NULL))) {
			r = ytree_get_text(&c->doc, v, "dst", &t);
			if (!r && !(f->dst = strdup(t)))
				r = -ENOMEM;
		} else if (!r) {
			v = ytree_map_get(n, "src", NULL);
			if (!(f->dst = strdup(f->src)))
				r = -ENOMEM;
		}
	}
	if (!r && !job_file_dst_ok(f->dst))
		return fail_at(c, v, "bad guest path '%s' (expected an absolute path without"
			       " . or .. components, and not /init, /proc, /sys, /dev or"
			       " /lib/modules)", f->dst);
	return r;
}

static int build_files(struct ctx *c, const struct ytree_node *n, struct job_guest *g)
{
	int r = 0;

	if (n->kind != YTREE_SEQ)
		return fail_at(c, n, "bad files (expected a list of paths or {src, dst} mappings)");
	if (n->n > JOB_MAX_FILES)
		return fail_at(c, n->kid[JOB_MAX_FILES], "too many files (%zu, at most %d)",
			       n->n, JOB_MAX_FILES);
	g->files = calloc(n->n ? n->n : 1, sizeof(*g->files));
	if (!g->files)
		return -ENOMEM;
	for (size_t i = 0; i < n->n && !r; i++)
		r = build_file(c, n->kid[i], &g->files[g->nfiles++]);
	return r;
}

/* One word of run:, a matrix value where it names one (matrix_resolve_known). */
static int run_text(struct ctx *c, const struct ytree_node *n, bool first, char **out)
{
	const struct ytree_node *w;
	int r;

	if (n->kind != YTREE_SCALAR)
		return fail_at(c, n, "'run' entries must be text, not %s", ytree_kind_name(n));
	r = matrix_resolve_known(c, n, &w);
	if (r)
		return r;
	if (first && !w->text[0])
		return fail_at(c, n, "'run' must not start with an empty word");
	*out = strdup(w->text);
	return *out ? 0 : -ENOMEM;
}

/* run: an argv (a list of words) or one string for /bin/sh -c. */
static int build_run(struct ctx *c, const struct ytree_node *n, struct job_guest *g)
{
	int r = 0;

	if (n->kind == YTREE_SCALAR)
		return run_text(c, n, true, &g->run_shell);
	if (n->kind != YTREE_SEQ || !n->n)
		return fail_at(c, n, "bad run (expected a command line as one string, or a"
			       " non-empty list of words)");
	if (n->n > JOB_MAX_RUN_ARGS)
		return fail_at(c, n->kid[JOB_MAX_RUN_ARGS], "too many words in run (%zu, at"
			       " most %d)", n->n, JOB_MAX_RUN_ARGS);
	g->run_argv = calloc(n->n, sizeof(*g->run_argv));
	if (!g->run_argv)
		return -ENOMEM;
	for (size_t i = 0; i < n->n && !r; i++) {
		r = run_text(c, n->kid[i], i == 0, &g->run_argv[i]);
		if (!r)
			g->run_argc++;
	}
	return r;
}

/* rootfs: {image: PATH}, an ext4 image the agent chroots into to run. */
static int build_rootfs(struct ctx *c, const struct ytree_node *n, struct job_guest *g)
{
	static const char *const keys[] = { "image", NULL };
	const struct ytree_node *v;
	int r;

	if (!job_guest_has_run(g))
		return fail_at(c, n, "rootfs needs run (the program to run in it)");
	r = ytree_get_map_keys(&c->doc, n, keys, "rootfs");
	if (r)
		return r;
	if (!(v = ytree_map_get(n, "image", NULL)))
		return fail_at(c, n, "missing required key 'image' in rootfs");
	return get_path(c, v, "image", &g->rootfs);
}

/* "${diskN}" in @t: the highest N, or -1. */
static long run_max_disk(const char *t)
{
	long max = -1;

	for (const char *p = strstr(t, "${disk"); p; p = strstr(p + 1, "${disk")) {
		char *end;
		long n;

		if (p[6] < '0' || p[6] > '9')
			continue;
		n = strtol(p + 6, &end, 10);
		if (*end == '}' && n > max)
			max = n;
	}
	return max;
}

/* Every "${diskN}" of run: must name one of the VM's disks. */
static int run_check_disks(struct ctx *c, const struct ytree_node *guest, const struct job_spec *j)
{
	const struct ytree_node *run = guest->kind == YTREE_MAP ? ytree_map_get(guest, "run", NULL) : NULL;
	size_t n;

	if (!run)
		return 0;
	n = run->kind == YTREE_SEQ ? run->n : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ytree_node *w = run->kind == YTREE_SEQ ? run->kid[i] : run;
		long d = w->kind == YTREE_SCALAR ? run_max_disk(w->text) : -1;

		if (d >= (long)j->ndisks)
			return fail_at(c, w, "run names ${disk%ld} but the VM has %u disk%s"
				       " (they are numbered from 0)", d, j->ndisks,
				       j->ndisks == 1 ? "" : "s");
	}
	return 0;
}

static int build_guest(struct ctx *c, const struct ytree_node *n, struct job_guest *g)
{
	static const char *const keys[] = {
		"kernel", "modules", "initramfs", "cmdline", "files", "run", "metrics_from", "rootfs",
		NULL
	};
	const struct ytree_node *v;
	const char *t = NULL;
	int r;

	if (n->kind == YTREE_SCALAR) {
		r = ytree_get_scalar(&c->doc, n, "guest", "builtin", &t);
		if (r)
			return r;
		if (strcmp(t, "builtin") == 0)
			return 0;
		return fail_at(c, ytree_value(&c->doc, n), "bad guest '%s' (expected builtin or a mapping with kernel, initramfs, modules, cmdline, files, run, rootfs)",
			       t);
	}
	r = ytree_get_map_keys(&c->doc, n, keys, "guest");
	if (r)
		return r;
	v = ytree_map_get(n, "kernel", NULL);
	if (!v)
		return fail_at(c, n, "missing required key 'kernel' in guest");
	g->kind = JOB_GUEST_LINUX;
	r = get_path(c, v, "kernel", &g->kernel);
	if (!r && (v = ytree_map_get(n, "modules", NULL)))
		r = get_path(c, v, "modules", &g->modules);
	if (!r && (v = ytree_map_get(n, "initramfs", NULL)))
		r = get_path(c, v, "initramfs", &g->initramfs);
	if (!r && (v = ytree_map_get(n, "cmdline", NULL))) {
		r = ytree_get_text(&c->doc, v, "cmdline", &t);
		if (!r && !(g->cmdline = strdup(t)))
			r = -ENOMEM;
	}
	if (!r && (v = ytree_map_get(n, "files", NULL))) {
		if (g->initramfs)
			return fail_at(c, v, "files go into the agent's initramfs, which vmorch"
				       " builds: leave out initramfs");
		r = build_files(c, v, g);
	}
	if (!r && (v = ytree_map_get(n, "run", NULL))) {
		if (g->initramfs)
			return fail_at(c, v, "run needs the agent's initramfs, which vmorch"
				       " builds: leave out initramfs");
		r = build_run(c, v, g);
	}
	if (!r && (v = ytree_map_get(n, "rootfs", NULL)))
		r = build_rootfs(c, v, g);
	if (!r && (v = ytree_map_get(n, "metrics_from", NULL))) {
		static const char *const from[] = { "lines", "fio-json", "none", NULL };
		size_t i;

		if (!job_guest_has_run(g))
			return fail_at(c, v, "metrics_from needs run (the program whose output"
				       " it reads)");
		r = ytree_get_enum(&c->doc, v, "metrics_from", from, &i);
		if (!r)
			g->metrics_from = (enum job_metrics_from)job_metrics_from_parse(from[i]);
	}
	return r;
}

/* One token bucket: bytes (@bytes) or operations. */
static int build_bucket(struct ctx *c, const struct ytree_node *n, const char *what,
			bool bytes, struct job_bucket *b)
{
	static const char *const keys[] = {
		"size", "one_time_burst", "refill_time", NULL
	};
	const struct ytree_node *v;
	int r;

	r = ytree_get_map_keys(&c->doc, n, keys, what);
	if (r)
		return r;
	v = ytree_map_get(n, "size", NULL);
	if (!v)
		return fail_at(c, n, "missing required key 'size' in %s", what);
	r = ytree_get_number(&c->doc, v, "size", bytes ? &rule_bucket_bytes : &rule_bucket_ops,
		       &b->size);
	if (r)
		return r;
	v = ytree_map_get(n, "refill_time", NULL);
	if (!v)
		return fail_at(c, n, "missing required key 'refill_time' in %s", what);
	r = ytree_get_number(&c->doc, v, "refill_time", &rule_refill, &b->refill_time_ms);
	if (r)
		return r;
	v = ytree_map_get(n, "one_time_burst", NULL);
	if (v)
		r = ytree_get_number(&c->doc, v, "one_time_burst",
			       bytes ? &rule_bucket_burst_bytes : &rule_bucket_burst_ops,
			       &b->one_time_burst);
	return r;
}

static int build_throttle(struct ctx *c, const struct ytree_node *n,
			  struct job_disk *d)
{
	static const char *const keys[] = { "bandwidth", "ops", NULL };
	const struct ytree_node *v;
	int r;

	r = ytree_get_map_keys(&c->doc, n, keys, "throttle");
	if (r)
		return r;
	if (!ytree_map_len(n))
		return fail_at(c, n, "'throttle' must not be empty (expected bandwidth, ops or both)");
	if ((v = ytree_map_get(n, "bandwidth", NULL)))
		r = build_bucket(c, v, "bandwidth", true, &d->bw);
	if (!r && (v = ytree_map_get(n, "ops", NULL)))
		r = build_bucket(c, v, "ops", false, &d->ops);
	return r;
}

static int build_serial(struct ctx *c, const struct ytree_node *n, struct job_disk *d)
{
	const char *t = NULL;
	int r;

	r = ytree_get_text(&c->doc, n, "serial", &t);
	if (r)
		return r;
	n = ytree_value(&c->doc, n);
	if (strlen(t) > JOB_SERIAL_MAX)
		return fail_at(c, n, "serial '%s' too long (at most %d characters)",
			       t, JOB_SERIAL_MAX);
	for (const char *p = t; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return fail_at(c, n, "serial must be printable ASCII");
	memcpy(d->serial, t, strlen(t) + 1);
	return 0;
}

/*
 * What the image is now: a block device only with allow_block_device (a
 * symlink counts as what it points to), its size for the workload's span
 * checks.  The worker checks again what it opens; a file that does not
 * exist yet is left to it.
 */
static int check_image(struct ctx *c, const struct ytree_node *n, struct job_disk *d,
		       uint64_t *bytes)
{
	const struct ytree_node *v = ytree_value(&c->doc, n);
	struct stat st;

	*bytes = 0;
	if (stat(d->path, &st))
		return 0;
	if (S_ISDIR(st.st_mode))
		return fail_at(c, v, "image '%s' is a directory (expected a raw image file)",
			       v->text);
	if (S_ISBLK(st.st_mode) && !d->allow_block_device)
		return fail_at(c, v, "image '%s' is a block device; writing to it destroys what it holds (set allow_block_device: true on this disk if that is meant)",
			       v->text);
	if (S_ISREG(st.st_mode))
		*bytes = (uint64_t)st.st_size;
	return 0;
}

static int build_disk(struct ctx *c, const struct ytree_node *n, struct job_disk *d,
		      unsigned idx)
{
	static const char *const keys[] = {
		"size", "image", "read_only", "allow_block_device", "serial",
		"throttle", NULL
	};
	const struct ytree_node *size, *image, *v;
	int r;

	r = ytree_get_map_keys(&c->doc, n, keys, "disk");
	if (r)
		return r;
	size = ytree_map_get(n, "size", NULL);
	image = ytree_map_get(n, "image", NULL);
	if (size && image)
		return fail_at(c, n, "a disk takes size or image, not both");
	if (!size && !image)
		return fail_at(c, n, "a disk needs a size or an image");
	if ((v = ytree_map_get(n, "allow_block_device", NULL)))
		r = ytree_get_bool(&c->doc, v, "allow_block_device", &d->allow_block_device);
	if (r)
		return r;
	c->disk_node[idx] = ytree_value(&c->doc, size ? size : image);
	if (size) {
		r = ytree_get_number(&c->doc, size, "disk size", &rule_disk_size, &d->size);
		c->disk_bytes[idx] = d->size;
	} else {
		r = get_path(c, image, "image", &d->path);
		if (!r)
			r = check_image(c, image, d, &c->disk_bytes[idx]);
	}
	if (!r && (v = ytree_map_get(n, "read_only", NULL)))
		r = ytree_get_bool(&c->doc, v, "read_only", &d->read_only);
	if (!r && (v = ytree_map_get(n, "serial", NULL)))
		r = build_serial(c, v, d);
	if (!r && (v = ytree_map_get(n, "throttle", NULL)))
		r = build_throttle(c, v, d);
	return r;
}

static int build_disks(struct ctx *c, const struct ytree_node *n, struct job_spec *j)
{
	int r;

	r = ytree_get_list(&c->doc, n, "disks");
	if (r)
		return r;
	if (!n->n)
		return fail_at(c, n, "'disks' must not be empty (leave it out for a VM without disks)");
	if (n->n > JOB_MAX_DISKS)
		return fail_at(c, n->kid[JOB_MAX_DISKS], "too many disks (%zu, at most %d)",
			       n->n, JOB_MAX_DISKS);
	for (size_t i = 0; i < n->n; i++) {
		j->ndisks = (uint32_t)i + 1;	/* job_spec_free() sees the path */
		r = build_disk(c, n->kid[i], &j->disk[i], (unsigned)i);
		if (r)
			return r;
	}
	return 0;
}

/* ---- workload: the built-in guest's key=value words ---- */

enum word_kind { WORD_ENUM, WORD_BOOL, WORD_NUM };

struct word {
	const char *key;
	enum word_kind kind;
	const char *const *names;	/* WORD_ENUM */
	struct ytree_num rule;		/* WORD_NUM */
};

static const char *const patterns[] = {
	"seqread", "seqwrite", "randread", "randwrite", "randrw", NULL
};
static const char *const completions[] = { "poll", "irq", NULL };
static const char *const hostiles[] = {
	"none", "invalid_avail_idx", "desc_loop", "oob_addr", "bad_type",
	"short_header", "no_status", "ro_write", "zero_len", "bad_insn", NULL
};

/* In the order the words are written into the job's workload string. */
static const struct word words[] = {
	{ "pattern", WORD_ENUM, patterns, { 0 } },
	{ "bs", WORD_NUM, NULL, NUM_SIZE(512, 1 << 20, 512, "512..1M", "512") },
	{ "ops", WORD_NUM, NULL, NUM_COUNT(0, 1ULL << 40, "0..1099511627776") },
	{ "qd", WORD_NUM, NULL, NUM_COUNT(1, 256, "1..256") },
	{ "rwmix", WORD_NUM, NULL, NUM_COUNT(0, 100, "0..100") },
	{ "flush", WORD_NUM, NULL, NUM_COUNT(0, UINT64_MAX, "0 or more") },
	{ "seed", WORD_NUM, NULL, NUM_COUNT(0, UINT64_MAX, "0 or more") },
	{ "verify", WORD_BOOL, NULL, { 0 } },
	{ "completion", WORD_ENUM, completions, { 0 } },
	{ "event_idx", WORD_BOOL, NULL, { 0 } },
	{ "indirect", WORD_BOOL, NULL, { 0 } },
	{ "hostile", WORD_ENUM, hostiles, { 0 } },
	{ "span", WORD_NUM, NULL, NUM_SIZE(512, UINT64_MAX, 512, "512 or more", "512") },
};

#define NWORDS (sizeof(words) / sizeof(words[0]))

static int word_value(struct ctx *c, const struct word *w, const struct ytree_node *v,
		      char *buf, size_t len, uint64_t *num)
{
	uint64_t n = 0;
	size_t i;
	bool b;
	int r;

	switch (w->kind) {
	case WORD_ENUM:
		r = ytree_get_enum(&c->doc, v, w->key, w->names, &i);
		if (!r)
			snprintf(buf, len, "%s", w->names[i]);
		return r;
	case WORD_BOOL:
		r = ytree_get_bool(&c->doc, v, w->key, &b);
		if (!r)
			snprintf(buf, len, "%d", b);
		return r;
	case WORD_NUM:
		r = ytree_get_number(&c->doc, v, w->key, &w->rule, &n);
		if (!r)
			snprintf(buf, len, "%llu", (unsigned long long)n);
		*num = n;
		return r;
	}
	return -EINVAL;
}

static int workload_check_ro(struct ctx *c, const struct ytree_node *m,
			     const struct job_spec *j)
{
	const struct ytree_node *v = ytree_map_get(m, "hostile", NULL);

	if (!v || strcmp(ytree_value(&c->doc, v)->text, "ro_write") != 0)
		return 0;
	if (j->ndisks == 0 || !j->disk[0].read_only)
		return fail_at(c, ytree_value(&c->doc, v),
			       "hostile ro_write needs disk 0 with read_only: true");
	return 0;
}

/* Both guests' default block size, "4k" (guest/builtin/README.md). */
#define WORKLOAD_DEFAULT_BS	4096

/* The number word @key was given as, and its node; false when not given. */
static bool workload_num(struct ctx *c, const struct ytree_node *m, const char *key,
			 const uint64_t *num, uint64_t *out, const struct ytree_node **node)
{
	const struct ytree_node *v = ytree_map_get(m, key, NULL);

	if (!v)
		return false;
	for (size_t i = 0; i < NWORDS; i++)
		if (strcmp(words[i].key, key) == 0)
			*out = num[i];
	*node = ytree_value(&c->doc, v);
	return true;
}

/*
 * What the guest would only find out at run time, or never: I/O asked of a
 * VM without disks, a span beyond a disk, a span (or a whole disk) smaller
 * than one block.
 */
static int workload_check_disks(struct ctx *c, const struct ytree_node *m,
				const struct job_spec *j, const uint64_t *num)
{
	const struct ytree_node *ops_n, *span_n = NULL, *bs_n = NULL;
	uint64_t ops = 0, span = 0, bs = WORKLOAD_DEFAULT_BS;
	const char *bs_text;
	bool has_span, has_bs;

	if (workload_num(c, m, "ops", num, &ops, &ops_n) && ops && !j->ndisks)
		return fail_at(c, ops_n, "workload has ops %s but the VM has no disks, so it would pass without any I/O (add a disk, or leave ops out)",
			       ops_n->text);
	has_span = workload_num(c, m, "span", num, &span, &span_n);
	has_bs = workload_num(c, m, "bs", num, &bs, &bs_n);
	bs_text = has_bs ? bs_n->text : "4k";
	if (has_span && span < bs)
		return fail_at(c, span_n, "span %s is smaller than %sbs %s (expected at least one block)",
			       span_n->text, has_bs ? "" : "the default ", bs_text);
	for (uint32_t i = 0; i < j->ndisks; i++) {
		uint64_t size = c->disk_bytes[i];

		if (!size)
			continue;	/* not known before the worker opens it */
		if (has_span && span > size)
			return fail_at(c, span_n, "span %s is larger than disk %u (%llu bytes, at %u:%u)",
				       span_n->text, i, (unsigned long long)size,
				       c->disk_node[i]->line, c->disk_node[i]->col);
		if (!has_span && size < bs)
			return fail_at(c, has_bs ? bs_n : c->disk_node[i],
				       "disk %u (%llu bytes) is smaller than %sbs %s (expected at least one block)",
				       i, (unsigned long long)size,
				       has_bs ? "" : "the default ", bs_text);
	}
	return 0;
}

static int build_workload(struct ctx *c, const struct ytree_node *n, struct job_spec *j)
{
	const char *keys[NWORDS + 1];
	char buf[WORKLOAD_MAX], val[64];
	uint64_t num[NWORDS] = { 0 };
	size_t off = 0;
	int r;

	for (size_t i = 0; i < NWORDS; i++)
		keys[i] = words[i].key;
	keys[NWORDS] = NULL;
	r = ytree_get_map_keys(&c->doc, n, keys, "workload");
	if (r)
		return r;
	buf[0] = 0;
	for (size_t i = 0; i < NWORDS; i++) {
		const struct ytree_node *v = ytree_map_get(n, words[i].key, NULL);

		if (!v)
			continue;
		r = word_value(c, &words[i], v, val, sizeof(val), &num[i]);
		if (r)
			return r;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s=%s",
					off ? " " : "", words[i].key, val);
	}
	r = workload_check_ro(c, n, j);
	if (!r)
		r = workload_check_disks(c, n, j, num);
	if (r)
		return r;
	if (off && !(j->workload = strdup(buf)))
		return -ENOMEM;
	return 0;
}

/* ---- expectations ---- */

static int build_expect_one(struct ctx *c, const struct ytree_node *k,
			    const struct ytree_node *v, struct job_desc *j)
{
	struct expect_check *chk = &j->expect[j->nexpect];
	struct expect_name en;
	struct verr e2;
	const char *t = NULL;
	int r;

	if (expect_name_parse(k->text, &en, &e2))
		return fail_at(c, k, "%s", e2.msg);
	if (en.target == EXPECT_COUNTER_DISK && en.disk >= j->spec.ndisks)
		return fail_at(c, k, "'%s' names disk %u, but the VM has %u disk%s",
			       k->text, en.disk, j->spec.ndisks,
			       j->spec.ndisks == 1 ? "" : "s");
	if (en.target == EXPECT_COUNTER_SUM && j->spec.ndisks == 0)
		return fail_at(c, k, "'%s' is a disk counter, but the VM has no disks",
			       k->text);
	if (expect_name_check_guest(k->text, j->spec.guest.kind, &e2))
		return fail_at(c, k, "%s", e2.msg);
	r = ytree_get_scalar(&c->doc, v, k->text, "a comparison like \">= 1000\"", &t);
	if (r)
		return r;
	if (expect_parse(k->text, t, chk, &e2))
		return fail_at(c, ytree_value(&c->doc, v), "%s", e2.msg);
	j->nexpect++;
	return 0;
}

static int build_expect(struct ctx *c, const struct ytree_node *n, struct job_desc *j)
{
	int r;

	r = ytree_get_map(&c->doc, n, "expect");
	if (r)
		return r;
	if (!ytree_map_len(n))
		return fail_at(c, n, "'expect' must not be empty");
	if (ytree_map_len(n) > JOB_MAX_EXPECT)
		return fail_at(c, ytree_map_key(n, JOB_MAX_EXPECT),
			       "too many expectations (%zu, at most %d)",
			       ytree_map_len(n), JOB_MAX_EXPECT);
	for (size_t i = 0; i < ytree_map_len(n); i++) {
		r = build_expect_one(c, ytree_map_key(n, i), ytree_map_val(n, i), j);
		if (r)
			return r;
	}
	return 0;
}

/* ---- the job around it ---- */

static int build_names(struct ctx *c, const char *vm, unsigned repeat,
		       struct job_desc *j)
{
	char key[JOB_PARAMS_KEY_MAX];

	snprintf(j->scenario, sizeof(j->scenario), "%s", c->s->name);
	snprintf(j->scenario_file, sizeof(j->scenario_file), "%s", c->s->path);
	snprintf(j->vm, sizeof(j->vm), "%s", vm);
	j->repeat = repeat;
	for (size_t i = 0; i < c->s->nkeys; i++) {
		struct job_param *p;

		if (!c->mval[i])
			continue;
		p = &j->param[j->nparams++];
		snprintf(p->key, sizeof(p->key), "%s", ytree_map_key(c->s->matrix, i)->text);
		snprintf(p->value, sizeof(p->value), "%s", c->mval[i]->text);
	}
	/* The one name (jobname.h): keys by name, as the stored params_key. */
	job_params_key(j, key);
	if (asprintf(&j->spec.name, "%s/%s%s%s%s#%u", c->s->name, vm, key[0] ? "[" : "", key,
		     key[0] ? "]" : "", repeat) < 0) {
		j->spec.name = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int build_numbers(struct ctx *c, const struct ytree_node *vm,
			 struct job_spec *js, uint64_t *nrepeat)
{
	const struct ytree_node *v;
	uint64_t n;
	int r = 0;

	*nrepeat = 1;
	if ((v = scenario_vm_get(c->s, vm, "vcpus")) &&
	    !(r = ytree_get_number(&c->doc, v, "vcpus", &rule_vcpus, &n)))
		js->vcpus = (uint32_t)n;
	if (!r && (v = scenario_vm_get(c->s, vm, "memory")))
		r = ytree_get_number(&c->doc, v, "memory", &rule_memory, &js->memory);
	if (!r && (v = scenario_vm_get(c->s, vm, "timeout")))
		r = ytree_get_number(&c->doc, v, "timeout", &rule_timeout, &js->timeout_ms);
	if (!r && (v = scenario_vm_get(c->s, vm, "repeat")))
		r = ytree_get_number(&c->doc, v, "repeat", &rule_repeat, nrepeat);
	return r;
}

/*
 * placement: {labels: [nvme, amd]}: with --hosts, only a host that has
 * every one of these labels takes the job.  Labels are names, as in the
 * inventory (vmorch-hosts(5)).
 */
static int build_placement(struct ctx *c, const struct ytree_node *n,
			   struct job_desc *j)
{
	static const char *const keys[] = { "labels", NULL };
	const struct ytree_node *v;
	const char *t;
	int r;

	r = ytree_get_map_keys(&c->doc, n, keys, "placement");
	if (r)
		return r;
	v = ytree_map_get(n, "labels", NULL);
	if (!v)
		return fail_at(c, n, "'placement' must have 'labels'");
	r = ytree_get_list(&c->doc, v, "labels");
	if (r)
		return r;
	if (!v->n)
		return fail_at(c, v, "'labels' must not be empty (leave placement out"
			       " for a VM any host may take)");
	if (v->n > JOB_MAX_LABELS)
		return fail_at(c, v->kid[JOB_MAX_LABELS], "too many labels (%zu, at"
			       " most %d)", v->n, JOB_MAX_LABELS);
	j->label_line = v->line;
	j->label_col = v->col;
	for (size_t i = 0; i < v->n; i++) {
		r = ytree_get_name(&c->doc, v->kid[i], "label", JOB_NAME_MAX, &t);
		if (r)
			return r;
		if (strlen(t) > JOB_LABEL_MAX)
			return fail_at(c, v->kid[i], "label '%s' too long (at most %d"
				       " characters)", t, JOB_LABEL_MAX);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(j->label[k], t))
				return fail_at(c, v->kid[i], "label '%s' given twice", t);
		memcpy(j->label[i], t, strlen(t) + 1);
		j->nlabels = (unsigned)i + 1;
	}
	return 0;
}

int scenario_vm_build(struct ctx *c, const struct ytree_node *vm,
		      unsigned repeat, struct job_desc *j, unsigned *nrepeat)
{
	const struct ytree_node *v;
	uint64_t nrep;
	int r;

	memset(j, 0, sizeof(*j));
	memset(c->disk_node, 0, sizeof(c->disk_node));
	memset(c->disk_bytes, 0, sizeof(c->disk_bytes));
	job_spec_init(&j->spec);
	r = ytree_check_keys(&c->doc, vm, scenario_vm_keys, "vm");
	if (!r)
		r = build_numbers(c, vm, &j->spec, &nrep);
	if (!r && (v = scenario_vm_get(c->s, vm, "guest")))
		r = build_guest(c, v, &j->spec.guest);
	if (!r && (v = scenario_vm_get(c->s, vm, "disks")))
		r = build_disks(c, v, &j->spec);
	if (!r && (v = scenario_vm_get(c->s, vm, "workload"))) {
		if (job_guest_has_run(&j->spec.guest))
			r = fail_at(c, v, "workload and guest run exclude each other (the agent"
				    " runs its own workload or your program, not both)");
		else
			r = build_workload(c, v, &j->spec);
	}
	if (!r && (v = scenario_vm_get(c->s, vm, "guest")))
		r = run_check_disks(c, v, &j->spec);
	if (!r && (v = scenario_vm_get(c->s, vm, "expect")))
		r = build_expect(c, v, j);
	if (!r && (v = scenario_vm_get(c->s, vm, "placement")))
		r = build_placement(c, v, j);
	if (!r)
		r = build_names(c, ytree_map_get(vm, "name", NULL)->text, repeat, j);
	if (r == -ENOMEM)
		verr_set(c->doc.e, "%s: out of memory", c->s->path);
	if (r) {
		job_spec_free(&j->spec);
		return r;
	}
	*nrepeat = (unsigned)nrep;
	return 0;
}

/* ---- the top level ---- */

static int check_version(struct ctx *c, const struct ytree_node *root)
{
	const struct ytree_node *v = ytree_map_get(root, "vmorch", NULL);

	if (!v)
		return fail_at(c, root, "missing required key 'vmorch' (expected 'vmorch: %d', the format version)",
			       SCENARIO_VERSION);
	if (v->kind != YTREE_SCALAR)
		return fail_at(c, v, "'vmorch' must be the format version %d, not %s",
			       SCENARIO_VERSION, ytree_kind_name(v));
	if (strcmp(v->text, "1") != 0)
		return fail_at(c, v, "unsupported format version '%s' (expected vmorch: %d)",
			       v->text, SCENARIO_VERSION);
	return 0;
}

static int check_vm_names(struct ctx *c, const struct scenario *s)
{
	const struct ytree_node **names, *dup, *first, *v;
	const char *t = NULL;
	int r = 0;

	names = calloc(s->vms->n, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < s->vms->n && !r; i++) {
		const struct ytree_node *vm = s->vms->kid[i];

		r = ytree_get_map(&c->doc, vm, "vm");
		if (r)
			break;
		v = ytree_map_get(vm, "name", NULL);
		if (!v)
			r = fail_at(c, vm, "missing required key 'name' in vm");
		else
			r = ytree_get_name(&c->doc, v, "vm name", JOB_NAME_MAX, &t);
		names[i] = v;
	}
	if (!r && ytree_find_dup(names, s->vms->n, &dup, &first) > 0)
		r = fail_at(c, dup, "duplicate vm name '%s' (first at %u:%u)",
			    dup->text, first->line, first->col);
	free(names);
	return r;
}

static const char *const top_keys[] = {
	"vmorch", "name", "description", "defaults", "matrix", "vms", NULL
};

static int check_top(struct ctx *c, struct scenario *s)
{
	const struct ytree_node *root = s->root, *v;
	const char *t = NULL;
	int r;

	if (root->kind != YTREE_MAP)
		return fail_at(c, root, "a scenario must be a mapping, not %s",
			       ytree_kind_name(root));
	r = check_version(c, root);
	if (!r)
		r = ytree_check_keys(&c->doc, root, top_keys, "the top level");
	if (r)
		return r;
	v = ytree_map_get(root, "name", NULL);
	if (!v)
		return fail_at(c, root, "missing required key 'name' (the scenario's name)");
	r = ytree_get_name(&c->doc, v, "scenario name", JOB_NAME_MAX, &t);
	if (r)
		return r;
	snprintf(s->name, sizeof(s->name), "%s", t);
	if ((v = ytree_map_get(root, "description", NULL))) {
		r = ytree_get_scalar(&c->doc, v, "description", "text", &t);
		if (r)
			return r;
		s->description = strdup(t);
		if (!s->description)
			return -ENOMEM;
	}
	if ((s->defaults = ytree_map_get(root, "defaults", NULL))) {
		r = ytree_get_map(&c->doc, s->defaults, "defaults");
		if (!r)
			r = ytree_check_keys(&c->doc, s->defaults, scenario_vm_keys + 1, "defaults");
		if (r)
			return r;
	}
	if ((s->matrix = ytree_map_get(root, "matrix", NULL)) && (r = matrix_check(c, s)))
		return r;
	s->vms = ytree_map_get(root, "vms", &s->vms_key);
	if (!s->vms)
		return fail_at(c, root, "missing required key 'vms' (the list of VMs)");
	r = ytree_get_list(&c->doc, s->vms, "vms");
	if (r)
		return r;
	if (!s->vms->n)
		return fail_at(c, s->vms, "'vms' must not be empty");
	return check_vm_names(c, s);
}

/* The absolute directory of @path, which relative paths start from. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d, *abs;

	if (!slash)
		d = strdup(".");
	else if (slash == path)
		d = strdup("/");
	else
		d = strndup(path, (size_t)(slash - path));
	if (!d)
		return NULL;
	abs = realpath(d, NULL);
	free(d);
	return abs;
}

static int scenario_parse(struct ctx *c, struct scenario *s, const char *buf,
			  size_t len)
{
	int r;

	if (len > SCENARIO_FILE_MAX) {
		verr_set(c->doc.e, "%s: file too large (%zu bytes, at most %u)",
			 s->path, len, SCENARIO_FILE_MAX);
		return -EFBIG;
	}
	r = ytree_parse(s->path, "scenario", buf, len, &s->root, c->doc.e);
	if (r)
		return r;
	if (!s->root)
		return ytree_fail(c->doc.e, s->path, 1, 1,
				  "empty scenario (expected a mapping starting with 'vmorch: 1')");
	r = check_top(c, s);
	if (!r)
		r = matrix_check_jobs(c, s);
	if (r == -ENOMEM)
		verr_set(c->doc.e, "%s: out of memory", s->path);
	return r;
}

int scenario_load_buffer(const char *path, const char *buf, size_t len,
			 struct scenario **out, struct verr *e)
{
	struct scenario *s;
	struct ctx c;
	int r;

	*out = NULL;
	if (strlen(path) > SCENARIO_PATH_MAX) {
		verr_set(e, "scenario path too long (at most %d bytes)", SCENARIO_PATH_MAX);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		verr_set(e, "%s: out of memory", path);
		return -ENOMEM;
	}
	matrix_ctx_init(&c, s, e);
	sha256_hex(buf, len, s->sha256);
	s->dir = dir_of(path);
	if (!s->dir) {
		r = -errno;
		verr_set(e, "%s: cannot resolve its directory: %s", path, strerror(errno));
		goto fail;
	}
	r = scenario_parse(&c, s, buf, len);
	if (r)
		goto fail;
	*out = s;
	return 0;
fail:
	scenario_free(s);
	return r;
}

/* Reads at most one byte past the limit, so a huge file costs nothing. */
static int read_limited(int fd, char **buf, size_t *len)
{
	size_t cap = SCENARIO_FILE_MAX + 1, n = 0;
	char *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	while (n < cap) {
		ssize_t got = read(fd, b + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(b);
			return -errno;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*buf = b;
	*len = n;
	return 0;
}

/*
 * A scenario is read once, from whatever the path opens: a file, a pipe or
 * FIFO (`<(...)`, waited on like any reader), a character stream.  A
 * directory or a block device is refused before reading.
 */
static int open_checked(const char *path, struct stat *st, struct verr *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return verr_errno(e, "%s: cannot open", path);
	if (fstat(fd, st)) {
		int r = verr_errno(e, "%s: cannot stat", path);

		close(fd);
		return r;
	}
	if (S_ISDIR(st->st_mode) || S_ISBLK(st->st_mode)) {
		verr_set(e, "%s: is a %s (expected a scenario file, a pipe or a stream)",
			 path, S_ISDIR(st->st_mode) ? "directory" : "block device");
		close(fd);
		return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

int scenario_load(const char *path, struct scenario **out, struct verr *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	fd = open_checked(path, &st, e);
	if (fd < 0)
		return fd;
	r = read_limited(fd, &buf, &len);
	close(fd);
	if (r) {
		verr_set(e, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	if (len > SCENARIO_FILE_MAX) {
		verr_set(e, "%s: file too large (more than %u bytes)", path,
			 SCENARIO_FILE_MAX);
		r = -EFBIG;
	} else {
		r = scenario_load_buffer(path, buf, len, out, e);
	}
	free(buf);
	if (!r) {
		(*out)->has_id = true;
		(*out)->dev = st.st_dev;
		(*out)->ino = st.st_ino;
	}
	return r;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	ytree_free(s->root);
	free(s->description);
	free(s->dir);
	free(s->path);
	free(s);
}

const char *scenario_name(const struct scenario *s)
{
	return s->name;
}

const char *scenario_description(const struct scenario *s)
{
	return s->description;
}

const char *scenario_path(const struct scenario *s)
{
	return s->path;
}

const char *scenario_sha256(const struct scenario *s)
{
	return s->sha256;
}

/* ---- the files of one run ---- */

/* A path given before is refused unopened: a pipe is read only once. */
static int set_check_path(const struct scenario_set *set, const char *path,
			  struct verr *e)
{
	for (size_t i = 0; i < set->n; i++) {
		if (strcmp(scenario_path(set->s[i]), path) == 0) {
			verr_set(e, "%s: given twice (each scenario file may be given once)",
				 path);
			return -EEXIST;
		}
	}
	return 0;
}

/* The same file under another name, or two files with one scenario name. */
static int set_check_loaded(const struct scenario_set *set,
			    const struct scenario *s, struct verr *e)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct scenario *o = set->s[i];

		if (s->has_id && o->has_id && s->dev == o->dev && s->ino == o->ino) {
			verr_set(e, "%s: same file as %s (each scenario file may be given once)",
				 s->path, o->path);
			return -EEXIST;
		}
		if (strcmp(s->name, o->name) == 0) {
			verr_set(e, "%s: scenario name '%s' is also the name of %s (jobs of one name would be merged; rename one)",
				 s->path, s->name, o->path);
			return -EEXIST;
		}
	}
	return 0;
}

int scenario_set_add(struct scenario_set *set, const char *path, struct verr *e)
{
	struct scenario *s = NULL, **grown;
	int r;

	r = set_check_path(set, path, e);
	if (!r)
		r = scenario_load(path, &s, e);
	if (!r)
		r = set_check_loaded(set, s, e);
	if (r) {
		scenario_free(s);
		return r;
	}
	grown = realloc(set->s, (set->n + 1) * sizeof(*grown));
	if (!grown) {
		scenario_free(s);
		verr_set(e, "%s: out of memory", path);
		return -ENOMEM;
	}
	set->s = grown;
	set->s[set->n++] = s;
	return 0;
}

void scenario_set_release(struct scenario_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		scenario_free(set->s[i]);
	free(set->s);
	set->s = NULL;
	set->n = 0;
}

size_t scenario_njobs(const struct scenario *s)
{
	return s->njobs;
}
