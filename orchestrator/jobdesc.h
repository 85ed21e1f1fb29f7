/*
 * jobdesc.h - one job as the orchestrator knows it: the job spec the worker
 * runs, plus where it came from (scenario, VM, matrix values, repeat) and
 * what the scenario expects of its result.  Produced by scenario expansion,
 * consumed by the pool (running) and the database (storing).
 */
#ifndef VMORCH_JOBDESC_H
#define VMORCH_JOBDESC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/job.h"
#include "common/vm_result.h"

#define JOB_NAME_MAX		127
#define JOB_MAX_PARAMS		16
#define JOB_PARAM_KEY_MAX	63
#define JOB_PARAM_VALUE_MAX	127
#define JOB_MAX_EXPECT		32
#define EXPECT_NAME_MAX		79
#define EXPECT_TEXT_MAX		95
#define JOB_MAX_LABELS		8
#define JOB_LABEL_MAX		63

/* One matrix parameter's value for this job ("bs" = "4k"). */
struct job_param {
	char key[JOB_PARAM_KEY_MAX + 1];
	char value[JOB_PARAM_VALUE_MAX + 1];
};

enum expect_op { EXPECT_EQ, EXPECT_NE, EXPECT_LT, EXPECT_LE, EXPECT_GT, EXPECT_GE };

/*
 * One expectation: a counter (summed over the VM's disks, or one disk as
 * "disk1.reads_completed") or a guest metric ("iops", "verify_errors"),
 * compared with a number.  @text is the comparison as the user wrote it
 * (">= 1000"), kept for reports.
 */
struct expect_check {
	char name[EXPECT_NAME_MAX + 1];
	enum expect_op op;
	double value;
	char text[EXPECT_TEXT_MAX + 1];
};

/* The outcome of one check against one result. */
struct expect_outcome {
	bool passed;
	bool missing;		/* the result has no such counter or metric */
	double actual;
};

struct job_desc {
	struct job_spec spec;			/* what the worker runs */
	char scenario[JOB_NAME_MAX + 1];	/* scenario `name:` */
	char scenario_file[4096];		/* path as given on the command line */
	char vm[JOB_NAME_MAX + 1];		/* VM `name:` */
	unsigned repeat;			/* 0 .. repeat-1 */
	unsigned nparams;
	struct job_param param[JOB_MAX_PARAMS];	/* in matrix key order */
	unsigned nexpect;
	struct expect_check expect[JOB_MAX_EXPECT];
	/* placement: labels a fleet host must all have to take this job. */
	unsigned nlabels;
	char label[JOB_MAX_LABELS][JOB_LABEL_MAX + 1];
	unsigned label_line, label_col;		/* of `labels:` in the file */
	/* Its effective configuration and hash (job_config.c), or NULL/"". */
	char *config;
	char config_hash[65];
};

#endif
