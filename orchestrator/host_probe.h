/*
 * host_probe.h - what `vmorch hosts check` and a fleet run learn about a
 * host before giving it jobs: its facts (common/host_facts.h), whether the
 * login user may use /dev/kvm, the free space in its workdir and whether
 * this vmorch's worker is already staged there.  A POSIX sh script run
 * over one exec channel gathers them, so a host needs nothing installed;
 * its answer is parsed strictly, since a host may send anything.
 */
#ifndef VMORCH_HOST_PROBE_H
#define VMORCH_HOST_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/host_facts.h"
#include "common/verr.h"

struct host_probe {
	struct host_facts facts;
	bool kvm_usable;		/* /dev/kvm readable and writable by the user */
	uint64_t workdir_free_bytes;	/* in workdir, or its nearest existing parent */
	bool worker_staged;		/* <workdir>/bin/<sha256>/vmm-worker is there */
};

/*
 * The shell command to run on the host (through the login shell) for
 * @workdir (absolute) and the worker's @worker_sha256 (64 hex digits).
 * Returns a malloc'd string, or NULL with @e set.
 */
char *host_probe_command(const char *workdir, const char *worker_sha256,
			 struct verr *e);

/*
 * Parse the command's whole output (@len bytes).  Every line it promises
 * must be there, once, well formed, up to its closing "end" line: a
 * truncated answer is an error, not a host with no memory.
 */
int host_probe_parse(const char *out, size_t len, struct host_probe *p,
		     struct verr *e);

/*
 * How a host script's answer is read, line by line (the probe's, the store
 * gc's): the first line must be @magic; then each call gives the next
 * '\n'-terminated line in @text (@cap bytes, NUL-terminated): 1, with
 * *@pos and *@line advanced.  0 when no whole line is left (an
 * unterminated last line is a cut answer, not a line); negative with @e
 * set, naming @what, for a line too long or not text, or a wrong first
 * line.
 */
int host_answer_line(const char *out, size_t len, size_t *pos, unsigned *line,
		     const char *magic, const char *what, char *text, size_t cap,
		     struct verr *e);

#endif
