/*
 * job_config.h - a job's effective configuration, as stored with its
 * result: the job spec without what only names this machine (paths, the
 * database's file ids, the job's name), each file it uses given by the
 * sha256 of its content instead, as canonical JSON; and that text's
 * sha256.  Two runs of a job whose configurations differ are not the same
 * experiment: diff says so instead of calling the change a regression.
 */
#ifndef VMORCH_JOB_CONFIG_H
#define VMORCH_JOB_CONFIG_H

#include "common/verr.h"
#include "orchestrator/jobdesc.h"

/*
 * Fill @j->config (malloc'd) and @j->config_hash.  A file that cannot be
 * read is given as "unreadable" (the worker reports it); 0 or -ENOMEM.
 */
int job_config_build(struct job_desc *j, struct verr *e);

#endif
