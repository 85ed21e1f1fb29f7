/*
 * result.c - building the VmResult of a finished VM (see result.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest/builtin/protocol.h"
#include "vmm-worker/guest_result.h"
#include "vmm-worker/result.h"

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
	static char line[SERIAL_LINE_MAX + 1];	/* one VM per worker */
	char reason[256] = "";
	uint64_t now = clock_ns();
	enum guest_status status = GUEST_STATUS_FAIL;
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
		if (guest_result_parse(line, r, &status, reason, sizeof(reason), &e)) {
			snprintf(r->error, sizeof(r->error), "%s", e.msg);
			status = GUEST_STATUS_FAIL;
		}
		if (status == GUEST_STATUS_TIMEOUT &&
		    (r->exit_kind == VM_EXIT_GUEST_PASS || r->exit_kind == VM_EXIT_GUEST_FAIL))
			/* The agent stopped the program at its in-guest limit. */
			r->exit_kind = VM_EXIT_TIMEOUT;
		else if (status != GUEST_STATUS_PASS && r->exit_kind == VM_EXIT_GUEST_PASS)
			/* The port said pass, the guest's own line says otherwise. */
			r->exit_kind = VM_EXIT_GUEST_FAIL;
		if (reason[0] && status != GUEST_STATUS_PASS)
			snprintf(r->error, sizeof(r->error), "guest: %s", reason);
		result_add_rates(r, vm->tsc_khz);
	}
	r->success = r->exit_kind == VM_EXIT_GUEST_PASS;
	if (r->success)
		r->error[0] = 0;
}
