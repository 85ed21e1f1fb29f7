/*
 * test_inventory.c - the fleet inventory (vmorch-hosts(5)): every malformed
 * file under tests/fixtures/inventory/bad/ is refused with its exact
 * "file:line:col: message", the documented example resolves to exactly its
 * sixteen hosts, ranges expand as pdsh writes them, and --limit and
 * placement select the hosts they say.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "orchestrator/inventory.h"

static const char *srcdir(void)
{
	const char *d = getenv("VMORCH_SRCDIR");

	return d && *d ? d : ".";
}

static void fixture_path(char *buf, size_t len, const char *sub, const char *file)
{
	snprintf(buf, len, "%s/tests/fixtures/inventory/%s/%s", srcdir(), sub, file);
}

/* ---- malformed files: one exact message each ---- */

struct bad_case {
	const char *file;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "address-bad-ipv6.yaml",
	  "address-bad-ipv6.yaml:4:14: bad address '2001:db8::g' (expected a host name, an IPv4 or an IPv6 address)" },
	{ "address-bad.yaml",
	  "address-bad.yaml:4:14: bad address 'kvm01.lab!' (expected a host name, an IPv4 or an IPv6 address)" },
	{ "address-brackets.yaml",
	  "address-brackets.yaml:4:14: bad address '[2001:db8::1]' (write an IPv6 address without brackets; the port is its own key)" },
	{ "address-partial-ipv4.yaml",
	  "address-partial-ipv4.yaml:4:14: bad address '10.1' (an IPv4 address is four decimal numbers, like 192.0.2.10)" },
	{ "alias.yaml",
	  "alias.yaml:6:11: aliases (*u) are not supported" },
	{ "anchor.yaml",
	  "anchor.yaml:2:11: anchors (&d) are not supported" },
	{ "comments-only.yaml",
	  "comments-only.yaml:1:1: empty inventory (expected a mapping starting with 'vmorch-hosts: 1')" },
	{ "complex-key.yaml",
	  "complex-key.yaml:4:7: mapping keys must be plain text, not a list" },
	{ "control-char.yaml",
	  "control-char.yaml:3:14: control character 0x01 is not allowed" },
	{ "defaults-labels.yaml",
	  "defaults-labels.yaml:3:3: 'labels' is set per host, not in defaults" },
	{ "defaults-list.yaml",
	  "defaults-list.yaml:3:3: 'defaults' must be a mapping, not a list" },
	{ "defaults-typo-key.yaml",
	  "defaults-typo-key.yaml:3:3: unknown key 'known-hosts' in defaults (did you mean known_hosts?)" },
	{ "defaults-unknown-key.yaml",
	  "defaults-unknown-key.yaml:3:3: unknown key 'ciphers' in defaults (expected one of: user, port, identity, known_hosts, host_key_check, slots, workdir, keepalive, keepalive_max)" },
	{ "dup-name-range.yaml",
	  "dup-name-range.yaml:4:11: duplicate host name 'kvm05' (first at 3:11)" },
	{ "dup-name.yaml",
	  "dup-name.yaml:5:11: duplicate host name 'kvm01' (first at 3:11)" },
	{ "dup-top-key.yaml",
	  "dup-top-key.yaml:4:1: duplicate key 'hosts' (first at 2:1)" },
	{ "empty.yaml",
	  "empty.yaml:1:1: empty inventory (expected a mapping starting with 'vmorch-hosts: 1')" },
	{ "host-dup-key.yaml",
	  "host-dup-key.yaml:5:5: duplicate key 'port' (first at 4:5)" },
	{ "host-key-check-bad.yaml",
	  "host-key-check-bad.yaml:3:19: bad host_key_check 'accept_new' (expected one of: strict, accept-new, off)" },
	{ "host-missing-name.yaml",
	  "host-missing-name.yaml:3:5: missing required key 'name' in host" },
	{ "host-scalar.yaml",
	  "host-scalar.yaml:3:5: a host must be a mapping, not a single value (expected '- name: HOST')" },
	{ "host-unknown-key.yaml",
	  "host-unknown-key.yaml:4:5: unknown key 'adress' in host (did you mean address?)" },
	{ "hosts-empty.yaml",
	  "hosts-empty.yaml:2:8: 'hosts' must not be empty" },
	{ "hosts-mapping.yaml",
	  "hosts-mapping.yaml:3:3: 'hosts' must be a list, not a mapping" },
	{ "identity-mapping.yaml",
	  "identity-mapping.yaml:3:13: 'identity' must be a path or a list of paths, not a mapping" },
	{ "identity-other-user.yaml",
	  "identity-other-user.yaml:3:13: identity '~bob/.ssh/id_ed25519': only ~/ (your own home) is expanded, not ~user" },
	{ "identity-relative.yaml",
	  "identity-relative.yaml:3:13: identity 'id_ed25519' is not an absolute path (expected /path or ~/path)" },
	{ "identity-too-many.yaml",
	  "identity-too-many.yaml:3:62: too many identity files (9, at most 8)" },
	{ "keepalive-max-zero.yaml",
	  "keepalive-max-zero.yaml:3:18: keepalive_max 0 out of range (expected 1..100)" },
	{ "keepalive-no-unit.yaml",
	  "keepalive-no-unit.yaml:3:14: bad time '5' (expected a time like 500ms or 5s)" },
	{ "keepalive-range.yaml",
	  "keepalive-range.yaml:4:16: keepalive 10ms out of range (expected 100ms..1h)" },
	{ "known-hosts-relative.yaml",
	  "known-hosts-relative.yaml:4:18: known_hosts '.ssh/known_hosts' is not an absolute path (expected /path or ~/path)" },
	{ "labels-bad.yaml",
	  "labels-bad.yaml:4:19: bad label 'fast disk' (expected letters, digits, '_', '.', '-')" },
	{ "labels-dup.yaml",
	  "labels-dup.yaml:4:25: duplicate label 'amd' (first at 4:14)" },
	{ "labels-nested.yaml",
	  "labels-nested.yaml:4:19: labels must be words, not a list" },
	{ "labels-scalar.yaml",
	  "labels-scalar.yaml:4:13: 'labels' must be a list, not a single value (write labels: [nvme])" },
	{ "missing-hosts.yaml",
	  "missing-hosts.yaml:1:1: missing required key 'hosts' (the list of hosts)" },
	{ "missing-version.yaml",
	  "missing-version.yaml:1:1: missing required key 'vmorch-hosts' (expected 'vmorch-hosts: 1' first)" },
	{ "name-bad-chars.yaml",
	  "name-bad-chars.yaml:3:11: bad host name 'kvm 01' (expected letters, digits, '_', '.', '-', and ranges like kvm[01-16])" },
	{ "name-comma.yaml",
	  "name-comma.yaml:3:11: bad host name 'kvm01,kvm02' (one host per entry; several hosts are a range like kvm[01,02])" },
	{ "name-empty.yaml",
	  "name-empty.yaml:3:11: 'name' must not be empty" },
	{ "name-list.yaml",
	  "name-list.yaml:3:11: 'name' must be a host name, not a list" },
	{ "name-numeric.yaml",
	  "name-numeric.yaml:3:11: host name '1234' cannot be its own address (an IPv4 address is four decimal numbers, like 192.0.2.10); give 'address'" },
	{ "name-too-long.yaml",
	  "name-too-long.yaml:3:11: host name too long (64 characters, at most 63)" },
	{ "not-utf8.yaml",
	  "not-utf8.yaml:4:17: file is not UTF-8 text (byte 0xe9)" },
	{ "passphrase.yaml",
	  "passphrase.yaml:4:3: 'passphrase' is not accepted: vmorch logs in with SSH keys or the ssh-agent only, and an inventory holds no secrets" },
	{ "password-nested.yaml",
	  "password-nested.yaml:4:5: 'Password' is not accepted: vmorch logs in with SSH keys or the ssh-agent only, and an inventory holds no secrets" },
	{ "password.yaml",
	  "password.yaml:5:5: 'password' is not accepted: vmorch logs in with SSH keys or the ssh-agent only, and an inventory holds no secrets" },
	{ "port-junk.yaml",
	  "port-junk.yaml:4:11: bad number 'ssh' (expected a whole number)" },
	{ "port-overflow.yaml",
	  "port-overflow.yaml:4:11: number '99999999999999999999999' is too large" },
	{ "port-too-big.yaml",
	  "port-too-big.yaml:4:11: port 65536 out of range (expected 1..65535)" },
	{ "port-zero.yaml",
	  "port-zero.yaml:3:9: port 0 out of range (expected 1..65535)" },
	{ "range-address.yaml",
	  "range-address.yaml:4:5: 'address' cannot be given for a host range: every host of 'kvm[02-16]' would get the same address" },
	{ "range-empty-item.yaml",
	  "range-empty-item.yaml:3:11: bad host range 'kvm[1,,3]': empty item in [1,,3]" },
	{ "range-empty.yaml",
	  "range-empty.yaml:3:11: bad host range 'kvm[]': empty brackets []" },
	{ "range-letters.yaml",
	  "range-letters.yaml:3:11: bad host range 'kvm[a-c]': unexpected 'a' in [a-c] (expected numbers like [1-3,7] or [01-16])" },
	{ "range-name-too-long.yaml",
	  "range-name-too-long.yaml:3:11: host range 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn[1-1000]' gives 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn1000', longer than 63 characters" },
	{ "range-numeric-names.yaml",
	  "range-numeric-names.yaml:3:11: host name '1' (from '[1-3]') cannot be its own address (an IPv4 address is four decimal numbers, like 192.0.2.10)" },
	{ "range-padding.yaml",
	  "range-padding.yaml:3:11: bad host range 'kvm[1-05]': 1-05 pads its bounds to different widths (write both with the same number of digits)" },
	{ "range-product-too-big.yaml",
	  "range-product-too-big.yaml:3:11: host range 'rack[1-100]-n[01-64]' expands to 6400 hosts (at most 4096)" },
	{ "range-reversed.yaml",
	  "range-reversed.yaml:3:11: bad host range 'kvm[5-2]': 5-2 is reversed (expected low-high)" },
	{ "range-self-dup.yaml",
	  "range-self-dup.yaml:3:11: host range 'node[1-3,2]' gives 'node2' twice" },
	{ "range-stray-bracket.yaml",
	  "range-stray-bracket.yaml:3:11: bad host range 'kvm01]': ']' without '['" },
	{ "range-too-big.yaml",
	  "range-too-big.yaml:3:11: host range 'n[1-5000]' expands to 5000 hosts (at most 4096)" },
	{ "range-total-too-big.yaml",
	  "range-total-too-big.yaml:4:11: more than 4096 hosts in the inventory (5000 with 'b[1-2000]')" },
	{ "range-unclosed.yaml",
	  "range-unclosed.yaml:3:11: bad host range 'kvm[01-16': '[' is not closed" },
	{ "root-list.yaml",
	  "root-list.yaml:1:1: an inventory must be a mapping, not a list" },
	{ "scenario-file.yaml",
	  "scenario-file.yaml:1:1: this is a scenario ('vmorch:'), not an inventory (expected 'vmorch-hosts: 1' first)" },
	{ "slots-mapping.yaml",
	  "slots-mapping.yaml:4:12: 'slots' must be a whole number, not a mapping" },
	{ "slots-range.yaml",
	  "slots-range.yaml:3:10: slots 257 out of range (expected 1..256)" },
	{ "syntax-bad-indent.yaml",
	  "syntax-bad-indent.yaml:4:4: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at line 3)" },
	{ "syntax-tab.yaml",
	  "syntax-tab.yaml:3:1: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 3)" },
	{ "syntax-unclosed-quote.yaml",
	  "syntax-unclosed-quote.yaml:4:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at line 3)" },
	{ "tag.yaml",
	  "tag.yaml:4:11: tags (tag:yaml.org,2002:int) are not supported" },
	{ "two-documents.yaml",
	  "two-documents.yaml:3:1: more than one YAML document (expected one inventory per file)" },
	{ "unknown-top-key-far.yaml",
	  "unknown-top-key-far.yaml:2:1: unknown key 'fleet' in the top level (expected one of: vmorch-hosts, defaults, hosts)" },
	{ "unknown-top-key.yaml",
	  "unknown-top-key.yaml:2:1: unknown key 'host' in the top level (did you mean hosts?)" },
	{ "user-bad.yaml",
	  "user-bad.yaml:4:11: bad user 'ci@kvm01' (expected letters, digits, '_', '.', '-', not starting with '-')" },
	{ "user-empty.yaml",
	  "user-empty.yaml:3:9: 'user' must not be empty" },
	{ "version-2.yaml",
	  "version-2.yaml:1:15: unsupported inventory version '2' (expected vmorch-hosts: 1)" },
	{ "version-mapping.yaml",
	  "version-mapping.yaml:1:15: 'vmorch-hosts' must be the format version 1, not a mapping" },
	{ "version-not-first.yaml",
	  "version-not-first.yaml:3:1: 'vmorch-hosts' must be the first key (the format version)" },
	{ "workdir-dotdot.yaml",
	  "workdir-dotdot.yaml:4:14: workdir '/var/tmp/../vmorch' is not a plain path ('//', '.' and '..' are refused)" },
	{ "workdir-relative.yaml",
	  "workdir-relative.yaml:3:12: workdir 'var/tmp/vmorch' is not an absolute path (expected a directory on the host, like /var/tmp/vmorch)" },
	{ "workdir-root.yaml",
	  "workdir-root.yaml:4:14: workdir '/' is the root directory (expected a directory of its own, like /var/tmp/vmorch)" },
	{ "workdir-space.yaml",
	  "workdir-space.yaml:4:14: workdir '/var/tmp/my vmorch' has a character other than letters, digits and . _ + - / (it is used in commands run on the host)" },
	{ "workdir-tilde.yaml",
	  "workdir-tilde.yaml:4:14: workdir '~/vmorch': ~ is not expanded on the host (expected an absolute path, like /var/tmp/vmorch)" },
};

#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Each bad file is refused with exactly its message, position included. */
static void test_bad_files_exact_messages(void **state)
{
	char dir[PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	fixture_path(dir, sizeof(dir), "bad", "");
	/* Loaded by bare name, so the message starts with just the file name. */
	assert_int_equal(chdir(dir), 0);
	for (size_t i = 0; i < NBAD; i++) {
		struct inventory inv;
		struct verr e = { "" };
		int r = inventory_load(bad_cases[i].file, &inv, &e);

		if (r == 0 || strcmp(e.msg, bad_cases[i].msg) != 0)
			print_error("%s:\n  got:  %s\n  want: %s\n", bad_cases[i].file,
				    e.msg, bad_cases[i].msg);
		assert_int_equal(r, -EINVAL);
		assert_null(inv.hosts);
		assert_int_equal(inv.n, 0);
		assert_string_equal(e.msg, bad_cases[i].msg);
	}
	assert_int_equal(chdir(cwd), 0);
}

/* Every file in bad/ has a row in the table, and there are at least 30. */
static void test_bad_table_covers_every_file(void **state)
{
	char dir[PATH_MAX], cmd[PATH_MAX + 64];
	size_t nfiles = 0;
	FILE *p;

	fixture_path(dir, sizeof(dir), "bad", "");
	snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(cmd, sizeof(cmd), p)) {
		bool found = false;

		cmd[strcspn(cmd, "\n")] = 0;
		for (size_t i = 0; i < NBAD; i++)
			found |= strcmp(bad_cases[i].file, cmd) == 0;
		if (!found)
			print_error("no expectation for %s\n", cmd);
		assert_true(found);
		nfiles++;
	}
	pclose(p);
	assert_int_equal(nfiles, NBAD);
	assert_true(nfiles >= 30);
}

static int load_text(const char *text, struct inventory *inv, struct verr *e)
{
	return inventory_load_buffer("mem.yaml", text, strlen(text), inv, e);
}

static void load_ok(const char *text, struct inventory *inv)
{
	struct verr e = { "" };

	if (load_text(text, inv, &e))
		print_error("%s\n", e.msg);
	assert_non_null(inv->hosts);
}

static void refused(const char *text, const char *msg)
{
	struct inventory inv;
	struct verr e = { "" };

	assert_int_equal(load_text(text, &inv, &e), -EINVAL);
	assert_string_equal(e.msg, msg);
	assert_int_equal(inv.n, 0);
}

/* ---- the documented example ---- */

static int home_setup(void **state)
{
	return setenv("HOME", "/home/tester", 1);
}

static void load_lab(struct inventory *inv)
{
	char path[PATH_MAX];
	struct verr e = { "" };

	fixture_path(path, sizeof(path), "good", "lab.yaml");
	if (inventory_load(path, inv, &e))
		print_error("%s\n", e.msg);
	assert_int_equal(inv->n, 16);
}

/* kvm01 as written, its slots and user over the defaults. */
static void test_lab_first_host_overrides(void **state)
{
	struct inventory inv;
	const struct inv_host *h;

	load_lab(&inv);
	h = &inv.hosts[0];
	assert_string_equal(h->name, "kvm01");
	assert_string_equal(h->address, "192.0.2.10");
	assert_string_equal(h->user, "root");
	assert_int_equal(h->port, 22);
	assert_int_equal(h->n_identity, 1);
	assert_string_equal(h->identity[0], "/home/tester/.ssh/id_ed25519");
	assert_string_equal(h->known_hosts, "/home/tester/.ssh/known_hosts");
	assert_int_equal(h->host_key_check, INV_HKC_STRICT);
	assert_int_equal(h->slots, 8);
	assert_string_equal(h->workdir, "/var/tmp/vmorch");
	assert_int_equal(h->keepalive_ms, 5000);
	assert_int_equal(h->keepalive_max, 3);
	assert_int_equal(h->n_labels, 2);
	assert_string_equal(h->labels[0], "amd");
	assert_string_equal(h->labels[1], "nvme");
	assert_int_equal(h->line, 15);
	assert_int_equal(h->col, 11);
	assert_false(inv.host_key_check_off);
	inventory_release(&inv);
}

/* kvm[02-16]: fifteen hosts, padded, each its own address, all defaults. */
static void test_lab_range_hosts_take_defaults(void **state)
{
	struct inventory inv;
	char want[16];

	load_lab(&inv);
	for (size_t i = 1; i < 16; i++) {
		const struct inv_host *h = &inv.hosts[i];

		snprintf(want, sizeof(want), "kvm%02zu", i + 1);
		assert_string_equal(h->name, want);
		assert_string_equal(h->address, want);
		assert_string_equal(h->user, "ci");
		assert_int_equal(h->port, 22);
		assert_int_equal(h->n_identity, 1);
		assert_string_equal(h->identity[0], "/home/tester/.ssh/id_ed25519");
		assert_string_equal(h->known_hosts, "/home/tester/.ssh/known_hosts");
		assert_int_equal(h->host_key_check, INV_HKC_STRICT);
		assert_int_equal(h->slots, 4);
		assert_string_equal(h->workdir, "/var/tmp/vmorch");
		assert_int_equal(h->keepalive_ms, 5000);
		assert_int_equal(h->keepalive_max, 3);
		assert_int_equal(h->n_labels, 0);
		assert_null(h->labels);
		assert_int_equal(h->line, 20);
		assert_int_equal(h->col, 11);
	}
	assert_string_equal(inv.path + strlen(inv.path) - 8, "lab.yaml");
	inventory_release(&inv);
	assert_null(inv.hosts);
	assert_int_equal(inv.n, 0);
}

/* With no defaults at all, each key takes the value vmorch-hosts(5) gives. */
static void test_builtin_defaults(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	struct inventory inv;
	const struct inv_host *h;

	if (!pw)
		skip();		/* a uid without a name has no default user */
	load_ok("vmorch-hosts: 1\nhosts:\n  - name: kvm01\n", &inv);
	assert_int_equal(inv.n, 1);
	h = &inv.hosts[0];
	assert_string_equal(h->address, "kvm01");
	assert_string_equal(h->user, pw->pw_name);
	assert_int_equal(h->port, 22);
	assert_int_equal(h->n_identity, 0);
	assert_null(h->identity);
	assert_string_equal(h->known_hosts, "/home/tester/.ssh/known_hosts");
	assert_int_equal(h->host_key_check, INV_HKC_STRICT);
	assert_int_equal(h->slots, 1);
	assert_string_equal(h->workdir, "/var/tmp/vmorch");
	assert_int_equal(h->keepalive_ms, 5000);
	assert_int_equal(h->keepalive_max, 3);
	assert_int_equal(h->line, 3);
	assert_int_equal(h->col, 11);
	inventory_release(&inv);
}

/* A HOME that is not absolute is ignored for the passwd entry's, as ssh does. */
static void test_relative_home_uses_passwd(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	struct inventory inv;
	char want[PATH_MAX];

	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
		skip();
	snprintf(want, sizeof(want), "%s/.ssh/known_hosts",
		 strcmp(pw->pw_dir, "/") == 0 ? "" : pw->pw_dir);
	assert_int_equal(setenv("HOME", "relative/home", 1), 0);
	load_ok("vmorch-hosts: 1\nhosts:\n  - name: kvm01\n", &inv);
	assert_int_equal(setenv("HOME", "/home/tester", 1), 0);
	assert_string_equal(inv.hosts[0].known_hosts, want);
	inventory_release(&inv);
}

/* Every default key given per host replaces the defaults' value. */
static void test_every_key_per_host(void **state)
{
	struct inventory inv;
	const struct inv_host *h;

	load_ok("vmorch-hosts: 1\n"
		"defaults: {user: ci, port: 22, slots: 2, keepalive: 5s}\n"
		"hosts:\n"
		"  - name: kvm01.lab.example.\n"
		"    address: 2001:db8::10\n"
		"    user: builder\n"
		"    port: 2222\n"
		"    identity: [~/.ssh/id_ed25519, /etc/vmorch/fleet_key]\n"
		"    known_hosts: /etc/vmorch/known_hosts\n"
		"    host_key_check: accept-new\n"
		"    slots: 256\n"
		"    workdir: /srv/vmorch-2.0/\n"
		"    keepalive: 1500ms\n"
		"    keepalive_max: 100\n"
		"    labels: [intel, sata, gpu_a100]\n", &inv);
	h = &inv.hosts[0];
	assert_string_equal(h->name, "kvm01.lab.example.");
	assert_string_equal(h->address, "2001:db8::10");
	assert_string_equal(h->user, "builder");
	assert_int_equal(h->port, 2222);
	assert_int_equal(h->n_identity, 2);
	assert_string_equal(h->identity[0], "/home/tester/.ssh/id_ed25519");
	assert_string_equal(h->identity[1], "/etc/vmorch/fleet_key");
	assert_string_equal(h->known_hosts, "/etc/vmorch/known_hosts");
	assert_int_equal(h->host_key_check, INV_HKC_ACCEPT_NEW);
	assert_int_equal(h->slots, 256);
	assert_string_equal(h->workdir, "/srv/vmorch-2.0");	/* '/' dropped */
	assert_int_equal(h->keepalive_ms, 1500);
	assert_int_equal(h->keepalive_max, 100);
	assert_int_equal(h->n_labels, 3);
	assert_string_equal(h->labels[2], "gpu_a100");
	inventory_release(&inv);
}

/* identity: [] on a host means the agent only, whatever the defaults say. */
static void test_identity_empty_list_overrides(void **state)
{
	struct inventory inv;

	load_ok("vmorch-hosts: 1\n"
		"defaults:\n  identity: /keys/a\n"
		"hosts:\n"
		"  - name: kvm01\n"
		"  - name: kvm02\n    identity: []\n", &inv);
	assert_int_equal(inv.hosts[0].n_identity, 1);
	assert_string_equal(inv.hosts[0].identity[0], "/keys/a");
	assert_int_equal(inv.hosts[1].n_identity, 0);
	inventory_release(&inv);
}

/* host_key_check: off is allowed, and recorded for the CLI to insist on. */
static void test_check_off_recorded(void **state)
{
	struct inventory inv;

	load_ok("vmorch-hosts: 1\n"
		"hosts:\n"
		"  - name: kvm01\n"
		"  - name: scratch\n    host_key_check: off\n", &inv);
	assert_true(inv.host_key_check_off);
	assert_int_equal(inv.hosts[0].host_key_check, INV_HKC_STRICT);
	assert_int_equal(inv.hosts[1].host_key_check, INV_HKC_OFF);
	assert_string_equal(inv_host_key_check_name(INV_HKC_OFF), "off");
	assert_string_equal(inv_host_key_check_name(INV_HKC_ACCEPT_NEW), "accept-new");
	assert_string_equal(inv_host_key_check_name(INV_HKC_STRICT), "strict");
	inventory_release(&inv);
}

/* ---- ranges ---- */

static void assert_names(const char *name_line, const char *const *want, size_t n)
{
	char text[512];
	struct inventory inv;

	snprintf(text, sizeof(text), "vmorch-hosts: 1\nhosts:\n  - name: \"%s\"\n",
		 name_line);
	load_ok(text, &inv);
	assert_int_equal(inv.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(inv.hosts[i].name, want[i]);
	inventory_release(&inv);
}

/* A list of numbers and ranges, in the order written. */
static void test_range_list(void **state)
{
	static const char *const want[] = { "node1", "node2", "node3", "node7" };
	static const char *const back[] = { "n9", "n3", "n4" };

	assert_names("node[1-3,7]", want, 4);
	assert_names("n[9,3-4]", back, 3);
}

/* Several ranges: the product, the first varying slowest. */
static void test_range_product(void **state)
{
	static const char *const want[] = {
		"rack1-n01", "rack1-n02", "rack1-n03", "rack1-n04",
		"rack2-n01", "rack2-n02", "rack2-n03", "rack2-n04",
	};

	assert_names("rack[1-2]-n[01-04]", want, 8);
}

/* A zero-padded low bound sets the width; wider numbers keep their digits. */
static void test_range_padding(void **state)
{
	static const char *const pad[] = { "kvm08", "kvm09", "kvm10" };
	static const char *const one[] = { "x007" };
	static const char *const zero[] = { "v0", "v1", "v2" };
	struct inventory inv;

	assert_names("kvm[08-10]", pad, 3);
	assert_names("x[007]", one, 1);
	assert_names("v[0-2]", zero, 3);
	load_ok("vmorch-hosts: 1\nhosts:\n  - name: n[01-100]\n", &inv);
	assert_int_equal(inv.n, 100);
	assert_string_equal(inv.hosts[0].name, "n01");
	assert_string_equal(inv.hosts[98].name, "n99");
	assert_string_equal(inv.hosts[99].name, "n100");
	inventory_release(&inv);
}

/* 4096 hosts are the most one inventory holds. */
static void test_range_limit_4096(void **state)
{
	struct inventory inv;

	load_ok("vmorch-hosts: 1\nhosts:\n  - name: n[1-4096]\n", &inv);
	assert_int_equal(inv.n, 4096);
	assert_string_equal(inv.hosts[4095].name, "n4096");
	inventory_release(&inv);
	refused("vmorch-hosts: 1\nhosts:\n  - name: n[0-4096]\n",
		"mem.yaml:3:11: host range 'n[0-4096]' expands to 4097 hosts (at most 4096)");
	refused("vmorch-hosts: 1\nhosts:\n  - name: a\n  - name: n[1-4096]\n",
		"mem.yaml:4:11: more than 4096 hosts in the inventory (4097 with 'n[1-4096]')");
	refused("vmorch-hosts: 1\nhosts:\n  - name: n[1-4096]\n  - name: a\n",
		"mem.yaml:4:11: more than 4096 hosts in the inventory");
}

/* Brackets whose product overflows 64 bits are refused, not wrapped round. */
static void test_range_overflow(void **state)
{
	refused("vmorch-hosts: 1\nhosts:\n  - name: a[0-999999999]b[0-999999999]c[0-999999999]\n",
		"mem.yaml:3:11: host range 'a[0-999999999]b[0-999999999]c[0-999999999]' expands to too many hosts (at most 4096)");
	refused("vmorch-hosts: 1\nhosts:\n  - name: a[1234567890]\n",
		"mem.yaml:3:11: bad host range 'a[1234567890]': number in [1234567890] has more than 9 digits");
}

/* ---- --limit ---- */

static void assert_kept(const struct inventory *inv, const char *const *want,
			size_t n)
{
	assert_int_equal(inv->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(inv->hosts[i].name, want[i]);
}

static void test_limit_by_name(void **state)
{
	static const char *const want[] = { "kvm03" };
	struct inventory inv;
	struct verr e = { "" };

	load_lab(&inv);
	assert_int_equal(inventory_limit(&inv, "kvm03", &e), 0);
	assert_kept(&inv, want, 1);
	assert_string_equal(inv.hosts[0].address, "kvm03");
	inventory_release(&inv);
}

static void test_limit_by_label(void **state)
{
	static const char *const want[] = { "kvm01" };
	struct inventory inv;
	struct verr e = { "" };

	load_lab(&inv);
	assert_int_equal(inventory_limit(&inv, "nvme", &e), 0);
	assert_kept(&inv, want, 1);
	inventory_release(&inv);
}

/* Names, ranges (their commas inside brackets) and labels: a union, in file order. */
static void test_limit_union_keeps_order(void **state)
{
	static const char *const want[] = { "kvm01", "kvm07", "kvm15", "kvm16" };
	struct inventory inv;
	struct verr e = { "" };

	load_lab(&inv);
	assert_int_equal(inventory_limit(&inv, "kvm[15-16,07],amd,kvm16", &e), 0);
	assert_kept(&inv, want, 4);
	inventory_release(&inv);
}

/* An entry that selects nothing is named, and nothing is dropped. */
static void test_limit_errors(void **state)
{
	/* @msg, then " in <path>" when @in_file. */
	static const struct { const char *spec, *msg; bool in_file; } cases[] = {
		{ "kvm99", "--limit: 'kvm99' is neither a host nor a label", true },
		{ "amd,intel", "--limit: 'intel' is neither a host nor a label", true },
		{ "kvm[15-17]", "--limit: 'kvm17' (from 'kvm[15-17]') is not a host", true },
		{ "kvm[5-2]", "--limit: bad host range 'kvm[5-2]': 5-2 is reversed (expected low-high)", false },
		{ "amd,", "--limit: empty entry (expected host names, ranges or labels separated by ',')", false },
		{ "", "--limit: empty entry (expected host names, ranges or labels separated by ',')", false },
		{ "n[1-5000]", "--limit: host range 'n[1-5000]' expands to more than 4096 hosts", false },
	};
	struct inventory inv;
	char want[PATH_MAX + 128];

	load_lab(&inv);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verr e = { "" };

		assert_int_equal(inventory_limit(&inv, cases[i].spec, &e), -EINVAL);
		snprintf(want, sizeof(want), "%s%s%s", cases[i].msg,
			 cases[i].in_file ? " in " : "", cases[i].in_file ? inv.path : "");
		assert_string_equal(e.msg, want);
		assert_int_equal(inv.n, 16);
	}
	inventory_release(&inv);
}

/* Limiting away the only host with host_key_check: off clears the flag. */
static void test_limit_recomputes_check_off(void **state)
{
	struct inventory inv;
	struct verr e = { "" };

	load_ok("vmorch-hosts: 1\nhosts:\n  - name: a\n  - name: b\n    host_key_check: off\n",
		&inv);
	assert_true(inv.host_key_check_off);
	assert_int_equal(inventory_limit(&inv, "a", &e), 0);
	assert_false(inv.host_key_check_off);
	inventory_release(&inv);
}

/* ---- placement ---- */

/* Every label must be on one host: two hosts with one label each are not enough. */
static void test_can_place_needs_one_host_with_all(void **state)
{
	static const char *const amd_nvme[] = { "amd", "nvme" };
	static const char *const nvme[] = { "nvme" };
	static const char *const intel[] = { "intel" };
	static const char *const amd_sata[] = { "amd", "sata" };
	struct inventory inv;
	struct verr e = { "" };

	load_ok("vmorch-hosts: 1\nhosts:\n"
		"  - name: a\n    labels: [amd, nvme]\n"
		"  - name: b\n    labels: [sata]\n"
		"  - name: c\n", &inv);
	assert_true(inventory_can_place(&inv, amd_nvme, 2));
	assert_true(inventory_can_place(&inv, nvme, 1));
	assert_true(inventory_can_place(&inv, NULL, 0));
	assert_false(inventory_can_place(&inv, intel, 1));
	assert_false(inventory_can_place(&inv, amd_sata, 2));
	assert_int_equal(inventory_limit(&inv, "b,c", &e), 0);
	assert_false(inventory_can_place(&inv, nvme, 1));
	assert_true(inventory_can_place(&inv, NULL, 0));
	assert_true(inv_host_has_label(inventory_find(&inv, "b"), "sata"));
	assert_null(inventory_find(&inv, "a"));
	inventory_release(&inv);
}

/* ---- the file itself ---- */

/* Only regular files and FIFOs: a directory or a device is not read. */
static void test_file_kinds_refused(void **state)
{
	struct inventory inv;
	struct verr e = { "" };

	assert_int_equal(inventory_load("/", &inv, &e), -EISDIR);
	assert_string_equal(e.msg, "/: is a directory (expected an inventory file or a pipe)");
	assert_int_equal(inventory_load("/dev/null", &inv, &e), -EINVAL);
	assert_string_equal(e.msg, "/dev/null: is a character device (expected an inventory file or a pipe)");
	assert_int_equal(inventory_load("/nonexistent/lab.yaml", &inv, &e), -ENOENT);
	assert_string_equal(e.msg, "/nonexistent/lab.yaml: cannot open: No such file or directory");
	assert_int_equal(inv.n, 0);
}

/* A FIFO (--hosts <(...)) is read to its end, once. */
static void test_fifo_read(void **state)
{
	static const char text[] = "vmorch-hosts: 1\nhosts:\n  - name: piped[1-2]\n";
	char dir[] = "/tmp/vmorch-inv-XXXXXX", fifo[64];
	struct inventory inv;
	struct verr e = { "" };
	int status;
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/lab.yaml", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		alarm(20);
		fd = open(fifo, O_WRONLY);
		if (fd < 0 || write(fd, text, 20) != 20)
			_exit(1);
		usleep(50 * 1000);
		_exit(write(fd, text + 20, sizeof(text) - 21) == sizeof(text) - 21 ? 0 : 1);
	}
	alarm(30);
	if (inventory_load(fifo, &inv, &e))
		print_error("%s\n", e.msg);
	alarm(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(inv.n, 2);
	assert_string_equal(inv.hosts[1].name, "piped2");
	inventory_release(&inv);
	unlink(fifo);
	rmdir(dir);
}

/* More than 1 MiB is refused before parsing. */
static void test_large_file_refused(void **state)
{
	size_t len = INVENTORY_FILE_MAX + 1;
	char *big = malloc(len);
	struct inventory inv;
	struct verr e = { "" };

	assert_non_null(big);
	memset(big, '#', len);
	assert_int_equal(inventory_load_buffer("mem.yaml", big, len, &inv, &e), -EFBIG);
	assert_string_equal(e.msg, "mem.yaml: file too large (1048577 bytes, at most 1048576)");
	free(big);
}

/* Nesting is bounded, and a NUL escape is refused rather than cut short. */
static void test_hostile_yaml(void **state)
{
	char text[256] = "vmorch-hosts: 1\nhosts: ";

	for (int i = 0; i < 40; i++)
		strcat(text, "[");
	refused(text, "mem.yaml:2:39: nesting deeper than 32 levels");
	refused("vmorch-hosts: 1\nhosts:\n  - name: \"kvm\\0\"\n",
		"mem.yaml:3:11: NUL characters are not allowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files_exact_messages),
		cmocka_unit_test(test_bad_table_covers_every_file),
		cmocka_unit_test(test_lab_first_host_overrides),
		cmocka_unit_test(test_lab_range_hosts_take_defaults),
		cmocka_unit_test(test_builtin_defaults),
		cmocka_unit_test(test_relative_home_uses_passwd),
		cmocka_unit_test(test_every_key_per_host),
		cmocka_unit_test(test_identity_empty_list_overrides),
		cmocka_unit_test(test_check_off_recorded),
		cmocka_unit_test(test_range_list),
		cmocka_unit_test(test_range_product),
		cmocka_unit_test(test_range_padding),
		cmocka_unit_test(test_range_limit_4096),
		cmocka_unit_test(test_range_overflow),
		cmocka_unit_test(test_limit_by_name),
		cmocka_unit_test(test_limit_by_label),
		cmocka_unit_test(test_limit_union_keeps_order),
		cmocka_unit_test(test_limit_errors),
		cmocka_unit_test(test_limit_recomputes_check_off),
		cmocka_unit_test(test_can_place_needs_one_host_with_all),
		cmocka_unit_test(test_file_kinds_refused),
		cmocka_unit_test(test_fifo_read),
		cmocka_unit_test(test_large_file_refused),
		cmocka_unit_test(test_hostile_yaml),
	};

	return cmocka_run_group_tests(tests, home_setup, NULL);
}
