/*
 * host_facts.c - a machine's kernel, CPU, memory and KVM flavour (see
 * host_facts.h), read from procfs and sysfs below a root directory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_facts.h"
#include "json_strict.h"

static const char *const kvm_flavours[] = {
#define HF_X_NAME(n) #n,
	HOST_KVM_FLAVOURS(HF_X_NAME)
#undef HF_X_NAME
	NULL
};

static FILE *facts_open(const char *root, const char *rel)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return NULL;
	return fopen(path, "re");
}

static bool facts_exists(const char *root, const char *rel)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0;
}

/* Copy @s without surrounding blanks into @buf (cut to fit). */
static void facts_copy_trimmed(char *buf, size_t cap, const char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strcspn(s, "\n");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!n)
		snprintf(buf, cap, "unknown");
}

static void facts_release(struct host_facts *f, const char *root)
{
	char line[256];
	FILE *fp = facts_open(root, "proc/sys/kernel/osrelease");

	if (fp && fgets(line, sizeof(line), fp))
		facts_copy_trimmed(f->kernel_release, sizeof(f->kernel_release), line);
	if (fp)
		fclose(fp);
}

/* "key<blanks>: value": the value, or NULL when @line is not that key. */
static const char *facts_field(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n))
		return NULL;
	line += n;
	line += strspn(line, " \t");
	return *line == ':' ? line + 1 : NULL;
}

static void facts_cpuinfo(struct host_facts *f, const char *root)
{
	char line[1024];
	const char *v;
	FILE *fp = facts_open(root, "proc/cpuinfo");

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		if (facts_field(line, "processor"))
			f->cpus++;
		else if ((v = facts_field(line, "model name")) &&
			 !strcmp(f->cpu_model, "unknown"))
			facts_copy_trimmed(f->cpu_model, sizeof(f->cpu_model), v);
	}
	fclose(fp);
}

static void facts_meminfo(struct host_facts *f, const char *root)
{
	char line[256];
	const char *v;
	uint64_t kib;
	FILE *fp = facts_open(root, "proc/meminfo");

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		v = facts_field(line, "MemTotal");
		if (v && sscanf(v, "%" SCNu64, &kib) == 1 && kib <= UINT64_MAX / 1024) {
			f->memory_bytes = kib * 1024;
			break;
		}
	}
	fclose(fp);
}

/* kvm_pvm first: a PVM host may have kvm_intel or kvm_amd loaded too. */
static const char *facts_kvm(const char *root)
{
	if (!facts_exists(root, "dev/kvm"))
		return "none";
	if (facts_exists(root, "sys/module/kvm_pvm"))
		return "pvm";
	if (facts_exists(root, "sys/module/kvm_intel"))
		return "intel";
	if (facts_exists(root, "sys/module/kvm_amd"))
		return "amd";
	return "unknown";
}

void host_facts_collect(struct host_facts *f, const char *root)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->kernel_release, sizeof(f->kernel_release), "unknown");
	snprintf(f->cpu_model, sizeof(f->cpu_model), "unknown");
	facts_release(f, root);
	facts_cpuinfo(f, root);
	facts_meminfo(f, root);
	snprintf(f->kvm_flavour, sizeof(f->kvm_flavour), "%s", facts_kvm(root));
}

json_t *host_facts_to_json(const struct host_facts *f)
{
	json_t *o = json_object();

	if (!o || json_object_set_new(o, "kernel_release", json_string(f->kernel_release)) ||
	    json_object_set_new(o, "cpu_model", json_string(f->cpu_model)) ||
	    jset_u64(o, "cpus", f->cpus) ||
	    jset_u64(o, "memory_bytes", f->memory_bytes) ||
	    json_object_set_new(o, "kvm", json_string(f->kvm_flavour))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int host_facts_from_json(const json_t *o, struct host_facts *f, struct verr *e)
{
	static const char *const keys[] = { "kernel_release", "cpu_model", "cpus",
					    "memory_bytes", "kvm", NULL };
	const char *what = "host facts";
	uint64_t cpus;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = jstrict_keys(o, what, keys, e);
	if (!rc)
		rc = jstrict_str(o, what, "kernel_release", f->kernel_release,
				 sizeof(f->kernel_release), e);
	if (!rc)
		rc = jstrict_str(o, what, "cpu_model", f->cpu_model,
				 sizeof(f->cpu_model), e);
	if (!rc)
		rc = jstrict_u64_range(o, what, "cpus", 0, UINT32_MAX, &cpus, e);
	if (!rc)
		f->cpus = (uint32_t)cpus;
	if (!rc)
		rc = jstrict_u64(o, what, "memory_bytes", &f->memory_bytes, e);
	if (!rc)
		rc = jstrict_str(o, what, "kvm", f->kvm_flavour,
				 sizeof(f->kvm_flavour), e);
	if (rc)
		return rc;
	for (size_t i = 0; kvm_flavours[i]; i++)
		if (!strcmp(f->kvm_flavour, kvm_flavours[i]))
			return 0;
	verr_set(e, "%s: kvm: unknown flavour '%s'", what, f->kvm_flavour);
	return -EINVAL;
}
