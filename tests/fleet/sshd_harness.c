/*
 * sshd_harness.c - runs tests/fleet/sshd.sh for the C tests and reads what
 * it leaves behind (ports, host keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fleet/sshd_harness.h"

bool fleet_available(void)
{
	return access(FLEET_SSHD, X_OK) == 0;
}

/* Run the script with @args; its first output line goes to @out. */
static int run_script(struct fleet *f, const char *args, char *out, size_t size)
{
	char cmd[PATH_MAX * 2 + 256], line[512] = "";
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "bash '%s' %s", f->script, args);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (fgets(line, sizeof(line), p))
		line[strcspn(line, "\n")] = 0;
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	if (out)
		snprintf(out, size, "%s", line);
	if (st != 0) {
		fprintf(stderr, "sshd.sh %s failed (status %d)\n", args, st);
		return -EIO;
	}
	return 0;
}

int fleet_init(struct fleet *f)
{
	const char *src = getenv("VMORCH_SRCDIR");
	const char *tmp = getenv("TMPDIR");
	char args[PATH_MAX + 16], pid[32];

	memset(f, 0, sizeof(*f));
	snprintf(f->script, sizeof(f->script), "%s/tests/fleet/sshd.sh", src ? src : ".");
	snprintf(f->dir, sizeof(f->dir), "%s/vmorch-fleet.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -errno;
	/* The script's reaper cleans up after us if we die. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("SSHD_OWNER_PID", pid, 1);
	setenv("SSHD_REAP_RM", "1", 1);
	snprintf(args, sizeof(args), "keys '%s'", f->dir);
	return run_script(f, args, NULL, 0);
}

int fleet_start(struct fleet *f, int n, const char *kind, unsigned *port)
{
	char args[PATH_MAX + 64], out[128], addr[64];
	int rc;

	snprintf(args, sizeof(args), "start '%s' %d %s", f->dir, n, kind);
	rc = run_script(f, args, out, sizeof(out));
	if (rc)
		return rc;
	if (sscanf(out, "%63s %u", addr, port) != 2)
		return -EPROTO;
	return 0;
}

int fleet_host(struct fleet *f, const char *what, int n)
{
	char args[PATH_MAX + 32];

	snprintf(args, sizeof(args), "%s '%s' %d", what, f->dir, n);
	return run_script(f, args, NULL, 0);
}

int fleet_agent(struct fleet *f, const char *key)
{
	char args[PATH_MAX * 2 + 32];

	snprintf(args, sizeof(args), "agent '%s' '%s/%s'", f->dir, f->dir, key);
	return run_script(f, args, f->agent_sock, sizeof(f->agent_sock));
}

void fleet_stop(struct fleet *f)
{
	char args[PATH_MAX + 16], cmd[PATH_MAX + 16];

	if (!f->dir[0])
		return;
	snprintf(args, sizeof(args), "stopall '%s'", f->dir);
	run_script(f, args, NULL, 0);
	/* FLEET_KEEP=1 keeps the logs and configs for a look. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (getenv("FLEET_KEEP"))
		fprintf(stderr, "# fleet kept in %s\n", f->dir);
	else if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	f->dir[0] = 0;
}

const char *fleet_path(const struct fleet *f, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", f->dir, name);
	return buf;
}

int fleet_host_pubkey(const struct fleet *f, int n, const char *kind, char *type,
		      size_t tsize, char *b64, size_t bsize)
{
	char path[PATH_MAX + 64], line[4096], t[64], k[4000];
	FILE *in;
	int ok;

	snprintf(path, sizeof(path), "%s/h%d/ssh_host_%s_key.pub", f->dir, n, kind);
	in = fopen(path, "r");
	if (!in)
		return -errno;
	ok = fgets(line, sizeof(line), in) && sscanf(line, "%63s %3999s", t, k) == 2;
	fclose(in);
	if (!ok)
		return -EPROTO;
	snprintf(type, tsize, "%s", t);
	snprintf(b64, bsize, "%s", k);
	return 0;
}

int fleet_fingerprint(const char *pubfile, char *fp, size_t size)
{
	char cmd[PATH_MAX + 64], line[512] = "", bits[16], f[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ssh-keygen -lf '%s' -E sha256", pubfile);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	/* "256 SHA256:base64 comment (ED25519)" */
	if (sscanf(line, "%15s %127s", bits, f) != 2 || strncmp(f, "SHA256:", 7))
		return -EPROTO;
	snprintf(fp, size, "%s", f);
	return 0;
}
