/*
 * result.c - building the VmResult of a finished VM (see result.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/json_strict.h"
#include "guest/builtin/protocol.h"
#include "vmm-worker/result.h"

int result_parse_guest_line(const char *json, struct vm_result *r, bool *guest_ok,
			    char *reason, size_t reason_cap, struct verr *e)
{
	json_t *root, *v;
	const char *key;
	int rc = 0;

	root = jstrict_loads(json, strlen(json), "guest result line", e);
	if (!root)
		return -EINVAL;
	*guest_ok = false;
	reason[0] = 0;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "status") == 0 && json_is_string(v)) {
			*guest_ok = strcmp(json_string_value(v), "pass") == 0;
		} else if (strcmp(key, "reason") == 0 && json_is_string(v)) {
			snprintf(reason, reason_cap, "%s", json_string_value(v));
		} else if (json_is_number(v)) {
			if (vm_result_set_metric(r, key, json_number_value(v)) == -E2BIG) {
				verr_set(e, "guest result line: too many figures");
				rc = -E2BIG;
				break;
			}
		}
	}
	json_decref(root);
	return rc;
}

/* Rates from the guest's own cycle count and the TSC rate KVM reports. */
static void result_add_rates(struct vm_result *r, uint64_t tsc_khz)
{
	double cycles = -1, ops = -1, bytes = 0, secs;

	for (uint32_t i = 0; i < r->nmetrics; i++) {
		if (strcmp(r->metric[i].name, "cycles") == 0)
			cycles = r->metric[i].value;
		else if (strcmp(r->metric[i].name, "ops") == 0)
			ops = r->metric[i].value;
		else if (strcmp(r->metric[i].name, "bytes_read") == 0 ||
			 strcmp(r->metric[i].name, "bytes_written") == 0)
			bytes += r->metric[i].value;
	}
	if (cycles <= 0 || tsc_khz == 0)
		return;
	secs = cycles / ((double)tsc_khz * 1000.0);
	vm_result_set_metric(r, "tsc_khz", (double)tsc_khz);
	vm_result_set_metric(r, "guest_seconds", secs);
	if (ops >= 0)
		vm_result_set_metric(r, "iops", ops / secs);
	vm_result_set_metric(r, "throughput_bps", bytes / secs);
}

void result_build(struct vm *vm, struct vm_result *r)
{
	char line[SERIAL_LINE_MAX + 1], reason[256] = "";
	uint64_t now = clock_ns();
	bool guest_ok = false;
	struct verr e = { "" };

	memset(r, 0, sizeof(*r));
	r->exit_kind = vm->end.kind;
	r->exit_code = vm->end.code;
	r->wall_us = (now - vm->start_ns) / 1000;
	if (vm->serial.first_output_ns)
		r->boot_us = (vm->serial.first_output_ns - vm->start_ns) / 1000;
	r->ndisks = vm->ndisks;
	for (uint32_t i = 0; i < vm->ndisks; i++)
		shm_snapshot_disk(vm->shm, i, &r->disk[i]);
	serial_copy_tail(&vm->serial, r->console_tail, sizeof(r->console_tail));
	snprintf(r->error, sizeof(r->error), "%s", vm->end.detail);

	if (!serial_result_line(&vm->serial, line, sizeof(line))) {
		/*
		 * A pass without the figures that justify it is not a pass:
		 * the protocol is the result line first, then the verdict.
		 */
		if (r->exit_kind == VM_EXIT_GUEST_PASS) {
			r->exit_kind = VM_EXIT_GUEST_FAIL;
			snprintf(r->error, sizeof(r->error), "guest reported pass but "
				 "printed no " GUEST_RESULT_PREFIX "line");
		}
	} else {
		if (result_parse_guest_line(line, r, &guest_ok, reason, sizeof(reason), &e)) {
			snprintf(r->error, sizeof(r->error), "%s", e.msg);
		} else if (!guest_ok && r->exit_kind == VM_EXIT_GUEST_PASS) {
			/* The port said pass, the guest's own line says otherwise. */
			r->exit_kind = VM_EXIT_GUEST_FAIL;
		}
		if (reason[0] && !guest_ok)
			snprintf(r->error, sizeof(r->error), "guest: %s", reason);
		result_add_rates(r, vm->tsc_khz);
	}
	r->success = r->exit_kind == VM_EXIT_GUEST_PASS;
	if (r->success)
		r->error[0] = 0;
}
