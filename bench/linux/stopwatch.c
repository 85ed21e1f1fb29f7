/*
 * stopwatch.c - run a VMM inside L1 and time it (bench/linux.sh): the
 * command's stdout and stderr both go into FILE, and it prints
 *
 *     first_us... total_us status
 *
 * microseconds from exec to the first output that contains each TEXT (one
 * figure per -m, in order; 0 if it never came; any byte when no -m is
 * given), to the command's exit, and its exit status (128 + signal when
 * killed).  Built statically on the host and copied into L1, whose busybox
 * `date` has no sub-second clock.
 *
 *     stopwatch -o FILE [-m TEXT]... -- COMMAND [ARGS...]
 */
#include <fcntl.h>
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
	enum { MAXM = 8, MAXLEN = 255 };
	const char *match[MAXM], *path = NULL;
	char buf[65536 + MAXLEN + 1];
	size_t keep = 0, mlen[MAXM], longest = 1;
	uint64_t t0, first[MAXM] = { 0 };
	int p[2], c, status, out, nm = 0, i;
	pid_t pid;

	while ((c = getopt(argc, argv, "o:m:")) != -1) {
		if (c == 'o')
			path = optarg;
		else if (c == 'm' && nm < MAXM)
			match[nm++] = optarg;
		else
			return 2;
	}
	if (!path || optind >= argc || pipe(p))
		return 2;
	if (nm == 0)
		match[nm++] = "";
	for (i = 0; i < nm; i++) {
		mlen[i] = strlen(match[i]);
		if (mlen[i] > MAXLEN)
			return 2;
		if (mlen[i] > longest)
			longest = mlen[i];
	}
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(path);
		return 2;
	}
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + keep, sizeof(buf) - 1 - keep);

		if (n <= 0)
			break;
		if (write(out, buf + keep, (size_t)n) != n)
			perror(path);
		keep += (size_t)n;
		buf[keep] = 0;
		for (i = 0; i < nm; i++)
			if (!first[i] && (mlen[i] == 0 || memmem(buf, keep, match[i], mlen[i])))
				first[i] = now_us() - t0;
		/* keep the last bytes: a match may straddle two reads */
		if (keep >= longest) {
			memmove(buf, buf + keep - (longest - 1), longest - 1);
			keep = longest - 1;
		}
	}
	waitpid(pid, &status, 0);
	close(out);
	for (i = 0; i < nm; i++)
		printf("%llu ", (unsigned long long)first[i]);
	printf("%llu %d\n", (unsigned long long)(now_us() - t0),
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
