/*
 * system.c - what an /init does before and after the real work: mount the
 * kernel's file systems, load the modules the initramfs carries, run a
 * shell command, and end the VM (debug-exit port, then power-off).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "guest/builtin/protocol.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4	/* Linux 5.17+, CONFIG_MODULE_DECOMPRESS */
#endif

static void mount_one(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, MS_NOSUID | MS_NOEXEC, NULL) && errno != EBUSY)
		logmsg("mount %s on %s: %s", type, dir, strerror(errno));
}

void sys_mount_basics(void)
{
	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) && errno != EBUSY)
		logmsg("mount devtmpfs on /dev: %s", strerror(errno));
	/* The kernel gives init /dev/console as fds 0-2 only if the archive
	 * has the node; the builder adds it, this is the fallback. */
	if (fcntl(1, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static bool is_compressed(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && (!strcmp(dot, ".xz") || !strcmp(dot, ".zst") || !strcmp(dot, ".gz"));
}

/* finit_module(2) on each file the order file names, dependencies first
 * (the builder wrote them so).  A module already present (built in, or
 * loaded) is fine. */
int sys_load_modules(const char *order_file)
{
	FILE *f = fopen(order_file, "re");
	char line[512];
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : fail("%s: %s", order_file, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		int fd, flags;

		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = fail("module %s: %s", line, strerror(errno));
			break;
		}
		flags = is_compressed(line) ? MODULE_INIT_COMPRESSED_FILE : 0;
		if (syscall(SYS_finit_module, fd, "", flags) && errno != EEXIST)
			rc = fail("loading module %s: %s", line, strerror(errno));
		close(fd);
	}
	fclose(f);
	return rc;
}

/* Run argv, wait for it (as pid 1 also reaping the orphans it leaves). */
static int sys_spawn(char *const argv[], int *exit_code)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return fail("waitpid: %s", strerror(errno));
	}
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

/* What a user's command finds: a PATH, a HOME, and busybox's applets
 * linked into /bin when the initramfs has busybox. */
int sys_prepare_shell(void)
{
	char *install[] = { "/bin/busybox", "--install", "-s", "/bin", NULL };
	int ignored;

	setenv("PATH", AGENT_RUN_PATH, 1);
	setenv("HOME", "/", 1);
	if (access(install[0], X_OK) == 0)
		return sys_spawn(install, &ignored);
	return 0;
}

/* The scenario's command: through busybox sh when the initramfs has it. */
int sys_run_command(const char *command, int *exit_code)
{
	char *sh[] = { "/bin/sh", "-c", (char *)command, NULL };
	int rc;

	if (access(sh[0], X_OK))
		return fail("command: no /bin/sh in the initramfs (install busybox-static on the host)");
	rc = sys_prepare_shell();
	if (rc)
		return rc;
	return sys_spawn(sh, exit_code);
}

/* The verdict through the debug-exit port (QEMU's isa-debug-exit and
 * vmm-worker alike); power-off when no such port ended the VM. */
void sys_halt(bool pass)
{
	sync();
	/*
	 * The result line may still sit in the tty's buffer, sent by the UART
	 * driver on interrupts: the exit port would end the VM before it is
	 * out (seen with 2 vCPUs).  Wait until the console has sent it all.
	 */
	tcdrain(1);
	if (ioperm(GUEST_DEBUG_EXIT_PORT, 4, 1) == 0)
		outl(pass ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL, GUEST_DEBUG_EXIT_PORT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();	/* init must not exit: the kernel would panic */
}
