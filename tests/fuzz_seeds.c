/*
 * fuzz_seeds.c - writes the seed corpora of the job, result, shm and remote
 * fuzz targets with the real encoders, so the seeds follow the formats as
 * they change.  Usage: fuzz_seeds DIR (creates DIR/job, DIR/result, DIR/shm,
 * DIR/remote).
 * The scenario target's seeds are the shipped scenarios and test fixtures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/job.h"
#include "common/remote_proto.h"
#include "common/shm.h"
#include "common/vm_result.h"

static const char *top;

static void seed_write(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, sub);
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", top, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void seed_text(const char *sub, const char *name, char *text)
{
	if (!text) {
		fprintf(stderr, "fuzz_seeds: encoding %s/%s failed\n", sub, name);
		exit(1);
	}
	seed_write(sub, name, text, strlen(text));
	free(text);
}

static void jobs_write(void)
{
	char name[] = "seed/builtin#0", workload[] = "pattern=randread bs=4k ops=100 qd=4";
	char kernel[] = "/boot/vmlinuz", initrd[] = "/tmp/initrd.cpio", cmdline[] = "quiet";
	char image[] = "disk.img";
	struct job_spec j;

	job_spec_init(&j);
	j.name = name;
	j.workload = workload;
	j.ndisks = 1;
	j.disk[0].size = 1 << 20;
	strcpy(j.disk[0].serial, "vmorch-0");
	seed_text("job", "builtin.json", job_spec_encode(&j));

	j.vcpus = 4;
	j.memory = 256ULL << 20;
	j.guest.kind = JOB_GUEST_LINUX;
	j.guest.kernel = kernel;
	j.guest.initramfs = initrd;
	j.guest.cmdline = cmdline;
	j.ndisks = 2;
	j.disk[1].path = image;
	j.disk[1].read_only = true;
	j.disk[1].allow_block_device = true;
	j.disk[0].bw = (struct job_bucket){ 1 << 20, 4096, 1000 };
	j.disk[0].ops = (struct job_bucket){ 100, 10, 1000 };
	j.nprotect = 2;
	j.protect[0] = (struct job_file_id){ 2049, 1234 };
	j.protect[1] = (struct job_file_id){ 2049, 1235 };
	seed_text("job", "linux-throttle.json", job_spec_encode(&j));
}

static void result_fill(struct vm_result *r)
{
	memset(r, 0, sizeof(*r));
	r->success = true;
	r->exit_kind = VM_EXIT_GUEST_PASS;
	r->wall_us = 123456;
	r->boot_us = 2548;
	r->ndisks = 2;
	r->disk[0].reads_completed = 100;
	r->disk[0].bytes_read = 409600;
	r->disk[1].throttled_count = 7;
	vm_result_set_metric(r, "iops", 812.5);
	vm_result_set_metric(r, "verify_errors", 0);
	strcpy(r->console_tail, "vmorch-guest: pass\n");
}

static void results_write(void)
{
	static struct vm_result r;

	result_fill(&r);
	seed_text("result", "pass.json", vm_result_encode(&r));
	r.success = false;
	r.exit_kind = VM_EXIT_VMM_ERROR;
	r.ndisks = 0;
	strcpy(r.error, "virtio-blk: descriptor chain loops");
	strcpy(r.console_tail, "\x1b]0;x\a\xc3\xa9\n");
	seed_text("result", "vmm-error.json", vm_result_encode(&r));
	r.exit_kind = VM_EXIT_INFRA;
	r.exit_code = ENOSPC;
	seed_text("result", "infra.json", vm_result_encode(&r));
}

static size_t put(uint8_t *b, size_t at, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
	return at + n;
}

/* One input in fuzz_shm.c's layout: see the comment at its top. */
static void shm_seed(const char *name, unsigned int flags, unsigned int size_arg,
		     uint32_t ready, const char *json)
{
	static uint8_t b[SHM_RESULT_MAX + 256];
	size_t at = 0, len = json ? strlen(json) : 0;

	at = put(b, at, flags, 1);
	at = put(b, at, size_arg, 2);
	if (flags & 4) {
		at = put(b, at, SHM_MAGIC, 8);
		at = put(b, at, SHM_ABI_VERSION, 4);
		at = put(b, at, 0, 4);
		at = put(b, at, sizeof(struct shm_region), 8);
	}
	at = put(b, at, SHM_STATE_EXITED, 4);
	at = put(b, at, 2, 4);			/* ndisks */
	at = put(b, at, 1, 4);			/* nvcpus */
	at = put(b, at, ready, 4);
	at = put(b, at, len, 4);		/* result_len, used with flags & 8 */
	at = put(b, at, 2, 1);			/* two counter patches */
	at = put(b, at, 0, 2);
	at = put(b, at, 100, 8);		/* disk 0 reads_completed */
	at = put(b, at, VBLK_NR_COUNTERS + 3, 2);
	at = put(b, at, 409600, 8);		/* disk 1 bytes_read */
	if (len)
		memcpy(b + at, json, len);
	seed_write("shm", name, b, at + len);
}

static void shms_write(void)
{
	static struct vm_result r;
	char *json;

	result_fill(&r);
	json = vm_result_encode(&r);
	if (!json)
		exit(1);
	shm_seed("published", 0, 0, 1, json);
	shm_seed("published-raw", 4 | 8, 0, 1, json);
	shm_seed("not-ready", 0, 0, 0, json);
	shm_seed("long-file", 2, 4096, 1, json);
	shm_seed("short-file", 1, 4096, 1, json);
	shm_seed("garbage", 0, 0, 1, "{\"version\":1,\"success\":");
	free(json);
}

/* fuzz_remote.c's layout: a chunk-size byte, then the channel's bytes. */
static void remote_seed(const char *name, uint8_t chunk, char *const *frames, int n,
			size_t cut)
{
	static uint8_t b[4 * SHM_RESULT_MAX];
	size_t at = 1;

	b[0] = chunk;
	for (int i = 0; i < n; i++) {
		size_t len;

		if (!frames[i])
			exit(1);
		len = strlen(frames[i]);
		memcpy(b + at, frames[i], len);
		at += len;
	}
	seed_write("remote", name, b, at - cut);
}

static void remotes_write(void)
{
	static struct remote_snapshot snap;
	static struct vm_result r;
	char *f[4];
	size_t len;

	result_fill(&r);
	snap.state = SHM_STATE_RUNNING;
	snap.heartbeat_age_ms = 40;
	snap.sched = (struct remote_sched){ 123456789, 1000, true };
	snap.ndisks = 2;
	snap.disk[0] = r.disk[0];
	snap.disk[1] = r.disk[1];
	snap.nvcpus = 2;
	snap.vcpu[0] = (struct remote_vcpu_exits){ 10, 20, 3, 4, 5 };
	f[0] = remote_hello_encode(4242, &len);
	f[1] = remote_snapshot_encode(&snap, &len);
	snap.state = SHM_STATE_EXITED;
	f[2] = remote_snapshot_encode(&snap, &len);
	f[3] = remote_result_encode(&r, &len);
	remote_seed("whole", 255, f, 4, 0);
	remote_seed("small-chunks", 6, f, 4, 0);
	remote_seed("truncated", 63, f, 4, 7);
	remote_seed("hello-only", 0, f, 1, 0);
	for (int i = 0; i < 4; i++)
		free(f[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0777) < 0 && errno != EEXIST) {
		perror(top);
		return 1;
	}
	jobs_write();
	results_write();
	shms_write();
	remotes_write();
	return 0;
}
