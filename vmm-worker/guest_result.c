/*
 * guest_result.c - a guest's result payload into a VmResult (see
 * guest_result.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/json_strict.h"
#include "vmm-worker/guest_result.h"

static enum guest_status status_parse(const char *s)
{
	if (!strcmp(s, "pass"))
		return GUEST_STATUS_PASS;
	if (!strcmp(s, "timeout"))
		return GUEST_STATUS_TIMEOUT;
	return GUEST_STATUS_FAIL;
}

int guest_result_parse(const char *json, struct vm_result *r, enum guest_status *status,
		       char *reason, size_t reason_cap, struct verr *e)
{
	json_t *root, *v;
	const char *key;
	int rc = 0;

	*status = GUEST_STATUS_FAIL;
	reason[0] = 0;
	root = jstrict_loads(json, strlen(json), "guest result line", e);
	if (!root)
		return -EINVAL;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "status") && json_is_string(v)) {
			*status = status_parse(json_string_value(v));
		} else if (!strcmp(key, "reason") && json_is_string(v)) {
			snprintf(reason, reason_cap, "%s", json_string_value(v));
		} else if (json_is_number(v)) {
			if (vm_result_set_metric(r, key, json_number_value(v)) == -E2BIG) {
				verr_set(e, "guest result line: more figures than a result"
					 " holds (%d)", VM_RESULT_MAX_METRICS);
				*status = GUEST_STATUS_FAIL;
				rc = -E2BIG;
				break;
			}
		}
	}
	json_decref(root);
	return rc;
}
