/*
 * host_range.h - host name ranges as pdsh and ClusterShell write them, for
 * the fleet inventory and --limit: "kvm[02-16]" is kvm02 .. kvm16 (a zero-
 * padded low bound sets the width), "node[1-3,7]" is node1 node2 node3
 * node7, "rack[1-2]-n[01-04]" is the product, the first bracket varying
 * slowest.  Items keep the order they are written in.  Pure string work.
 */
#ifndef VMORCH_HOST_RANGE_H
#define VMORCH_HOST_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

#define HOST_RANGE_DIGITS_MAX	9	/* per bound: 0 .. 999999999 */

struct host_range;

/* Whether @pattern has brackets; "a[1]" is a range although it gives one name. */
bool host_range_is_range(const char *pattern);

/*
 * Parse @pattern.  0, -ENOMEM, or -EINVAL with what is wrong in @e, without
 * the pattern or a position ("5-2 is reversed (expected low-high)"): the
 * caller knows where the pattern was written.
 */
int host_range_parse(const char *pattern, struct host_range **out,
		     struct verr *e);

void host_range_free(struct host_range *r);

/* How many names it gives, saturating at UINT64_MAX. */
uint64_t host_range_count(const struct host_range *r);

/* The length of its longest name. */
size_t host_range_max_len(const struct host_range *r);

/*
 * Name @i (0 <= i < count) into @buf, which must hold max_len + 1 bytes;
 * returns the name's length.
 */
size_t host_range_name(const struct host_range *r, uint64_t i, char *buf);

#endif
