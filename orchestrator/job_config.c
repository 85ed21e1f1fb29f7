/*
 * job_config.c - a job's effective configuration (see job_config.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common/sha256.h"
#include "orchestrator/file_hash.h"
#include "orchestrator/job_config.h"

/* "sha256:HEX" of @path's content, "directory", or "unreadable". */
static json_t *content_of(const char *path)
{
	char hex[65], text[80];
	struct verr e = { "" };
	struct stat st;

	if (stat(path, &st))
		return json_string("unreadable");
	if (S_ISDIR(st.st_mode))
		return json_string("directory");
	if (!S_ISREG(st.st_mode))
		return json_string("not a regular file");
	if (file_sha256(path, &st, hex, &e))
		return json_string("unreadable");
	snprintf(text, sizeof(text), "sha256:%s", hex);
	return json_string(text);
}

/* Replace @o's string member @key (a path) by its content's hash. */
static int path_to_content(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return 0;
	return json_object_set_new(o, key, content_of(json_string_value(v))) ? -ENOMEM : 0;
}

static int config_strip(json_t *spec)
{
	json_t *guest = json_object_get(spec, "guest"), *v;
	size_t i;
	int rc = 0;

	json_object_del(spec, "name");
	json_object_del(spec, "protect");
	json_object_del(spec, "test");
	if (json_is_object(guest)) {
		rc |= path_to_content(guest, "kernel");
		rc |= path_to_content(guest, "initramfs");
		rc |= path_to_content(guest, "rootfs");
		/* A modules directory: what matters of it is in the initramfs. */
		json_object_del(guest, "modules");
		json_object_del(guest, "initramfs_agent");
		json_array_foreach(json_object_get(guest, "files"), i, v)
			rc |= path_to_content(v, "src");
	}
	json_array_foreach(json_object_get(spec, "disks"), i, v) {
		rc |= path_to_content(v, "path");
		json_object_del(v, "clone");
		json_object_del(v, "allow_block_device");
	}
	return rc;
}

int job_config_build(struct job_desc *j, struct verr *e)
{
	json_t *spec = job_spec_to_json(&j->spec);

	free(j->config);
	j->config = NULL;
	if (!spec || config_strip(spec) ||
	    !(j->config = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS))) {
		json_decref(spec);
		verr_set(e, "%s: configuration: out of memory", j->spec.name);
		return -ENOMEM;
	}
	json_decref(spec);
	sha256_hex(j->config, strlen(j->config), j->config_hash);
	return 0;
}
