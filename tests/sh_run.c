/*
 * sh_run.c - `sh -c` and its whole output, for tests (see sh_run.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sh_run.h"

char *sh_run(const char *cmd, size_t *len, int *status)
{
	size_t cap = 0;
	char *out = NULL, buf[4096];
	FILE *mem = open_memstream(&out, &cap);
	int p[2];
	ssize_t n;
	pid_t pid;

	if (!mem)
		return NULL;
	if (pipe(p)) {
		fclose(mem);
		free(out);
		return NULL;
	}
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		fwrite(buf, 1, (size_t)n, mem);
	}
	close(p[0]);
	fclose(mem);
	*status = -1;
	while (pid > 0 && waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	*len = cap;
	if (pid < 0) {
		free(out);
		return NULL;
	}
	return out;
}
