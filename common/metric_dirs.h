/*
 * metric_dirs.h - which way is better for the guest-reported metrics that
 * vmorch knows, declared beside the counter list (vblk_counters.h) so that
 * `vmorch diff` can call a change improved or regressed.  A metric not
 * listed here is neutral: reported, never judged.
 */
#ifndef VMORCH_METRIC_DIRS_H
#define VMORCH_METRIC_DIRS_H

#include <string.h>

#include "common/vblk_counters.h"

/* X(name, unit, direction) */
#define VM_METRICS(X)                                         \
	X(iops,           "ops/s",   VMORCH_DIR_HIGHER)       \
	X(throughput_bps, "bytes/s", VMORCH_DIR_HIGHER)       \
	X(guest_seconds,  "s",       VMORCH_DIR_LOWER)        \
	X(cycles,         "cycles",  VMORCH_DIR_LOWER)        \
	X(verify_errors,  "errors",  VMORCH_DIR_LOWER)        \
	X(wall_us,        "us",      VMORCH_DIR_LOWER)        \
	X(boot_us,        "us",      VMORCH_DIR_LOWER)

struct vm_metric_info {
	const char *name;
	const char *unit;
	enum vmorch_dir dir;
};

static inline const struct vm_metric_info *vm_metric_find(const char *name)
{
	static const struct vm_metric_info known[] = {
#define VM_X_METRIC(n, u, d) { #n, u, d },
		VM_METRICS(VM_X_METRIC)
#undef VM_X_METRIC
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0)
			return &known[i];
	return NULL;
}

#endif
