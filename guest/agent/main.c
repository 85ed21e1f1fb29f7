/*
 * main.c - vmorch-agent, the /init of a Linux guest: mount, take the job
 * file, load the virtio modules, find the disks, run the user's program
 * (job.json's run), the command line's workload or command=, print one
 * VMORCH-RESULT line, hand the verdict to the debug-exit port.  See
 * README.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "guest/builtin/protocol.h"

#define ORDER_FILE "/lib/modules/order"

static char reason[256];

int fail(const char *fmt, ...)
{
	va_list ap;

	if (!reason[0]) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *fail_reason(void)
{
	return reason;
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("vmorch-agent: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *read_cmdline(void)
{
	static char buf[4096];
	FILE *f = fopen("/proc/cmdline", "re");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples. */
static uint32_t percentile(const uint32_t *v, uint64_t n, unsigned pct)
{
	uint64_t rank;

	if (!n)
		return 0;
	rank = (n * pct + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

/* A JSON string body: the reason may quote anything. */
static void json_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

struct result {
	char nonce[GUEST_NONCE_LEN + 1];	/* job.json's, or "" */
	unsigned ndisks;
	struct run_stats st;
	uint64_t kernel[5];	/* disks_kernel_stats */
	uint64_t init_ms, setup_ms;
	bool command;
	bool run;		/* job.json's run */
	bool timed_out;
	bool mid_line;		/* the program's output ended inside a line */
	uint64_t run_ms;
	int exit_code;
	struct metrics metrics;	/* the program's */
};

static void print_result(struct result *r, const char *status)
{
	struct run_stats *st = &r->st;
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return;
	if (r->mid_line)
		fputc('\n', f);
	fputs(GUEST_RESULT_PREFIX, f);
	if (r->nonce[0])
		fprintf(f, "%s ", r->nonce);
	fprintf(f, "{\"status\":\"%s\"", status);
	if (strcmp(status, "pass")) {
		fputs(",\"reason\":\"", f);
		json_escaped(f, fail_reason());
		fputc('"', f);
	}
	fprintf(f, ",\"disks\":%u,\"init_ms\":%llu,\"setup_ms\":%llu", r->ndisks,
		(unsigned long long)r->init_ms, (unsigned long long)r->setup_ms);
	if (r->run) {
		fprintf(f, ",\"exit_code\":%d,\"run_ms\":%llu", r->exit_code,
			(unsigned long long)r->run_ms);
		metrics_print_json(f, &r->metrics);
	} else if (r->command) {
		fprintf(f, ",\"exit_code\":%d", r->exit_code);
	} else {
		qsort(st->lat_us, st->nlat, sizeof(*st->lat_us), u32_cmp);
		fprintf(f, ",\"ops\":%llu,\"reads\":%llu,\"writes\":%llu,\"flushes\":%llu"
			",\"bytes_read\":%llu,\"bytes_written\":%llu,\"verify_errors\":%llu"
			",\"lat_p50_us\":%u,\"lat_p99_us\":%u,\"lat_max_us\":%u"
			",\"iops\":%.1f,\"guest_seconds\":%.6f",
			(unsigned long long)st->ops, (unsigned long long)st->reads,
			(unsigned long long)st->writes, (unsigned long long)st->flushes,
			(unsigned long long)st->bytes_read,
			(unsigned long long)st->bytes_written,
			(unsigned long long)st->verify_errors,
			percentile(st->lat_us, st->nlat, 50), percentile(st->lat_us, st->nlat, 99),
			st->nlat ? st->lat_us[st->nlat - 1] : 0,
			st->seconds > 0 ? (double)st->ops / st->seconds : 0.0, st->seconds);
		fprintf(f, ",\"ro_disks\":%llu,\"ro_refused\":%llu",
			(unsigned long long)st->ro_disks, (unsigned long long)st->ro_refused);
	}
	fprintf(f, ",\"sys_reads\":%llu,\"sys_writes\":%llu,\"sys_flushes\":%llu"
		",\"sys_bytes_read\":%llu,\"sys_bytes_written\":%llu}\n",
		(unsigned long long)r->kernel[0], (unsigned long long)r->kernel[1],
		(unsigned long long)r->kernel[2], (unsigned long long)r->kernel[3],
		(unsigned long long)r->kernel[4]);
	/* One write(2) (a tty takes it whole): the line must not interleave
	 * with kernel messages. */
	if (fclose(f) == 0)
		agent_write_all(1, line, len);
	free(line);
}

/* Only KERN_EMERG (a panic) from here on: no kernel message may land in
 * the middle of the result line on the shared console. */
static void quiet_console(void)
{
	FILE *f = fopen("/proc/sys/kernel/printk", "we");

	if (f) {
		fputs("1", f);
		fclose(f);
	}
}

static int run_workload(const struct agent_cfg *cfg, struct disk *d, unsigned n,
			struct run_stats *st)
{
	for (unsigned i = 0; i < n; i++) {
		int rc;

		if (d[i].read_only)
			st->ro_disks++;
		if (d[i].read_only && cfg->ro_check)
			rc = ro_check_disk(&d[i], i, cfg, st);
		else
			rc = workload_run_disk(&d[i], i, cfg, st);
		if (rc)
			return rc;
	}
	return st->verify_errors ? fail("%llu sectors failed verification",
					(unsigned long long)st->verify_errors) : 0;
}

/*
 * The libraries of the initramfs's programs that the host found through
 * its ld.so.cache sit in directories the guest's loader does not search:
 * the builder lists them, and they become the program's LD_LIBRARY_PATH
 * (@use: not in a rootfs image, which has its own cache).
 */
static void ld_library_path(bool use)
{
	char buf[4096];
	FILE *f = fopen(GUEST_LD_PATH_FILE, "re");
	size_t n;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (use && buf[0])
		setenv("LD_LIBRARY_PATH", buf, 1);
	unlink(GUEST_LD_PATH_FILE);
	rmdir(GUEST_JOB_DIR);
}

/*
 * job.json's run: its output is on the console already; the verdict is its
 * exit status, then its metrics.  The first failure wins, so a program
 * that fails its metrics as well is reported by its exit status.
 */
static int run_job(const struct job *job, const struct disk *d, unsigned n,
		   struct result *r)
{
	struct run_opts o = {
		.out_fd = 1,
		.clock = CLOCK_BOOTTIME,
		.deadline_ms = job_deadline_ms(job, agent_clock_ms(CLOCK_REALTIME),
					       agent_clock_ms(CLOCK_BOOTTIME)),
		.kill_grace_ms = AGENT_KILL_GRACE_MS,
		.capture_max = AGENT_CAPTURE_MAX,
		.init = getpid() == 1,
		.root = job->rootfs ? AGENT_ROOTFS_DIR : NULL,
	};
	struct run_result rr = { 0 };
	char **argv = NULL, err[256], end[128];
	int rc;

	r->run = true;
	r->exit_code = -1;	/* until it has run */
	ld_library_path(!job->rootfs);
	rc = sys_prepare_shell();
	if (rc)
		return rc;
	if (run_build_argv(job, d, n, &argv, err, sizeof(err)))
		return fail("%s", err);
	fflush(stdout);
	rc = run_program(argv, &o, &rr, err, sizeof(err));
	if (rc)
		fail("%s", err);
	r->exit_code = rr.exit_code;
	r->timed_out = rr.timed_out;
	r->mid_line = rr.mid_line;
	r->run_ms = rr.ms;
	run_describe_end(&rr, &o, end, sizeof(end));
	if (end[0])
		rc = fail("%s", end);
	/* A failed or stopped program still reports what it measured, as a
	 * failed workload does; its metric errors then go unsaid. */
	if (metrics_extract(&r->metrics, job->metrics_from, rr.out, rr.out_len,
			    rr.out_cut, err, sizeof(err)))
		rc = fail("%s", err);
	run_result_release(&rr);
	run_argv_free(argv);
	return rc;
}

int main(void)
{
	static struct disk disk[AGENT_MAX_DISKS];
	struct result r = { 0 };
	struct agent_cfg cfg;
	struct job job;
	char err[256];
	bool run;
	uint64_t t0;
	int rc;

	sys_mount_basics();
	r.init_ms = agent_clock_ms(CLOCK_BOOTTIME);
	t0 = now_ns();
	/* First: the file must be gone before anything else runs. */
	rc = job_load(&job, GUEST_JOB_FILE, GUEST_JOB_DIR, err, sizeof(err));
	if (rc)
		fail("%s", err);
	memcpy(r.nonce, job.nonce, sizeof(r.nonce));
	run = job.argv || job.shell;
	if (!rc)
		rc = cfg_parse(&cfg, read_cmdline());
	if (!rc && run && cfg.command)
		rc = fail("run: job.json's \"run\" and command= both given");
	if (!rc)
		rc = sys_load_modules(ORDER_FILE);
	if (!rc)
		rc = disks_find(disk, AGENT_MAX_DISKS, &r.ndisks);
	if (!rc && run && rootfs_mount(&job, disk, &r.ndisks, err, sizeof(err)))
		rc = fail("%s", err);
	r.setup_ms = (now_ns() - t0) / 1000000;
	for (unsigned i = 0; !rc && i < r.ndisks; i++)
		logmsg("disk %u: %s at 0x%llx, %llu bytes%s", i, disk[i].name,
		       (unsigned long long)disk[i].addr, (unsigned long long)disk[i].bytes,
		       disk[i].read_only ? ", read-only" : "");
	if (!rc && run) {
		rc = run_job(&job, disk, r.ndisks, &r);
	} else if (!rc && cfg.command) {
		r.command = true;
		rc = sys_run_command(cfg.command, &r.exit_code);
		if (!rc && r.exit_code)
			rc = fail("command exited with status %d", r.exit_code);
	} else if (!rc) {
		rc = run_workload(&cfg, disk, r.ndisks, &r.st);
	}
	disks_kernel_stats(disk, r.ndisks, r.kernel);
	quiet_console();
	print_result(&r, rc == 0 ? "pass" : r.timed_out ? "timeout" : "fail");
	sys_halt(rc == 0);
	return 0;
}
