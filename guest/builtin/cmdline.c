/*
 * cmdline.c - the workload comes from key=value words on the kernel command
 * line (hvm_start_info.cmdline_paddr).  Unknown words are ignored (e.g.
 * console=); a known key with a bad value fails the run.  Also reads the
 * virtio_mmio.device=SIZE@ADDR:IRQ words that microvm and our VMM append.
 */
#include "guest.h"

static const char *const hostile_names[] = {
	[HOSTILE_NONE] = "none",
	[HOSTILE_INVALID_AVAIL_IDX] = "invalid_avail_idx",
	[HOSTILE_DESC_LOOP] = "desc_loop",
	[HOSTILE_OOB_ADDR] = "oob_addr",
	[HOSTILE_BAD_TYPE] = "bad_type",
	[HOSTILE_SHORT_HEADER] = "short_header",
	[HOSTILE_NO_STATUS] = "no_status",
	[HOSTILE_RO_WRITE] = "ro_write",
	[HOSTILE_ZERO_LEN] = "zero_len",
	[HOSTILE_BAD_INSN] = "bad_insn",
};

static const char *const pattern_names[] = {
	[PAT_SEQREAD] = "seqread",
	[PAT_SEQWRITE] = "seqwrite",
	[PAT_RANDREAD] = "randread",
	[PAT_RANDWRITE] = "randwrite",
	[PAT_RANDRW] = "randrw",
};

const char *hostile_name(enum hostile h)
{
	return hostile_names[h];
}

static int lookup(const char *const *names, unsigned n, const char *v,
		  size_t vlen)
{
	for (unsigned i = 0; i < n; i++)
		if (str_eq(v, vlen, names[i]))
			return (int)i;
	return -1;
}

static int parse_bool(const char *v, size_t vlen, bool *out)
{
	if (str_eq(v, vlen, "0") || str_eq(v, vlen, "1")) {
		*out = v[0] == '1';
		return 0;
	}
	return -1;
}

static int parse_range(const char *v, size_t vlen, uint64_t lo, uint64_t hi,
		       uint64_t *out)
{
	if (parse_size(v, vlen, out) || *out < lo || *out > hi)
		return -1;
	return 0;
}

/* virtio_mmio.device=512@0xfeb00000:5 (size may carry a K suffix). */
static int parse_mmio_hint(struct guest_cfg *cfg, const char *v, size_t vlen)
{
	size_t at = 0, colon = 0;
	uint64_t addr, irq;

	while (at < vlen && v[at] != '@')
		at++;
	colon = at;
	while (colon < vlen && v[colon] != ':')
		colon++;
	if (at == vlen || colon == vlen)
		return 0;		/* not ours to judge; keep defaults */
	if (parse_u64(v + at + 1, colon - at - 1, &addr) ||
	    parse_u64(v + colon + 1, vlen - colon - 1, &irq))
		return 0;
	if (cfg->nhints < MAX_DISKS) {
		cfg->hints[cfg->nhints].addr = addr;
		cfg->hints[cfg->nhints].irq = (uint32_t)irq;
		cfg->nhints++;
	}
	return 0;
}

static int apply_word(struct guest_cfg *cfg, const char *k, size_t klen,
		      const char *v, size_t vlen)
{
	uint64_t n;
	int i;

#define KEY(name) str_eq(k, klen, name)
	if (KEY("pattern")) {
		if ((i = lookup(pattern_names, ARRAY_SIZE(pattern_names), v, vlen)) < 0)
			return -1;
		cfg->pattern = (enum pattern)i;
	} else if (KEY("bs")) {
		if (parse_range(v, vlen, 512, 1 << 20, &n) || n % SECTOR_SIZE)
			return -1;
		cfg->bs = (uint32_t)n;
	} else if (KEY("ops")) {
		return parse_range(v, vlen, 0, 1ull << 40, &cfg->ops);
	} else if (KEY("qd")) {
		if (parse_range(v, vlen, 1, QUEUE_MAX, &n))
			return -1;
		cfg->qd = (uint32_t)n;
	} else if (KEY("rwmix")) {
		if (parse_range(v, vlen, 0, 100, &n))
			return -1;
		cfg->rwmix = (uint32_t)n;
	} else if (KEY("flush")) {
		return parse_range(v, vlen, 0, UINT64_MAX, &cfg->flush_every);
	} else if (KEY("seed")) {
		return parse_u64(v, vlen, &cfg->seed);
	} else if (KEY("span")) {
		if (parse_range(v, vlen, SECTOR_SIZE, UINT64_MAX, &n) || n % SECTOR_SIZE)
			return -1;
		cfg->span = n;
	} else if (KEY("verify")) {
		return parse_bool(v, vlen, &cfg->verify);
	} else if (KEY("verify_pause")) {
		return parse_bool(v, vlen, &cfg->verify_pause);
	} else if (KEY("event_idx")) {
		return parse_bool(v, vlen, &cfg->event_idx);
	} else if (KEY("indirect")) {
		return parse_bool(v, vlen, &cfg->indirect);
	} else if (KEY("completion")) {
		if (str_eq(v, vlen, "poll"))
			cfg->irq = false;
		else if (str_eq(v, vlen, "irq"))
			cfg->irq = true;
		else
			return -1;
	} else if (KEY("hostile")) {
		if ((i = lookup(hostile_names, ARRAY_SIZE(hostile_names), v, vlen)) < 0)
			return -1;
		cfg->hostile = (enum hostile)i;
	} else if (KEY("flood")) {
		return parse_range(v, vlen, 0, 1ull << 40, &cfg->flood);
	} else if (KEY("virtio_mmio.device")) {
		return parse_mmio_hint(cfg, v, vlen);
	}
#undef KEY
	return 0;
}

int cfg_parse(struct guest_cfg *cfg, const char *s)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->pattern = PAT_SEQREAD;
	cfg->bs = 4096;
	cfg->ops = 100;
	cfg->qd = 1;
	cfg->rwmix = 50;
	cfg->seed = 1;

	while (*s) {
		const char *w, *eq;
		size_t len;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		w = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n')
			s++;
		len = (size_t)(s - w);
		eq = w;
		while (eq < s && *eq != '=')
			eq++;
		if (!len || eq == s)
			continue;
		if (apply_word(cfg, w, (size_t)(eq - w), eq + 1,
			       (size_t)(s - eq - 1))) {
			char word[64];

			memcpy(word, w, MIN(len, sizeof(word) - 1));
			word[MIN(len, sizeof(word) - 1)] = 0;
			return fail("bad value in %s", word);
		}
	}
	return 0;
}
