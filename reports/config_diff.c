/*
 * config_diff.c - where two stored job configurations differ (see
 * config_diff() in report.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reports/report.h"

/* Append @path, the place where @a and @b differ, to @out (", " between). */
static void config_path_add(char *out, size_t cap, const char *path)
{
	size_t len = strlen(out);

	if (len + strlen(path) + 8 >= cap) {
		if (len + 4 < cap && (len < 3 || strcmp(out + len - 3, "...")))
			strcat(out, len ? ", ..." : "...");
		return;
	}
	snprintf(out + len, cap - len, "%s%s", len ? ", " : "", path[0] ? path : "(all)");
}

/* Where two configurations differ: leaf paths, objects and arrays walked. */
static void config_walk(const json_t *a, const json_t *b, const char *path, char *out,
			size_t cap)
{
	char sub[256];
	const char *key;
	json_t *v;

	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach((json_t *)a, key, v) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
			config_walk(v, json_object_get(b, key), sub, out, cap);
		}
		json_object_foreach((json_t *)b, key, v)
			if (!json_object_get(a, key)) {
				snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
				config_path_add(out, cap, sub);
			}
		return;
	}
	if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			config_walk(json_array_get(a, i), json_array_get(b, i), sub, out, cap);
		}
		return;
	}
	if (!json_equal((json_t *)a, (json_t *)b))
		config_path_add(out, cap, path);
}

char *config_diff(const char *a_text, const char *b_text)
{
	char keys[512] = "";
	json_t *a = json_loads(a_text ? a_text : "", 0, NULL);
	json_t *b = json_loads(b_text ? b_text : "", 0, NULL);

	config_walk(a, b, "", keys, sizeof(keys));
	json_decref(a);
	json_decref(b);
	return strdup(keys[0] ? keys : "(unknown)");
}
