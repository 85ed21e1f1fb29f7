/*
 * run_meta.c - what a run was of (see run_meta.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "orchestrator/run_meta.h"

extern char **environ;

static bool meta_has(const struct run_meta *m, const char *key)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].key, key))
			return true;
	return false;
}

/* Takes @text (malloc'd "KEY\0VALUE"); @value points into it. */
static void meta_put(struct run_meta *m, char *text, const char *value, bool user)
{
	m->text[m->n] = text;
	m->v[m->n++] = (struct db_meta){ .key = text, .value = value, .user = user };
}

int run_meta_add_user(struct run_meta *m, const char *arg, struct verr *e)
{
	const char *eq = strchr(arg, '=');
	char *text;
	int rc;

	if (!eq) {
		verr_set(e, "--meta %s: expected KEY=VALUE", arg);
		return -EINVAL;
	}
	if (m->n == DB_META_MAX) {
		verr_set(e, "--meta: at most %d", DB_META_MAX);
		return -E2BIG;
	}
	text = strdup(arg);
	if (!text)
		return -ENOMEM;
	text[eq - arg] = 0;
	rc = db_meta_check(text, text + (eq - arg) + 1, e);
	if (!rc && meta_has(m, text)) {
		verr_set(e, "--meta %s: given twice", text);
		rc = -EINVAL;
	}
	if (rc) {
		free(text);
		return rc;
	}
	meta_put(m, text, text + (eq - arg) + 1, true);
	return 0;
}

/* Up to @cap - 1 bytes of what `git ARGS...` prints, within the deadline. */
static int git_output(char *const argv[], char *out, size_t cap)
{
	posix_spawn_file_actions_t fa;
	uint64_t deadline = clock_ms() + RUN_META_GIT_MS;
	int p[2], status, rc;
	size_t len = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return -rc;
	}
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		uint64_t now = clock_ms();
		ssize_t n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) == 0) {
			kill(pid, SIGKILL);
			rc = -ETIMEDOUT;
			break;
		}
		n = read(p[0], out + len, len + 1 < cap ? cap - 1 - len : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + 1 >= cap) {
			if (len + 1 >= cap)
				kill(pid, SIGKILL);	/* enough: the rest is not wanted */
			break;
		}
		len += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[len] = 0;
	out[strcspn(out, "\n")] = 0;
	if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status)) && len + 1 < cap)
		rc = -EIO;
	return rc;
}

static void meta_put_auto(struct run_meta *m, const char *key, const char *value)
{
	size_t klen = strlen(key);
	char *text;

	if (meta_has(m, key) || !value[0] || db_meta_check(key, value, NULL))
		return;
	text = malloc(klen + strlen(value) + 2);
	if (!text)
		return;
	memcpy(text, key, klen + 1);
	strcpy(text + klen + 1, value);
	meta_put(m, text, text + klen + 1, false);
}

/* Is there a git on $PATH?  Without one, nothing is started at all. */
static bool git_on_path(void)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		size_t len = strcspn(path, ":");
		char exe[4096];

		if (len && len < sizeof(exe) - 5) {
			snprintf(exe, sizeof(exe), "%.*s/git", (int)len, path);
			if (!access(exe, X_OK))
				return true;
		}
		path += len + (path[len] == ':');
	}
	return false;
}

void run_meta_add_git(struct run_meta *m)
{
	char *const head[] = { "git", "rev-parse", "--verify", "-q", "HEAD", NULL };
	char *const branch[] = { "git", "symbolic-ref", "-q", "--short", "HEAD", NULL };
	char *const status[] = {
		"git", "--no-optional-locks", "status", "--porcelain",
		"--untracked-files=no", NULL
	};
	char out[DB_META_VALUE_MAX + 1];

	if (!git_on_path() || git_output(head, out, sizeof(out)))
		return;		/* no repository, no commit yet, or no git */
	meta_put_auto(m, "commit", out);
	if (!git_output(branch, out, sizeof(out)))
		meta_put_auto(m, "branch", out);
	/* Two bytes are enough: any line at all means a change. */
	if (git_output(status, out, 2) == 0)
		meta_put_auto(m, "dirty", out[0] ? "1" : "0");
}

void run_meta_release(struct run_meta *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->text[i]);
	m->n = 0;
}
