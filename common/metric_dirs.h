/*
 * metric_dirs.h - which way is better for the guest-reported metrics that
 * vmorch knows, declared beside the counter list (vblk_counters.h) so that
 * `vmorch diff` can call a change improved or regressed.  A metric not
 * listed here is neutral: reported, never judged.
 *
 * Of those with a direction, diff judges by default only the small set
 * marked `judged`: throughput, latency and errors.  The timings of a run
 * (wall_us, boot_us, guest_seconds, cycles) are left out: one slowdown
 * moves all of them, and judging each would count it four times.
 * `--metric NAME` chooses the judged set instead.
 */
#ifndef VMORCH_METRIC_DIRS_H
#define VMORCH_METRIC_DIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/vblk_counters.h"

/* X(name, unit, direction, judged by default) */
#define VM_METRICS(X)                                                 \
	X(iops,           "ops/s",   VMORCH_DIR_HIGHER, true)         \
	X(throughput_bps, "bytes/s", VMORCH_DIR_HIGHER, true)         \
	X(lat_p50_us,     "us",      VMORCH_DIR_LOWER,  true)         \
	X(lat_p99_us,     "us",      VMORCH_DIR_LOWER,  true)         \
	X(lat_max_us,     "us",      VMORCH_DIR_LOWER,  false)        \
	X(verify_errors,  "errors",  VMORCH_DIR_LOWER,  true)         \
	X(guest_seconds,  "s",       VMORCH_DIR_LOWER,  false)        \
	X(cycles,         "cycles",  VMORCH_DIR_LOWER,  false)        \
	X(wall_us,        "us",      VMORCH_DIR_LOWER,  false)        \
	X(boot_us,        "us",      VMORCH_DIR_LOWER,  false)

/*
 * fio's figures, "fio.JOB.DIRECTION.FIELD" (guest/agent/metrics.c), by
 * their last component.
 */
#define FIO_METRICS(X)                                                \
	X(iops,           "ops/s",   VMORCH_DIR_HIGHER, true)         \
	X(bw_bytes,       "bytes/s", VMORCH_DIR_HIGHER, true)         \
	X(clat_p50_us,    "us",      VMORCH_DIR_LOWER,  true)         \
	X(clat_p99_us,    "us",      VMORCH_DIR_LOWER,  true)         \
	X(clat_p99_9_us,  "us",      VMORCH_DIR_LOWER,  false)        \
	X(clat_mean_us,   "us",      VMORCH_DIR_LOWER,  false)        \
	X(lat_mean_us,    "us",      VMORCH_DIR_LOWER,  false)

#define FIO_METRIC_PREFIX "fio."

struct vm_metric_info {
	const char *name;
	const char *unit;
	enum vmorch_dir dir;
	bool judged;		/* judged by `vmorch diff` unless --metric */
};

#define VM_X_METRIC(n, u, d, j) { #n, u, d, j },

static inline const struct vm_metric_info *
vm_metric_in(const struct vm_metric_info *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* What vmorch knows of metric @name, or NULL for a neutral one. */
static inline const struct vm_metric_info *vm_metric_find(const char *name)
{
	static const struct vm_metric_info known[] = { VM_METRICS(VM_X_METRIC) };
	static const struct vm_metric_info fio[] = { FIO_METRICS(VM_X_METRIC) };
	const char *last;

	if (strncmp(name, FIO_METRIC_PREFIX, strlen(FIO_METRIC_PREFIX)) == 0) {
		last = strrchr(name, '.');
		return vm_metric_in(fio, sizeof(fio) / sizeof(fio[0]), last + 1);
	}
	return vm_metric_in(known, sizeof(known) / sizeof(known[0]), name);
}

#undef VM_X_METRIC

#endif
