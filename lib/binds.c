#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "binds.h"
#include "proc.h"
#include "stack.h"
#include "strbuf.h"
#include "util.h"

static void add(struct binds *b, const char *service, const char *id, const char *path)
{
	/* three parallel arrays, one capacity */
	size_t cap = b->cap;
	ARRAY_GROW(b->service, b->n, cap);
	cap = b->cap;
	ARRAY_GROW(b->id, b->n, cap);
	cap = b->cap;
	ARRAY_GROW(b->path, b->n, cap);
	b->cap = cap;
	b->service[b->n] = xstrdup(service);
	b->id[b->n] = xstrdup(id);
	b->path[b->n] = xstrdup(path ? path : "");
	b->n++;
}

void binds_free(struct binds *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->service[i]);
		free(b->id[i]);
		free(b->path[i]);
	}
	free(b->service);
	free(b->id);
	free(b->path);
	memset(b, 0, sizeof *b);
}

const char *binds_id(const struct binds *b, const char *service)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->service[i], service) == 0)
			return b->id[i];
	return NULL;
}

/* `path` is `source` or lies below it. */
static int under(const char *path, const char *source)
{
	size_t n = strlen(source);
	while (n > 1 && source[n - 1] == '/')
		n--;
	return strncmp(path, source, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The first changed path under a bind mount of container c, or NULL. */
static const char *changed_bind(json_object *c, const char *const *changed, size_t nchanged)
{
	json_object *mounts;
	if (!json_object_object_get_ex(c, "Mounts", &mounts) || !json_object_is_type(mounts, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *type = str_at(m, "Type"), *src = str_at(m, "Source");
		if (!type || !src || strcmp(type, "bind") != 0 || !*src)
			continue;
		for (size_t k = 0; k < nchanged; k++)
			if (under(changed[k], src))
				return changed[k];
	}
	return NULL;
}

int binds_parse(struct binds *b, const char *json, const char *const *changed, size_t nchanged, char *err)
{
	json_object *all = json_tokener_parse(json);
	int ret = -1;

	memset(b, 0, sizeof *b);
	if (!all || !json_object_is_type(all, json_type_array)) {
		err_set(err, "docker inspect did not print a JSON array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *c = json_object_array_get_idx(all, i), *config = NULL, *labels = NULL;
		const char *id = str_at(c, "Id"), *service = NULL;
		if (c && json_object_object_get_ex(c, "Config", &config) &&
		    json_object_object_get_ex(config, "Labels", &labels))
			service = str_at(labels, "com.docker.compose.service");
		if (!id || !service)
			continue;
		add(b, service, id, changed_bind(c, changed, nchanged));
	}
	ret = 0;
out:
	json_object_put(all);
	return ret;
}

int binds_scan(struct binds *b, const char *cli, const char *dir,
               const char *const *changed, size_t nchanged, char *err)
{
	const char *ask[5];
	char *json = NULL;
	size_t n = stack_compose_argv(ask, cli);
	int ret;

	memset(b, 0, sizeof *b);
	ask[n++] = "ps";
	ask[n++] = "-q";
	ask[n] = NULL;
	ret = stack_inspect(&json, ask, dir, err);
	if (ret == 0 && json)   /* else nothing runs */
		ret = binds_parse(b, json, changed, nchanged, err);
	free(json);
	return ret;
}
