/*
 * inventory.c - the fleet inventory (`vmorch-hosts: 1`, see inventory.h and
 * vmorch-hosts(5)): YAML through ytree and the getters scenarios use
 * (ytree_get.c), checked as strictly (one exact "file:line:col: message"
 * per mistake, with a suggestion for a misspelt key), then resolved host by
 * host: ranges expanded, per-host keys over `defaults:` over built-in
 * defaults, paths with ~ made absolute.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "orchestrator/host_range.h"
#include "orchestrator/inventory.h"
#include "orchestrator/units.h"
#include "orchestrator/ytree_get.h"

#define USER_MAX	32		/* as useradd(8) allows */
#define ADDRESS_MAX	253		/* RFC 1035 §2.3.4, without a final dot */
#define WORKDIR_MAX	1024
#define KEY_SUGGEST_MAX	32		/* longer typos get no suggestion */

/* ---- what a mapping may say ---- */

enum setting {
	S_USER, S_PORT, S_IDENTITY, S_KNOWN_HOSTS, S_HOST_KEY_CHECK, S_SLOTS,
	S_WORKDIR, S_KEEPALIVE, S_KEEPALIVE_MAX, S_COUNT
};

/* A host entry's keys; `defaults:` takes the settings, from S_USER on. */
static const char *const host_keys[] = {
	"name", "address", "labels",
	"user", "port", "identity", "known_hosts", "host_key_check", "slots",
	"workdir", "keepalive", "keepalive_max", NULL
};
#define HOST_ONLY_KEYS	3
static const char *const *const setting_keys = host_keys + HOST_ONLY_KEYS;

static const char *const top_keys[] = {
	"vmorch-hosts", "defaults", "hosts", NULL
};

static const char *const check_names[] = {
	[INV_HKC_STRICT] = "strict", [INV_HKC_ACCEPT_NEW] = "accept-new",
	[INV_HKC_OFF] = "off", NULL
};

/* Built-in defaults, as vmorch-hosts(5) documents them. */
#define DEFAULT_PORT		22
#define DEFAULT_KNOWN_HOSTS	"~/.ssh/known_hosts"
#define DEFAULT_SLOTS		1
#define DEFAULT_WORKDIR		"/var/tmp/vmorch"
#define DEFAULT_KEEPALIVE_MS	5000
#define DEFAULT_KEEPALIVE_MAX	3

/* One mapping's settings as written (defaults, or one host entry). */
struct opts {
	bool set[S_COUNT];
	char *user;
	unsigned port;
	char **identity;
	size_t n_identity;
	char *known_hosts;
	enum inv_host_key_check check;
	unsigned slots;
	char *workdir;
	uint64_t keepalive_ms;
	unsigned keepalive_max;
};

struct ctx {
	struct ytree_doc doc;		/* path and messages; no substitution */
	char *home;			/* found when ~ is first needed */
	char *login;			/* likewise, for the default user */
	struct opts defaults;
	struct inventory *inv;
	size_t cap;
	const struct ytree_node **name_at;	/* per host: its entry's name */
};

/* ---- messages ---- */

#define fail_at(c, node, ...) ytree_doc_fail(&(c)->doc, node, __VA_ARGS__)

static int oom(struct ctx *c)
{
	verr_set(c->doc.e, "%s: out of memory", c->doc.path);
	return -ENOMEM;
}

/* Letters that count as the same in a typo: case, and '-' for '_'. */
static int typo_fold(char ch)
{
	return ch == '-' ? '_' : tolower((unsigned char)ch);
}

/*
 * Optimal string alignment distance under typo_fold (known-hosts is
 * known_hosts): insertions, deletions, substitutions and swaps of
 * neighbours cost 1 each.
 */
static size_t typo_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[3][KEY_SUGGEST_MAX + 1];
	size_t *two = row[0], *one = row[1], *cur = row[2], *t;

	if (la > KEY_SUGGEST_MAX || lb > KEY_SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		one[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int x = typo_fold(a[i - 1]), y = typo_fold(b[j - 1]);
			size_t best = one[j - 1] + (x != y);

			if (one[j] + 1 < best)
				best = one[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && x == typo_fold(b[j - 2]) &&
			    y == typo_fold(a[i - 2]) && two[j - 2] + 1 < best)
				best = two[j - 2] + 1;
			cur[j] = best;
		}
		t = two;
		two = one;
		one = cur;
		cur = t;
	}
	return one[lb];
}

/* The allowed key nearest @typed, if it is near enough to be a typo. */
static const char *key_suggest(const char *typed, const char *const *allowed)
{
	size_t len = strlen(typed), limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	size_t best = SIZE_MAX;
	const char *pick = NULL;

	for (size_t i = 0; allowed[i]; i++) {
		size_t d = typo_distance(typed, allowed[i]);

		if (d <= limit && d < best) {
			best = d;
			pick = allowed[i];
		}
	}
	return pick;
}

static int check_keys(struct ctx *c, const struct ytree_node *m,
		      const char *const *allowed, const char *where)
{
	const struct ytree_node *k = ytree_unknown_key(m, allowed);
	const char *hint;

	if (!k)
		return 0;
	if (allowed == setting_keys)
		for (size_t j = 0; j < HOST_ONLY_KEYS; j++)
			if (strcmp(host_keys[j], k->text) == 0)
				return fail_at(c, k, "'%s' is set per host, not in defaults",
					       k->text);
	hint = key_suggest(k->text, allowed);
	if (hint)
		return fail_at(c, k, "unknown key '%s' in %s (did you mean %s?)",
			       k->text, where, hint);
	return ytree_check_keys(&c->doc, m, allowed, where);
}

/*
 * A password (or a key's passphrase) anywhere, even under an unknown key,
 * gets this message rather than "unknown key": it says what to do instead.
 */
static int check_no_secrets(struct ctx *c, const struct ytree_node *n)
{
	static const char *const secrets[] = { "password", "passwd", "passphrase" };
	int r;

	if (!n || n->kind == YTREE_SCALAR)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct ytree_node *k = n->kid[i];

		if (n->kind == YTREE_MAP && i % 2 == 0) {
			for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++)
				if (strcasecmp(k->text, secrets[s]) == 0)
					return fail_at(c, k, "'%s' is not accepted: vmorch logs in with SSH keys or the ssh-agent only, and an inventory holds no secrets",
						       k->text);
			continue;
		}
		r = check_no_secrets(c, k);
		if (r)
			return r;
	}
	return 0;
}

/* ---- typed values ---- */

/* port, slots, keepalive_max */
static int get_count(struct ctx *c, const struct ytree_node *n, const char *what,
		     const struct ytree_num *rule, unsigned *out)
{
	uint64_t v = 0;
	int r = ytree_get_number(&c->doc, n, what, rule, &v);

	if (!r)
		*out = (unsigned)v;
	return r;
}

/* [A-Za-z0-9_.-]: user names; host names and workdirs take a few more. */
static bool word_char(char ch)
{
	return ch == '_' || ch == '.' || ch == '-' || (ch >= '0' && ch <= '9') ||
	       (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool word_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!word_char(*s))
			return false;
	return true;
}

/* ---- paths ---- */

/* $HOME when it is absolute, else the passwd entry's: what ssh(1) uses. */
static int home_dir(struct ctx *c, const struct ytree_node *at, const char **out)
{
	const char *h = getenv("HOME");
	size_t len;

	if (!c->home) {
		if (!h || h[0] != '/') {
			struct passwd *pw = getpwuid(getuid());

			h = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
		}
		if (!h)
			return fail_at(c, at, "cannot expand '~': HOME is not set and user %u has no home directory",
				       (unsigned)getuid());
		c->home = strdup(h);
		if (!c->home)
			return oom(c);
		/* "/home/u/" and "/" alike: ~/x is home + "/x". */
		len = strlen(c->home);
		while (len && c->home[len - 1] == '/')
			c->home[--len] = 0;
	}
	*out = c->home;
	return 0;
}

/* @text with a leading "~/" made absolute, into *out (malloc'd). */
static int expand_tilde(struct ctx *c, const struct ytree_node *at,
			const char *text, char **out)
{
	const char *home = NULL;
	int r;

	if (text[0] != '~') {
		*out = strdup(text);
		return *out ? 0 : oom(c);
	}
	r = home_dir(c, at, &home);
	if (r)
		return r;
	if (asprintf(out, "%s%s", home, text + 1) < 0) {
		*out = NULL;
		return oom(c);
	}
	return 0;
}

/* A file on this machine: absolute, or under ~/. */
static int get_local_path(struct ctx *c, const struct ytree_node *n,
			  const char *what, char **out)
{
	const char *t = NULL;
	int r;

	r = ytree_get_text(&c->doc, n, what, &t);
	if (r)
		return r;
	if (strcmp(t, "~") == 0 || strcmp(t, "~/") == 0)
		return fail_at(c, n, "%s '%s' is the home directory, not a file", what, t);
	if (t[0] == '~' && t[1] != '/')
		return fail_at(c, n, "%s '%s': only ~/ (your own home) is expanded, not ~user",
			       what, t);
	if (t[0] != '/' && t[0] != '~')
		return fail_at(c, n, "%s '%s' is not an absolute path (expected /path or ~/path)",
			       what, t);
	if (strlen(t) >= PATH_MAX)
		return fail_at(c, n, "%s too long (at most %d bytes)", what, PATH_MAX - 1);
	return expand_tilde(c, n, t, out);
}

static bool workdir_char(char ch)
{
	return ch == '/' || ch == '+' || word_char(ch);
}

/*
 * A directory on the host.  It ends up in commands the host's shell runs,
 * so it keeps to characters no shell treats specially, and it is a plain
 * path: no ~ (it would be this machine's home), no "//", "." or "..".
 */
static int get_workdir(struct ctx *c, const struct ytree_node *n, char **out)
{
	const char *t = NULL, *p;
	size_t len;
	int r;

	r = ytree_get_text(&c->doc, n, "workdir", &t);
	if (r)
		return r;
	if (t[0] == '~')
		return fail_at(c, n, "workdir '%s': ~ is not expanded on the host (expected an absolute path, like /var/tmp/vmorch)", t);
	if (t[0] != '/')
		return fail_at(c, n, "workdir '%s' is not an absolute path (expected a directory on the host, like /var/tmp/vmorch)", t);
	if (strlen(t) > WORKDIR_MAX)
		return fail_at(c, n, "workdir too long (at most %d characters)", WORKDIR_MAX);
	for (p = t; *p; p++)
		if (!workdir_char(*p))
			return fail_at(c, n, "workdir '%s' has a character other than letters, digits and . _ + - / (it is used in commands run on the host)", t);
	len = strlen(t);
	while (len && t[len - 1] == '/')
		len--;
	if (!len)
		return fail_at(c, n, "workdir '/' is the root directory (expected a directory of its own, like /var/tmp/vmorch)");
	for (p = t; p < t + len;) {
		size_t seg = strcspn(p + 1, "/");

		if (seg == 0 || (seg == 1 && p[1] == '.') ||
		    (seg == 2 && p[1] == '.' && p[2] == '.'))
			return fail_at(c, n, "workdir '%s' is not a plain path ('//', '.' and '..' are refused)", t);
		p += seg + 1;
	}
	*out = strndup(t, len);
	return *out ? 0 : oom(c);
}

/* ---- addresses ---- */

static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len && s[len - 1] == '.')
		len--;			/* a fully qualified "kvm01.lab." */
	if (!len || len > ADDRESS_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? s[i] : '.';

		if (ch == '.') {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		/* '_' is not in RFC 1123, but resolvers and /etc/hosts take it. */
		if (!(ch == '-' || ch == '_' || (ch >= '0' && ch <= '9') ||
		      (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
			return false;
		if ((!label && ch == '-') || ++label > 63)
			return false;
	}
	return true;
}

/*
 * NULL when @s is something to connect to: a DNS name, a dotted-quad IPv4
 * address or an IPv6 address.  Otherwise what to write instead.  "10.1",
 * "0x7f000001" and "1234" are refused: the resolver reads them as IPv4
 * addresses nobody meant (inet_aton(3)).
 */
static const char *address_problem(const char *s)
{
	unsigned char bin[16];
	struct in_addr a4;

	if (s[0] == '[')
		return "write an IPv6 address without brackets; the port is its own key";
	if (strchr(s, ':'))
		return inet_pton(AF_INET6, s, bin) == 1 ? NULL :
		       "expected a host name, an IPv4 or an IPv6 address";
	if (inet_pton(AF_INET, s, bin) == 1)
		return NULL;
	if (inet_aton(s, &a4))
		return "an IPv4 address is four decimal numbers, like 192.0.2.10";
	if (!dns_name_ok(s))
		return "expected a host name, an IPv4 or an IPv6 address";
	return NULL;
}

static int get_address(struct ctx *c, const struct ytree_node *n, const char **out)
{
	const char *t = NULL, *why;
	int r;

	r = ytree_get_text(&c->doc, n, "address", &t);
	if (r)
		return r;
	why = address_problem(t);
	if (why)
		return fail_at(c, n, "bad address '%s' (%s)", t, why);
	*out = t;
	return 0;
}

/* ---- settings: one parser per key, in host_keys order ---- */

static int set_user(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	const char *t = NULL;
	int r;

	r = ytree_get_text(&c->doc, n, "user", &t);
	if (r)
		return r;
	if (!word_ok(t) || t[0] == '-')
		return fail_at(c, n, "bad user '%s' (expected letters, digits, '_', '.', '-', not starting with '-')", t);
	if (strlen(t) > USER_MAX)
		return fail_at(c, n, "user too long (at most %d characters)", USER_MAX);
	o->user = strdup(t);
	return o->user ? 0 : oom(c);
}

static int set_port(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	static const struct ytree_num rule = {
		YTREE_NUM_COUNT, 1, 65535, 1, "1..65535", NULL, NULL
	};

	return get_count(c, n, "port", &rule, &o->port);
}

/* One path, or a list of them (possibly empty: the agent only). */
static int set_identity(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	const struct ytree_node *const *items = (const struct ytree_node *const *)&n;
	size_t count = 1;
	int r;

	if (n->kind == YTREE_MAP)
		return fail_at(c, n, "'identity' must be a path or a list of paths, not a mapping");
	if (n->kind == YTREE_SEQ) {
		items = (const struct ytree_node *const *)n->kid;
		count = n->n;
	}
	if (count > INV_IDENTITIES_MAX)
		return fail_at(c, items[INV_IDENTITIES_MAX], "too many identity files (%zu, at most %d)",
			       count, INV_IDENTITIES_MAX);
	o->identity = calloc(count ? count : 1, sizeof(*o->identity));
	if (!o->identity)
		return oom(c);
	for (size_t i = 0; i < count; i++) {
		if (items[i]->kind != YTREE_SCALAR)
			return fail_at(c, items[i], "identity files must be paths, not %s",
				       ytree_kind_name(items[i]));
		r = get_local_path(c, items[i], "identity", &o->identity[i]);
		if (r)
			return r;
		o->n_identity++;
	}
	return 0;
}

static int set_known_hosts(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	return get_local_path(c, n, "known_hosts", &o->known_hosts);
}

static int set_host_key_check(struct ctx *c, const struct ytree_node *n,
			      struct opts *o)
{
	size_t i = 0;
	int r = ytree_get_enum(&c->doc, n, "host_key_check", check_names, &i);

	if (!r)
		o->check = (enum inv_host_key_check)i;
	return r;
}

static int set_slots(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	static const struct ytree_num rule = {
		YTREE_NUM_COUNT, 1, 256, 1, "1..256", NULL, NULL
	};

	return get_count(c, n, "slots", &rule, &o->slots);
}

static int set_workdir(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	return get_workdir(c, n, &o->workdir);
}

static int set_keepalive(struct ctx *c, const struct ytree_node *n, struct opts *o)
{
	static const struct ytree_num rule = {
		YTREE_NUM_TIME, 100, 3600 * 1000, 1, "100ms..1h", NULL, "5s"
	};

	return ytree_get_number(&c->doc, n, "keepalive", &rule, &o->keepalive_ms);
}

static int set_keepalive_max(struct ctx *c, const struct ytree_node *n,
			     struct opts *o)
{
	static const struct ytree_num rule = {
		YTREE_NUM_COUNT, 1, 100, 1, "1..100", NULL, NULL
	};

	return get_count(c, n, "keepalive_max", &rule, &o->keepalive_max);
}

static int (*const setting_parse[S_COUNT])(struct ctx *, const struct ytree_node *,
					   struct opts *) = {
	[S_USER] = set_user, [S_PORT] = set_port, [S_IDENTITY] = set_identity,
	[S_KNOWN_HOSTS] = set_known_hosts, [S_HOST_KEY_CHECK] = set_host_key_check,
	[S_SLOTS] = set_slots, [S_WORKDIR] = set_workdir,
	[S_KEEPALIVE] = set_keepalive, [S_KEEPALIVE_MAX] = set_keepalive_max,
};

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void opts_release(struct opts *o)
{
	free(o->user);
	strv_free(o->identity, o->n_identity);
	free(o->known_hosts);
	free(o->workdir);
	memset(o, 0, sizeof(*o));
}

/* The settings of mapping @m (already checked for unknown keys), in file order. */
static int opts_parse(struct ctx *c, const struct ytree_node *m, struct opts *o)
{
	for (size_t i = 0; i < ytree_map_len(m); i++) {
		const char *key = ytree_map_key(m, i)->text;

		for (int s = 0; s < S_COUNT; s++) {
			int r;

			if (strcmp(key, setting_keys[s]) != 0)
				continue;
			r = setting_parse[s](c, ytree_map_val(m, i), o);
			if (r)
				return r;
			o->set[s] = true;
		}
	}
	return 0;
}

/* ---- one host, resolved ---- */

static int strdup_to(struct ctx *c, char **dst, const char *src)
{
	*dst = strdup(src);
	return *dst ? 0 : oom(c);
}

/* The per-host value when given, else the defaults' one. */
static const struct opts *pick(const struct ctx *c, const struct opts *own,
			       enum setting s)
{
	if (own->set[s])
		return own;
	return c->defaults.set[s] ? &c->defaults : NULL;
}

static int resolve_user(struct ctx *c, struct inv_host *h, const struct opts *own,
			const struct ytree_node *at)
{
	const struct opts *o = pick(c, own, S_USER);

	if (o)
		return strdup_to(c, &h->user, o->user);
	if (!c->login) {
		struct passwd *pw = getpwuid(getuid());

		if (!pw || !pw->pw_name || !pw->pw_name[0])
			return fail_at(c, at, "no 'user' for this host, and user %u has no name to default to",
				       (unsigned)getuid());
		if (strdup_to(c, &c->login, pw->pw_name))
			return -ENOMEM;
	}
	return strdup_to(c, &h->user, c->login);
}

static int resolve_paths(struct ctx *c, struct inv_host *h, const struct opts *own,
			 const struct ytree_node *at)
{
	const struct opts *o = pick(c, own, S_IDENTITY);
	int r;

	if (o && o->n_identity) {
		h->identity = calloc(o->n_identity, sizeof(*h->identity));
		if (!h->identity)
			return oom(c);
		for (size_t i = 0; i < o->n_identity; i++, h->n_identity++)
			if (strdup_to(c, &h->identity[i], o->identity[i]))
				return -ENOMEM;
	}
	o = pick(c, own, S_KNOWN_HOSTS);
	if (o)
		r = strdup_to(c, &h->known_hosts, o->known_hosts);
	else
		r = expand_tilde(c, at, DEFAULT_KNOWN_HOSTS, &h->known_hosts);
	if (r)
		return r;
	o = pick(c, own, S_WORKDIR);
	return strdup_to(c, &h->workdir, o ? o->workdir : DEFAULT_WORKDIR);
}

static void resolve_numbers(struct ctx *c, struct inv_host *h, const struct opts *own)
{
	const struct opts *o;

	o = pick(c, own, S_PORT);
	h->port = o ? o->port : DEFAULT_PORT;
	o = pick(c, own, S_HOST_KEY_CHECK);
	h->host_key_check = o ? o->check : INV_HKC_STRICT;
	o = pick(c, own, S_SLOTS);
	h->slots = o ? o->slots : DEFAULT_SLOTS;
	o = pick(c, own, S_KEEPALIVE);
	h->keepalive_ms = o ? o->keepalive_ms : DEFAULT_KEEPALIVE_MS;
	o = pick(c, own, S_KEEPALIVE_MAX);
	h->keepalive_max = o ? o->keepalive_max : DEFAULT_KEEPALIVE_MAX;
}

void inv_host_release(struct inv_host *h)
{
	free(h->address);
	free(h->user);
	strv_free(h->identity, h->n_identity);
	free(h->known_hosts);
	free(h->workdir);
	strv_free(h->labels, h->n_labels);
	memset(h, 0, sizeof(*h));
}

/* What one entry says besides its name, shared by the hosts of a range. */
struct entry {
	const struct ytree_node *name;		/* the name's value node */
	const struct ytree_node *labels;	/* NULL: none */
	const char *address;			/* NULL: each host's name */
	struct opts own;
};

static int host_add(struct ctx *c, const struct entry *en, const char *name)
{
	struct inventory *inv = c->inv;
	struct inv_host *h;
	int r;

	if (inv->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct inv_host *hosts = realloc(inv->hosts, cap * sizeof(*hosts));
		const struct ytree_node **at;

		if (!hosts)
			return oom(c);
		inv->hosts = hosts;
		at = realloc(c->name_at, cap * sizeof(*at));
		if (!at)
			return oom(c);
		c->name_at = at;
		c->cap = cap;
	}
	h = &inv->hosts[inv->n];
	memset(h, 0, sizeof(*h));
	c->name_at[inv->n++] = en->name;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->line = en->name->line;
	h->col = en->name->col;
	r = strdup_to(c, &h->address, en->address ? en->address : name);
	if (!r)
		r = resolve_user(c, h, &en->own, en->name);
	if (!r)
		r = resolve_paths(c, h, &en->own, en->name);
	if (r)
		return r;
	resolve_numbers(c, h, &en->own);
	if (h->host_key_check == INV_HKC_OFF)
		inv->host_key_check_off = true;
	if (!en->labels)
		return 0;
	h->labels = calloc(en->labels->n ? en->labels->n : 1, sizeof(*h->labels));
	if (!h->labels)
		return oom(c);
	for (size_t i = 0; i < en->labels->n; i++, h->n_labels++)
		if (strdup_to(c, &h->labels[i], en->labels->kid[i]->text))
			return -ENOMEM;
	return 0;
}

/* ---- one entry of `hosts:` ---- */

static int check_labels(struct ctx *c, const struct ytree_node *n)
{
	if (n->kind != YTREE_SEQ)
		return fail_at(c, n, "'labels' must be a list, not %s (write labels: [%s])",
			       ytree_kind_name(n), n->kind == YTREE_SCALAR ? n->text : "...");
	if (n->n > INV_LABELS_MAX)
		return fail_at(c, n->kid[INV_LABELS_MAX], "too many labels (%zu, at most %d)",
			       n->n, INV_LABELS_MAX);
	for (size_t i = 0; i < n->n; i++) {
		const struct ytree_node *l = n->kid[i];
		const char *t;
		int r;

		if (l->kind != YTREE_SCALAR)
			return fail_at(c, l, "labels must be words, not %s",
				       ytree_kind_name(l));
		r = ytree_get_name(&c->doc, l, "label", INV_NAME_MAX, &t);
		if (r)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(n->kid[j]->text, l->text) == 0)
				return fail_at(c, l, "duplicate label '%s' (first at %u:%u)",
					       l->text, n->kid[j]->line, n->kid[j]->col);
	}
	return 0;
}

static bool name_char(char ch)
{
	return word_char(ch) || ch == '[' || ch == ']' || ch == ',';
}

/* A name the host can be reached by, since it is also the address. */
static int check_name_as_address(struct ctx *c, const struct entry *en,
				 const char *name)
{
	const char *why = address_problem(name);

	if (!why)
		return 0;
	if (host_range_is_range(en->name->text))
		return fail_at(c, en->name, "host name '%s' (from '%s') cannot be its own address (%s)",
			       name, en->name->text, why);
	return fail_at(c, en->name, "host name '%s' cannot be its own address (%s); give 'address'",
		       name, why);
}

static int add_one(struct ctx *c, const struct entry *en)
{
	const char *name = en->name->text;
	int r;

	if (strlen(name) > INV_NAME_MAX)
		return fail_at(c, en->name, "host name too long (%zu characters, at most %d)",
			       strlen(name), INV_NAME_MAX);
	if (c->inv->n == INVENTORY_HOSTS_MAX)
		return fail_at(c, en->name, "more than %d hosts in the inventory",
			       INVENTORY_HOSTS_MAX);
	if (!en->address) {
		r = check_name_as_address(c, en, name);
		if (r)
			return r;
	}
	return host_add(c, en, name);
}

static int add_range(struct ctx *c, const struct entry *en)
{
	const char *pattern = en->name->text;
	struct host_range *hr = NULL;
	struct verr why = { "" };
	uint64_t count;
	char *buf = NULL;
	int r;

	r = host_range_parse(pattern, &hr, &why);
	if (r == -ENOMEM)
		return oom(c);
	if (r)
		return fail_at(c, en->name, "bad host range '%s': %s", pattern, why.msg);
	count = host_range_count(hr);
	if (count > INVENTORY_HOSTS_MAX) {
		r = count == UINT64_MAX ?
		    fail_at(c, en->name, "host range '%s' expands to too many hosts (at most %d)",
			    pattern, INVENTORY_HOSTS_MAX) :
		    fail_at(c, en->name, "host range '%s' expands to %llu hosts (at most %d)",
			    pattern, (unsigned long long)count, INVENTORY_HOSTS_MAX);
		goto out;
	}
	if (c->inv->n + count > INVENTORY_HOSTS_MAX) {
		r = fail_at(c, en->name, "more than %d hosts in the inventory (%zu with '%s')",
			    INVENTORY_HOSTS_MAX, c->inv->n + (size_t)count, pattern);
		goto out;
	}
	buf = malloc(host_range_max_len(hr) + 1);
	if (!buf) {
		r = oom(c);
		goto out;
	}
	for (uint64_t i = 0; i < count && !r; i++) {
		if (host_range_name(hr, i, buf) > INV_NAME_MAX) {
			r = fail_at(c, en->name, "host range '%s' gives '%s', longer than %d characters",
				    pattern, buf, INV_NAME_MAX);
			break;
		}
		r = check_name_as_address(c, en, buf);
		if (!r)
			r = host_add(c, en, buf);
	}
out:
	free(buf);
	host_range_free(hr);
	return r;
}

static int entry_name(struct ctx *c, const struct ytree_node *m, struct entry *en)
{
	const struct ytree_node *n = ytree_map_get(m, "name", NULL), *akey = NULL;

	if (!n)
		return fail_at(c, m, "missing required key 'name' in host");
	if (n->kind != YTREE_SCALAR)
		return fail_at(c, n, "'name' must be a host name, not %s",
			       ytree_kind_name(n));
	if (!n->text[0])
		return fail_at(c, n, "'name' must not be empty");
	for (const char *p = n->text; *p; p++)
		if (!name_char(*p))
			return fail_at(c, n, "bad host name '%s' (expected letters, digits, '_', '.', '-', and ranges like kvm[01-16])",
				       n->text);
	if (strchr(n->text, ',') && !host_range_is_range(n->text))
		return fail_at(c, n, "bad host name '%s' (one host per entry; several hosts are a range like kvm[01,02])",
			       n->text);
	en->name = n;
	/* One address for a whole range would send all its jobs to one machine. */
	if (host_range_is_range(n->text) && ytree_map_get(m, "address", &akey))
		return fail_at(c, akey, "'address' cannot be given for a host range: every host of '%s' would get the same address",
			       n->text);
	return 0;
}

static int add_entry(struct ctx *c, const struct ytree_node *m)
{
	struct entry en = { 0 };
	const struct ytree_node *v;
	int r;

	if (m->kind != YTREE_MAP)
		return fail_at(c, m, "a host must be a mapping, not %s (expected '- name: HOST')",
			       ytree_kind_name(m));
	r = check_keys(c, m, host_keys, "host");
	if (!r)
		r = entry_name(c, m, &en);
	if (!r)
		r = opts_parse(c, m, &en.own);
	if (!r && (v = ytree_map_get(m, "address", NULL)))
		r = get_address(c, v, &en.address);
	if (!r && (v = ytree_map_get(m, "labels", NULL)) && !(r = check_labels(c, v)))
		en.labels = v;
	if (!r)
		r = host_range_is_range(en.name->text) ? add_range(c, &en) : add_one(c, &en);
	opts_release(&en.own);
	return r;
}

/* ---- the whole file ---- */

static int name_order(const void *a, const void *b, void *arg)
{
	const struct inventory *inv = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(inv->hosts[x].name, inv->hosts[y].name);

	return r ? r : (x > y) - (x < y);
}

/* The earliest host whose name was taken before, with the one that took it. */
static int check_unique_names(struct ctx *c)
{
	struct inventory *inv = c->inv;
	size_t *ix, dup = SIZE_MAX, first = 0;

	ix = malloc(inv->n * sizeof(*ix));
	if (!ix)
		return oom(c);
	for (size_t i = 0; i < inv->n; i++)
		ix[i] = i;
	qsort_r(ix, inv->n, sizeof(*ix), name_order, inv);
	for (size_t i = 1, g = 0; i < inv->n; i++) {
		if (strcmp(inv->hosts[ix[i]].name, inv->hosts[ix[g]].name) != 0) {
			g = i;
			continue;
		}
		if (ix[i] < dup) {
			dup = ix[i];
			first = ix[g];
		}
	}
	free(ix);
	if (dup == SIZE_MAX)
		return 0;
	if (c->name_at[dup] == c->name_at[first])
		return fail_at(c, c->name_at[dup], "host range '%s' gives '%s' twice",
			       c->name_at[dup]->text, inv->hosts[dup].name);
	return fail_at(c, c->name_at[dup], "duplicate host name '%s' (first at %u:%u)",
		       inv->hosts[dup].name, c->name_at[first]->line,
		       c->name_at[first]->col);
}

static int check_version(struct ctx *c, const struct ytree_node *root)
{
	const struct ytree_node *k = NULL, *v = ytree_map_get(root, "vmorch-hosts", &k);

	if (!v && ytree_map_len(root) && strcmp(ytree_map_key(root, 0)->text, "vmorch") == 0)
		return fail_at(c, ytree_map_key(root, 0), "this is a scenario ('vmorch:'), not an inventory (expected 'vmorch-hosts: %d' first)",
			       INVENTORY_VERSION);
	if (!v)
		return fail_at(c, root, "missing required key 'vmorch-hosts' (expected 'vmorch-hosts: %d' first)",
			       INVENTORY_VERSION);
	if (k != ytree_map_key(root, 0))
		return fail_at(c, k, "'vmorch-hosts' must be the first key (the format version)");
	if (v->kind != YTREE_SCALAR)
		return fail_at(c, v, "'vmorch-hosts' must be the format version %d, not %s",
			       INVENTORY_VERSION, ytree_kind_name(v));
	if (strcmp(v->text, "1") != 0)
		return fail_at(c, v, "unsupported inventory version '%s' (expected vmorch-hosts: %d)",
			       v->text, INVENTORY_VERSION);
	return 0;
}

static int check_defaults(struct ctx *c, const struct ytree_node *root)
{
	const struct ytree_node *d = ytree_map_get(root, "defaults", NULL);
	int r;

	if (!d)
		return 0;
	r = ytree_get_map(&c->doc, d, "defaults");
	if (!r)
		r = check_keys(c, d, setting_keys, "defaults");
	return r ? r : opts_parse(c, d, &c->defaults);
}

static int check_hosts(struct ctx *c, const struct ytree_node *root)
{
	const struct ytree_node *hosts = ytree_map_get(root, "hosts", NULL);
	int r = 0;

	if (!hosts)
		return fail_at(c, root, "missing required key 'hosts' (the list of hosts)");
	r = ytree_get_list(&c->doc, hosts, "hosts");
	if (r)
		return r;
	if (!hosts->n)
		return fail_at(c, hosts, "'hosts' must not be empty");
	for (size_t i = 0; i < hosts->n && !r; i++)
		r = add_entry(c, hosts->kid[i]);
	return r ? r : check_unique_names(c);
}

static int check_root(struct ctx *c, const struct ytree_node *root)
{
	int r;

	if (!root)
		return ytree_fail(c->doc.e, c->doc.path, 1, 1, "empty inventory (expected a mapping starting with 'vmorch-hosts: %d')",
				  INVENTORY_VERSION);
	r = check_no_secrets(c, root);
	if (r)
		return r;
	if (root->kind != YTREE_MAP)
		return fail_at(c, root, "an inventory must be a mapping, not %s",
			       ytree_kind_name(root));
	r = check_version(c, root);
	if (!r)
		r = check_keys(c, root, top_keys, "the top level");
	if (!r)
		r = check_defaults(c, root);
	if (!r)
		r = check_hosts(c, root);
	return r;
}

int inventory_load_buffer(const char *path, const char *buf, size_t len,
			  struct inventory *inv, struct verr *e)
{
	struct ctx c = { .doc = { .path = path, .e = e }, .inv = inv };
	struct ytree_node *root = NULL;
	int r;

	memset(inv, 0, sizeof(*inv));
	if (len > INVENTORY_FILE_MAX) {
		verr_set(e, "%s: file too large (%zu bytes, at most %u)", path, len,
			 INVENTORY_FILE_MAX);
		return -EFBIG;
	}
	inv->path = strdup(path);
	if (!inv->path)
		return oom(&c);
	r = ytree_parse(path, "inventory", buf, len, &root, e);
	if (!r)
		r = check_root(&c, root);
	ytree_free(root);
	opts_release(&c.defaults);
	free(c.name_at);
	free(c.home);
	free(c.login);
	if (r)
		inventory_release(inv);
	return r;
}

/* ---- reading the file ---- */

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Regular files and FIFOs (`--hosts <(...)`) only.  The type is checked
 * before opening, since opening a device can itself do something, and
 * again on what was opened, in case the path changed in between.
 */
static int open_checked(const char *path, struct verr *e)
{
	struct stat st;
	int fd;

	if (stat(path, &st))
		return verr_errno(e, "%s: cannot open", path);
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		goto refuse;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return verr_errno(e, "%s: cannot open", path);
	if (fstat(fd, &st)) {
		int r = verr_errno(e, "%s: cannot stat", path);

		close(fd);
		return r;
	}
	if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))
		return fd;
	close(fd);
refuse:
	verr_set(e, "%s: is %s (expected an inventory file or a pipe)", path,
		 file_kind(st.st_mode));
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
}

/* At most one byte past the limit, so a huge file costs nothing. */
static int read_limited(int fd, char **buf, size_t *len)
{
	size_t cap = INVENTORY_FILE_MAX + 1, n = 0;
	char *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	while (n < cap) {
		ssize_t got = read(fd, b + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int r = -errno;

			free(b);
			return r;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*buf = b;
	*len = n;
	return 0;
}

int inventory_load(const char *path, struct inventory *inv, struct verr *e)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	memset(inv, 0, sizeof(*inv));
	fd = open_checked(path, e);
	if (fd < 0)
		return fd;
	r = read_limited(fd, &buf, &len);
	close(fd);
	if (r) {
		verr_set(e, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	if (len > INVENTORY_FILE_MAX) {
		verr_set(e, "%s: file too large (more than %u bytes)", path,
			 INVENTORY_FILE_MAX);
		r = -EFBIG;
	} else {
		r = inventory_load_buffer(path, buf, len, inv, e);
	}
	free(buf);
	return r;
}

void inventory_release(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++)
		inv_host_release(&inv->hosts[i]);
	free(inv->hosts);
	free(inv->path);
	memset(inv, 0, sizeof(*inv));
}

const char *inv_host_key_check_name(enum inv_host_key_check k)
{
	return (unsigned)k < INV_HKC_OFF + 1 ? check_names[k] : "?";
}
