/*
 * sh_run.h - a command run with `sh -c`, as sshd runs an exec request
 * through a fleet host's login shell, and its whole standard output: how
 * the host-side scripts (host probe, store gc) are tested on this machine.
 */
#ifndef VMORCH_TEST_SH_RUN_H
#define VMORCH_TEST_SH_RUN_H

#include <stddef.h>

/*
 * Run @cmd; its stdout (malloc'd, NUL-terminated, *@len bytes without the
 * NUL) and its wait status in *@status.  NULL when it could not be run.
 */
char *sh_run(const char *cmd, size_t *len, int *status);

#endif
