/*
 * scenario_priv.h - what the two halves of the scenario loader share:
 * scenario.c (the schema: top level, VMs, guest, disks, workload,
 * expectations, placement) and scenario_matrix.c (matrix keys and values,
 * "${key}" substitution, combinations, expansion into jobs).  Only those
 * two files include it; everyone else uses scenario.h.
 */
#ifndef VMORCH_SCENARIO_PRIV_H
#define VMORCH_SCENARIO_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/verr.h"
#include "orchestrator/jobdesc.h"
#include "orchestrator/ytree_get.h"

struct scenario {
	char *path;			/* as given, for messages and job_desc */
	char *dir;			/* absolute; anchors relative paths */
	char name[JOB_NAME_MAX + 1];
	char *description;
	char sha256[65];		/* of the bytes parsed */
	bool has_id;			/* read from a file: dev and ino are set */
	dev_t dev;
	ino_t ino;
	struct ytree_node *root;
	const struct ytree_node *defaults, *matrix, *vms, *vms_key;
	size_t nkeys;			/* matrix keys */
	size_t njobs;
};

/*
 * Where we are, while checking or expanding: for messages, and this job's
 * matrix values (matrix_ctx_init() makes the getters resolve "${key}").
 */
struct ctx {
	struct ytree_doc doc;		/* resolves "${key}" through mval */
	const struct scenario *s;
	const struct ytree_node *mval[JOB_MAX_PARAMS];	/* NULL: key unused */
	/* This job's disks, for the workload's cross-checks. */
	const struct ytree_node *disk_node[JOB_MAX_DISKS];	/* size or image */
	uint64_t disk_bytes[JOB_MAX_DISKS];		/* 0: not known */
};

/* "path:line:col: message" at @node; returns -EINVAL. */
#define fail_at(c, node, ...) ytree_doc_fail(&(c)->doc, node, __VA_ARGS__)

/* ---- scenario.c ---- */

/* A VM's keys; defaults: takes them all but the first, "name". */
extern const char *const scenario_vm_keys[];

/* A VM's value for @key, else the defaults' value, else NULL. */
const struct ytree_node *scenario_vm_get(const struct scenario *s,
					 const struct ytree_node *vm,
					 const char *key);

/*
 * Build job @repeat of VM @vm for the matrix values in @c into @j, and say
 * how many repeats the VM asks for.  On failure @j holds nothing.
 */
int scenario_vm_build(struct ctx *c, const struct ytree_node *vm,
		      unsigned repeat, struct job_desc *j, unsigned *nrepeat);

/* ---- scenario_matrix.c ---- */

/* @c for @s, its messages into @e, no matrix value bound yet. */
void matrix_ctx_init(struct ctx *c, const struct scenario *s, struct verr *e);

/*
 * For a word of run:, scalar @n: a whole "${key}" naming a matrix key
 * stands for its value; any other text, "${disk0}" included (the agent
 * resolves that in the guest) or a shell's "${HOME}", stays as written.
 */
int matrix_resolve_known(struct ctx *c, const struct ytree_node *n,
			 const struct ytree_node **out);

/* matrix: keys and their lists of values; sets s->nkeys. */
int matrix_check(struct ctx *c, struct scenario *s);

/*
 * Every VM for every combination, once, so that a file that loads also
 * expands; sets s->njobs.
 */
int matrix_check_jobs(struct ctx *c, struct scenario *s);

#endif
