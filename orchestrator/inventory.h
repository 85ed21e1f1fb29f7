/*
 * inventory.h - the fleet inventory (`vmorch-hosts: 1`, vmorch-hosts(5)):
 * which KVM hosts a run may use and how to reach them.  Loading resolves
 * everything (ranges expanded, defaults applied, ~ expanded), so the SSH
 * side reads plain fields and never looks at YAML.
 */
#ifndef VMORCH_INVENTORY_H
#define VMORCH_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

#define INVENTORY_VERSION	1
#define INVENTORY_FILE_MAX	(1U << 20)	/* bytes */
#define INVENTORY_HOSTS_MAX	4096		/* after range expansion */
#define INV_NAME_MAX		63		/* host names and labels */
#define INV_LABELS_MAX		32		/* per host */
#define INV_IDENTITIES_MAX	8		/* identity files per host */

enum inv_host_key_check {
	INV_HKC_STRICT,		/* unknown or changed key: refused */
	INV_HKC_ACCEPT_NEW,	/* unknown key: appended to known_hosts; changed: refused */
	INV_HKC_OFF,		/* not checked: the CLI demands a flag and warns */
};

struct inv_host {
	char name[INV_NAME_MAX + 1];
	char *address;			/* host name or IP literal, no brackets */
	char *user;
	unsigned port;			/* 1..65535 */
	char **identity;		/* absolute paths, tried in order after */
	size_t n_identity;		/* the agent; 0: the agent only */
	char *known_hosts;		/* absolute path */
	enum inv_host_key_check host_key_check;
	unsigned slots;			/* jobs at once, 1..256 */
	char *workdir;			/* absolute on the host, no trailing '/' */
	uint64_t keepalive_ms;		/* interval between keepalives */
	unsigned keepalive_max;		/* silent intervals before the host is lost */
	char **labels;
	size_t n_labels;
	unsigned line, col;		/* the entry's name in the file */
};

struct inventory {
	char *path;			/* as given, for messages */
	struct inv_host *hosts;		/* in file order, ranges in place */
	size_t n;
	bool host_key_check_off;	/* some host has host_key_check: off */
};

/*
 * Read @path once (a regular file or a FIFO such as `<(...)`; anything else
 * is refused before reading), parse and resolve it into @inv.  0, or a
 * negative errno with one message in @e: "path:line:col: what is wrong
 * (what was expected)" for the file's content, "path: reason" for the file
 * itself.  On failure @inv is left empty.
 */
int inventory_load(const char *path, struct inventory *inv, struct verr *e);

/* The same from memory (tests, fuzzing); @path only names the file. */
int inventory_load_buffer(const char *path, const char *buf, size_t len,
			  struct inventory *inv, struct verr *e);

/* Free what @inv holds and leave it empty. */
void inventory_release(struct inventory *inv);

/* Free what one host holds (inventory_release does it for every host). */
void inv_host_release(struct inv_host *h);

/*
 * Keep only the hosts that `--limit SPEC` selects: SPEC is a comma-separated
 * list of host names, ranges (kvm[01-04]) and labels; a host is kept when
 * any entry names it or one of its labels.  An entry that selects nothing,
 * or an empty entry, is refused with -EINVAL and a message naming it; @inv
 * is then unchanged.  Order is kept.
 */
int inventory_limit(struct inventory *inv, const char *spec, struct verr *e);

/* Some host has every one of @labels (with n == 0: there is a host). */
bool inventory_can_place(const struct inventory *inv,
			 const char *const *labels, size_t n);

/* The host named @name, or NULL. */
const struct inv_host *inventory_find(const struct inventory *inv,
				      const char *name);

bool inv_host_has_label(const struct inv_host *h, const char *label);

/* "strict", "accept-new", "off": as written in the file. */
const char *inv_host_key_check_name(enum inv_host_key_check c);

#endif
