/*
 * fuzz_inventory.c - libFuzzer target for the fleet inventory: the input is
 * loaded as an inventory file (inventory_load_buffer), and separately used
 * as a --limit string on a fixed inventory.  Build: make fuzz.
 *
 * What must hold besides "no crash, no leak, no hang": a refusal is a
 * negative errno with a message and leaves nothing behind; a loaded
 * inventory has 1..4096 hosts with unique names, every field within the
 * bounds vmorch-hosts(5) documents, and each host can be selected alone by
 * --limit and placed by its own labels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT_SPEC_MAX	4096

static void fuzz_fail(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_inventory: %s: %s\n", why, detail ? detail : "");
	abort();
}

static bool word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '.' || *s == '-' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

static void host_check(const struct inv_host *h)
{
	if (!word_ok(h->name, INV_NAME_MAX))
		fuzz_fail("bad host name loaded", h->name);
	if (!h->address || !h->address[0] || !h->user || !h->user[0])
		fuzz_fail("empty address or user", h->name);
	if (h->port < 1 || h->port > 65535 || h->slots < 1 || h->slots > 256)
		fuzz_fail("port or slots out of range", h->name);
	if (h->keepalive_ms < 100 || h->keepalive_ms > 3600000 ||
	    h->keepalive_max < 1 || h->keepalive_max > 100)
		fuzz_fail("keepalive out of range", h->name);
	if (!h->known_hosts || h->known_hosts[0] != '/')
		fuzz_fail("known_hosts not absolute", h->known_hosts);
	if (!h->workdir || h->workdir[0] != '/' || strlen(h->workdir) < 2 ||
	    h->workdir[strlen(h->workdir) - 1] == '/')
		fuzz_fail("workdir not a plain absolute path", h->workdir);
	if (h->n_identity > INV_IDENTITIES_MAX)
		fuzz_fail("too many identities", h->name);
	for (size_t i = 0; i < h->n_identity; i++)
		if (h->identity[i][0] != '/')
			fuzz_fail("identity not absolute", h->identity[i]);
	if (h->n_labels > INV_LABELS_MAX)
		fuzz_fail("too many labels", h->name);
	for (size_t i = 0; i < h->n_labels; i++)
		if (!word_ok(h->labels[i], INV_NAME_MAX))
			fuzz_fail("bad label loaded", h->labels[i]);
	if ((unsigned)h->host_key_check > INV_HKC_OFF)
		fuzz_fail("bad host key policy", h->name);
}

/* Selecting the last host by name keeps exactly that host. */
static void limit_check(struct inventory *inv)
{
	char name[INV_NAME_MAX + 1];
	struct verr e = { "" };
	bool off = false;

	snprintf(name, sizeof(name), "%s", inv->hosts[inv->n - 1].name);
	for (size_t i = 0; i < inv->n; i++)
		off |= inv->hosts[i].host_key_check == INV_HKC_OFF;
	if (off != inv->host_key_check_off)
		fuzz_fail("host_key_check_off does not match the hosts", NULL);
	if (inv->hosts[0].n_labels &&
	    !inventory_can_place(inv, (const char *const *)inv->hosts[0].labels,
				 inv->hosts[0].n_labels))
		fuzz_fail("a host's own labels do not place", inv->hosts[0].name);
	if (inventory_limit(inv, name, &e))
		fuzz_fail("--limit by a loaded name fails", e.msg);
	if (inv->n != 1 || strcmp(inv->hosts[0].name, name) != 0)
		fuzz_fail("--limit by name kept other hosts", name);
}

static void load_check(const uint8_t *data, size_t size)
{
	struct inventory inv;
	struct verr e = { "" };
	int rc;

	rc = inventory_load_buffer("fuzz.yaml", (const char *)data, size, &inv, &e);
	if (rc) {
		if (rc >= 0 || rc < -4095 || !e.msg[0] || inv.hosts || inv.n || inv.path)
			fuzz_fail("refusal without a negative errno and a message", e.msg);
		return;
	}
	if (!inv.n || inv.n > INVENTORY_HOSTS_MAX)
		fuzz_fail("host count out of range", NULL);
	for (size_t i = 0; i < inv.n; i++) {
		host_check(&inv.hosts[i]);
		if (inventory_find(&inv, inv.hosts[i].name) != &inv.hosts[i])
			fuzz_fail("duplicate host name loaded", inv.hosts[i].name);
	}
	limit_check(&inv);
	inventory_release(&inv);
}

/* The input as a --limit string on a small fixed inventory. */
static void limit_spec_check(const uint8_t *data, size_t size)
{
	static const char lab[] =
		"vmorch-hosts: 1\n"
		"hosts:\n"
		"  - name: kvm01\n    labels: [amd, nvme]\n"
		"  - name: kvm[02-16]\n"
		"  - name: rack[1-2]-n[01-04]\n    labels: [intel]\n";
	struct inventory inv;
	struct verr e = { "" };
	char *spec;
	size_t n0;
	int rc;

	if (size > LIMIT_SPEC_MAX)
		return;
	if (inventory_load_buffer("lab.yaml", lab, sizeof(lab) - 1, &inv, &e))
		fuzz_fail("the fixed inventory does not load", e.msg);
	spec = strndup((const char *)data, size);
	if (!spec)
		abort();
	n0 = inv.n;
	rc = inventory_limit(&inv, spec, &e);
	if (rc && (rc >= 0 || inv.n != n0 || strncmp(e.msg, "--limit: ", 9) != 0))
		fuzz_fail("--limit refused without its message or changed hosts", e.msg);
	if (!rc && (!inv.n || inv.n > n0))
		fuzz_fail("--limit accepted but kept no hosts", spec);
	free(spec);
	inventory_release(&inv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_check(data, size);
	limit_spec_check(data, size);
	return 0;
}
