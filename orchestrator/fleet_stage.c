/*
 * fleet_stage.c - staging a file on a fleet host by sha256 (see
 * fleet_stage.h).  The host needs sh, mkdir, tee, wc, chmod, mv and
 * sha256sum (coreutils), and uses flock (util-linux) and openssl when it
 * has them: nothing vmorch installs.  The outcome is the one line the
 * command prints last ("staged"), never the channel's exit status alone,
 * which libssh2 1.10 reports as 0 when none arrived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/fleet_stage.h"

#define STAGE_ERR_MAX	4096

static bool stage_sha_ok(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* The workdir came through the inventory's checks: letters, digits, . _ + - / only. */
static bool stage_workdir_ok(const char *w)
{
	return w[0] == '/' && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789._+-/") == strlen(w);
}

int fleet_stage_check(const char *workdir, const char *sha256, struct verr *e)
{
	if (!stage_workdir_ok(workdir)) {
		verr_set(e, "workdir '%s': expected an absolute path of letters, digits"
			 " and . _ + - /", workdir);
		return -EINVAL;
	}
	if (!stage_sha_ok(sha256)) {
		verr_set(e, "sha256 '%s': expected 64 lowercase hex digits", sha256);
		return -EINVAL;
	}
	return 0;
}

char *fleet_stage_path(const char *workdir, const char *sha256,
		       enum fleet_stage_kind kind, struct verr *e)
{
	char *p = NULL;
	int n;

	if (fleet_stage_check(workdir, sha256, e))
		return NULL;
	n = kind == FLEET_STAGE_WORKER ?
	    asprintf(&p, "%s/bin/%s/vmm-worker", workdir, sha256) :
	    asprintf(&p, "%s/cas/%s", workdir, sha256);
	if (n < 0) {
		verr_set(e, "out of memory");
		return NULL;
	}
	return p;
}

/*
 * set -e stops at the first failure; the trap removes the temporary on any
 * exit but the good one.  The temporary is in the destination's directory
 * so that mv is a rename on one file system.  The bytes are hashed as they
 * are written (tee), not read again after: a pipeline's status is its last
 * command's, so a short write (a full disk) is caught by the size check.
 * openssl hashes with the CPU's SHA instructions where sha256sum does not
 * (coreutils 9.1: 0.2 s of CPU for 256 MiB against 0.7 s): used when the
 * host has it.
 * The store lock is held shared from before the directory is made to the
 * end, so that `vmorch hosts gc` (exclusive) neither deletes the file
 * being staged nor takes the temporary for a killed stage's leftover; it
 * holds the lock only briefly, and 60 s bounds the wait should one be
 * stuck.  It tries each second with -n (busybox's flock has no -w); a
 * host without flock(1) stages without the lock, which is safe there: gc
 * cannot run on it either.
 */
char *fleet_stage_command(const char *workdir, const char *sha256, uint64_t size,
			  enum fleet_stage_kind kind, struct verr *e)
{
	char *dest = fleet_stage_path(workdir, sha256, kind, e), *cmd = NULL;

	if (!dest)
		return NULL;
	if (asprintf(&cmd,
		     "set -e; umask 022; w=%s; f=%s; d=${f%%/*}; mkdir -p \"$w\"; "
		     "exec 9>>\"$w/lock\"; i=0; while command -v flock >/dev/null 2>&1 &&"
		     " ! flock -s -n 9; do i=$((i + 1)); "
		     "if [ $i -gt 60 ]; then echo \"cannot take the store lock $w/lock"
		     " within 60 s\" >&2; exit 1; fi; sleep 1; done; mkdir -p \"$d\"; "
		     "t=\"$d/.stage.$$\"; trap 'rm -f \"$t\"' EXIT; "
		     "h=sha256sum; command -v openssl >/dev/null 2>&1 && h='openssl dgst -sha256 -r'; "
		     "s=$(tee \"$t\" | $h); s=${s%%%% *}; n=$(wc -c < \"$t\"); "
		     "if [ \"$n\" != %llu ]; then echo \"short write: $n of %llu bytes\" >&2; exit 1; fi; "
		     "if [ \"$s\" != %s ]; then echo \"sha256 mismatch: got $s\" >&2; exit 1; fi; "
		     "chmod %s \"$t\"; mv -f \"$t\" \"$f\"; trap - EXIT; echo staged",
		     workdir, dest, (unsigned long long)size, (unsigned long long)size, sha256,
		     kind == FLEET_STAGE_WORKER ? "755" : "644") < 0) {
		cmd = NULL;
		verr_set(e, "out of memory");
	}
	free(dest);
	return cmd;
}

/* The host's last line of stderr: what the shell or sha256 check said. */
static void stage_why(const struct ssh_run_result *r, char *buf, size_t cap)
{
	size_t len = r->err_len;
	const char *start;

	while (len && (r->err[len - 1] == '\n' || r->err[len - 1] == '\r'))
		len--;
	start = r->err + len;
	while (start > r->err && start[-1] != '\n')
		start--;
	snprintf(buf, cap, "%.*s", (int)(r->err + len - start), start);
	if (!buf[0])
		snprintf(buf, cap, "no 'staged' answer (exit status %d)", r->exit_status);
}

int fleet_stage_prepare(struct ssh_run_req *q, struct ssh_conn *c, const char *workdir,
			const void *data, size_t len, const char *sha256,
			enum fleet_stage_kind kind, struct verr *e)
{
	char *cmd = fleet_stage_command(workdir, sha256, len, kind, e);

	memset(q, 0, sizeof(*q));
	if (!cmd)
		return -EINVAL;
	*q = (struct ssh_run_req){
		.conn = c, .command = cmd, .in = data, .inlen = len, .max_out = STAGE_ERR_MAX,
	};
	return 0;
}

int fleet_stage_finish(struct ssh_run_req *q, const char *sha256, struct verr *e)
{
	const char *host = ssh_conn_name(q->conn);
	char why[256];
	int rc = 0;

	free((char *)q->command);
	q->command = NULL;
	if (q->rc) {
		*e = q->e;
		verr_prefix(e, "staging %s on %s", sha256, host);
		return q->rc;
	}
	if (q->r.out_len != 7 || memcmp(q->r.out, "staged\n", 7)) {
		stage_why(&q->r, why, sizeof(why));
		verr_set(e, "staging %s on %s: %s", sha256, host, why);
		rc = -EIO;
	}
	ssh_run_result_release(&q->r);
	return rc;
}

int fleet_stage(struct ssh_loop *l, struct ssh_conn *c, const char *workdir,
		const void *data, size_t len, const char *sha256,
		enum fleet_stage_kind kind, unsigned timeout_ms, struct verr *e)
{
	struct ssh_run_req q;
	int rc;

	rc = fleet_stage_prepare(&q, c, workdir, data, len, sha256, kind, e);
	if (rc)
		return rc;
	ssh_run_all(l, &q, 1, timeout_ms, e);
	return fleet_stage_finish(&q, sha256, e);
}
