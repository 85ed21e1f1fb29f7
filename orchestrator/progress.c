/*
 * progress.c - live progress for `vmorch run` (see progress.h).  Honours
 * NO_COLOR (https://no-color.org) and --quiet; never draws on a non-TTY.
 * Job names and error messages (a worker's last words, a guest's text) are
 * printed escaped: they must not drive the terminal.  Write errors (a reader
 * gone, a full disk) do not stop the run; `vmorch` reports them at exit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/text_escape.h"
#include "orchestrator/progress.h"

#define BAR_WIDTH	24
#define REDRAW_MS	100

void progress_init(struct progress *pg, FILE *out, bool quiet)
{
	const char *nc = getenv("NO_COLOR");

	memset(pg, 0, sizeof(*pg));
	pg->out = out;
	pg->quiet = quiet;
	pg->tty = isatty(fileno(out));
	pg->color = pg->tty && !(nc && *nc);
}

void progress_human(double v, char *buf, size_t cap)
{
	static const char suffix[] = " kMGTP";
	int i = 0;

	while (v >= 1000 && i < 5) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.1f%c", v, suffix[i]);
}

const char *progress_color(const struct progress *pg, bool pass)
{
	return pg->color ? (pass ? "\033[32m" : "\033[31m") : "";
}

const char *progress_reset(const struct progress *pg)
{
	return pg->color ? "\033[0m" : "";
}

static void progress_clear(struct progress *pg)
{
	if (pg->bar_shown) {
		fputs("\r\033[K", pg->out);
		pg->bar_shown = false;
	}
}

static void progress_rates(struct progress *pg, const struct pool_progress *p)
{
	uint64_t dt = p->elapsed_ms - pg->last_ms;
	double iops, bps;

	if (dt < 250)
		return;
	iops = (double)(p->ops - pg->last_ops) * 1000.0 / (double)dt;
	bps = (double)(p->bytes - pg->last_bytes) * 1000.0 / (double)dt;
	/* Smooth over about a second so the figures are readable. */
	pg->iops = pg->last_ms ? 0.7 * pg->iops + 0.3 * iops : iops;
	pg->bps = pg->last_ms ? 0.7 * pg->bps + 0.3 * bps : bps;
	pg->last_ops = p->ops;
	pg->last_bytes = p->bytes;
	pg->last_ms = p->elapsed_ms;
}

/*
 * The terminal's width now: asked at every redraw, so a resized window
 * (SIGWINCH) is followed without a handler.  80 when it cannot be told.
 */
static unsigned progress_columns(const struct progress *pg)
{
	struct winsize ws;

	if (ioctl(fileno(pg->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void progress_draw(struct progress *pg, const struct pool_progress *p)
{
	unsigned fill = p->total ? (unsigned)(p->done * BAR_WIDTH / p->total) : 0;
	char bar[BAR_WIDTH + 1], iops[16], bps[16], eta[32] = "", line[512];
	unsigned cols = progress_columns(pg);
	int head, seg, n;

	for (unsigned i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = 0;
	progress_human(pg->iops, iops, sizeof(iops));
	progress_human(pg->bps, bps, sizeof(bps));
	if (p->done && p->done < p->total) {
		uint64_t left = p->elapsed_ms * (p->total - p->done) / p->done / 1000;

		snprintf(eta, sizeof(eta), "  ETA %llu:%02llu",
			 (unsigned long long)(left / 60), (unsigned long long)(left % 60));
	}
	/* The line, and where its "N failed" is: the part shown in red. */
	head = snprintf(line, sizeof(line), "[%s] %zu/%zu jobs  ", bar, p->done, p->total);
	seg = snprintf(line + head, sizeof(line) - (size_t)head, "%zu failed", p->failed);
	n = head + seg;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s IOPS  %sB/s%s%s%s", iops, bps,
		      eta, pg->hosts[0] ? "  hosts " : "", pg->hosts);
	/*
	 * One line that never wraps: a line longer than the terminal wraps at
	 * every redraw and leaves a new line behind each time.
	 */
	if (n >= (int)cols) {
		n = (int)cols - 1;
		line[n] = 0;
	}
	if (p->failed && head + seg <= n)
		fprintf(pg->out, "\r\033[K%.*s%s%.*s%s%s", head, line, progress_color(pg, false),
			seg, line + head, progress_reset(pg), line + head + seg);
	else
		fprintf(pg->out, "\r\033[K%s", line);
	fflush(pg->out);
	pg->bar_shown = true;
}

void progress_update(struct progress *pg, const struct pool_progress *p)
{
	progress_rates(pg, p);
	if (!pg->tty || pg->quiet)
		return;
	if (p->elapsed_ms - pg->last_draw_ms < REDRAW_MS && p->done < p->total)
		return;
	pg->last_draw_ms = p->elapsed_ms;
	progress_draw(pg, p);
}

void progress_job_done(struct progress *pg, const struct job_desc *job,
		       const struct vm_result *r, bool pass, const char *why)
{
	uint64_t reads = 0, writes = 0, errors = 0;
	bool infra = vm_exit_kind_is_infra(r->exit_kind);
	char name[256];

	if (pg->quiet && pass)
		return;
	for (uint32_t i = 0; i < r->ndisks; i++) {
		reads += r->disk[i].reads_completed;
		writes += r->disk[i].writes_completed;
		errors += r->disk[i].io_errors;
	}
	progress_clear(pg);
	text_escape(name, sizeof(name), job->spec.name, 0);
	fprintf(pg->out, "%s%s%s %-40s %-12s %7.2fs  reads=%llu writes=%llu io_errors=%llu",
		progress_color(pg, pass), pass ? "PASS" : infra ? "ERROR" : "FAIL",
		progress_reset(pg), name, vm_exit_kind_name(r->exit_kind),
		(double)r->wall_us / 1e6, (unsigned long long)reads,
		(unsigned long long)writes, (unsigned long long)errors);
	if (!pass && why && *why) {
		fputs("\n       ", pg->out);
		text_fputs(why, pg->out, 0);
	}
	fputc('\n', pg->out);
	fflush(pg->out);
}

void progress_hosts(struct progress *pg, const char *text)
{
	/* Host names come from the user's inventory: escaped like job names. */
	text_escape(pg->hosts, sizeof(pg->hosts), text, 0);
}

void progress_end(struct progress *pg)
{
	progress_clear(pg);
	fflush(pg->out);
}
