/*
 * store_gc.c - the store collection script and the strict reader of its
 * answer (see store_gc.h).  The host needs sh, find, sort, awk, rm, rmdir,
 * date (GNU find's -printf and -regextype) and flock (util-linux).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/fleet_stage.h"
#include "orchestrator/host_probe.h"
#include "orchestrator/store_gc.h"

#define GC_MAGIC	"vmorch-gc 1"
#define GC_LINE_MAX	512
#define GC_FILES_MAX	(1u << 20)

/*
 * Preceded by the settings w, keep, max, age and dry.  Answers one line
 * per fact, then "end":
 *   busy | error=TEXT                  (nothing done)
 *   temp=BYTES PATH                    a killed stage's temporary, removed
 *   store=FILES BYTES                  the store before, temporaries aside
 *   delete=BYTES AGE PATH              oldest first; with dry=1 not done
 *   failed=BYTES AGE PATH              rm failed
 *   spared=FILES BYTES                 over the limit but kept
 * Only names the store gives are listed (find -regex), so a path has no
 * blank and nothing else in the workdir is touched.  Temporaries go
 * whatever their age: under the exclusive lock, no stage is running.
 * Files are sorted by mtime then name, and deleted oldest first while the
 * store is over max; the kept worker and files younger than age are
 * passed over.  An emptied bin/<sha256> directory goes too.
 */
static const char gc_script[] =
	"LC_ALL=C; export LC_ALL\n"
	"echo 'vmorch-gc 1'\n"
	"say() { echo \"$1\"; echo end; exit 0; }\n"
	"[ -d \"$w\" ] || say 'store=0 0\nspared=0 0'\n"
	"cd \"$w\" || say \"error=cannot enter $w\"\n"
	"command -v flock >/dev/null 2>&1 || say 'error=no flock(1) on the host (util-linux)'\n"
	"(: >>lock) 2>/dev/null || say \"error=cannot open $w/lock for writing\"\n"
	"exec 9>>lock\n"
	"flock -x -n 9; r=$?\n"
	"[ $r -eq 1 ] && say busy\n"
	"[ $r -eq 0 ] || say \"error=flock $w/lock failed (status $r)\"\n"
	"set --\n"
	"for d in cas bin; do [ -d $d ] && set -- \"$@\" $d; done\n"
	"[ $# -gt 0 ] || say 'store=0 0\nspared=0 0'\n"
	"now=$(date +%s)\n"
	"find \"$@\" -maxdepth 2 -regextype posix-extended -type f \\\n"
	"\t-regex '(cas|bin/[0-9a-f]{64})/\\.stage\\.[0-9]+' -printf '%s %p\\n' |\n"
	"while read -r s p; do\n"
	"\tif [ \"$dry\" = 1 ] || rm -f \"$p\"; then echo \"temp=$s $p\"; else echo \"failed=$s 0 $p\"; fi\n"
	"\t[ \"$dry\" = 1 ] || [ \"${p#bin/}\" = \"$p\" ] || rmdir \"${p%/*}\" 2>/dev/null\n"
	"done\n"
	"find \"$@\" -maxdepth 2 -regextype posix-extended -type f \\\n"
	"\t-regex '(cas/[0-9a-f]{64}|bin/[0-9a-f]{64}/vmm-worker)' -printf '%T@ %s %p\\n' |\n"
	"sort -k1,1n -k3,3 |\n"
	"awk -v now=\"$now\" -v max=\"$max\" -v age=\"$age\" -v keep=\"$keep\" '\n"
	"\t{ n++; t[n] = int($1); s[n] = $2; p[n] = $3; total += $2 }\n"
	"\tEND {\n"
	"\t\tprintf \"store=%d %.0f\\n\", n, total\n"
	"\t\tfor (i = 1; i <= n && total > max; i++) {\n"
	"\t\t\tif (p[i] == keep || now - t[i] < age) {\n"
	"\t\t\t\tsn++; sb += s[i]\n"
	"\t\t\t\tcontinue\n"
	"\t\t\t}\n"
	"\t\t\tprintf \"delete %.0f %d %s\\n\", s[i], now - t[i], p[i]\n"
	"\t\t\ttotal -= s[i]\n"
	"\t\t}\n"
	"\t\tprintf \"spared=%d %.0f\\n\", sn, sb\n"
	"\t}' |\n"
	"while read -r k s a p; do\n"
	"\tcase $k in\n"
	"\tdelete)\n"
	"\t\tif [ \"$dry\" = 1 ] || rm -f \"$p\"; then\n"
	"\t\t\techo \"delete=$s $a $p\"\n"
	"\t\t\t[ \"$dry\" = 1 ] || [ \"${p#bin/}\" = \"$p\" ] || rmdir \"${p%/*}\" 2>/dev/null\n"
	"\t\telse\n"
	"\t\t\techo \"failed=$s $a $p\"\n"
	"\t\tfi;;\n"
	"\t*) echo \"$k $s\";;\n"
	"\tesac\n"
	"done\n"
	"echo end\n";

char *store_gc_command(const struct store_gc_opts *o, struct verr *e)
{
	char *cmd = NULL;

	if (fleet_stage_check(o->workdir, o->keep_sha256, e))
		return NULL;
	if (asprintf(&cmd, "w=%s; keep=bin/%s/vmm-worker; max=%" PRIu64 "; age=%" PRIu64
		     "; dry=%d\n%s", o->workdir, o->keep_sha256, o->max_bytes, o->min_age_s,
		     o->dry_run ? 1 : 0, gc_script) < 0) {
		verr_set(e, "out of memory");
		return NULL;
	}
	return cmd;
}

/* ---- the answer ---- */

static bool gc_hex64(const char *s)
{
	return strspn(s, "0123456789abcdef") == 64;
}

/* cas/<sha256> or bin/<sha256>/vmm-worker, or with @temp a stage's temporary. */
static bool gc_path_ok(const char *p, bool temp)
{
	const char *rest;

	if (!strncmp(p, "cas/", 4)) {
		rest = p + 4;
	} else if (!strncmp(p, "bin/", 4) && gc_hex64(p + 4) && p[68] == '/') {
		rest = p + 69;
		if (!temp)
			return !strcmp(rest, "vmm-worker");
	} else {
		return false;
	}
	if (!temp)
		return gc_hex64(rest) && !rest[64];
	return !strncmp(rest, ".stage.", 7) && rest[7] &&
	       strspn(rest + 7, "0123456789") == strlen(rest + 7);
}

/* A decimal up to UINT64_MAX, then @end (' ' or NUL); *@s moves past it. */
static int gc_number(const char **s, char end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != end)
		return -EINVAL;
	*out = v;
	*s = end ? p + 1 : p;
	return 0;
}

static int gc_add_file(struct store_gc *g, enum store_gc_fate fate, const char *v,
		       unsigned line, struct verr *e)
{
	struct store_gc_file f = { .fate = fate }, *nf;

	if (gc_number(&v, ' ', &f.bytes) ||
	    (fate != STORE_GC_TEMP && gc_number(&v, ' ', &f.age_s)) ||
	    !gc_path_ok(v, fate == STORE_GC_TEMP) || strlen(v) >= sizeof(f.path)) {
		verr_set(e, "store gc line %u: expected %s, not '%.80s'", line,
			 fate == STORE_GC_TEMP ? "BYTES PATH" : "BYTES AGE PATH", v);
		return -EINVAL;
	}
	if (g->nfile >= GC_FILES_MAX) {
		verr_set(e, "store gc line %u: more than %u files", line, GC_FILES_MAX);
		return -E2BIG;
	}
	snprintf(f.path, sizeof(f.path), "%s", v);
	if (g->nfile == g->cap) {
		nf = realloc(g->file, sizeof(*nf) * (g->cap ? 2 * g->cap : 16));
		if (!nf) {
			verr_set(e, "store gc: out of memory");
			return -ENOMEM;
		}
		g->file = nf;
		g->cap = g->cap ? 2 * g->cap : 16;
	}
	g->file[g->nfile++] = f;
	return 0;
}

/* The host's own words, printable ASCII only (they go to terminals and JSON). */
static void gc_copy_text(char *buf, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 1 < cap; s++)
		buf[n++] = *s >= ' ' && *s <= '~' ? *s : '?';
	buf[n] = 0;
}

/* "N BYTES" after store= or spared=. */
static int gc_pair(const char *v, unsigned line, const char *key, uint64_t *n,
		   uint64_t *bytes, struct verr *e)
{
	if (gc_number(&v, ' ', n) || gc_number(&v, 0, bytes)) {
		verr_set(e, "store gc line %u: %s: expected FILES BYTES", line, key);
		return -EINVAL;
	}
	return 0;
}

/*
 * The answer's grammar, in order: busy | error=... | [temp...] store
 * [delete|failed...] spared.  @stage: 0 before store, 1 after, 2 after
 * spared (only end may follow).
 */
static int gc_line(struct store_gc *g, const char *text, unsigned line, int *stage,
		   struct verr *e)
{
	uint64_t files, bytes;
	int rc;

	if (*stage == 0 && g->nfile == 0 && (!strcmp(text, "busy") ||
					      !strncmp(text, "error=", 6))) {
		if (text[0] == 'b')
			g->busy = true;
		else
			gc_copy_text(g->error, sizeof(g->error), text + 6);
		*stage = 2;
		return 0;
	}
	if (*stage == 0 && !strncmp(text, "temp=", 5))
		return gc_add_file(g, STORE_GC_TEMP, text + 5, line, e);
	if (*stage == 0 && !strncmp(text, "store=", 6)) {
		*stage = 1;
		rc = gc_pair(text + 6, line, "store", &files, &bytes, e);
		g->files += files;
		g->bytes += bytes;
		return rc;
	}
	if (*stage == 1 && !strncmp(text, "delete=", 7))
		return gc_add_file(g, STORE_GC_DELETED, text + 7, line, e);
	if (*stage == 1 && !strncmp(text, "failed=", 7))
		return gc_add_file(g, STORE_GC_FAILED, text + 7, line, e);
	if (*stage == 1 && !strncmp(text, "spared=", 7)) {
		*stage = 2;
		return gc_pair(text + 7, line, "spared", &g->spared_files, &g->spared_bytes, e);
	}
	verr_set(e, "store gc line %u: unexpected '%.80s'", line, text);
	return -EINVAL;
}

/* Temporaries count in the store's before, as their bytes are freed too. */
static int gc_check_sums(struct store_gc *g, struct verr *e)
{
	uint64_t listed = 0, bytes = 0;

	for (size_t i = 0; i < g->nfile; i++) {
		if (g->file[i].fate == STORE_GC_TEMP) {
			g->files++;
			g->bytes += g->file[i].bytes;
		}
		listed++;
		bytes += g->file[i].bytes;
	}
	if (listed > g->files || bytes > g->bytes) {
		verr_set(e, "store gc: %" PRIu64 " files of %" PRIu64 " bytes listed, more"
			 " than the store's %" PRIu64 " of %" PRIu64, listed, bytes, g->files,
			 g->bytes);
		return -EPROTO;
	}
	return 0;
}

int store_gc_parse(const char *out, size_t len, struct store_gc *g, struct verr *e)
{
	char text[GC_LINE_MAX];
	unsigned line = 0;
	size_t pos = 0;
	int stage = 0, rc;

	memset(g, 0, sizeof(*g));
	while ((rc = host_answer_line(out, len, &pos, &line, GC_MAGIC, "store gc", text,
				      sizeof(text), e)) > 0) {
		if (!strcmp(text, "end") && stage == 2)
			goto end;
		rc = gc_line(g, text, line, &stage, e);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	verr_set(e, "store gc: the answer was cut short after %u lines", line);
	return -EPROTO;
end:
	if (pos != len) {
		verr_set(e, "store gc: output after the end line");
		return -EPROTO;
	}
	return gc_check_sums(g, e);
}

void store_gc_release(struct store_gc *g)
{
	free(g->file);
	g->file = NULL;
	g->nfile = g->cap = 0;
}

size_t store_gc_count(const struct store_gc *g, enum store_gc_fate fate)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nfile; i++)
		n += g->file[i].fate == fate;
	return n;
}

uint64_t store_gc_freed(const struct store_gc *g)
{
	uint64_t b = 0;

	for (size_t i = 0; i < g->nfile; i++)
		if (g->file[i].fate != STORE_GC_FAILED)
			b += g->file[i].bytes;
	return b;
}
