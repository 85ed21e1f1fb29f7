/*
 * scenario.h - loading a vmorch scenario file (YAML, format `vmorch: 1`) and
 * expanding it into jobs: one struct job_desc per VM x matrix combination x
 * repeat.  The format is documented in doc/scenario.md.
 */
#ifndef VMORCH_SCENARIO_H
#define VMORCH_SCENARIO_H

#include <stddef.h>

#include "common/verr.h"
#include "orchestrator/jobdesc.h"

#define SCENARIO_VERSION	1
#define SCENARIO_FILE_MAX	(1U << 20)	/* bytes */
#define SCENARIO_JOBS_MAX	10000		/* after expansion */

struct scenario;

/*
 * Read @path once (a file, a pipe or FIFO, a character stream; not a
 * directory or a block device), then parse and fully validate those bytes:
 * every VM is built for every matrix combination, so a file that loads also
 * expands.  0, or a negative errno with one message "file:line:column: what
 * is wrong (what was expected)" in @e (file-level problems such as a
 * missing file have no position).
 */
int scenario_load(const char *path, struct scenario **out, struct verr *e);

/*
 * The same from memory (the fuzzing entry point); @path names the file in
 * messages and anchors relative paths (its directory must exist).
 */
int scenario_load_buffer(const char *path, const char *buf, size_t len,
			 struct scenario **out, struct verr *e);

void scenario_free(struct scenario *s);

const char *scenario_name(const struct scenario *s);
const char *scenario_description(const struct scenario *s);	/* or NULL */
const char *scenario_path(const struct scenario *s);
/* SHA-256 (lowercase hex) of exactly the bytes that were parsed. */
const char *scenario_sha256(const struct scenario *s);
size_t scenario_njobs(const struct scenario *s);

/*
 * The jobs, in order: VMs as written, then matrix combinations (last key
 * varying fastest), then repeat index.  *jobs is calloc'd; release it with
 * job_descs_free().
 */
int scenario_expand(const struct scenario *s, struct job_desc **jobs,
		    size_t *njobs, struct verr *e);

void job_descs_free(struct job_desc *jobs, size_t n);

/*
 * The scenario files of one run, in the order given.  Adding refuses, with
 * -EEXIST and a message naming both files, a path given before (unopened,
 * so a pipe is not waited on twice), the same file under another path
 * (device and inode), and a second file with the same scenario name (its
 * jobs would be merged with the first's as repeats).  Other errors are
 * scenario_load()'s.
 */
struct scenario_set {
	struct scenario **s;
	size_t n;
};

int scenario_set_add(struct scenario_set *set, const char *path, struct verr *e);
void scenario_set_release(struct scenario_set *set);

#endif
