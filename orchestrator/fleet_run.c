/*
 * fleet_run.c - bring-up of a run's fleet hosts (see fleet_run.h): every
 * host logs in and runs the probe at once over one poll loop; a host whose
 * user may use /dev/kvm gets the worker staged if it lacks it, and is up.
 * Afterwards the loop's events go to the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/sha256.h"
#include "orchestrator/fleet_run.h"
#include "orchestrator/fleet_stage.h"

#define BRING_UP_PROBE_MAX	(64 * 1024)
#define STAGE_TIMEOUT_MS	120000


struct fleet_host *fleet_conn_host(const struct ssh_conn *c)
{
	return ssh_conn_user(c);
}

static bool fleet_labels_fit(const struct fleet_host *h, const struct job_desc *j)
{
	for (unsigned i = 0; i < j->nlabels; i++)
		if (!inv_host_has_label(h->ih, j->label[i]))
			return false;
	return true;
}

/* ---- events: bring-up's own, then the pool's ---- */

static void fleet_on_lost(void *ctx, struct ssh_conn *c)
{
	struct fleet_run *f = ctx;
	struct fleet_host *h = fleet_conn_host(c);

	if (h && !h->why[0])
		snprintf(h->why, sizeof(h->why), "%s", ssh_conn_error(c));
	if (f->running && f->ev.lost)
		f->ev.lost(f->ev_ctx, c);
}

static void fleet_on_data(void *ctx, struct ssh_chan *ch, int stream,
			  const void *buf, size_t len)
{
	struct fleet_run *f = ctx;

	if (f->running && f->ev.chan_data)
		f->ev.chan_data(f->ev_ctx, ch, stream, buf, len);
}

static void fleet_on_drained(void *ctx, struct ssh_chan *ch)
{
	struct fleet_run *f = ctx;

	if (f->running && f->ev.chan_drained)
		f->ev.chan_drained(f->ev_ctx, ch);
}

/* The fleet host @user is, or NULL (a pool slot's channel). */
static struct fleet_host *fleet_user_host(const struct fleet_run *f, const void *user)
{
	const struct fleet_host *h = user;

	return user && h >= f->h && h < f->h + f->n ? (struct fleet_host *)h : NULL;
}

/* A probe channel ended: its answer in @h->probe, or why not in @h->why. */
static bool fleet_probe_answer(struct fleet_host *h, struct ssh_chan *ch)
{
	struct verr e = { "" };
	const char *out;
	size_t len;

	if (ssh_chan_error(ch)) {
		snprintf(h->why, sizeof(h->why), "host probe: %s", ssh_chan_error(ch));
		return false;
	}
	out = ssh_chan_output(ch, 0, &len);
	if (host_probe_parse(out, len, &h->probe, &e)) {
		snprintf(h->why, sizeof(h->why), "%s", e.msg);
		return false;
	}
	return true;
}

static void fleet_revive_done(struct fleet_run *f, struct fleet_host *h,
			      struct ssh_chan *ch);

/* Probe channels (bring-up's, a revival's) carry their host as user data. */
static void fleet_on_closed(void *ctx, struct ssh_chan *ch)
{
	struct fleet_run *f = ctx;
	struct fleet_host *h = fleet_user_host(f, ssh_chan_user(ch));

	if (f->running && h) {
		fleet_revive_done(f, h, ch);
		return;
	}
	if (f->running) {
		if (f->ev.chan_closed)
			f->ev.chan_closed(f->ev_ctx, ch);
		return;
	}
	if (!h)
		return;
	if (fleet_probe_answer(h, ch))
		h->up = true;	/* probed; bring-up decides the rest */
	ssh_chan_free(ch);
}

static const struct ssh_loop_ops fleet_ops = {
	.lost = fleet_on_lost, .chan_data = fleet_on_data,
	.chan_drained = fleet_on_drained, .chan_closed = fleet_on_closed,
};

/* ---- opening ---- */

enum kh_policy fleet_policy(enum inv_host_key_check k)
{
	return k == INV_HKC_OFF ? KH_OFF : k == INV_HKC_ACCEPT_NEW ? KH_ACCEPT_NEW :
	       KH_STRICT;
}

void fleet_loop_opts(const struct inventory *inv, unsigned connect_ms,
		     struct ssh_loop_opts *lo)
{
	ssh_loop_opts_default(lo);
	if (connect_ms)
		lo->connect_timeout_ms = connect_ms;
	for (size_t i = 0; i < inv->n; i++) {
		if (i == 0 || inv->hosts[i].keepalive_ms < lo->keepalive_ms)
			lo->keepalive_ms = (unsigned)inv->hosts[i].keepalive_ms;
		if (i == 0 || inv->hosts[i].keepalive_max < lo->keepalive_max)
			lo->keepalive_max = inv->hosts[i].keepalive_max;
	}
	if (lo->keepalive_ms < 100)
		lo->keepalive_ms = 100;
	if (lo->keepalive_max < 2)
		lo->keepalive_max = 2;
}

static int fleet_hosts_new(struct fleet_run *f, struct verr *e)
{
	f->n = f->inv.n;
	f->h = calloc(f->n ? f->n : 1, sizeof(*f->h));
	if (!f->h)
		return verr_errno(e, "fleet hosts");
	for (size_t i = 0; i < f->n; i++) {
		const struct inv_host *ih = &f->inv.hosts[i];
		struct ssh_target t = {
			.name = ih->name, .address = ih->address, .port = ih->port,
			.user = ih->user, .identities = (const char *const *)ih->identity,
			.nidentities = ih->n_identity, .known_hosts = ih->known_hosts,
			.policy = fleet_policy(ih->host_key_check),
		};
		/* A job channel per slot, plus one for staging and probes. */
		unsigned conns = ih->slots / (SSH_SERVER_MAX_SESSIONS - 1) + 1;
		int rc;

		f->h[i].ih = ih;
		rc = ssh_host_new(f->loop, &t, conns, &f->h[i].sh, e);
		if (rc)
			return rc;
	}
	return 0;
}

int fleet_run_open(struct fleet_run *f, const struct fleet_run_opts *o,
		   struct verr *e)
{
	struct ssh_loop_opts lo;
	int rc;

	memset(f, 0, sizeof(*f));
	if (inventory_load(o->inventory, &f->inv, e) ||
	    (o->limit && inventory_limit(&f->inv, o->limit, e)))
		return -EINVAL;
	if (f->inv.host_key_check_off && !o->allow_unchecked) {
		verr_set(e, "%s turns host key checking off (host_key_check: off);"
			 " give --allow-unchecked-host-keys to accept that", f->inv.path);
		return -EINVAL;
	}
	/* Kept for staging the worker again on a revived host. */
	f->worker_path = strdup(o->worker_path);
	if (!f->worker_path)
		return verr_errno(e, "fleet");
	rc = sha256_file_hex(o->worker_path, f->worker_sha, e);
	if (rc) {
		verr_prefix(e, "the worker staged on fleet hosts");
		return rc;
	}
	fleet_loop_opts(&f->inv, o->connect_timeout_ms, &lo);
	rc = ssh_loop_new(&lo, &fleet_ops, f, &f->loop, e);
	if (!rc)
		rc = fleet_hosts_new(f, e);
	return rc;
}

void fleet_run_close(struct fleet_run *f)
{
	for (size_t i = 0; f->h && i < f->n; i++) {
		ssh_host_free(f->h[i].sh);
		free(f->h[i].staged);
	}
	free(f->h);
	free(f->worker_path);
	fleet_files_release(&f->files);
	if (f->loop)
		ssh_loop_free(f->loop);
	inventory_release(&f->inv);
	memset(f, 0, sizeof(*f));
}

/* ---- the run's files ---- */

int fleet_run_set_jobs(struct fleet_run *f, const struct job_desc *jobs, size_t njobs,
		       const char *local_worker, struct verr *e)
{
	int rc;

	f->jobs = jobs;
	f->njobs = njobs;
	rc = fleet_files_collect(&f->files, jobs, njobs, local_worker, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < f->n; i++) {
		f->h[i].staged = calloc(f->files.n ? f->files.n : 1, sizeof(bool));
		if (!f->h[i].staged)
			return verr_errno(e, "fleet hosts");
	}
	return 0;
}

/* The files the jobs @h can take (by their labels) need: @need[i]. */
static size_t fleet_host_needs(const struct fleet_run *f, const struct fleet_host *h,
			       bool *need)
{
	size_t n = 0;

	for (size_t j = 0; j < f->njobs; j++) {
		int idx[FLEET_JOB_FILES_MAX];
		size_t k;

		if (f->files.job[j].local_only || !fleet_labels_fit(h, &f->jobs[j]))
			continue;
		k = fleet_files_of_job(&f->files, j, idx);
		for (size_t i = 0; i < k; i++) {
			if (!need[idx[i]]) {
				need[idx[i]] = true;
				n++;
			}
		}
	}
	return n;
}

/* The check of which needed files @h's store has (each touched as used). */
static int fleet_has_prepare(const struct fleet_run *f, struct fleet_host *h,
			     const bool *need, struct ssh_run_req *q, struct verr *e)
{
	const char **shas = calloc(f->files.n, sizeof(*shas));
	size_t n = 0;
	char *cmd;

	if (!shas)
		return verr_errno(e, "fleet files");
	for (size_t i = 0; i < f->files.n; i++)
		if (need[i])
			shas[n++] = f->files.f[i].sha256;
	cmd = fleet_files_check_command(h->ih->workdir, shas, n);
	free(shas);
	if (!cmd)
		return verr_errno(e, "fleet files");
	*q = (struct ssh_run_req){
		.conn = ssh_host_conn(h->sh, 0), .command = cmd, .max_out = n * 65 + 1,
	};
	return 0;
}

/* Its answer: one sha256 a line, each a file the store has. */
static void fleet_has_finish(const struct fleet_run *f, struct fleet_host *h,
			     const bool *need, struct ssh_run_req *q)
{
	free((char *)q->command);
	q->command = NULL;
	if (q->rc) {
		snprintf(h->stage_err, sizeof(h->stage_err), "%s", q->e.msg);
		return;
	}
	for (size_t off = 0; off + 65 <= q->r.out_len; off += 65) {
		for (size_t i = 0; i < f->files.n; i++)
			if (need[i] && q->r.out[off + 64] == '\n' &&
			    !memcmp(q->r.out + off, f->files.f[i].sha256, 64))
				h->staged[i] = true;
	}
	ssh_run_result_release(&q->r);
}

/* A file mapped rather than read: an image may be many GiB.  NULL: see @e. */
static void *fleet_file_map(const struct fleet_file *ff, struct verr *e)
{
	void *map;
	int fd;

	if (!ff->size)
		return (void *)"";
	fd = open(ff->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		verr_errno(e, "%s", ff->path);
		return NULL;
	}
	map = mmap(NULL, ff->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		verr_errno(e, "%s", ff->path);
		return NULL;
	}
	madvise(map, ff->size, MADV_SEQUENTIAL);
	return map;
}

static void fleet_file_unmap(const struct fleet_file *ff, void *map)
{
	if (ff->size && map)
		munmap(map, ff->size);
}

/* One file to a host: the transfer under way. */
struct fleet_send {
	struct fleet_host *h;
	size_t file;
	void *map;
};

/*
 * One round: each host of @hs that still lacks a needed file gets its
 * next one, all hosts at once.  Returns how many transfers ran.
 */
static size_t fleet_send_round(struct fleet_run *f, struct fleet_host **hs, size_t n,
			       bool **need)
{
	struct ssh_run_req *q = calloc(n, sizeof(*q));
	struct fleet_send *t = calloc(n, sizeof(*t));
	uint64_t ms = 0;
	struct verr e = { "" };
	size_t k = 0;

	if (!q || !t) {
		free(q);
		free(t);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct fleet_host *h = hs[i];
		const struct fleet_file *ff = NULL;
		size_t j;

		for (j = 0; need[i] && j < f->files.n; j++)
			if (need[i][j] && !h->staged[j])
				break;
		if (!need[i] || j == f->files.n ||
		    ssh_conn_state(ssh_host_conn(h->sh, 0)) == SSH_CONN_DOWN)
			continue;
		need[i][j] = false;	/* tried once, whatever comes of it */
		ff = &f->files.f[j];
		t[k] = (struct fleet_send){ .h = h, .file = j, .map = fleet_file_map(ff, &e) };
		if (!t[k].map || fleet_stage_prepare(&q[k], ssh_host_conn(h->sh, 0), h->ih->workdir,
						     t[k].map, ff->size, ff->sha256,
						     FLEET_STAGE_CAS, &e)) {
			fleet_file_unmap(ff, t[k].map);
			if (!h->stage_err[0])
				snprintf(h->stage_err, sizeof(h->stage_err), "%s", e.msg);
			continue;
		}
		/* 60 s, and 1 s per 8 MiB: a slow link still gets there. */
		if (60000 + ff->size / (8 << 20) * 1000 > ms)
			ms = 60000 + ff->size / (8 << 20) * 1000;
		k++;
	}
	if (k)
		ssh_run_all(f->loop, q, k, ms > UINT32_MAX ? UINT32_MAX : (unsigned)ms, &e);
	for (size_t i = 0; i < k; i++) {
		const struct fleet_file *ff = &f->files.f[t[i].file];
		struct fleet_host *h = t[i].h;

		if (fleet_stage_finish(&q[i], ff->sha256, &e)) {
			verr_prefix(&e, "%s", ff->path);
			if (!h->stage_err[0])
				snprintf(h->stage_err, sizeof(h->stage_err), "%s", e.msg);
		} else {
			h->staged[t[i].file] = true;
			h->nstaged++;
			h->staged_bytes += ff->size;
		}
		fleet_file_unmap(ff, t[i].map);
	}
	free(q);
	free(t);
	return k;
}

/*
 * Give every host of @hs the files its jobs need that its store lacks:
 * first one check a host of what its store has, then rounds of one file
 * a host, every host at once.
 */
static void fleet_stage_files(struct fleet_run *f, struct fleet_host **hs, size_t n)
{
	uint64_t t0 = clock_ms();
	struct ssh_run_req *q = calloc(n ? n : 1, sizeof(*q));
	bool **need = calloc(n ? n : 1, sizeof(*need));
	struct fleet_host **who = calloc(n ? n : 1, sizeof(*who));
	struct verr e = { "" };
	size_t k = 0;

	if (!f->files.n || !q || !need || !who)
		goto out;
	for (size_t i = 0; i < n; i++) {
		need[i] = calloc(f->files.n, sizeof(**need));
		if (!need[i] || !fleet_host_needs(f, hs[i], need[i]))
			continue;
		if (fleet_has_prepare(f, hs[i], need[i], &q[k], &e)) {
			snprintf(hs[i]->stage_err, sizeof(hs[i]->stage_err), "%s", e.msg);
			continue;
		}
		who[k++] = hs[i];
	}
	if (k)
		ssh_run_all(f->loop, q, k, STAGE_TIMEOUT_MS, &e);
	for (size_t i = 0, j = 0; i < n && j < k; i++)
		if (hs[i] == who[j])
			fleet_has_finish(f, hs[i], need[i], &q[j++]);
	while (fleet_send_round(f, hs, n, need))
		;
	for (size_t i = 0; i < n; i++)
		hs[i]->stage_ms = clock_ms() - t0;
out:
	for (size_t i = 0; need && i < n; i++)
		free(need[i]);
	free(need);
	free(who);
	free(q);
}

/* ---- bring-up ---- */

static void fleet_probe_start(struct fleet_run *f, struct fleet_host *h)
{
	struct verr e = { "" };
	struct ssh_chan_opts o = { .user = h, .capture_max = BRING_UP_PROBE_MAX };
	struct ssh_chan *ch;
	char *cmd = host_probe_command(h->ih->workdir, f->worker_sha, &e);

	if (!cmd) {
		snprintf(h->why, sizeof(h->why), "%s", e.msg);
		return;
	}
	o.command = cmd;
	if (ssh_host_chan_open(h->sh, &o, &ch, &e))
		snprintf(h->why, sizeof(h->why), "%s", e.msg);
	else
		ssh_conn_set_user(ssh_chan_conn(ch), h);
	free(cmd);
}

static bool fleet_probes_done(const struct fleet_run *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->h[i].up && !f->h[i].why[0])
			return false;
	return true;
}

static char *fleet_read_worker(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = buf ? (size_t)n : 0;
	fclose(fp);
	return buf;
}

static bool getenv_flag(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

/* A probed host that may not use /dev/kvm is not up. */
static void fleet_host_check_kvm(struct fleet_host *h)
{
	/*
	 * VMORCH_FLEET_ALLOW_NO_KVM=1 (tests on machines without KVM): use the
	 * host anyway; its worker then ends each job as infra_error, which
	 * still takes the whole path (staging, channels, frames, storing).
	 */
	if (h->up && !h->probe.kvm_usable && !getenv_flag("VMORCH_FLEET_ALLOW_NO_KVM")) {
		h->up = false;
		snprintf(h->why, sizeof(h->why), "%s: /dev/kvm is not usable by %s (kvm: %s)",
			 h->ih->name, h->ih->user, h->probe.facts.kvm_flavour);
	}
}

/* The worker to every host of @hs that is up and lacks it, all at once. */
static void fleet_stage_workers(struct fleet_run *f, struct fleet_host **hs, size_t n)
{
	struct ssh_run_req *q = calloc(n ? n : 1, sizeof(*q));
	struct fleet_host **who = calloc(n ? n : 1, sizeof(*who));
	struct verr e = { "" };
	char *worker = NULL;
	size_t wlen = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		struct fleet_host *h = hs[i];

		if (!h->up || h->probe.worker_staged)
			continue;
		if (!q || !who)
			verr_set(&e, "out of memory");
		else if (!worker && !(worker = fleet_read_worker(f->worker_path, &wlen)))
			verr_set(&e, "cannot read %s", f->worker_path);
		else if (!fleet_stage_prepare(&q[k], ssh_host_conn(h->sh, 0), h->ih->workdir,
					      worker, wlen, f->worker_sha, FLEET_STAGE_WORKER, &e)) {
			who[k++] = h;
			continue;
		}
		h->up = false;
		snprintf(h->why, sizeof(h->why), "%s", e.msg);
	}
	if (k)
		ssh_run_all(f->loop, q, k, STAGE_TIMEOUT_MS, &e);
	for (size_t i = 0; i < k; i++) {
		if (fleet_stage_finish(&q[i], f->worker_sha, &e)) {
			who[i]->up = false;
			snprintf(who[i]->why, sizeof(who[i]->why), "%s", e.msg);
		} else {
			who[i]->probe.worker_staged = true;
		}
	}
	free(worker);
	free(who);
	free(q);
}

/* Hosts probed: the worker and then the files to those that are usable. */
static void fleet_hosts_settle(struct fleet_run *f, struct fleet_host **hs, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		fleet_host_check_kvm(hs[i]);
	fleet_stage_workers(f, hs, n);
	for (size_t i = 0; i < n; i++)
		if (hs[i]->up)
			hs[k++] = hs[i];
	fleet_stage_files(f, hs, k);
}

size_t fleet_run_bring_up(struct fleet_run *f, unsigned timeout_ms)
{
	uint64_t deadline = clock_ms() + timeout_ms;
	struct fleet_host **hs = calloc(f->n ? f->n : 1, sizeof(*hs));
	size_t up = 0, k = 0;
	struct verr e = { "" };

	for (size_t i = 0; i < f->n; i++)
		fleet_probe_start(f, &f->h[i]);
	while (!fleet_probes_done(f) && clock_ms() < deadline)
		if (ssh_loop_run_once(f->loop, 100, &e))
			break;
	for (size_t i = 0; i < f->n; i++) {
		struct fleet_host *h = &f->h[i];

		if (!h->up && !h->why[0])
			snprintf(h->why, sizeof(h->why), "%s: no answer within %u ms",
				 h->ih->name, timeout_ms);
		if (h->up && hs)
			hs[k++] = h;
		else if (h->up)
			h->up = false, snprintf(h->why, sizeof(h->why), "out of memory");
	}
	fleet_hosts_settle(f, hs, k);
	for (size_t i = 0; i < f->n; i++)
		up += f->h[i].up;
	free(hs);
	f->running = true;
	return up;
}

bool fleet_job_local_only(const struct fleet_run *f, size_t job)
{
	return job < f->files.njobs && f->files.job[job].local_only;
}

bool fleet_host_fits(const struct fleet_run *f, const struct fleet_host *h, size_t job)
{
	int idx[FLEET_JOB_FILES_MAX];
	size_t k;

	if (job >= f->njobs || job >= f->files.njobs)
		return false;
	if (f->files.job[job].local_only || !fleet_labels_fit(h, &f->jobs[job]))
		return false;
	k = fleet_files_of_job(&f->files, job, idx);
	for (size_t i = 0; i < k; i++)
		if (!h->staged || !h->staged[idx[i]])
			return false;
	return true;
}

bool fleet_host_takes(const struct fleet_run *f, const struct fleet_host *h, size_t job)
{
	return h->up && fleet_host_fits(f, h, job);
}

int fleet_job_spec(const struct fleet_run *f, const struct fleet_host *h, size_t job,
		   struct job_spec *out)
{
	return fleet_files_job_spec(&f->files, job, h->ih->workdir, &f->jobs[job].spec, out);
}

/* " <workdir>/cas/<sha256>" for each store file job @job uses, or "". */
static char *fleet_job_files_words(const struct fleet_run *f, const struct fleet_host *h,
				   size_t job)
{
	int idx[FLEET_JOB_FILES_MAX];
	size_t k = fleet_files_of_job(&f->files, job, idx), len = 0;
	size_t cap = k * (strlen(h->ih->workdir) + 72) + 1;
	char *w = malloc(cap);

	if (!w)
		return NULL;
	w[0] = 0;
	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(w + len, cap - len, " %s/cas/%s", h->ih->workdir,
					f->files.f[idx[i]].sha256);
	return w;
}

char *fleet_job_command(const struct fleet_run *f, const struct fleet_host *h, size_t job)
{
	struct verr e = { "" };
	char *path = fleet_stage_path(h->ih->workdir, f->worker_sha, FLEET_STAGE_WORKER, &e);
	char *files = job < f->files.njobs ? fleet_job_files_words(f, h, job) : strdup("");
	char *cmd = NULL;

	/*
	 * The store lock: `vmorch hosts gc` deletes nothing while the job
	 * runs.  Its files are marked as used first (touch -c: never making an
	 * empty one), so that a gc between now and the lock spares them too.
	 */
	if (path && files && asprintf(&cmd, "%s%s%sexec %s --remote --store-lock %s/lock",
				      files[0] ? "touch -c" : "", files,
				      files[0] ? " 2>/dev/null; " : "", path,
				      h->ih->workdir) < 0)
		cmd = NULL;
	free(files);
	free(path);
	return cmd;
}

/* ---- the hosts' states ---- */

void fleet_run_status(const struct fleet_run *f, char *buf, size_t cap)
{
	size_t len = 0, up = 0, running = 0;
	int n;

	buf[0] = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];

		up += h->up;
		running += h->running;
		if (h->up)
			n = snprintf(buf + len, cap - len, "%s%s:%u", len ? " " : "",
				     h->ih->name, h->running);
		else
			n = snprintf(buf + len, cap - len, "%s%s:down", len ? " " : "",
				     h->ih->name);
		len = n < 0 || (size_t)n >= cap - len ? cap : len + (size_t)n;
	}
	if (len < cap)
		return;
	snprintf(buf, cap, "%zu up (%zu running), %zu down", up, running, f->n - up);
}

/* ---- revival of a lost host ---- */

void fleet_host_lost(struct fleet_host *h, uint64_t now_ms, const char *why)
{
	if (h->up || !h->lost)
		h->revive_at_ms = now_ms + ((uint64_t)FLEET_REVIVE_BASE_MS << h->revivals);
	h->up = false;
	h->lost = true;
	if (why && !h->why[0])
		snprintf(h->why, sizeof(h->why), "%.400s", why);
}

bool fleet_host_may_return(const struct fleet_host *h)
{
	return h->lost && (h->reviving || h->restage || h->revivals < FLEET_REVIVE_MAX);
}

static void fleet_revive_start(struct fleet_run *f, struct fleet_host *h)
{
	h->revivals++;
	h->reviving = true;
	h->why[0] = 0;
	ssh_host_forget_down(h->sh);
	fleet_probe_start(f, h);
	if (h->why[0])		/* could not even open the channel */
		h->reviving = false;
}

/*
 * A revived host whose store lost the worker: stage it again, and the
 * files its jobs need (the store was likely emptied: `hosts gc`, a
 * reboot with the workdir on tmpfs).  This blocks the pool's tick for as
 * long as the transfer takes; the SSH loop, and so the other hosts'
 * channels, keep running meanwhile.
 */
static void fleet_host_restage(struct fleet_run *f, struct fleet_host *h)
{
	struct fleet_host *one[1] = { h };

	h->restage = false;
	h->up = true;
	h->why[0] = 0;
	h->stage_err[0] = 0;
	if (h->staged)
		memset(h->staged, 0, f->files.n * sizeof(*h->staged));
	fleet_hosts_settle(f, one, 1);
	if (h->up) {
		h->lost = false;
		return;
	}
	h->revive_at_ms = clock_ms() + ((uint64_t)FLEET_REVIVE_BASE_MS << h->revivals);
}

void fleet_run_revive(struct fleet_run *f, uint64_t now_ms)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fleet_host *h = &f->h[i];

		if (h->restage) {
			fleet_host_restage(f, h);
			continue;
		}
		if (h->up || !h->lost || h->reviving || h->revivals >= FLEET_REVIVE_MAX ||
		    now_ms < h->revive_at_ms)
			continue;
		fleet_revive_start(f, h);
		if (!h->reviving)
			h->revive_at_ms = now_ms + ((uint64_t)FLEET_REVIVE_BASE_MS << h->revivals);
	}
}

/*
 * A revival's probe ended.  Staging is not done here, in a callback (it
 * runs the loop): a host whose worker is gone is marked for
 * fleet_run_revive to stage it again on the pool's next tick.
 */
static void fleet_revive_done(struct fleet_run *f, struct fleet_host *h,
			      struct ssh_chan *ch)
{
	h->reviving = false;
	if (fleet_probe_answer(h, ch) && !h->probe.kvm_usable &&
	    !getenv_flag("VMORCH_FLEET_ALLOW_NO_KVM"))
		snprintf(h->why, sizeof(h->why), "%s: /dev/kvm is not usable", h->ih->name);
	ssh_chan_free(ch);
	if (!h->why[0] && !h->probe.worker_staged) {
		h->restage = true;
		snprintf(h->why, sizeof(h->why), "%s: the staged worker is gone; staging it"
			 " again", h->ih->name);
		return;
	}
	if (!h->why[0]) {
		h->up = true;
		h->lost = false;
		return;
	}
	h->revive_at_ms = clock_ms() + ((uint64_t)FLEET_REVIVE_BASE_MS << h->revivals);
	(void)f;
}
