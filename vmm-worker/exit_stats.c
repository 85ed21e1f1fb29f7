/*
 * exit_stats.c - exits to user space by port and MMIO page (see the header).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-worker/exit_stats.h"

#define STATS_MMIO_PAGES	64	/* distinct pages kept; more go to "other" */
#define STATS_TOP		16	/* lines printed */

struct mmio_page {
	uint64_t page;			/* guest-physical address >> 12 */
	uint64_t n[2];			/* [is_write] */
};

struct exit_stats {
	_Atomic uint32_t io[2][65536];	/* [is_write][port] */
	pthread_mutex_t lock;		/* mmio[] */
	struct mmio_page mmio[STATS_MMIO_PAGES];
	unsigned nmmio;
	uint64_t mmio_other;
};

struct exit_stats *exit_stats_from_env(void)
{
	const char *v = getenv("VMORCH_EXIT_STATS");
	struct exit_stats *s;

	if (!v || !*v || !strcmp(v, "0"))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s)
		pthread_mutex_init(&s->lock, NULL);
	return s;
}

void exit_stats_free(struct exit_stats *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void exit_stats_io(struct exit_stats *s, uint16_t port, bool is_write)
{
	if (s)
		atomic_fetch_add_explicit(&s->io[is_write][port], 1,
					  memory_order_relaxed);
}

void exit_stats_mmio(struct exit_stats *s, uint64_t addr, bool is_write)
{
	uint64_t page = addr >> 12;
	unsigned i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nmmio && s->mmio[i].page != page; i++)
		;
	if (i == s->nmmio && s->nmmio < STATS_MMIO_PAGES)
		s->mmio[s->nmmio++].page = page;
	if (i < s->nmmio)
		s->mmio[i].n[is_write]++;
	else
		s->mmio_other++;
	pthread_mutex_unlock(&s->lock);
}

struct stats_line {
	uint64_t n;
	bool mmio, is_write;
	uint64_t where;			/* port, or page address */
};

static int stats_line_cmp(const void *a, const void *b)
{
	const struct stats_line *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

/* Keep the STATS_TOP largest of @line in @top (sorted), @ntop of them. */
static void top_add(struct stats_line *top, unsigned *ntop, struct stats_line line)
{
	if (*ntop == STATS_TOP && top[STATS_TOP - 1].n >= line.n)
		return;
	if (*ntop < STATS_TOP)
		(*ntop)++;
	top[*ntop - 1] = line;
	qsort(top, *ntop, sizeof(*top), stats_line_cmp);
}

void exit_stats_print(const struct exit_stats *s, const struct shm_region *r,
		      unsigned nvcpus, FILE *f)
{
	struct stats_line top[STATS_TOP];
	unsigned ntop = 0;

	if (!s)
		return;
	for (unsigned v = 0; v < nvcpus && v < SHM_MAX_VCPUS; v++) {
		const struct shm_vcpu_exits *x = &r->vcpu[v];

		fprintf(f, "exit-stats: vcpu %u:", v);
#define STATS_X(n) fprintf(f, " " #n " %llu", (unsigned long long)atomic_load(&x->n));
		SHM_VCPU_EXITS(STATS_X)
#undef STATS_X
		fputc('\n', f);
	}
	for (int w = 0; w < 2; w++)
		for (unsigned p = 0; p < 65536; p++)
			if (s->io[w][p])
				top_add(top, &ntop, (struct stats_line){
					.n = s->io[w][p], .is_write = w, .where = p });
	for (unsigned i = 0; i < s->nmmio; i++)
		for (int w = 0; w < 2; w++)
			if (s->mmio[i].n[w])
				top_add(top, &ntop, (struct stats_line){
					.n = s->mmio[i].n[w], .mmio = true, .is_write = w,
					.where = s->mmio[i].page << 12 });
	for (unsigned i = 0; i < ntop; i++)
		fprintf(f, "exit-stats: %-4s %-5s 0x%-10llx %llu\n",
			top[i].mmio ? "mmio" : "io", top[i].is_write ? "write" : "read",
			(unsigned long long)top[i].where, (unsigned long long)top[i].n);
	if (s->mmio_other)
		fprintf(f, "exit-stats: mmio on more than %d pages: %llu more\n",
			STATS_MMIO_PAGES, (unsigned long long)s->mmio_other);
}
