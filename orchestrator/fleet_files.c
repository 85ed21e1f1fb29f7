/*
 * fleet_files.c - the files a run's jobs name, hashed once and mapped to
 * the paths of a fleet host's store (see fleet_files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orchestrator/file_hash.h"
#include "orchestrator/fleet_files.h"
#include "orchestrator/fleet_stage.h"

extern char **environ;

static bool file_is_protected(const struct job_spec *js, const struct stat *st)
{
	for (uint32_t i = 0; i < js->nprotect; i++)
		if (js->protect[i].dev == (uint64_t)st->st_dev &&
		    js->protect[i].ino == (uint64_t)st->st_ino)
			return true;
	return false;
}

/*
 * @idx: the index of @path's file in @ff, hashed now if it is new; or
 * FLEET_FILE_NONE with @jf made local when the file cannot travel.
 * 0 or -errno with @e set.
 */
static int files_add(struct fleet_files *ff, const struct job_desc *j,
		     struct fleet_job_files *jf, const char *what, const char *path,
		     int *idx, struct verr *e)
{
	struct fleet_file *f, *grown;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return verr_errno(e, "job %s: %s %s", j->spec.name, what, path);
	if (!S_ISREG(st.st_mode) || file_is_protected(&j->spec, &st)) {
		jf->local_only = true;
		*idx = FLEET_FILE_NONE;
		return 0;
	}
	for (size_t i = 0; i < ff->n; i++) {
		if (ff->f[i].dev == (uint64_t)st.st_dev && ff->f[i].ino == (uint64_t)st.st_ino) {
			*idx = (int)i;
			return 0;
		}
	}
	grown = realloc(ff->f, (ff->n + 1) * sizeof(*ff->f));
	if (!grown)
		return verr_errno(e, "fleet files");
	ff->f = grown;
	f = &ff->f[ff->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return verr_errno(e, "fleet files");
	rc = file_sha256(path, &st, f->sha256, e);
	if (rc) {
		free(f->path);
		verr_prefix(e, "job %s: %s", j->spec.name, what);
		return rc;
	}
	f->size = (uint64_t)st.st_size;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	*idx = (int)ff->n++;
	return 0;
}

/* Run `@worker --print-initramfs --job -` on @j's spec; the path it prints. */
static int files_initramfs(const char *worker, const struct job_desc *j, char *out,
			   size_t cap, struct verr *e)
{
	char *const argv[] = { (char *)worker, "--print-initramfs", "--job", "-", NULL };
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, status, rc;
	char *text = job_spec_encode(&j->spec);
	size_t len = 0, tlen;
	ssize_t n;
	pid_t pid;

	if (!text)
		return verr_errno(e, "job %s", j->spec.name);
	if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC)) {
		rc = verr_errno(e, "job %s: pipe", j->spec.name);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	rc = posix_spawn(&pid, worker, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(o[1]);
	in[0] = o[1] = -1;
	if (rc) {
		errno = rc;
		rc = verr_errno(e, "job %s: cannot run %s", j->spec.name, worker);
		goto out;
	}
	/* The job is a few KiB: it fits in the pipe. */
	tlen = strlen(text);
	if (write(in[1], text, tlen) != (ssize_t)tlen) {
		/* The worker reports a truncated job itself. */
	}
	close(in[1]);
	in[1] = -1;
	while (len + 1 < cap && (n = read(o[0], out + len, cap - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	out[len] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (len && out[len - 1] == '\n')
		out[--len] = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !len || out[0] != '/') {
		rc = -EIO;
		verr_set(e, "job %s: cannot build its initramfs (%s --print-initramfs: %s;"
			 " it says why above)", j->spec.name, worker,
			 WIFEXITED(status) ? "exit status" : "killed");
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
	}
	free(text);
	return rc;
}

static int files_job(struct fleet_files *ff, const struct job_desc *j,
		     struct fleet_job_files *jf, const char *worker, struct verr *e)
{
	const struct job_guest *g = &j->spec.guest;
	char initrd[4096];
	int rc;

	jf->kernel = jf->initramfs = jf->rootfs = FLEET_FILE_NONE;
	for (uint32_t i = 0; i < JOB_MAX_DISKS; i++)
		jf->disk[i] = FLEET_FILE_NONE;
	for (uint32_t i = 0; i < j->spec.ndisks; i++) {
		if (!j->spec.disk[i].path)
			continue;
		rc = files_add(ff, j, jf, "disk image", j->spec.disk[i].path, &jf->disk[i], e);
		if (rc)
			return rc;
	}
	if (g->kind != JOB_GUEST_LINUX || jf->local_only)
		return 0;
	rc = files_add(ff, j, jf, "kernel", g->kernel, &jf->kernel, e);
	if (!rc && !jf->local_only && g->rootfs)
		rc = files_add(ff, j, jf, "rootfs image", g->rootfs, &jf->rootfs, e);
	if (!rc && !jf->local_only)
		rc = files_initramfs(worker, j, initrd, sizeof(initrd), e);
	if (!rc && !jf->local_only)
		rc = files_add(ff, j, jf, "initramfs", initrd, &jf->initramfs, e);
	return rc;
}

int fleet_files_collect(struct fleet_files *ff, const struct job_desc *jobs,
			size_t njobs, const char *worker, struct verr *e)
{
	int rc;

	memset(ff, 0, sizeof(*ff));
	ff->job = calloc(njobs ? njobs : 1, sizeof(*ff->job));
	if (!ff->job)
		return verr_errno(e, "fleet files");
	ff->njobs = njobs;
	for (size_t i = 0; i < njobs; i++) {
		rc = files_job(ff, &jobs[i], &ff->job[i], worker, e);
		if (rc) {
			fleet_files_release(ff);
			return rc;
		}
	}
	return 0;
}

void fleet_files_release(struct fleet_files *ff)
{
	for (size_t i = 0; i < ff->n; i++)
		free(ff->f[i].path);
	free(ff->f);
	free(ff->job);
	memset(ff, 0, sizeof(*ff));
}

size_t fleet_files_of_job(const struct fleet_files *ff, size_t job,
			  int idx[FLEET_JOB_FILES_MAX])
{
	const struct fleet_job_files *jf = &ff->job[job];
	const int all[FLEET_JOB_FILES_MAX] = {
		jf->disk[0], jf->disk[1], jf->disk[2], jf->disk[3], jf->disk[4], jf->disk[5],
		jf->disk[6], jf->disk[7], jf->kernel, jf->initramfs, jf->rootfs,
	};
	size_t n = 0;

	_Static_assert(JOB_MAX_DISKS == 8, "all[] lists every disk");
	for (size_t i = 0; i < FLEET_JOB_FILES_MAX; i++)
		if (all[i] != FLEET_FILE_NONE)
			idx[n++] = all[i];
	return n;
}

static char *files_store_path(const struct fleet_files *ff, int idx, const char *workdir)
{
	struct verr e = { "" };

	return fleet_stage_path(workdir, ff->f[idx].sha256, FLEET_STAGE_CAS, &e);
}

int fleet_files_job_spec(const struct fleet_files *ff, size_t job, const char *workdir,
			 const struct job_spec *in, struct job_spec *out)
{
	const struct fleet_job_files *jf = &ff->job[job];
	struct job_spec s = *in;
	char *text;
	int rc;

	/* Borrowed strings are replaced below, then the copy is made whole. */
	s.nprotect = 0;
	s.guest.modules = NULL;
	for (uint32_t i = 0; i < s.ndisks; i++) {
		if (jf->disk[i] == FLEET_FILE_NONE)
			continue;
		s.disk[i].path = files_store_path(ff, jf->disk[i], workdir);
		s.disk[i].clone = !s.disk[i].read_only;
		s.disk[i].allow_block_device = false;
	}
	if (jf->kernel != FLEET_FILE_NONE)
		s.guest.kernel = files_store_path(ff, jf->kernel, workdir);
	if (jf->rootfs != FLEET_FILE_NONE)
		s.guest.rootfs = files_store_path(ff, jf->rootfs, workdir);
	if (jf->initramfs != FLEET_FILE_NONE) {
		s.guest.initramfs = files_store_path(ff, jf->initramfs, workdir);
		s.guest.initramfs_agent = !in->guest.initramfs || in->guest.initramfs_agent;
		/* Its files are in that archive: their paths here mean nothing there. */
		s.guest.files = NULL;
		s.guest.nfiles = 0;
	}
	/* Encode and decode: @out owns every string, the paths made here go. */
	text = job_spec_encode(&s);
	rc = text ? job_spec_decode(text, strlen(text), out, NULL) : -ENOMEM;
	free(text);
	for (uint32_t i = 0; i < s.ndisks; i++)
		if (jf->disk[i] != FLEET_FILE_NONE)
			free(s.disk[i].path);
	if (jf->kernel != FLEET_FILE_NONE)
		free(s.guest.kernel);
	if (jf->rootfs != FLEET_FILE_NONE)
		free(s.guest.rootfs);
	if (jf->initramfs != FLEET_FILE_NONE)
		free(s.guest.initramfs);
	return rc ? -ENOMEM : 0;
}

char *fleet_files_check_command(const char *workdir, const char *const *shas, size_t n)
{
	size_t cap = strlen(workdir) + 128 + n * 66, len;
	char *cmd = malloc(cap);

	if (!cmd)
		return NULL;
	len = (size_t)snprintf(cmd, cap, "cd %s/cas 2>/dev/null || exit 0; for s in", workdir);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(cmd + len, cap - len, " %s", shas[i]);
	/* touch -c first: a file that is there after it is fresh for `hosts gc`. */
	snprintf(cmd + len, cap - len, "; do touch -c \"$s\" 2>/dev/null; [ -f \"$s\" ] &&"
		 " echo \"$s\"; done; exit 0");
	return cmd;
}
