/*
 * metric-prog.c - a small dynamically linked program that a Linux guest's
 * run: starts in tests/nested/linux-in-l1.sh: it reads COUNT blocks of 4 KiB
 * from DISK with O_DIRECT, one at a time, and prints how many it read as
 * the metric user.prog_reads.  It comes into the initramfs through files:,
 * with its loader and libc, which is what the test checks.
 *
 *	metric-prog DISK COUNT
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count, done = 0;
	void *buf;
	int fd;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: metric-prog DISK COUNT\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, 4096, 4096)) {
		perror(argv[1]);
		return 1;
	}
	for (; done < count; done++)
		if (pread(fd, buf, 4096, (off_t)done * 4096) != 4096) {
			perror("pread");
			return 1;
		}
	close(fd);
	printf("VMORCH-METRIC user.prog_reads %ld\n", done);
	return 0;
}
