/*
 * disks.c - finds the virtio disks once Linux has probed them and puts
 * them in the job's order: disk i is the one whose virtio-mmio window is
 * at 0xfeb00000 + i * 0x200, i.e. ascending MMIO address.  Linux names
 * ACPI-enumerated devices LNRO0005:NN in DSDT order, not address order,
 * so the address comes from /proc/iomem, where virtio_mmio claims its
 * window under the platform device's name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static int read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* virtio devices of type block (id 2) on the bus: what the disks will be. */
static unsigned count_virtio_blk(void)
{
	DIR *dir = opendir("/sys/bus/virtio/devices");
	struct dirent *de;
	unsigned n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char path[300], id[32];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", de->d_name);
		if (read_small(path, id, sizeof(id)) == 0 && strtoul(id, NULL, 0) == 2)
			n++;
	}
	closedir(dir);
	return n;
}

static unsigned count_vd(void)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	unsigned n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		n += strncmp(de->d_name, "vd", 2) == 0;
	closedir(dir);
	return n;
}

/* Lowest start address /proc/iomem gives a resource named @name. */
static uint64_t iomem_addr(const char *name)
{
	FILE *f = fopen("/proc/iomem", "re");
	uint64_t best = UINT64_MAX;
	char line[256];

	if (!f)
		return best;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strstr(line, " : ");
		uint64_t start;

		if (!colon)
			continue;
		colon[strcspn(colon, "\n")] = 0;
		if (strcmp(colon + 3, name) || sscanf(line, " %" SCNx64, &start) != 1)
			continue;
		if (start && start < best)
			best = start;
	}
	fclose(f);
	return best;
}

static int disk_cmp(const void *a, const void *b)
{
	const struct disk *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->sysdev, y->sysdev);
}

/* /dev/vdX from devtmpfs, or made here from /sys/block/vdX/dev. */
static int disk_node(struct disk *d)
{
	char path[300], mm[32];
	unsigned maj, min;

	snprintf(d->dev, sizeof(d->dev), "/dev/%s", d->name);
	if (access(d->dev, F_OK) == 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/block/%s/dev", d->name);
	if (read_small(path, mm, sizeof(mm)) || sscanf(mm, "%u:%u", &maj, &min) != 2)
		return fail("%s: no device number", d->name);
	if (mknod(d->dev, S_IFBLK | 0600, makedev(maj, min)) && errno != EEXIST)
		return fail("mknod %s: %s", d->dev, strerror(errno));
	return 0;
}

/* nomerges=2: each request the agent submits reaches the device as one
 * request (adjacent O_DIRECT writes submitted together would otherwise be
 * merged, and the device's counters would not match the agent's). */
static void disk_no_merges(const char *name)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/nomerges", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "2", 1) != 1)
		logmsg("%s: cannot turn merging off: %s", name, strerror(errno));
	close(fd);
}

static int disk_describe(struct disk *d, const char *name)
{
	char path[300], real[PATH_MAX], val[64], *slash;

	snprintf(d->name, sizeof(d->name), "%.31s", name);
	snprintf(path, sizeof(path), "/sys/block/%s/device", name);
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	snprintf(d->sysdev, sizeof(d->sysdev), "%s", real);
	/* .../platform/LNRO0005:00/virtio0: the parent names the window. */
	d->addr = UINT64_MAX;
	slash = strrchr(real, '/');
	if (slash) {
		*slash = 0;
		slash = strrchr(real, '/');
		if (slash)
			d->addr = iomem_addr(slash + 1);
	}
	snprintf(path, sizeof(path), "/sys/block/%s/size", name);
	if (read_small(path, val, sizeof(val)))
		return fail("%s: no size", name);
	d->bytes = strtoull(val, NULL, 10) * 512;
	snprintf(path, sizeof(path), "/sys/block/%s/ro", name);
	d->read_only = read_small(path, val, sizeof(val)) == 0 && val[0] == '1';
	disk_no_merges(name);
	return disk_node(d);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int disks_find(struct disk *d, unsigned max, unsigned *n)
{
	uint64_t deadline = now_ns() + (uint64_t)AGENT_WAIT_MS * 1000000;
	DIR *dir;
	struct dirent *de;

	/* virtio_blk's probe normally adds the disk before finit_module
	 * returns; wait anyway (bounded) until every virtio block device on
	 * the bus has its /sys/block entry. */
	while (count_vd() < count_virtio_blk()) {
		if (now_ns() > deadline)
			return fail("virtio disks: %u of %u appeared in %d ms", count_vd(),
				    count_virtio_blk(), AGENT_WAIT_MS);
		sleep_ms(5);
	}
	*n = 0;
	dir = opendir("/sys/block");
	if (!dir)
		return fail("/sys/block: %s", strerror(errno));
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vd", 2))
			continue;
		if (*n == max) {
			closedir(dir);
			return fail("more than %u virtio disks", max);
		}
		if (disk_describe(&d[*n], de->d_name)) {
			closedir(dir);
			return -1;
		}
		(*n)++;
	}
	closedir(dir);
	qsort(d, *n, sizeof(*d), disk_cmp);
	return 0;
}

void disks_kernel_stats(const struct disk *d, unsigned n, uint64_t out[5])
{
	memset(out, 0, 5 * sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		char path[300], buf[512];
		uint64_t f[17] = { 0 };

		snprintf(path, sizeof(path), "/sys/block/%s/stat", d[i].name);
		if (read_small(path, buf, sizeof(buf)))
			continue;
		/* Documentation/block/stat.rst: reads, _, sectors read, _,
		 * writes, _, sectors written, ... field 16 = flushes. */
		sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		       " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		       " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		       " %" SCNu64 " %" SCNu64, &f[0], &f[1], &f[2], &f[3], &f[4],
		       &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12],
		       &f[13], &f[14], &f[15], &f[16]);
		/* Each fdatasync is also accounted as an empty write
		 * (Linux's PREFLUSH bio); the device sees only its FLUSH.
		 * The agent never has two flushes in flight, so there is
		 * exactly one such write per FLUSH: subtract them. */
		out[0] += f[0];
		out[1] += f[4] >= f[15] ? f[4] - f[15] : 0;
		out[2] += f[15];
		out[3] += f[2] * 512;
		out[4] += f[6] * 512;
	}
}
