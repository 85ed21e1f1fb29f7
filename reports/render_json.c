/*
 * render_json.c - the machine-readable forms: `vmorch report --format json`
 * ({"vmorch_report": 2, ...}), `vmorch diff --json` ({"vmorch_diff": 2})
 * and `vmorch history --json` ({"vmorch_history": 2}).  The shapes are
 * documented in doc/reports.md and doc/schema/; the version goes up when
 * one changes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reports/report.h"

/* 15 digits: round-trips what people read ("0.1", not "0.10000000000000001"). */
#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* JSON has no NaN or infinity: those become null. */
static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The stored canonical params JSON as an object ({} if it does not parse). */
static json_t *jparams(const char *params)
{
	json_t *v = params ? json_loads(params, 0, NULL) : NULL;

	return v ? v : json_object();
}

static json_t *run_json(const struct run_info *ri)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:I, s:I,"
			 " s:I, s:I}, s:b}",
			 "id", (json_int_t)ri->id,
			 "label", jstr(ri->label),
			 "status", jstr(ri->status),
			 "started_at", jstr(ri->started_at),
			 "ended_at", jstr(ri->ended_at),
			 "host", jstr(ri->host),
			 "vmorch_version", jstr(ri->vmorch_version),
			 "machines", jstr(ri->machines),
			 "jobs",
			 "total", (json_int_t)ri->jobs_total,
			 "passed", (json_int_t)ri->jobs_passed,
			 "failed", (json_int_t)ri->jobs_failed,
			 "stored", (json_int_t)ri->nresults,
			 "incomplete", run_info_incomplete(ri));
}

/* An aggregate; null for the side a row is missing from. */
static json_t *agg_json(const struct agg *a)
{
	json_t *values;

	if (!a->n)
		return json_null();
	values = json_array();
	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(values, jnum(a->values[i]));
	return json_pack("{s:I, s:o, s:o, s:o, s:o}",
			 "n", (json_int_t)a->n,
			 "mean", jnum(a->mean),
			 "median", jnum(a->median),
			 "stddev", jnum(a->stddev),
			 "values", values);
}

static const char *dir_name(enum vmorch_dir d)
{
	return d == VMORCH_DIR_HIGHER ? "higher" :
	       d == VMORCH_DIR_LOWER ? "lower" : "neutral";
}

/* {"shift": .., "low": .., "high": ..} of B - A, or null. */
static json_t *ci_json(const struct diff_row *r)
{
	if (!r->has_ci)
		return json_null();
	return json_pack("{s:o, s:o, s:o}", "shift", jnum(r->hl_shift),
			 "low", jnum(r->ci_low), "high", jnum(r->ci_high));
}

static json_t *diff_row_json(const struct diff_row *r)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o,"
			 " s:o, s:o, s:b, s:o, s:o, s:o}",
			 "verdict", diff_verdict_name(r->verdict),
			 "scenario", r->scenario,
			 "params", jparams(r->params),
			 "params_key", r->params_key,
			 "vm", r->vm,
			 "metric", r->name,
			 "unit", r->unit ? r->unit : "",
			 "direction", dir_name(r->dir),
			 "judged", r->judged,
			 "a", agg_json(&r->a),
			 "b", agg_json(&r->b),
			 "delta", r->a.n && r->b.n ? jnum(r->delta) : json_null(),
			 "delta_pct", r->a.n && r->b.n ? jnum(r->delta_pct) : json_null(),
			 "tested", r->tested,
			 "p_value", r->tested ? jnum(r->p_value) : json_null(),
			 "p_adjusted", jnum(r->p_adjusted),
			 "ci", ci_json(r));
}

static json_t *diff_job_json(const struct diff_job *j)
{
	return json_pack("{s:s, s:b, s:b, s:o, s:s, s:s, s:o, s:s, s:{s:I, s:I},"
			 " s:{s:I, s:I}}",
			 "verdict", diff_verdict_name(j->verdict),
			 "newly_failing", j->newly_failing,
			 "config_changed", j->config_changed,
			 "config_keys", jstr(j->config_keys),
			 "scenario", j->scenario,
			 "vm", j->vm,
			 "params", jparams(j->params),
			 "params_key", j->params_key,
			 "a", "repeats", (json_int_t)j->n_a,
			 "passed", (json_int_t)j->pass_a,
			 "b", "repeats", (json_int_t)j->n_b,
			 "passed", (json_int_t)j->pass_b);
}

static json_t *diff_json(const struct diff *d)
{
	json_t *jobs = json_array(), *rows = json_array();

	for (size_t i = 0; i < d->njobs; i++)
		json_array_append_new(jobs, diff_job_json(&d->jobs[i]));
	for (size_t i = 0; i < d->nrows; i++)
		json_array_append_new(rows, diff_row_json(&d->rows[i]));
	json_t *ab = d->ab_a ? json_pack("{s:s, s:s}", "a", d->ab_a, "b", d->ab_b) :
		     json_null();

	return json_pack("{s:o, s:o, s:o, s:b, s:f, s:f, s:s, s:I, s:b, s:f, s:i, s:b,"
			 " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o}",
			 "a", run_json(&d->a),
			 "b", run_json(&d->b),
			 "ab", ab,
			 "machines_differ", run_info_machines_differ(&d->a, &d->b),
			 "threshold_pct", d->threshold_pct,
			 "alpha", d->alpha,
			 "correction", stats_correction_name(d->correction),
			 "tests_adjusted", (json_int_t)d->family,
			 "metrics_chosen", d->metrics_chosen,
			 "ci_level", 1 - d->alpha,
			 "min_repeats", DIFF_MIN_REPEATS,
			 "small_sample", d->small_sample,
			 "summary",
			 "regressed", (json_int_t)d->regressed,
			 "improved", (json_int_t)d->improved,
			 "new", (json_int_t)d->added,
			 "missing", (json_int_t)d->missing,
			 "reported", (json_int_t)d->reported,
			 "unchanged", (json_int_t)d->unchanged,
			 "missing_jobs", (json_int_t)d->missing_jobs,
			 "newly_failing_jobs", (json_int_t)d->failing_jobs,
			 "config_changed_jobs", (json_int_t)d->config_changed,
			 "jobs", jobs,
			 "rows", rows);
}

static json_t *history_json(const struct history *h)
{
	json_t *pts = json_array();

	for (size_t i = 0; i < h->npoints; i++) {
		const struct history_point *p = &h->points[i];

		json_array_append_new(pts, json_pack("{s:I, s:o, s:s, s:o, s:b, s:o, s:o, s:I}",
				"run_id", (json_int_t)p->run_id,
				"label", jstr(p->label),
				"started_at", p->started_at,
				"value", agg_json(&p->value),
				"config_changed", p->config_keys != NULL,
				"config_keys", jstr(p->config_keys),
				"group", jstr(p->group),
				"runs", (json_int_t)p->nruns));
	}
	return json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:I, s:o}",
			 "scenario", h->scenario,
			 "vm", jstr(h->vm),
			 "params_key", jstr(h->params_key),
			 "metric", h->metric,
			 "unit", h->unit ? h->unit : "",
			 "by", history_by_name(h->by),
			 "runs", (json_int_t)h->nruns,
			 "runs_without_commit", (json_int_t)h->ungrouped,
			 "points", pts);
}

static json_t *counters_json(const struct vblk_snapshot *s)
{
	json_t *o = json_object();

	for (int i = 0; i < VBLK_NR_COUNTERS; i++)
		json_object_set_new(o, vblk_fields[i].name,
				    json_integer((json_int_t)vblk_snapshot_get(s, i)));
	return o;
}

/*
 * Wall time in microseconds, as `show` and the database have it: the
 * struct keeps seconds for the text renderers, and the stored integer
 * comes back exactly (a double holds microseconds to 2^53).
 */
static json_int_t wall_us(double wall_s)
{
	return isfinite(wall_s) && wall_s > 0 ? (json_int_t)llround(wall_s * 1e6) : 0;
}

static json_t *report_job_json(const struct report_job *j)
{
	json_t *failed = json_array();

	for (size_t i = 0; i < j->nfailed; i++)
		json_array_append_new(failed, json_string(j->failed[i]));
	return json_pack("{s:s, s:s, s:o, s:s, s:I, s:s, s:s, s:s, s:I, s:o,"
			 " s:o, s:s}",
			 "scenario", j->scenario,
			 "vm", j->vm,
			 "params", jparams(j->params),
			 "params_key", j->params_key,
			 "repeat", (json_int_t)j->repeat,
			 "verdict", j->pass ? "pass" : "fail",
			 "exit_kind", j->exit_kind,
			 "error", j->error,
			 "wall_us", wall_us(j->wall_s),
			 "counters", counters_json(&j->total),
			 "failed_expectations", failed,
			 "console_tail", j->console_tail);
}

static json_t *report_json(const struct report *r)
{
	json_t *jobs = json_array(), *trends = json_array();

	for (size_t i = 0; i < r->njobs; i++)
		json_array_append_new(jobs, report_job_json(&r->jobs[i]));
	for (size_t i = 0; i < r->nseries; i++)
		json_array_append_new(trends, history_json(r->series[i]));
	return json_pack("{s:i, s:o, s:o, s:o, s:o}",
			 "vmorch_report", REPORT_JSON_VERSION,
			 "run", run_json(&r->run),
			 "jobs", jobs,
			 "diff", r->diff ? diff_json(r->diff) : json_null(),
			 "trends", trends);
}

/* Wrap @body as {"<tag>": version, ...body} and print it. */
static int json_emit(json_t *doc, FILE *f)
{
	int rc;

	if (!doc)
		return -ENOMEM;
	rc = json_dumpf(doc, f, JSON_FLAGS);
	json_decref(doc);
	if (rc)
		return -EIO;
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

static json_t *json_tagged(const char *tag, json_t *body)
{
	json_t *doc;

	if (!body)
		return NULL;
	doc = json_pack("{s:i}", tag, REPORT_JSON_VERSION);
	if (doc && json_object_update(doc, body)) {
		json_decref(doc);
		doc = NULL;
	}
	json_decref(body);
	return doc;
}

int render_json(const struct report *r, FILE *f)
{
	return json_emit(report_json(r), f);
}

int render_diff_json(const struct diff *d, FILE *f)
{
	return json_emit(json_tagged("vmorch_diff", diff_json(d)), f);
}

int render_history_json(const struct history *h, FILE *f)
{
	return json_emit(json_tagged("vmorch_history", history_json(h)), f);
}
