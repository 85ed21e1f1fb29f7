/*
 * sshd_harness.h - C side of tests/fleet/sshd.sh: a directory of fake
 * fleet hosts (real sshd servers on 127.0.0.N) for one test program, torn
 * down at the end, or by the script's reaper if the program dies first.
 */
#ifndef VMORCH_TEST_SSHD_HARNESS_H
#define VMORCH_TEST_SSHD_HARNESS_H

#include <limits.h>
#include <stdbool.h>

#define FLEET_SSHD "/usr/sbin/sshd"

struct fleet {
	char dir[PATH_MAX];		/* everything lives here */
	char script[PATH_MAX];		/* tests/fleet/sshd.sh */
	char agent_sock[PATH_MAX];	/* after fleet_agent() */
};

/* Is sshd installed?  (Tests skip without it unless CI is set.) */
bool fleet_available(void);
/* A fresh directory with user keys id_ed25519 and id_rsa, authorized. */
int fleet_init(struct fleet *f);
/* Start host @n (127.0.0.@n) with host keys of @kind: "ed25519", "ecdsa",
   "rsa" or "both" (ed25519 and ecdsa). */
int fleet_start(struct fleet *f, int n, const char *kind, unsigned *port);
/* "crash", "partition", "heal" or "rekey" host @n. */
int fleet_host(struct fleet *f, const char *what, int n);
/* An ssh-agent holding @key (a file under the fleet dir). */
int fleet_agent(struct fleet *f, const char *key);
/* Kill everything and remove the directory. */
void fleet_stop(struct fleet *f);
/* "<dir>/<name>" in a static buffer per call site: copy it if kept. */
const char *fleet_path(const struct fleet *f, const char *name, char *buf, size_t size);
/* Host @n's @kind ("ed25519", "ecdsa", "rsa") public key: its type and
   its base64 key field. */
int fleet_host_pubkey(const struct fleet *f, int n, const char *kind, char *type,
		      size_t tsize, char *b64, size_t bsize);
/* The fingerprint ssh-keygen -lf -E sha256 prints for a .pub file. */
int fleet_fingerprint(const char *pubfile, char *fp, size_t size);

#endif
