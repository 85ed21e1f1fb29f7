/*
 * remote_proto.c - encoding and strict decoding of a remote worker's
 * frames, and the line splitter (see remote_proto.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "remote_proto.h"
#include "vblk_json.h"

static const char *const state_names[SHM_STATE_NR] = {
	[SHM_STATE_STARTING] = "starting",
	[SHM_STATE_BOOTING] = "booting",
	[SHM_STATE_RUNNING] = "running",
	[SHM_STATE_EXITED] = "exited",
};

static const char *const vcpu_exit_names[] = {
#define REMOTE_X_NAME(n) #n,
	SHM_VCPU_EXITS(REMOTE_X_NAME)
#undef REMOTE_X_NAME
	NULL
};

#define REMOTE_NR_EXITS (sizeof(vcpu_exit_names) / sizeof(vcpu_exit_names[0]) - 1)

const char *remote_state_name(enum shm_state s)
{
	return (unsigned)s < SHM_STATE_NR ? state_names[s] : NULL;
}

static int remote_state_parse(const char *name)
{
	for (int i = 0; i < SHM_STATE_NR; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

/* The fields of struct remote_vcpu_exits, in SHM_VCPU_EXITS order. */
static uint64_t *vcpu_exit_at(struct remote_vcpu_exits *x, size_t i)
{
	return (uint64_t *)x + i;
}

/* ---- reading the host's figures ---- */

int remote_sched_parse(const char *schedstat, const char *stat,
		       struct remote_sched *out)
{
	unsigned long long cpu, wait;
	const char *rp;
	char *end;

	errno = 0;
	cpu = strtoull(schedstat, &end, 10);
	if (errno || end == schedstat || *end != ' ')
		return -EINVAL;
	schedstat = end + 1;
	wait = strtoull(schedstat, &end, 10);
	if (errno || end == schedstat || (*end != ' ' && *end != '\n' && *end))
		return -EINVAL;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	rp = strrchr(stat, ')');
	if (!rp || rp[1] != ' ' || !rp[2])
		return -EINVAL;
	out->cpu_ns = cpu;
	out->wait_ns = wait;
	out->runnable = rp[2] == 'R';
	return 0;
}

void remote_snapshot_from_region(const struct shm_region *r, uint64_t now_ns,
				 const struct remote_sched *sched,
				 struct remote_snapshot *out)
{
	uint64_t hb = atomic_load_explicit(&r->heartbeat_ns, memory_order_relaxed);
	uint32_t nd = atomic_load_explicit(&r->ndisks, memory_order_relaxed);
	uint32_t nv = atomic_load_explicit(&r->nvcpus, memory_order_relaxed);

	memset(out, 0, sizeof(*out));
	out->state = shm_get_state(r);
	out->heartbeat_age_ms = hb && now_ns > hb ? (now_ns - hb) / 1000000ULL : 0;
	out->sched = *sched;
	out->ndisks = nd < SHM_MAX_DISKS ? nd : SHM_MAX_DISKS;
	for (uint32_t i = 0; i < out->ndisks; i++)
		shm_snapshot_disk(r, i, &out->disk[i]);
	out->nvcpus = nv < SHM_MAX_VCPUS ? nv : SHM_MAX_VCPUS;
	for (uint32_t i = 0; i < out->nvcpus; i++) {
#define REMOTE_X_COPY(n) out->vcpu[i].n = atomic_load_explicit(&r->vcpu[i].n, \
							 memory_order_relaxed);
		SHM_VCPU_EXITS(REMOTE_X_COPY)
#undef REMOTE_X_COPY
	}
}

/* ---- encoding ---- */

/* @o (consumed) as one compact line with its '\n'; keys in insertion order. */
static char *frame_dump(json_t *o, size_t *len)
{
	char *s, *line;
	size_t n;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = 0;
	*len = n + 1;
	return line;
}

char *remote_hello_encode(uint32_t pid, size_t *len)
{
	json_t *o = json_object();

	if (!o || jset_u64(o, "vmorch-remote", REMOTE_PROTO_VERSION) ||
	    jset_u64(o, "pid", pid)) {
		json_decref(o);
		return NULL;
	}
	return frame_dump(o, len);
}

static json_t *sched_to_json(const struct remote_sched *s)
{
	json_t *o = json_object();

	if (!o || jset_u64(o, "cpu_ns", s->cpu_ns) || jset_u64(o, "wait_ns", s->wait_ns) ||
	    json_object_set_new(o, "runnable", json_boolean(s->runnable))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *vcpu_to_json(const struct remote_vcpu_exits *x)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (size_t i = 0; i < REMOTE_NR_EXITS; i++) {
		if (jset_u64(o, vcpu_exit_names[i],
			     *vcpu_exit_at((struct remote_vcpu_exits *)x, i))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* jansson's *_set_new and *_append_new take the value even when they fail. */
static json_t *snapshot_to_json(const struct remote_snapshot *s)
{
	const char *state = remote_state_name(s->state);
	json_t *o = json_object(), *disks = json_array(), *vcpus = json_array();

	if (!o || !state || s->ndisks > SHM_MAX_DISKS || s->nvcpus > SHM_MAX_VCPUS ||
	    json_object_set_new(o, "state", json_string(state)) ||
	    jset_u64(o, "heartbeat_age_ms", s->heartbeat_age_ms) ||
	    json_object_set_new(o, "sched", sched_to_json(&s->sched)))
		goto fail;
	/* From here @o owns both arrays. */
	if (json_object_set_new(o, "disks", disks)) {
		disks = NULL;
		goto fail;
	}
	disks = NULL;
	if (json_object_set_new(o, "vcpus", vcpus)) {
		vcpus = NULL;
		goto fail;
	}
	vcpus = NULL;
	for (uint32_t i = 0; i < s->ndisks; i++)
		if (json_array_append_new(json_object_get(o, "disks"),
					  vblk_snapshot_to_json(&s->disk[i])))
			goto fail;
	for (uint32_t i = 0; i < s->nvcpus; i++)
		if (json_array_append_new(json_object_get(o, "vcpus"),
					  vcpu_to_json(&s->vcpu[i])))
			goto fail;
	return o;
fail:
	json_decref(disks);
	json_decref(vcpus);
	json_decref(o);
	return NULL;
}

char *remote_snapshot_encode(const struct remote_snapshot *s, size_t *len)
{
	json_t *o = json_object(), *snap = snapshot_to_json(s);

	if (!o || !snap || json_object_set_new(o, "snapshot", snap)) {
		if (o)
			json_decref(o);
		else
			json_decref(snap);
		return NULL;
	}
	return frame_dump(o, len);
}

/* The VmResult's text exactly as the shm slot holds it (vm_result_encode). */
char *remote_result_encode(const struct vm_result *r, size_t *len)
{
	static const char head[] = "{\"result\":", tail[] = "}\n";
	char *json = vm_result_encode(r), *line;
	size_t n;

	if (!json)
		return NULL;
	n = strlen(json);
	line = malloc(sizeof(head) - 1 + n + sizeof(tail));
	if (line) {
		memcpy(line, head, sizeof(head) - 1);
		memcpy(line + sizeof(head) - 1, json, n);
		memcpy(line + sizeof(head) - 1 + n, tail, sizeof(tail));
		*len = sizeof(head) - 1 + n + sizeof(tail) - 1;
	}
	free(json);
	return line;
}

/* ---- decoding ---- */

static const char *const hello_keys[] = { "vmorch-remote", "pid", NULL };
static const char *const snapshot_frame_keys[] = { "snapshot", NULL };
static const char *const result_frame_keys[] = { "result", NULL };
static const char *const snapshot_keys[] = {
	"state", "heartbeat_age_ms", "sched", "disks", "vcpus", NULL
};
static const char *const sched_keys[] = { "cpu_ns", "wait_ns", "runnable", NULL };

static int hello_from_json(const json_t *root, struct remote_frame *out, struct verr *e)
{
	uint64_t version, pid;
	int rc;

	if ((rc = jstrict_keys(root, "hello", hello_keys, e)) ||
	    (rc = jstrict_u64(root, "hello", "vmorch-remote", &version, e)))
		return rc;
	if (version != REMOTE_PROTO_VERSION) {
		verr_set(e, "hello: protocol version %" PRIu64 ", this vmorch speaks %d "
			 "(a worker from another vmorch staged on the host?)", version,
			 REMOTE_PROTO_VERSION);
		return -EPROTO;
	}
	rc = jstrict_u64_range(root, "hello", "pid", 1, INT32_MAX, &pid, e);
	if (rc)
		return rc;
	out->type = REMOTE_FRAME_HELLO;
	out->pid = (uint32_t)pid;
	return 0;
}

static int sched_from_json(const json_t *o, struct remote_sched *s, struct verr *e)
{
	const char *what = "snapshot.sched";
	int rc;

	if (!o) {
		verr_set(e, "snapshot: missing field 'sched'");
		return -EINVAL;
	}
	if ((rc = jstrict_keys(o, what, sched_keys, e)) ||
	    (rc = jstrict_u64(o, what, "cpu_ns", &s->cpu_ns, e)) ||
	    (rc = jstrict_u64(o, what, "wait_ns", &s->wait_ns, e)) ||
	    (rc = jstrict_bool(o, what, "runnable", &s->runnable, e)))
		return rc;
	return 0;
}

/* The array field @key of the snapshot, with at most @max entries. */
static const json_t *snapshot_array(const json_t *snap, const char *key, size_t max,
				    struct verr *e)
{
	const json_t *a = json_object_get(snap, key);

	if (!a) {
		verr_set(e, "snapshot: missing field '%s'", key);
		return NULL;
	}
	if (!json_is_array(a)) {
		verr_set(e, "snapshot: field '%s' must be an array", key);
		return NULL;
	}
	if (json_array_size(a) > max) {
		verr_set(e, "snapshot: field '%s' has %zu entries, at most %zu", key,
			 json_array_size(a), max);
		return NULL;
	}
	return a;
}

static int vcpu_from_json(const json_t *o, const char *what,
			  struct remote_vcpu_exits *x, struct verr *e)
{
	int rc = jstrict_keys(o, what, vcpu_exit_names, e);

	for (size_t i = 0; !rc && i < REMOTE_NR_EXITS; i++)
		rc = jstrict_u64(o, what, vcpu_exit_names[i], vcpu_exit_at(x, i), e);
	return rc;
}

static int snapshot_from_json(const json_t *snap, struct remote_snapshot *s,
			      struct verr *e)
{
	const json_t *disks, *vcpus;
	char state[16], what[48];
	int rc, st;

	memset(s, 0, sizeof(*s));
	if ((rc = jstrict_keys(snap, "snapshot", snapshot_keys, e)) ||
	    (rc = jstrict_str(snap, "snapshot", "state", state, sizeof(state), e)))
		return rc;
	st = remote_state_parse(state);
	if (st < 0) {
		verr_set(e, "snapshot: field 'state' has unknown value '%s'", state);
		return -EINVAL;
	}
	s->state = (enum shm_state)st;
	if ((rc = jstrict_u64(snap, "snapshot", "heartbeat_age_ms", &s->heartbeat_age_ms, e)) ||
	    (rc = sched_from_json(json_object_get(snap, "sched"), &s->sched, e)))
		return rc;
	disks = snapshot_array(snap, "disks", SHM_MAX_DISKS, e);
	if (!disks)
		return -EINVAL;
	vcpus = snapshot_array(snap, "vcpus", SHM_MAX_VCPUS, e);
	if (!vcpus)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(disks); i++) {
		snprintf(what, sizeof(what), "snapshot.disks[%zu]", i);
		rc = vblk_snapshot_from_json(json_array_get(disks, i), what, &s->disk[i], e);
		if (rc)
			return rc;
	}
	s->ndisks = (uint32_t)json_array_size(disks);
	for (size_t i = 0; i < json_array_size(vcpus); i++) {
		snprintf(what, sizeof(what), "snapshot.vcpus[%zu]", i);
		rc = vcpu_from_json(json_array_get(vcpus, i), what, &s->vcpu[i], e);
		if (rc)
			return rc;
	}
	s->nvcpus = (uint32_t)json_array_size(vcpus);
	return 0;
}

/* The frame's kind, by the one key that names it. */
static int frame_from_json(const json_t *root, struct remote_frame *out, struct verr *e)
{
	int rc;

	if (json_object_get(root, "vmorch-remote"))
		return hello_from_json(root, out, e);
	if (json_object_get(root, "snapshot")) {
		rc = jstrict_keys(root, "snapshot frame", snapshot_frame_keys, e);
		if (!rc)
			rc = snapshot_from_json(json_object_get(root, "snapshot"), &out->snap, e);
		if (!rc)
			out->type = REMOTE_FRAME_SNAPSHOT;
		return rc;
	}
	if (json_object_get(root, "result")) {
		rc = jstrict_keys(root, "result frame", result_frame_keys, e);
		if (!rc)
			rc = vm_result_from_json(json_object_get(root, "result"), &out->result, e);
		if (!rc)
			out->type = REMOTE_FRAME_RESULT;
		return rc;
	}
	verr_set(e, "frame: none of 'vmorch-remote', 'snapshot' or 'result': "
		 "not a vmorch remote frame");
	return -EBADMSG;
}

int remote_frame_parse(const char *line, size_t len, struct remote_frame *out,
		       struct verr *e)
{
	json_t *root;
	int rc;

	if (len > REMOTE_FRAME_MAX) {
		verr_set(e, "frame: %zu bytes, more than %d", len, REMOTE_FRAME_MAX);
		return -EMSGSIZE;
	}
	if (memchr(line, '\n', len)) {
		verr_set(e, "frame: holds a line break (a frame is one line)");
		return -EBADMSG;
	}
	if (memchr(line, 0, len)) {
		verr_set(e, "frame: holds a NUL byte");
		return -EBADMSG;
	}
	root = jstrict_loads(line, len, "frame", e);
	if (!root)
		return -EBADMSG;
	rc = frame_from_json(root, out, e);
	json_decref(root);
	return rc;
}

/* ---- the line splitter ---- */

void remote_lines_init(struct remote_lines *l, size_t max_line)
{
	memset(l, 0, sizeof(*l));
	l->max_line = max_line;
}

void remote_lines_release(struct remote_lines *l)
{
	free(l->buf);
	remote_lines_init(l, l->max_line);
}

static int lines_refuse(struct remote_lines *l, int err, struct verr *e)
{
	l->err = err;
	if (err == -EMSGSIZE)
		snprintf(l->why, sizeof(l->why), "line longer than %zu bytes", l->max_line);
	else
		snprintf(l->why, sizeof(l->why), "out of memory");
	verr_set(e, "%s", l->why);
	return err;
}

/* Room for @n more bytes, after dropping the lines already taken. */
static int lines_reserve(struct remote_lines *l, size_t n)
{
	size_t cap;
	char *nb;

	if (l->off) {
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->scan -= l->off;
		l->off = 0;
	}
	if (l->len + n + 1 <= l->cap)
		return 0;
	cap = l->cap ? l->cap : 4096;
	while (cap < l->len + n + 1)
		cap *= 2;
	nb = realloc(l->buf, cap);
	if (!nb)
		return -ENOMEM;
	l->buf = nb;
	l->cap = cap;
	return 0;
}

int remote_lines_feed(struct remote_lines *l, const void *data, size_t n,
		      struct verr *e)
{
	const char *p = data;
	size_t left = n, cur = l->cur;

	if (l->err) {
		verr_set(e, "%s", l->why);
		return l->err;
	}
	/* Measure every line first: an overlong one is never stored. */
	while (left) {
		const char *nl = memchr(p, '\n', left);
		size_t seg = nl ? (size_t)(nl - p) : left;

		if (seg > l->max_line - cur)
			return lines_refuse(l, -EMSGSIZE, e);
		cur = nl ? 0 : cur + seg;
		seg += nl ? 1 : 0;
		p += seg;
		left -= seg;
	}
	if (lines_reserve(l, n))
		return lines_refuse(l, -ENOMEM, e);
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	l->cur = cur;
	return 0;
}

int remote_lines_next(struct remote_lines *l, const char **line, size_t *len)
{
	char *nl;

	if (l->err || l->scan >= l->len)
		return 0;
	nl = memchr(l->buf + l->scan, '\n', l->len - l->scan);
	if (!nl) {
		l->scan = l->len;
		return 0;
	}
	*nl = 0;
	*line = l->buf + l->off;
	*len = (size_t)(nl - (l->buf + l->off));
	l->off = l->scan = (size_t)(nl - l->buf) + 1;
	return 1;
}

size_t remote_lines_pending(const struct remote_lines *l)
{
	return l->cur;
}

int remote_lines_finish(const struct remote_lines *l, struct verr *e)
{
	if (l->err) {
		verr_set(e, "%s", l->why);
		return l->err;
	}
	if (l->cur) {
		verr_set(e, "the stream ends inside a line (%zu bytes without a line break)",
			 l->cur);
		return -EBADMSG;
	}
	return 0;
}
