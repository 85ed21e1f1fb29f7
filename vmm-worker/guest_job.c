/*
 * guest_job.c - the job file a Linux guest's agent reads (see guest_job.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "vmm-worker/cpio.h"
#include "vmm-worker/guest_job.h"

uint64_t guest_job_time_limit_ms(const struct job_spec *job)
{
	uint64_t margin = job->timeout_ms / 10;

	if (margin < GUEST_JOB_MARGIN_MIN_MS)
		margin = GUEST_JOB_MARGIN_MIN_MS;
	if (margin > GUEST_JOB_MARGIN_MAX_MS)
		margin = GUEST_JOB_MARGIN_MAX_MS;
	if (job->timeout_ms > margin)
		return job->timeout_ms - margin;
	return job->timeout_ms / 2 ? job->timeout_ms / 2 : 1;
}

static int nonce_make(char out[GUEST_NONCE_LEN + 1], struct verr *e)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[GUEST_NONCE_LEN / 2];
	size_t n = 0;

	while (n < sizeof(raw)) {
		ssize_t r = getrandom(raw + n, sizeof(raw) - n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return verr_errno(e, "getrandom");
		n += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[GUEST_NONCE_LEN] = 0;
	return 0;
}

/* The job file's JSON: the nonce always; the program, its figures' source
 * and its time limit when the guest runs one. */
static json_t *guest_job_json(const struct job_spec *job, const char *nonce)
{
	const struct job_guest *g = &job->guest;
	json_t *o = json_pack("{s:s}", "nonce", nonce);
	uint64_t limit_ms, now_ms;
	struct timespec now;

	if (!o || !job_guest_has_run(g))
		return o;
	limit_ms = guest_job_time_limit_ms(job);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (job_guest_run_to_json(o, g) ||
	    (g->rootfs &&
	     json_object_set_new(o, "rootfs_disk", json_integer((json_int_t)job->ndisks))) ||
	    json_object_set_new(o, "time_limit_ms", json_integer((json_int_t)limit_ms)) ||
	    json_object_set_new(o, "deadline_unix_ms", json_integer((json_int_t)(now_ms + limit_ms)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int guest_job_build(struct guest_job *gj, const struct job_spec *job, struct verr *e)
{
	struct cpio c;
	json_t *o;
	char *text;
	int rc;

	memset(gj, 0, sizeof(*gj));
	rc = nonce_make(gj->nonce, e);
	if (rc)
		return rc;
	o = guest_job_json(job, gj->nonce);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text) {
		verr_set(e, "guest job file: out of memory");
		return -ENOMEM;
	}
	cpio_init(&c);
	cpio_add_dir(&c, GUEST_JOB_DIR + 1, 0700);
	cpio_add_file(&c, GUEST_JOB_FILE + 1, 0400, text, strlen(text));
	free(text);
	rc = cpio_finish(&c);
	if (rc) {
		cpio_free(&c);
		errno = -rc;
		return verr_errno(e, "guest job archive");
	}
	gj->cpio = c.buf;
	gj->cpio_len = c.len;
	return 0;
}

void guest_job_free(struct guest_job *gj)
{
	free(gj->cpio);
	gj->cpio = NULL;
	gj->cpio_len = 0;
}
