/*
 * store_gc.h - trimming a fleet host's store (<workdir>/cas/<sha256> and
 * <workdir>/bin/<sha256>/vmm-worker, fleet_stage.h) for `vmorch hosts gc`:
 * a POSIX sh script run over one exec channel, and the strict reader of
 * its answer.  The script takes the store lock exclusively without waiting
 * (a running job or stage holds it shared: the host is then busy and
 * nothing is deleted), removes the temporaries a killed stage left, and
 * deletes least recently used files first until the store fits, sparing
 * this vmorch's worker and anything used within the minimum age.  A file's
 * mtime is its last use: staging sets it, a run that reuses it touches it.
 */
#ifndef VMORCH_STORE_GC_H
#define VMORCH_STORE_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

struct store_gc_opts {
	const char *workdir;
	const char *keep_sha256;	/* this vmorch's worker: never deleted */
	uint64_t max_bytes;		/* the store's size to get down to */
	uint64_t min_age_s;		/* a file used more recently is kept */
	bool dry_run;			/* say what would go, delete nothing */
};

enum store_gc_fate {
	STORE_GC_DELETED,	/* deleted (a dry run: would be) */
	STORE_GC_TEMP,		/* a killed stage's temporary, removed (would be) */
	STORE_GC_FAILED,	/* to delete, but rm failed */
};

#define STORE_GC_PATH_MAX	96	/* "bin/<64 hex>/vmm-worker" and NUL fit */

struct store_gc_file {
	char path[STORE_GC_PATH_MAX];	/* relative to the workdir */
	uint64_t bytes;
	uint64_t age_s;			/* since its last use; 0 for a temporary */
	enum store_gc_fate fate;
};

/* What the host answered. */
struct store_gc {
	bool busy;			/* the store lock was held: nothing done */
	char error[256];		/* the host could not collect, or "" */
	uint64_t files, bytes;		/* in the store before, temporaries included */
	uint64_t spared_files;		/* over the limit, kept: recent or the worker */
	uint64_t spared_bytes;
	struct store_gc_file *file;	/* every file deleted, removed or failed */
	size_t nfile, cap;
};

/* The command (malloc'd), or NULL with @e set. */
char *store_gc_command(const struct store_gc_opts *o, struct verr *e);

/*
 * Parse the command's whole output (@len bytes) into @g (release it even
 * on failure).  Every line must be well formed and in order, up to the
 * closing "end": a cut answer is an error, not an empty store.
 */
int store_gc_parse(const char *out, size_t len, struct store_gc *g, struct verr *e);

void store_gc_release(struct store_gc *g);

/* Files of @g of @fate, and bytes freed (deleted and temporaries). */
size_t store_gc_count(const struct store_gc *g, enum store_gc_fate fate);
uint64_t store_gc_freed(const struct store_gc *g);

#endif
