/*
 * exit_stats.h - where a guest's exits to user space come from: each port
 * (in and out) and each MMIO page, counted by the vCPU threads when the
 * worker runs with VMORCH_EXIT_STATS=1, and printed on stderr when the VM
 * ends.  For tuning a guest or the VMM: under nested virtualization an exit
 * to user space is the most expensive thing a guest does.
 */
#ifndef VMORCH_EXIT_STATS_H
#define VMORCH_EXIT_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/shm.h"

struct exit_stats;

/* A new, zeroed table when VMORCH_EXIT_STATS is set (not "0"), else NULL. */
struct exit_stats *exit_stats_from_env(void);
void exit_stats_free(struct exit_stats *s);

/* Count one exit; @s may be NULL (statistics off). */
void exit_stats_io(struct exit_stats *s, uint16_t port, bool is_write);
void exit_stats_mmio(struct exit_stats *s, uint64_t addr, bool is_write);

/*
 * Print the totals by kind for @nvcpus vCPUs (from the shm region) and the
 * busiest ports and pages, most exits first, one "exit-stats:" line each.
 */
void exit_stats_print(const struct exit_stats *s, const struct shm_region *r,
		      unsigned nvcpus, FILE *f);

#endif
