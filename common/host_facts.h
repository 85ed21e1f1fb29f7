/*
 * host_facts.h - what a machine that ran jobs was: kernel release, CPU
 * model and count, memory, KVM flavour.  Stored per run and host, so that a
 * diff can say when its two sides ran on different machines.  Read from
 * /proc and /sys below a root directory (tests give a fake one); the JSON
 * form is what a fleet host reports about itself.
 */
#ifndef VMORCH_HOST_FACTS_H
#define VMORCH_HOST_FACTS_H

#include <stdint.h>

#include <jansson.h>

#include "verr.h"

/*
 * Where /dev/kvm comes from: the module that registered it; none when there
 * is no /dev/kvm, unknown when no known module is loaded.
 */
#define HOST_KVM_FLAVOURS(X) X(intel) X(amd) X(pvm) X(none) X(unknown)

struct host_facts {
	char kernel_release[65];	/* /proc/sys/kernel/osrelease */
	char cpu_model[128];		/* the first "model name" of /proc/cpuinfo */
	uint32_t cpus;			/* "processor" entries of /proc/cpuinfo */
	uint64_t memory_bytes;		/* MemTotal of /proc/meminfo */
	char kvm_flavour[8];		/* a HOST_KVM_FLAVOURS name */
};

/*
 * Fill @f from @root ("/" for this machine).  A fact that cannot be read is
 * "unknown" (or 0): facts describe a run, they never stop one.
 */
void host_facts_collect(struct host_facts *f, const char *root);

/* {"kernel_release":..,"cpu_model":..,"cpus":..,"memory_bytes":..,"kvm":..} */
json_t *host_facts_to_json(const struct host_facts *f);

/* The strict reverse: every field present, of its type, in its bounds. */
int host_facts_from_json(const json_t *o, struct host_facts *f, struct verr *e);

#endif
