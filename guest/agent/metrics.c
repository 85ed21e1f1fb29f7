/*
 * metrics.c - the figures of the user's program, from its captured
 * stdout: VMORCH-METRIC lines, or fio's JSON report, turned into flat
 * metrics of the result line.  Pure functions over a buffer (tested on
 * the host by tests/test_agent_run.c); main.c prints what they find.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent.h"

/* Distinct names remembered past the cap, only to say how many came. */
#define METRICS_DISTINCT_MAX	65536
#define METRIC_PREFIX		"VMORCH-METRIC "
#define FIO_JOB_NAME_MAX	32	/* fio.<job>.write.clat_p99_9_us fits in 63 */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot holding NAME, or the empty slot where it would go. */
static unsigned *metrics_slot(const struct metrics *m, const char *name)
{
	unsigned i = name_hash(name) & (m->nslot - 1);

	while (m->slot[i] && strcmp(m->v[m->slot[i] - 1].name, name))
		i = (i + 1) & (m->nslot - 1);
	return &m->slot[i];
}

/* Double the room; the index stays at most half full. */
static int metrics_grow(struct metrics *m)
{
	unsigned cap = m->cap ? m->cap * 2 : 16;
	struct metric *v = realloc(m->v, cap * sizeof(*v));
	unsigned *slot;

	if (!v)
		return -ENOMEM;
	m->v = v;
	slot = calloc(cap * 2, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(m->slot);
	m->slot = slot;
	m->nslot = cap * 2;
	m->cap = cap;
	for (unsigned i = 0; i < m->n; i++)
		*metrics_slot(m, m->v[i].name) = i + 1;
	return 0;
}

/* A name set again keeps its place and takes the new value. */
int metrics_set(struct metrics *m, const char *name, double value)
{
	unsigned *slot;
	int rc;

	if (strlen(name) > AGENT_METRIC_NAME_MAX)
		return -ENAMETOOLONG;
	if (m->nslot) {
		slot = metrics_slot(m, name);
		if (*slot) {
			m->v[*slot - 1].value = value;
			return 0;
		}
	}
	if (m->n == m->cap) {
		if (m->n >= METRICS_DISTINCT_MAX)
			return -E2BIG;
		rc = metrics_grow(m);
		if (rc)
			return rc;
	}
	slot = metrics_slot(m, name);
	strcpy(m->v[m->n].name, name);
	m->v[m->n].value = value;
	*slot = ++m->n;
	return 0;
}

const struct metric *metrics_find(const struct metrics *m, const char *name)
{
	unsigned *slot;

	if (!m->nslot)
		return NULL;
	slot = metrics_slot(m, name);
	return *slot ? &m->v[*slot - 1] : NULL;
}

void metrics_release(struct metrics *m)
{
	free(m->v);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* user.[a-z0-9_.]+, at most AGENT_METRIC_NAME_MAX in all. */
static bool user_name_ok(const char *s, size_t len)
{
	if (len <= 5 || memcmp(s, "user.", 5))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* The next blank-separated token of [*p, end). */
static size_t next_token(const char **p, const char *end)
{
	const char *s;

	while (*p < end && is_blank(**p))
		(*p)++;
	for (s = *p; s < end && !is_blank(*s); s++)
		;
	return (size_t)(s - *p);
}

/* "<name> <value>", the text after "VMORCH-METRIC ", trailing blanks gone. */
static int parse_metric(struct metrics *m, const char *p, const char *end, unsigned lineno,
			char *err, size_t errlen)
{
	char name[AGENT_METRIC_NAME_MAX + 1], num[64], *numend;
	const char *np, *vp;
	size_t nlen, vlen;
	bool ok = false;
	double v = 0;
	int rc;

	nlen = next_token(&p, end);
	np = p;
	p += nlen;
	vlen = next_token(&p, end);
	vp = p;
	p += vlen;
	if (!nlen || !vlen || next_token(&p, end))
		return agent_err(err, errlen, -EINVAL,
				 "run: stdout line %u: want VMORCH-METRIC <name> <value>", lineno);
	if (nlen > AGENT_METRIC_NAME_MAX)
		return agent_err(err, errlen, -EINVAL,
				 "run: stdout line %u: metric name \"%.63s...\": longer than %u characters",
				 lineno, np, AGENT_METRIC_NAME_MAX);
	if (!user_name_ok(np, nlen))
		return agent_err(err, errlen, -EINVAL,
				 "run: stdout line %u: metric name \"%.*s\": not [a-z0-9_.], starting user.",
				 lineno, (int)nlen, np);
	memcpy(name, np, nlen);
	name[nlen] = 0;
	if (vlen < sizeof(num)) {
		memcpy(num, vp, vlen);
		num[vlen] = 0;
		v = strtod(num, &numend);
		ok = numend == num + vlen && isfinite(v);
	}
	if (!ok)
		return agent_err(err, errlen, -EINVAL,
				 "run: stdout line %u: metric %s: value \"%.*s\" is not a finite number",
				 lineno, name, vlen < 64 ? (int)vlen : 64, vp);
	rc = metrics_set(m, name, v);
	if (rc == -E2BIG)
		return agent_err(err, errlen, rc,
				 "run: more than %u metrics from the program; at most %u",
				 METRICS_DISTINCT_MAX, AGENT_MAX_USER_METRICS);
	return rc ? agent_err(err, errlen, rc, "run: metrics: %s", strerror(-rc)) : 0;
}

/*
 * Every line of the form "VMORCH-METRIC <name> <value>" (blanks around it
 * and a \r allowed).  A cut capture ends inside a line: that one is not
 * looked at.
 */
int metrics_from_lines(struct metrics *m, const char *buf, size_t len, bool cut,
		       char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	const size_t plen = strlen(METRIC_PREFIX);
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		int rc;

		lineno++;
		if (!nl && cut)
			break;
		while (p < eol && is_blank(*p))
			p++;
		if ((size_t)(eol - p) >= plen && !memcmp(p, METRIC_PREFIX, plen)) {
			const char *e = eol;

			if (e > p && e[-1] == '\r')
				e--;
			while (e > p && is_blank(e[-1]))
				e--;
			rc = parse_metric(m, p + plen, e, lineno, err, errlen);
			if (rc)
				return rc;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

struct fio_field {
	const char *name;
	const char *path[3];	/* keys from the direction's object */
	double divisor;
	bool optional;
};

static const struct fio_field fio_fields[] = {
	{ "iops",		{ "iops" },				1, false },
	{ "bw_bytes",		{ "bw_bytes" },				1, false },
	{ "io_bytes",		{ "io_bytes" },				1, false },
	{ "total_ios",		{ "total_ios" },			1, false },
	{ "runtime_ms",		{ "runtime" },				1, false },
	{ "clat_mean_us",	{ "clat_ns", "mean" },			1000, false },
	{ "clat_p50_us",	{ "clat_ns", "percentile", "50.000000" }, 1000, true },
	{ "clat_p99_us",	{ "clat_ns", "percentile", "99.000000" }, 1000, true },
	{ "clat_p99_9_us",	{ "clat_ns", "percentile", "99.900000" }, 1000, true },
	{ "lat_mean_us",	{ "lat_ns", "mean" },			1000, false },
};

static json_t *json_path(json_t *obj, const char *const path[3])
{
	for (unsigned i = 0; i < 3 && path[i] && obj; i++)
		obj = json_object_get(obj, path[i]);
	return obj;
}

/* jobname lower-cased, [^a-z0-9_] -> _, at most FIO_JOB_NAME_MAX. */
static void fio_base_name(const char *jobname, char *out)
{
	size_t i;

	for (i = 0; jobname[i] && i < FIO_JOB_NAME_MAX; i++) {
		char c = jobname[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
	}
	if (!i)
		out[i++] = '_';
	out[i] = 0;
}

/* Job j's name: its base, or base_1, base_2 ... when taken by jobs before it. */
static void fio_job_name(char (*names)[FIO_JOB_NAME_MAX + 1], size_t j)
{
	char base[FIO_JOB_NAME_MAX + 1];
	unsigned k = 0;
	bool taken;

	memcpy(base, names[j], sizeof(base));
	do {
		if (k) {
			char sfx[16];
			int slen = snprintf(sfx, sizeof(sfx), "_%u", k);

			snprintf(names[j], FIO_JOB_NAME_MAX + 1, "%.*s%s",
				 FIO_JOB_NAME_MAX - slen, base, sfx);
		}
		taken = false;
		for (size_t i = 0; i < j && !taken; i++)
			taken = !strcmp(names[i], names[j]);
		k++;
	} while (taken);
}

static int fio_direction(struct metrics *m, json_t *dir, const char *job, const char *dname,
			 size_t j, char *err, size_t errlen)
{
	json_t *ios = json_object_get(dir, "total_ios");

	if (!json_is_number(ios) || json_number_value(ios) <= 0)
		return 0;
	for (unsigned i = 0; i < sizeof(fio_fields) / sizeof(*fio_fields); i++) {
		const struct fio_field *f = &fio_fields[i];
		json_t *v = json_path(dir, f->path);
		char name[AGENT_METRIC_NAME_MAX + 1];
		int rc;

		if (!json_is_number(v)) {
			if (f->optional)
				continue;
			return agent_err(err, errlen, -EINVAL,
					 "run: fio-json: jobs[%zu] %s: no number at %s%s%s", j,
					 dname, f->path[0], f->path[1] ? "." : "",
					 f->path[1] ? f->path[1] : "");
		}
		snprintf(name, sizeof(name), "fio.%s.%s.%s", job, dname, f->name);
		rc = metrics_set(m, name, json_number_value(v) / f->divisor);
		if (rc)
			return agent_err(err, errlen, rc, "run: fio-json: %s", strerror(-rc));
	}
	return 0;
}

static int fio_jobs(struct metrics *m, json_t *jobs, char *err, size_t errlen)
{
	static const char *const dirs[] = { "read", "write" };
	size_t njobs = json_array_size(jobs);
	char (*names)[FIO_JOB_NAME_MAX + 1] = calloc(njobs + 1, sizeof(*names));
	int rc = 0;

	if (!names)
		return agent_err(err, errlen, -ENOMEM, "run: fio-json: out of memory");
	for (size_t j = 0; !rc && j < njobs; j++) {
		json_t *job = json_array_get(jobs, j);
		const char *jobname = json_string_value(json_object_get(job, "jobname"));

		if (!jobname) {
			rc = agent_err(err, errlen, -EINVAL,
				       "run: fio-json: jobs[%zu] has no \"jobname\"", j);
			break;
		}
		fio_base_name(jobname, names[j]);
		fio_job_name(names, j);
		for (unsigned d = 0; !rc && d < 2; d++)
			rc = fio_direction(m, json_object_get(job, dirs[d]), names[j], dirs[d],
					   j, err, errlen);
	}
	free(names);
	return rc;
}

/* fio --output-format=json; text before the document (fio's notes) is skipped. */
int metrics_from_fio_json(struct metrics *m, const char *buf, size_t len, bool cut,
			  char *err, size_t errlen)
{
	const char *start = memchr(buf, '{', len);
	json_error_t jerr;
	json_t *root, *jobs;
	int rc;

	if (cut)
		return agent_err(err, errlen, -EFBIG, "run: output longer than %zu MiB",
				 AGENT_CAPTURE_MAX >> 20);
	if (!start)
		return agent_err(err, errlen, -EINVAL, "run: fio-json: no JSON object in the output");
	root = json_loadb(start, len - (size_t)(start - buf), JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return agent_err(err, errlen, -EINVAL, "run: fio-json: %s (line %d of the document)",
				 jerr.text, jerr.line);
	jobs = json_object_get(root, "jobs");
	if (json_is_array(jobs))
		rc = fio_jobs(m, jobs, err, errlen);
	else
		rc = agent_err(err, errlen, -EINVAL, "run: fio-json: no \"jobs\" array");
	json_decref(root);
	return rc;
}

int metrics_extract(struct metrics *m, enum metrics_from how, const char *buf,
		    size_t len, bool cut, char *err, size_t errlen)
{
	int rc = 0;

	if (!buf) {		/* the program printed nothing */
		buf = "";
		len = 0;
	}
	if (how == METRICS_LINES)
		rc = metrics_from_lines(m, buf, len, cut, err, errlen);
	else if (how == METRICS_FIO_JSON)
		rc = metrics_from_fio_json(m, buf, len, cut, err, errlen);
	if (!rc && m->n > AGENT_MAX_USER_METRICS)
		rc = agent_err(err, errlen, -E2BIG, "run: %u metrics from the program; at most %u",
			       m->n, AGENT_MAX_USER_METRICS);
	if (rc)
		metrics_release(m);
	return rc;
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void print_number(FILE *f, double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
}

void metrics_print_json(FILE *f, const struct metrics *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		fprintf(f, ",\"%s\":", m->v[i].name);
		print_number(f, m->v[i].value);
	}
}
