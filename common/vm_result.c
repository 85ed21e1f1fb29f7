/*
 * vm_result.c - VmResult JSON codec.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "vblk_json.h"
#include "vm_result.h"

static const char *const exit_kind_names[VM_EXIT_NR] = {
#define VM_X_NAME(e, s) [VM_EXIT_##e] = s,
	VM_EXIT_KINDS(VM_X_NAME)
#undef VM_X_NAME
};

const char *vm_exit_kind_name(enum vm_exit_kind k)
{
	return (unsigned)k < VM_EXIT_NR ? exit_kind_names[k] : "?";
}

int vm_exit_kind_parse(const char *name)
{
	for (int i = 0; i < VM_EXIT_NR; i++)
		if (strcmp(exit_kind_names[i], name) == 0)
			return i;
	return -1;
}

static bool metric_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VM_METRIC_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

int vm_result_set_metric(struct vm_result *r, const char *name, double value)
{
	uint32_t i;

	if (!metric_name_ok(name) || !isfinite(value))
		return -EINVAL;
	for (i = 0; i < r->nmetrics; i++)
		if (strcmp(r->metric[i].name, name) == 0)
			break;
	if (i == r->nmetrics) {
		if (i == VM_RESULT_MAX_METRICS)
			return -E2BIG;
		r->nmetrics++;
		strcpy(r->metric[i].name, name);
	}
	r->metric[i].value = value;
	return 0;
}

/*
 * A guest writes whatever bytes it likes on its console; JSON strings must be
 * UTF-8.  Keep printable ASCII, newlines and tabs, and show the rest as '?'.
 */
static json_t *console_to_json(const char *s)
{
	char buf[VM_CONSOLE_TAIL_MAX + 1];
	size_t i;

	for (i = 0; s[i] && i < VM_CONSOLE_TAIL_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
	}
	buf[i] = 0;
	return json_string(buf);
}

json_t *vm_result_to_json(const struct vm_result *r)
{
	json_t *o = json_object(), *disks = NULL, *metrics = NULL;

	if (!o)
		return NULL;
	if (jset_u64(o, "version", VM_RESULT_VERSION) ||
	    json_object_set_new(o, "success", json_boolean(r->success)) ||
	    json_object_set_new(o, "exit_kind", json_string(vm_exit_kind_name(r->exit_kind))) ||
	    json_object_set_new(o, "exit_code", json_integer(r->exit_code)) ||
	    jset_u64(o, "wall_us", r->wall_us) || jset_u64(o, "boot_us", r->boot_us) ||
	    json_object_set_new(o, "console_tail", console_to_json(r->console_tail)))
		goto fail;
	if (r->error[0] &&
	    json_object_set_new(o, "error", console_to_json(r->error)))
		goto fail;
	if (r->ndisks) {
		disks = json_array();
		if (!disks || json_object_set_new(o, "disks", disks))
			goto fail;
		for (uint32_t i = 0; i < r->ndisks && i < JOB_MAX_DISKS; i++)
			if (json_array_append_new(disks, vblk_snapshot_to_json(&r->disk[i])))
				goto fail;
	}
	metrics = json_object();
	if (!metrics || json_object_set_new(o, "metrics", metrics))
		goto fail;
	for (uint32_t i = 0; i < r->nmetrics && i < VM_RESULT_MAX_METRICS; i++)
		if (json_object_set_new(metrics, r->metric[i].name,
					json_real(r->metric[i].value)))
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

char *vm_result_encode(const struct vm_result *r)
{
	json_t *o = vm_result_to_json(r);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static const char *const result_keys[] = {
	"version", "success", "exit_kind", "exit_code", "wall_us", "boot_us",
	"disks", "metrics", "console_tail", "error", NULL
};

static int disks_from_json(const json_t *a, struct vm_result *r, struct verr *e)
{
	char what[32];
	size_t n;

	if (!json_is_array(a)) {
		verr_set(e, "result: field 'disks' must be an array");
		return -EINVAL;
	}
	n = json_array_size(a);
	if (n == 0 || n > JOB_MAX_DISKS) {
		verr_set(e, "result: field 'disks' has %zu entries, expected 1..%d "
			 "(omit it when the VM has no disk)", n, JOB_MAX_DISKS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int rc;

		snprintf(what, sizeof(what), "result.disks[%zu]", i);
		rc = vblk_snapshot_from_json(json_array_get(a, i), what, &r->disk[i], e);
		if (rc)
			return rc;
	}
	r->ndisks = (uint32_t)n;
	return 0;
}

static int metrics_from_json(const json_t *o, struct vm_result *r, struct verr *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o)) {
		verr_set(e, "result: field 'metrics' must be an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, v) {
		int rc;

		if (!json_is_number(v)) {
			verr_set(e, "result.metrics: '%s' must be a number", key);
			return -EINVAL;
		}
		rc = vm_result_set_metric(r, key, json_number_value(v));
		if (rc == -E2BIG) {
			verr_set(e, "result.metrics: more than %d metrics",
				 VM_RESULT_MAX_METRICS);
			return rc;
		}
		if (rc) {
			verr_set(e, "result.metrics: bad metric name '%s' "
				 "(expected [a-z0-9_.], at most %d characters)",
				 key, VM_METRIC_NAME_MAX);
			return rc;
		}
	}
	return 0;
}

int vm_result_from_json(const json_t *root, struct vm_result *out, struct verr *e)
{
	const char *what = "result";
	struct vm_result *r;
	char kind[32];
	uint64_t version;
	json_t *v;
	int k, rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		verr_set(e, "result: out of memory");
		return -ENOMEM;
	}
	if ((rc = jstrict_keys(root, what, result_keys, e)) ||
	    (rc = jstrict_u64(root, what, "version", &version, e)))
		goto out;
	if (version != VM_RESULT_VERSION) {
		verr_set(e, "result: version %llu is not supported (this vmorch reads %d)",
			 (unsigned long long)version, VM_RESULT_VERSION);
		rc = -EPROTO;
		goto out;
	}
	if ((rc = jstrict_bool(root, what, "success", &r->success, e)) ||
	    (rc = jstrict_str(root, what, "exit_kind", kind, sizeof(kind), e)) ||
	    (rc = jstrict_i64(root, what, "exit_code", &r->exit_code, e)) ||
	    (rc = jstrict_u64(root, what, "wall_us", &r->wall_us, e)) ||
	    (rc = jstrict_u64(root, what, "boot_us", &r->boot_us, e)) ||
	    (rc = jstrict_str(root, what, "console_tail", r->console_tail,
			      sizeof(r->console_tail), e)) ||
	    (rc = jstrict_opt_str(root, what, "error", r->error, sizeof(r->error), e)))
		goto out;
	k = vm_exit_kind_parse(kind);
	if (k < 0) {
		verr_set(e, "result: field 'exit_kind' has unknown value '%s'", kind);
		rc = -EINVAL;
		goto out;
	}
	r->exit_kind = (enum vm_exit_kind)k;
	if (r->success && r->exit_kind != VM_EXIT_GUEST_PASS) {
		verr_set(e, "result: 'success' is true but 'exit_kind' is '%s'", kind);
		rc = -EINVAL;
		goto out;
	}
	if ((v = json_object_get(root, "disks")) && (rc = disks_from_json(v, r, e)))
		goto out;
	v = json_object_get(root, "metrics");
	if (!v) {
		verr_set(e, "result: missing field 'metrics'");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = metrics_from_json(v, r, e)))
		goto out;
	memcpy(out, r, sizeof(*r));
out:
	free(r);
	return rc;
}

int vm_result_decode(const char *text, size_t len, struct vm_result *out,
		     struct verr *e)
{
	json_t *root = jstrict_loads(text, len, "result", e);
	int rc;

	if (!root)
		return -EINVAL;
	rc = vm_result_from_json(root, out, e);
	json_decref(root);
	return rc;
}
