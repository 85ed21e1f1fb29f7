/*
 * jobfile.c - /.vmorch/job.json, the user's program, which the worker
 * appends to the initramfs as a cpio segment of its own.  Parsed with
 * jansson and removed at once, so the program cannot read the nonce that
 * binds the result line to this run.  The format is README.md's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"

static const char *const metrics_from_names[] = {
	[METRICS_LINES] = "lines",
	[METRICS_FIO_JSON] = "fio-json",
	[METRICS_NONE] = "none",
};

static int parse_nonce(struct job *job, json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) != GUEST_NONCE_LEN ||
	    strspn(s, "0123456789abcdef") != GUEST_NONCE_LEN)
		return agent_err(err, errlen, -EINVAL,
				 "job.json: \"nonce\" must be %d lowercase hex digits",
				 GUEST_NONCE_LEN);
	memcpy(job->nonce, s, GUEST_NONCE_LEN + 1);
	return 0;
}

/* @v, the milliseconds of @key: an integer >= 1. */
static int parse_ms(json_t *v, const char *key, uint64_t *ms, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return agent_err(err, errlen, -EINVAL,
				 "job.json: \"%s\" must be an integer >= 1", key);
	*ms = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_time_limit(struct job *job, json_t *v, char *err, size_t errlen)
{
	return parse_ms(v, "time_limit_ms", &job->time_limit_ms, err, errlen);
}

static int parse_deadline(struct job *job, json_t *v, char *err, size_t errlen)
{
	return parse_ms(v, "deadline_unix_ms", &job->deadline_unix_ms, err, errlen);
}

uint64_t job_deadline_ms(const struct job *job, uint64_t now_real, uint64_t now_boot)
{
	uint64_t deadline = job->time_limit_ms;

	if (job->deadline_unix_ms > now_real) {
		uint64_t by_wall = now_boot + (job->deadline_unix_ms - now_real);

		if (!deadline || by_wall < deadline)
			deadline = by_wall;
	}
	return deadline;
}

static int parse_run_array(struct job *job, json_t *v, char *err, size_t errlen)
{
	size_t n = json_array_size(v);

	job->argv = calloc(n + 1, sizeof(*job->argv));
	if (!job->argv)
		return agent_err(err, errlen, -ENOMEM, "job.json: out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i));

		if (!s)
			return agent_err(err, errlen, -EINVAL,
					 "job.json: \"run\"[%zu] is not a string", i);
		if (i == 0 && !s[0])
			return agent_err(err, errlen, -EINVAL,
					 "job.json: \"run\"[0] is empty");
		job->argv[i] = strdup(s);
		if (!job->argv[i])
			return agent_err(err, errlen, -ENOMEM, "job.json: out of memory");
	}
	return 0;
}

/* An argv (run with a PATH search) or one string for /bin/sh -c. */
static int parse_run(struct job *job, json_t *v, char *err, size_t errlen)
{
	if (json_is_array(v) && json_array_size(v) > 0)
		return parse_run_array(job, v, err, errlen);
	if (json_is_string(v) && json_string_length(v) > 0) {
		job->shell = strdup(json_string_value(v));
		return job->shell ? 0 : agent_err(err, errlen, -ENOMEM, "job.json: out of memory");
	}
	return agent_err(err, errlen, -EINVAL,
			 "job.json: \"run\" must be a non-empty array of strings or a non-empty string");
}

static int parse_metrics_from(struct job *job, json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	for (unsigned i = 0; s && i < sizeof(metrics_from_names) / sizeof(*metrics_from_names); i++) {
		if (!strcmp(s, metrics_from_names[i])) {
			job->metrics_from = (enum metrics_from)i;
			return 0;
		}
	}
	return agent_err(err, errlen, -EINVAL,
			 "job.json: \"metrics_from\" must be \"lines\", \"fio-json\" or \"none\"");
}

static int parse_rootfs_disk(struct job *job, json_t *v, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= AGENT_MAX_DISKS)
		return agent_err(err, errlen, -EINVAL, "job.json: \"rootfs_disk\" must be an"
				 " integer 0..%d", AGENT_MAX_DISKS - 1);
	job->rootfs = true;
	job->rootfs_disk = (unsigned)json_integer_value(v);
	return 0;
}

static const struct job_key {
	const char *name;
	int (*parse)(struct job *job, json_t *v, char *err, size_t errlen);
} job_keys[] = {
	{ "nonce", parse_nonce },
	{ "time_limit_ms", parse_time_limit },
	{ "deadline_unix_ms", parse_deadline },
	{ "run", parse_run },
	{ "metrics_from", parse_metrics_from },
	{ "rootfs_disk", parse_rootfs_disk },
};

static const struct job_key *job_key_find(const char *name)
{
	for (unsigned i = 0; i < sizeof(job_keys) / sizeof(*job_keys); i++)
		if (!strcmp(job_keys[i].name, name))
			return &job_keys[i];
	return NULL;
}

void job_release(struct job *job)
{
	run_argv_free(job->argv);
	free(job->shell);
	job->argv = NULL;
	job->shell = NULL;
}

/*
 * On an error job->nonce is kept when it was valid: the failure is then
 * reported on a result line the worker accepts.
 */
int job_parse(struct job *job, const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int rc = 0;

	memset(job, 0, sizeof(*job));
	job->present = true;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return agent_err(err, errlen, -EINVAL, "job.json: %s (line %d)",
				 jerr.text, jerr.line);
	if (!json_is_object(root)) {
		rc = agent_err(err, errlen, -EINVAL, "job.json: not a JSON object");
		goto out;
	}
	v = json_object_get(root, "nonce");
	if (!v) {
		rc = agent_err(err, errlen, -EINVAL, "job.json: no \"nonce\"");
		goto out;
	}
	rc = parse_nonce(job, v, err, errlen);
	json_object_foreach(root, key, v) {
		const struct job_key *k = job_key_find(key);

		if (rc)
			break;
		if (!k)
			rc = agent_err(err, errlen, -EINVAL, "job.json: unknown key \"%.64s\"", key);
		else
			rc = k->parse(job, v, err, errlen);
	}
out:
	json_decref(root);
	if (rc)
		job_release(job);
	return rc;
}

static int read_whole(int fd, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fstat(fd, &st))
		return agent_err_errno(err, errlen, "job.json");
	if (!S_ISREG(st.st_mode))
		return agent_err(err, errlen, -EINVAL, "job.json: not a regular file");
	if ((uint64_t)st.st_size > AGENT_JOB_MAX)
		return agent_err(err, errlen, -EFBIG, "job.json: larger than %u bytes",
				 AGENT_JOB_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return agent_err(err, errlen, -ENOMEM, "job.json: out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n ? -errno : -EIO;

			free(buf);
			return agent_err(err, errlen, rc, "job.json: %s",
					 n ? strerror(-rc) : "shorter than its size");
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	*text = buf;
	*len = got;
	return 0;
}

int job_load(struct job *job, const char *path, const char *dir, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	memset(job, 0, sizeof(*job));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	job->present = true;
	if (fd < 0)
		return agent_err_errno(err, errlen, "job.json");
	rc = read_whole(fd, &text, &len, err, errlen);
	close(fd);
	/* Gone before the program starts, whatever it held; a directory the
	 * worker filled with more than the job may stay. */
	if (unlink(path) && !rc)
		rc = agent_err_errno(err, errlen, "job.json: cannot remove it");
	rmdir(dir);
	if (rc)
		return rc;
	rc = job_parse(job, text, len, err, errlen);
	explicit_bzero(text, len);
	free(text);
	return rc;
}
