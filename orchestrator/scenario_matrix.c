/*
 * scenario_matrix.c - a scenario's matrix: its keys and values checked,
 * "${key}" references resolved (the ytree_doc hook the getters call, so a
 * message about a matrix value points where the value was written), each
 * VM's combinations of the keys it uses counted and bound, and the whole
 * scenario expanded into jobs: VMs as written, then combinations (last key
 * varying fastest), then repeats.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/scenario.h"
#include "orchestrator/scenario_priv.h"

#define COMBOS_CAP		((size_t)1 << 40)	/* counting stops here */

/* ---- references ---- */

/* "${key}" exactly: the key's text and length. */
static bool matrix_ref_parse(const char *t, const char **key, size_t *klen)
{
	size_t n = strlen(t), i;

	if (n < 4 || strncmp(t, "${", 2) != 0 || t[n - 1] != '}')
		return false;
	for (i = 2; i < n - 1; i++)
		if (!(t[i] == '_' || (t[i] >= '0' && t[i] <= '9') ||
		      (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
			return false;
	*key = t + 2;
	*klen = n - 3;
	return true;
}

static int matrix_key_find(const struct scenario *s, const char *key, size_t klen)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const char *k = ytree_map_key(s->matrix, i)->text;

		if (strlen(k) == klen && strncmp(k, key, klen) == 0)
			return (int)i;
	}
	return -1;
}

static void matrix_key_list(const struct scenario *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < s->nkeys && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? ", " : "", ytree_map_key(s->matrix, i)->text);
}

/* The node @n stands for in this job: itself, or the matrix value "${k}" names. */
static int matrix_resolve(void *arg, const struct ytree_node *n,
			  const struct ytree_node **out)
{
	struct ctx *c = arg;
	char keys[256];
	const char *key;
	size_t klen;
	int i;

	*out = n;
	if (n->kind != YTREE_SCALAR || !strstr(n->text, "${"))
		return 0;
	if (!matrix_ref_parse(n->text, &key, &klen))
		return fail_at(c, n, "bad matrix reference '%s' (expected a whole value like ${bs})",
			       n->text);
	i = matrix_key_find(c->s, key, klen);
	if (i < 0) {
		if (!c->s->nkeys)
			return fail_at(c, n, "unknown matrix key '%.*s' (the scenario has no matrix)",
				       (int)klen, key);
		matrix_key_list(c->s, keys, sizeof(keys));
		return fail_at(c, n, "unknown matrix key '%.*s' (expected one of: %s)",
			       (int)klen, key, keys);
	}
	if (!c->mval[i])
		return fail_at(c, n, "internal error: matrix key '%.*s' not bound",
			       (int)klen, key);
	*out = c->mval[i];
	return 0;
}

int matrix_resolve_known(struct ctx *c, const struct ytree_node *n,
			 const struct ytree_node **out)
{
	const char *key;
	size_t klen;

	*out = n;
	if (!matrix_ref_parse(n->text, &key, &klen) ||
	    matrix_key_find(c->s, key, klen) < 0)
		return 0;
	return matrix_resolve(c, n, out);
}

void matrix_ctx_init(struct ctx *c, const struct scenario *s, struct verr *e)
{
	memset(c, 0, sizeof(*c));
	c->doc.path = s->path;
	c->doc.e = e;
	c->doc.subst = matrix_resolve;
	c->doc.arg = c;
	c->s = s;
}

/* ---- combinations ---- */

static void walk_used(const struct scenario *s, const struct ytree_node *n, bool *used)
{
	const char *key;
	size_t klen;
	int i;

	if (n->kind == YTREE_SCALAR) {
		if (matrix_ref_parse(n->text, &key, &klen) &&
		    (i = matrix_key_find(s, key, klen)) >= 0)
			used[i] = true;
		return;
	}
	for (size_t k = n->kind == YTREE_MAP ? 1 : 0; k < n->n;
	     k += n->kind == YTREE_MAP ? 2 : 1)
		walk_used(s, n->kid[k], used);
}

/* Matrix keys @vm refers to (directly or through defaults). */
static void vm_used_keys(const struct scenario *s, const struct ytree_node *vm,
			 bool *used)
{
	memset(used, 0, JOB_MAX_PARAMS * sizeof(*used));
	for (size_t i = 1; scenario_vm_keys[i]; i++) {
		const struct ytree_node *v = scenario_vm_get(s, vm, scenario_vm_keys[i]);

		if (v)
			walk_used(s, v, used);
	}
}

/* Combinations of @used keys, saturating at COMBOS_CAP. */
static size_t vm_ncombos(const struct scenario *s, const bool *used)
{
	size_t n = 1;

	for (size_t i = 0; i < s->nkeys; i++) {
		if (!used[i])
			continue;
		n *= ytree_map_val(s->matrix, i)->n;	/* <= 10000 each: no overflow */
		if (n > COMBOS_CAP)
			return COMBOS_CAP;
	}
	return n;
}

/* Bind combination @ci: the last used key varies fastest. */
static void ctx_bind(struct ctx *c, const bool *used, size_t ci)
{
	for (size_t i = c->s->nkeys; i-- > 0;) {
		const struct ytree_node *vals;

		c->mval[i] = NULL;
		if (!used[i])
			continue;
		vals = ytree_map_val(c->s->matrix, i);
		c->mval[i] = vals->kid[ci % vals->n];
		ci /= vals->n;
	}
}

/* ---- checking the matrix ---- */

static bool matrix_value_ok(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (*t < 0x21 || *t > 0x7e || strchr(",[]=#${}", *t))
			return false;
	return true;
}

static int check_matrix_values(struct ctx *c, const struct ytree_node *k,
			       const struct ytree_node *v)
{
	const struct ytree_node *dup, *first;
	int r;

	if (v->kind != YTREE_SEQ)
		return fail_at(c, v, "matrix key '%s' must have a list of values, not %s",
			       k->text, ytree_kind_name(v));
	if (!v->n)
		return fail_at(c, v, "matrix key '%s' has no values (expected a non-empty list)",
			       k->text);
	if (v->n > SCENARIO_JOBS_MAX)
		return fail_at(c, v, "matrix key '%s' has %zu values (at most %d)",
			       k->text, v->n, SCENARIO_JOBS_MAX);
	for (size_t i = 0; i < v->n; i++) {
		const struct ytree_node *x = v->kid[i];

		if (x->kind != YTREE_SCALAR)
			return fail_at(c, x, "matrix values must be single values, not %s",
				       ytree_kind_name(x));
		if (strlen(x->text) > JOB_PARAM_VALUE_MAX)
			return fail_at(c, x, "matrix value too long (at most %d characters)",
				       JOB_PARAM_VALUE_MAX);
		if (!matrix_value_ok(x->text))
			return fail_at(c, x, "bad matrix value '%s' (expected printable ASCII without spaces or any of , [ ] = # $ { })",
				       x->text);
	}
	r = ytree_find_dup((const struct ytree_node *const *)v->kid, v->n, &dup, &first);
	if (r > 0)
		return fail_at(c, dup, "duplicate matrix value '%s' (first at %u:%u)",
			       dup->text, first->line, first->col);
	return r;
}

int matrix_check(struct ctx *c, struct scenario *s)
{
	const char *key;
	size_t klen;
	int r;

	r = ytree_get_map(&c->doc, s->matrix, "matrix");
	if (r)
		return r;
	if (!ytree_map_len(s->matrix))
		return fail_at(c, s->matrix, "'matrix' must not be empty");
	if (ytree_map_len(s->matrix) > JOB_MAX_PARAMS)
		return fail_at(c, ytree_map_key(s->matrix, JOB_MAX_PARAMS),
			       "too many matrix keys (%zu, at most %d)",
			       ytree_map_len(s->matrix), JOB_MAX_PARAMS);
	for (size_t i = 0; i < ytree_map_len(s->matrix); i++) {
		const struct ytree_node *k = ytree_map_key(s->matrix, i);
		char ref[JOB_PARAM_KEY_MAX + 8];

		snprintf(ref, sizeof(ref), "${%.*s}", JOB_PARAM_KEY_MAX, k->text);
		if (strlen(k->text) > JOB_PARAM_KEY_MAX || !matrix_ref_parse(ref, &key, &klen))
			return fail_at(c, k, "bad matrix key '%s' (expected letters, digits and '_', at most %d)",
				       k->text, JOB_PARAM_KEY_MAX);
		r = check_matrix_values(c, k, ytree_map_val(s->matrix, i));
		if (r)
			return r;
	}
	s->nkeys = ytree_map_len(s->matrix);
	return 0;
}

/* Every VM for every combination, once: the file is valid iff this passes. */
int matrix_check_jobs(struct ctx *c, struct scenario *s)
{
	bool used[JOB_MAX_PARAMS], any[JOB_MAX_PARAMS] = { false };
	struct job_desc *j;
	size_t combos = 0, total = 0;
	unsigned nrep;
	int r = 0;

	/* Each combination is at least one job: refuse a blow-up before building. */
	for (size_t v = 0; v < s->vms->n && combos <= SCENARIO_JOBS_MAX; v++) {
		vm_used_keys(s, s->vms->kid[v], used);
		combos += vm_ncombos(s, used);
	}
	if (combos > SCENARIO_JOBS_MAX)
		return fail_at(c, s->vms_key, "scenario expands to at least %zu jobs (at most %d)",
			       combos, SCENARIO_JOBS_MAX);
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	for (size_t v = 0; v < s->vms->n && !r; v++) {
		const struct ytree_node *vm = s->vms->kid[v];

		vm_used_keys(s, vm, used);
		for (size_t i = 0; i < s->nkeys; i++)
			any[i] |= used[i];
		for (size_t ci = 0; ci < vm_ncombos(s, used) && !r; ci++) {
			ctx_bind(c, used, ci);
			r = scenario_vm_build(c, vm, 0, j, &nrep);
			if (!r) {
				job_spec_free(&j->spec);
				total += nrep;
			}
		}
	}
	free(j);
	if (r)
		return r;
	for (size_t i = 0; i < s->nkeys; i++)
		if (!any[i])
			return fail_at(c, ytree_map_key(s->matrix, i),
				       "matrix key '%s' is not used (expected ${%s} in a vm or in defaults)",
				       ytree_map_key(s->matrix, i)->text,
				       ytree_map_key(s->matrix, i)->text);
	if (total > SCENARIO_JOBS_MAX)
		return fail_at(c, s->vms_key, "scenario expands to %zu jobs (at most %d)",
			       total, SCENARIO_JOBS_MAX);
	s->njobs = total;
	return 0;
}

/* ---- expansion into jobs ---- */

static int expand_vm(struct ctx *c, const struct ytree_node *vm, struct job_desc *jobs,
		     size_t cap, size_t *k)
{
	bool used[JOB_MAX_PARAMS];
	unsigned nrep;
	int r;

	vm_used_keys(c->s, vm, used);
	for (size_t ci = 0; ci < vm_ncombos(c->s, used); ci++) {
		ctx_bind(c, used, ci);
		for (unsigned rep = 0, n = 1; rep < n; rep++) {
			if (*k >= cap) {
				verr_set(c->doc.e, "%s: internal error: more jobs than counted",
					 c->s->path);
				return -EINVAL;
			}
			r = scenario_vm_build(c, vm, rep, &jobs[*k], &nrep);
			if (r)
				return r;
			(*k)++;
			n = nrep;
		}
	}
	return 0;
}

int scenario_expand(const struct scenario *s, struct job_desc **jobs,
		    size_t *njobs, struct verr *e)
{
	struct job_desc *arr;
	struct ctx c;
	size_t k = 0;
	int r = 0;

	matrix_ctx_init(&c, s, e);
	*jobs = NULL;
	*njobs = 0;
	arr = calloc(s->njobs ? s->njobs : 1, sizeof(*arr));
	if (!arr) {
		verr_set(e, "%s: out of memory", s->path);
		return -ENOMEM;
	}
	for (size_t v = 0; v < s->vms->n && !r; v++)
		r = expand_vm(&c, s->vms->kid[v], arr, s->njobs, &k);
	if (r) {
		job_descs_free(arr, k);
		return r;
	}
	*jobs = arr;
	*njobs = k;
	return 0;
}

void job_descs_free(struct job_desc *jobs, size_t n)
{
	if (!jobs)
		return;
	for (size_t i = 0; i < n; i++) {
		job_spec_free(&jobs[i].spec);
		free(jobs[i].config);
	}
	free(jobs);
}
