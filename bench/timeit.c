/*
 * timeit.c - start a command and time it: microseconds from exec to the
 * first complete line on its stdout or stderr, and to its exit.  Used by
 * bench/worker.sh to compare start-up of vmm-worker and QEMU.
 *
 *     timeit [-e] [-m TEXT] -- COMMAND [ARGS...]
 *       -e       watch stderr instead of stdout
 *       -m TEXT  the first line containing TEXT counts (default: any line)
 * Prints "first_line_us total_us exit_status" on stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	const char *match = NULL;
	char buf[65536];
	size_t have = 0;
	uint64_t t0, first = 0;
	int watch = 1, p[2], c, status;
	pid_t pid;

	while ((c = getopt(argc, argv, "em:")) != -1) {
		if (c == 'e')
			watch = 2;
		else if (c == 'm')
			match = optarg;
		else
			return 2;
	}
	if (optind >= argc || pipe(p))
		return 2;
	t0 = now_us();
	pid = fork();
	if (pid == 0) {
		dup2(p[1], watch);
		close(p[0]);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + have, sizeof(buf) - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		if (!first) {
			char *nl = strchr(buf, '\n');

			if (nl && (!match || strstr(buf, match)))
				first = now_us() - t0;
		}
		if (have > sizeof(buf) / 2)
			have = 0;	/* only the start matters */
	}
	waitpid(pid, &status, 0);
	printf("%llu %llu %d\n", (unsigned long long)first,
	       (unsigned long long)(now_us() - t0),
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
