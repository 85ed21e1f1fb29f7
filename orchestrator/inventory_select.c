/*
 * inventory_select.c - questions asked of a loaded inventory (see
 * inventory.h): which host has a name, whether some host can take a VM's
 * placement labels, and --limit, which narrows the inventory to the hosts
 * its words select.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host_range.h"
#include "orchestrator/inventory.h"

bool inv_host_has_label(const struct inv_host *h, const char *label)
{
	for (size_t i = 0; i < h->n_labels; i++)
		if (strcmp(h->labels[i], label) == 0)
			return true;
	return false;
}

const struct inv_host *inventory_find(const struct inventory *inv,
				      const char *name)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->hosts[i].name, name) == 0)
			return &inv->hosts[i];
	return NULL;
}

bool inventory_can_place(const struct inventory *inv,
			 const char *const *labels, size_t n)
{
	for (size_t i = 0; i < inv->n; i++) {
		size_t k = 0;

		while (k < n && inv_host_has_label(&inv->hosts[i], labels[k]))
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* ---- --limit ---- */

static int host_cmp(const void *a, const void *b)
{
	const struct inv_host *x = *(const struct inv_host *const *)a;
	const struct inv_host *y = *(const struct inv_host *const *)b;

	return strcmp(x->name, y->name);
}

static int name_host_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct inv_host *const *)elem)->name);
}

/* Every name of range @word must be a host: a range names hosts, not labels. */
static int limit_range(struct inventory *inv, const char *word,
		       struct inv_host **sorted, bool *keep, struct verr *e)
{
	struct host_range *hr = NULL;
	struct verr why = { "" };
	uint64_t count;
	char *buf = NULL;
	int r;

	r = host_range_parse(word, &hr, &why);
	if (r) {
		verr_set(e, "--limit: bad host range '%s': %s", word, why.msg);
		return r;
	}
	count = host_range_count(hr);
	if (count > INVENTORY_HOSTS_MAX) {
		verr_set(e, "--limit: host range '%s' expands to more than %d hosts",
			 word, INVENTORY_HOSTS_MAX);
		r = -EINVAL;
		goto out;
	}
	buf = malloc(host_range_max_len(hr) + 1);
	if (!buf) {
		verr_set(e, "--limit: out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < count; i++) {
		struct inv_host **hit;

		host_range_name(hr, i, buf);
		hit = bsearch(buf, sorted, inv->n, sizeof(*sorted), name_host_cmp);
		if (!hit) {
			verr_set(e, "--limit: '%s' (from '%s') is not a host in %s",
				 buf, word, inv->path);
			r = -EINVAL;
			goto out;
		}
		keep[*hit - inv->hosts] = true;
	}
out:
	free(buf);
	host_range_free(hr);
	return r;
}

static int limit_word(struct inventory *inv, const char *word,
		      struct inv_host **sorted, bool *keep, struct verr *e)
{
	bool any = false;

	if (!*word) {
		verr_set(e, "--limit: empty entry (expected host names, ranges or labels separated by ',')");
		return -EINVAL;
	}
	if (host_range_is_range(word))
		return limit_range(inv, word, sorted, keep, e);
	for (size_t i = 0; i < inv->n; i++) {
		if (strcmp(inv->hosts[i].name, word) == 0 ||
		    inv_host_has_label(&inv->hosts[i], word)) {
			keep[i] = true;
			any = true;
		}
	}
	if (any)
		return 0;
	verr_set(e, "--limit: '%s' is neither a host nor a label in %s", word,
		 inv->path);
	return -EINVAL;
}

/* Split at commas outside brackets: "kvm[01-03,07],amd" is two entries. */
static int limit_mark(struct inventory *inv, const char *spec,
		      struct inv_host **sorted, bool *keep, struct verr *e)
{
	char *copy = strdup(spec), *word;
	int depth = 0, r = 0;

	if (!copy) {
		verr_set(e, "--limit: out of memory");
		return -ENOMEM;
	}
	word = copy;
	for (char *p = copy;; p++) {
		char end = *p;

		if (end == '[') {
			depth++;
		} else if (end == ']' && depth) {
			depth--;
		} else if ((end == ',' && !depth) || !end) {
			*p = 0;
			r = limit_word(inv, word, sorted, keep, e);
			if (r || !end)
				break;
			word = p + 1;
		}
	}
	free(copy);
	return r;
}

int inventory_limit(struct inventory *inv, const char *spec, struct verr *e)
{
	struct inv_host **sorted = malloc((inv->n ? inv->n : 1) * sizeof(*sorted));
	bool *keep = calloc(inv->n ? inv->n : 1, sizeof(*keep));
	size_t k = 0;
	int r = -ENOMEM;

	if (!sorted || !keep) {
		verr_set(e, "--limit: out of memory");
		goto out;
	}
	for (size_t i = 0; i < inv->n; i++)
		sorted[i] = &inv->hosts[i];
	qsort(sorted, inv->n, sizeof(*sorted), host_cmp);
	r = limit_mark(inv, spec, sorted, keep, e);
	if (r)
		goto out;
	inv->host_key_check_off = false;
	for (size_t i = 0; i < inv->n; i++) {
		if (!keep[i]) {
			inv_host_release(&inv->hosts[i]);
			continue;
		}
		inv->hosts[k++] = inv->hosts[i];
		if (inv->hosts[i].host_key_check == INV_HKC_OFF)
			inv->host_key_check_off = true;
	}
	inv->n = k;
out:
	free(sorted);
	free(keep);
	return r;
}
