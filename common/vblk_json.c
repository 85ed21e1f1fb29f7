/*
 * vblk_json.c - JSON codec for counter snapshots, keys taken from the
 * counter list.
 */
#include "json_strict.h"
#include "vblk_json.h"

static const char *const vblk_json_keys[] = {
#define VBLK_X_KEY(n, u, d, k) #n,
	VBLK_COUNTERS(VBLK_X_KEY)
#undef VBLK_X_KEY
	NULL
};

json_t *vblk_snapshot_to_json(const struct vblk_snapshot *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		if (jset_u64(o, vblk_fields[i].name, vblk_snapshot_get(s, i))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int vblk_snapshot_from_json(const json_t *obj, const char *what,
			    struct vblk_snapshot *out, struct verr *e)
{
	struct vblk_snapshot s;
	int rc;

	rc = jstrict_keys(obj, what, vblk_json_keys, e);
	if (rc)
		return rc;
	for (int i = 0; i < VBLK_NR_COUNTERS; i++) {
		uint64_t *dst = (uint64_t *)((char *)&s + vblk_fields[i].plain_off);

		rc = jstrict_u64(obj, what, vblk_fields[i].name, dst, e);
		if (rc)
			return rc;
	}
	*out = s;
	return 0;
}
