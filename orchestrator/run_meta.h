/*
 * run_meta.h - what a run was of (runs' run_meta rows): the user's
 * `--meta KEY=VALUE` and, found by vmorch, the git commit, branch and
 * dirty state of the repository the run was started in.
 */
#ifndef VMORCH_RUN_META_H
#define VMORCH_RUN_META_H

#include "common/verr.h"
#include "orchestrator/db.h"

#define RUN_META_GIT_MS	5000	/* each git command, at most */

struct run_meta {
	struct db_meta v[DB_META_MAX + 3];	/* the user's, then commit, branch, dirty */
	char *text[DB_META_MAX + 3];		/* what v[] points into */
	unsigned n;
};

/* --meta KEY=VALUE: checked (db_meta_check), a key given twice refused. */
int run_meta_add_user(struct run_meta *m, const char *arg, struct verr *e);

/*
 * commit, branch and dirty ("1" with uncommitted changes to tracked files,
 * else "0") of the git repository holding the working directory, each
 * unless the user gave it.  Nothing when there is no repository or no
 * git; each git command is killed after RUN_META_GIT_MS.
 */
void run_meta_add_git(struct run_meta *m);

void run_meta_release(struct run_meta *m);

#endif
