/*
 * vblk_json.h - a counter snapshot as a JSON object, one key per counter.
 */
#ifndef VMORCH_VBLK_JSON_H
#define VMORCH_VBLK_JSON_H

#include <jansson.h>

#include "vblk_counters.h"
#include "verr.h"

/* New reference, or NULL (out of memory, or a value above INT64_MAX). */
json_t *vblk_snapshot_to_json(const struct vblk_snapshot *s);

/*
 * Strict: every counter present, no other key, each a non-negative integer.
 * @what names the document in error messages ("disk 0").
 */
int vblk_snapshot_from_json(const json_t *obj, const char *what,
			    struct vblk_snapshot *out, struct verr *e);

#endif
