/*
 * host_probe.c - the host probe script and the strict reader of its answer
 * (see host_probe.h).  The script reads the same files host_facts.c reads,
 * so a host's facts compare equal to what it would store running locally.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host_probe.h"

#define PROBE_MAGIC	"vmorch-probe 1"
#define PROBE_LINE_MAX	512

/*
 * One line per fact, "key=value"; then "end", so that a cut answer is seen.
 * LC_ALL=C: df and grep must not translate.  /dev/kvm is tested with
 * test -r/-w, that is access(2) for the login user, who will run the worker.
 */
static const char probe_script[] =
	"LC_ALL=C; export LC_ALL; w=%s; "
	"echo '" PROBE_MAGIC "'; "
	"echo \"kernel_release=$(cat /proc/sys/kernel/osrelease 2>/dev/null)\"; "
	"echo \"cpu_model=$(sed -n 's/^model name[[:blank:]]*:[[:blank:]]*//p'"
	" /proc/cpuinfo 2>/dev/null | head -n 1)\"; "
	"echo \"cpus=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)\"; "
	"echo \"mem_kib=$(sed -n 's/^MemTotal:[[:blank:]]*\\([0-9]*\\) kB$/\\1/p'"
	" /proc/meminfo 2>/dev/null)\"; "
	"if [ ! -e /dev/kvm ]; then k=none; elif [ -d /sys/module/kvm_pvm ]; then k=pvm; "
	"elif [ -d /sys/module/kvm_intel ]; then k=intel; "
	"elif [ -d /sys/module/kvm_amd ]; then k=amd; else k=unknown; fi; "
	"echo \"kvm=$k\"; "
	"if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo kvm_access=yes; "
	"else echo kvm_access=no; fi; "
	"d=$w; while [ ! -d \"$d\" ]; do d=$(dirname \"$d\"); done; "
	"echo \"workdir_free_kib=$(df -Pk \"$d\" 2>/dev/null | awk 'NR == 2 { print $4 }')\"; "
	"if [ -x \"$w/bin/%s/vmm-worker\" ]; then echo worker_staged=yes; "
	"else echo worker_staged=no; fi; "
	"echo end";

/* @s in single quotes for sh: ' becomes '\'' (no other character is special). */
static char *sh_quote(const char *s)
{
	size_t n = 2;
	char *q, *o;

	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = malloc(n + 1);
	if (!q)
		return NULL;
	o = q;
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\'';
	*o = 0;
	return q;
}

static bool sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	return strspn(s, "0123456789abcdef") == 64;
}

char *host_probe_command(const char *workdir, const char *worker_sha256,
			 struct verr *e)
{
	char *q, *cmd = NULL;

	if (workdir[0] != '/' || strchr(workdir, '\n')) {
		verr_set(e, "workdir %s: must be an absolute path on one line", workdir);
		return NULL;
	}
	if (!sha256_hex(worker_sha256)) {
		verr_set(e, "worker sha256 '%s': expected 64 lowercase hex digits",
			 worker_sha256);
		return NULL;
	}
	q = sh_quote(workdir);
	if (!q || asprintf(&cmd, probe_script, q, worker_sha256) < 0) {
		cmd = NULL;
		verr_set(e, "out of memory");
	}
	free(q);
	return cmd;
}

/* ---- the answer ---- */

enum probe_key {
	PK_KERNEL, PK_CPU_MODEL, PK_CPUS, PK_MEM, PK_KVM, PK_KVM_ACCESS,
	PK_FREE, PK_STAGED, PK_NR
};

static const char *const probe_keys[PK_NR] = {
	[PK_KERNEL] = "kernel_release", [PK_CPU_MODEL] = "cpu_model",
	[PK_CPUS] = "cpus", [PK_MEM] = "mem_kib", [PK_KVM] = "kvm",
	[PK_KVM_ACCESS] = "kvm_access", [PK_FREE] = "workdir_free_kib",
	[PK_STAGED] = "worker_staged",
};

/* Empty is unknown (0): a host without /proc/meminfo is odd, not hostile. */
static int probe_u64(const char *v, unsigned line, const char *key, uint64_t max,
		     uint64_t *out, struct verr *e)
{
	char *end;
	unsigned long long x;

	*out = 0;
	if (!*v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || x > max) {
		verr_set(e, "host probe line %u: %s: '%s' is not a number up to %"
			 PRIu64, line, key, v, max);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int probe_yes_no(const char *v, unsigned line, const char *key, bool *out,
			struct verr *e)
{
	if (!strcmp(v, "yes") || !strcmp(v, "no")) {
		*out = v[0] == 'y';
		return 0;
	}
	verr_set(e, "host probe line %u: %s: '%s' is neither yes nor no", line, key, v);
	return -EINVAL;
}

static int probe_text(const char *v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", *v ? v : "unknown");
	/* Trailing blanks, as host_facts.c trims them. */
	for (size_t n = strlen(buf); n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'); n--)
		buf[n - 1] = 0;
	return 0;
}

static int probe_kvm(const char *v, unsigned line, struct host_facts *f,
		     struct verr *e)
{
	static const char *const names[] = {
#define HP_X_NAME(n) #n,
		HOST_KVM_FLAVOURS(HP_X_NAME)
#undef HP_X_NAME
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(v, names[i])) {
			snprintf(f->kvm_flavour, sizeof(f->kvm_flavour), "%s", v);
			return 0;
		}
	}
	verr_set(e, "host probe line %u: kvm: unknown flavour '%s'", line, v);
	return -EINVAL;
}

static int probe_set(struct host_probe *p, enum probe_key k, const char *v,
		     unsigned line, struct verr *e)
{
	uint64_t x;
	int rc;

	switch (k) {
	case PK_KERNEL:
		return probe_text(v, p->facts.kernel_release,
				  sizeof(p->facts.kernel_release));
	case PK_CPU_MODEL:
		return probe_text(v, p->facts.cpu_model, sizeof(p->facts.cpu_model));
	case PK_CPUS:
		rc = probe_u64(v, line, probe_keys[k], UINT32_MAX, &x, e);
		p->facts.cpus = (uint32_t)x;
		return rc;
	case PK_MEM:
		rc = probe_u64(v, line, probe_keys[k], UINT64_MAX / 1024, &x, e);
		p->facts.memory_bytes = x * 1024;
		return rc;
	case PK_KVM:
		return probe_kvm(v, line, &p->facts, e);
	case PK_KVM_ACCESS:
		return probe_yes_no(v, line, probe_keys[k], &p->kvm_usable, e);
	case PK_FREE:
		rc = probe_u64(v, line, probe_keys[k], UINT64_MAX / 1024, &x, e);
		p->workdir_free_bytes = x * 1024;
		return rc;
	case PK_STAGED:
		return probe_yes_no(v, line, probe_keys[k], &p->worker_staged, e);
	case PK_NR:
		break;
	}
	return -EINVAL;
}

/* One "key=value" line (NUL-terminated, no newline). */
static int probe_line(struct host_probe *p, char *text, unsigned line,
		      bool seen[PK_NR], struct verr *e)
{
	char *eq = strchr(text, '=');

	if (!eq) {
		verr_set(e, "host probe line %u: expected key=value or end", line);
		return -EINVAL;
	}
	*eq = 0;
	for (int k = 0; k < PK_NR; k++) {
		if (strcmp(text, probe_keys[k]))
			continue;
		if (seen[k]) {
			verr_set(e, "host probe line %u: %s given twice", line, text);
			return -EINVAL;
		}
		seen[k] = true;
		return probe_set(p, (enum probe_key)k, eq + 1, line, e);
	}
	verr_set(e, "host probe line %u: unknown key '%.64s'", line, text);
	return -EINVAL;
}

int host_answer_line(const char *out, size_t len, size_t *pos, unsigned *line,
		     const char *magic, const char *what, char *text, size_t cap,
		     struct verr *e)
{
	for (;;) {
		const char *nl = *pos < len ? memchr(out + *pos, '\n', len - *pos) : NULL;
		size_t n = nl ? (size_t)(nl - (out + *pos)) : 0;

		if (!nl)
			return 0;
		++*line;
		if (n >= cap || memchr(out + *pos, 0, n)) {
			verr_set(e, "%s line %u: too long or not text", what, *line);
			return -EINVAL;
		}
		memcpy(text, out + *pos, n);
		text[n] = 0;
		*pos += n + 1;
		if (*line > 1)
			return 1;
		if (strcmp(text, magic)) {
			verr_set(e, "%s: the answer does not start with '%s' (is the login"
				 " shell printing a banner?)", what, magic);
			return -EPROTO;
		}
	}
}

int host_probe_parse(const char *out, size_t len, struct host_probe *p,
		     struct verr *e)
{
	bool seen[PK_NR] = { false };
	char text[PROBE_LINE_MAX];
	unsigned line = 0;
	size_t pos = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	while ((rc = host_answer_line(out, len, &pos, &line, PROBE_MAGIC, "host probe",
				      text, sizeof(text), e)) > 0) {
		if (!strcmp(text, "end"))
			goto end;
		rc = probe_line(p, text, line, seen, e);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	verr_set(e, "host probe: the answer was cut short after %u lines", line);
	return -EPROTO;
end:
	for (int k = 0; k < PK_NR; k++) {
		if (!seen[k]) {
			verr_set(e, "host probe: no %s line", probe_keys[k]);
			return -EPROTO;
		}
	}
	if (pos != len) {
		verr_set(e, "host probe: output after the end line");
		return -EPROTO;
	}
	return 0;
}
