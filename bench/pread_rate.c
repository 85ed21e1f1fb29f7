/*
 * pread_rate.c - the host's own single-thread pread rate on a file: the
 * ceiling a VMM's virtio-blk can approach on the same page-cached file.
 *
 *     pread_rate FILE BS OPS rand|seq
 * Prints "ops_per_s bytes_per_s".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct stat st;
	uint64_t x = 88172645463325252ULL, blocks, bs, ops;
	double secs;
	char *buf;
	int fd, rnd;

	if (argc != 5)
		return 2;
	fd = open(argv[1], O_RDONLY);
	bs = strtoull(argv[2], NULL, 0);
	ops = strtoull(argv[3], NULL, 0);
	rnd = argv[4][0] == 'r';
	if (fd < 0 || fstat(fd, &st) || !bs || (uint64_t)st.st_size < bs)
		return 1;
	blocks = (uint64_t)st.st_size / bs;
	buf = aligned_alloc(4096, bs);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (uint64_t i = 0; i < ops; i++) {
		uint64_t blk;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		blk = rnd ? x % blocks : i % blocks;
		if (pread(fd, buf, bs, (off_t)(blk * bs)) != (ssize_t)bs)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f %.0f\n", (double)ops / secs, (double)(ops * bs) / secs);
	return 0;
}
