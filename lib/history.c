/* history: the last runs of run-deploy, JSON lines.  See history.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* json-c reads (as binds and images do), our json.c writes (it escapes
 * what is not UTF-8); both name something json_bool: json-c's type goes
 * by another name in this file alone (it is an int either way). */
#define json_bool jsonc_bool
#include <json-c/json.h>
#undef json_bool

#include "exitcode.h"
#include "history.h"
#include "json.h"
#include "strbuf.h"
#include "util.h"

static void write_images(struct json *j, const struct images *im)
{
	json_key(j, "images");
	json_array_begin(j);
	for (size_t i = 0; im && i < im->n; i++) {
		json_object_begin(j);
		json_key(j, "service");
		json_string(j, im->v[i].service);
		json_key(j, "container");
		json_string(j, im->v[i].container);
		json_key(j, "image");
		json_string(j, im->v[i].id);
		json_key(j, "ref");
		json_string(j, im->v[i].ref);
		json_key(j, "project");
		json_string(j, im->v[i].project);
		json_object_end(j);
	}
	json_array_end(j);
}

/* One run as one line (json.c escapes newlines inside strings). */
static void write_run(struct json *j, const struct history_run *h)
{
	char t0[40], t1[40];
	util_iso_time(t0, sizeof t0, h->start);
	util_iso_time(t1, sizeof t1, h->end);
	json_object_begin(j);
	json_key(j, "start");
	json_string(j, t0);
	json_key(j, "end");
	json_string(j, t1);
	json_key(j, "result");
	json_int(j, h->result);
	json_key(j, "result_text");
	json_string(j, exitcode_meaning(h->result));
	json_key(j, "rollback");
	json_bool(j, h->rollback);
	json_key(j, "checkouts");
	json_array_begin(j);
	for (size_t i = 0; i < h->n; i++) {
		char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];
		json_object_begin(j);
		json_key(j, "path");
		json_string(j, h->e[i].path);
		json_key(j, "old_commit");
		json_string(j, git_oid_tostr(a, sizeof a, &h->e[i].old));
		json_key(j, "new_commit");
		json_string(j, git_oid_tostr(b, sizeof b, &h->e[i].new));
		json_object_end(j);
	}
	json_array_end(j);
	write_images(j, h->images);
	json_object_end(j);
}

int history_append(const char *state_dir, const struct history_run *h, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, HISTORY_NAME), *old = NULL;
	struct strbuf b = STRBUF_INIT;
	struct json j;
	size_t lines = 0;
	int ret = -1;
	const char *from;

	if (util_read_file(&old, NULL, path, err) < 0 && errno != ENOENT)
		goto out;
	/* keep the newest HISTORY_MAX - 1 whole lines of what was there */
	from = old ? old : "";
	const char *end = from + strlen(from);
	for (const char *p = end; p > from; p--)
		if (p[-1] == '\n' && p != end && ++lines == HISTORY_MAX - 1) {
			from = p;
			break;
		}
	strbuf_addstr(&b, from);
	if (b.len && b.buf[b.len - 1] != '\n')
		strbuf_addch(&b, '\n');   /* a torn last line stays alone on its line */
	json_init(&j);
	write_run(&j, h);
	strbuf_addf(&b, "%s\n", json_str(&j));
	json_free(&j);
	ret = util_write_atomic(path, strbuf_str(&b), b.len, 0644, err);
out:
	strbuf_release(&b);
	free(old);
	free(path);
	return ret;
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *array_at(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* A successful deploy that was not a --rollback, with its checkouts. */
static int is_good(json_object *o)
{
	json_object *result, *rollback;
	return o && json_object_is_type(o, json_type_object) &&
	       json_object_object_get_ex(o, "result", &result) && json_object_is_type(result, json_type_int) &&
	       json_object_get_int(result) == 0 &&
	       !(json_object_object_get_ex(o, "rollback", &rollback) && json_object_get_boolean(rollback)) &&
	       array_at(o, "checkouts");
}

static void fill_good(struct history_good *g, json_object *o)
{
	json_object *cs = array_at(o, "checkouts"), *im = array_at(o, "images");
	g->path = xcalloc(json_object_array_length(cs) + 1, sizeof *g->path);
	g->old = xcalloc(json_object_array_length(cs) + 1, sizeof *g->old);
	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		const char *path = str_at(c, "path"), *old = str_at(c, "old_commit");
		if (!path || !old || git_oid_fromstr(&g->old[g->n], old) < 0)
			continue;
		g->path[g->n++] = xstrdup(path);
	}
	for (size_t i = 0; im && i < json_object_array_length(im); i++) {
		json_object *r = json_object_array_get_idx(im, i);
		const char *f[5] = { str_at(r, "image"), str_at(r, "container"), str_at(r, "project"),
		                     str_at(r, "service"), str_at(r, "ref") };
		if (f[0] && f[1] && f[2] && f[3] && f[4])
			images_add(&g->images, f[0], f[1], f[2], f[3], f[4]);
	}
}

int history_last_good(struct history_good *g, const char *state_dir, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, HISTORY_NAME), *buf = NULL, *save = NULL;
	json_object *best = NULL;
	int ret = 0;

	memset(g, 0, sizeof *g);
	if (util_read_file(&buf, NULL, path, err) < 0) {
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		if (is_good(o)) {
			json_object_put(best);
			best = o;
		} else {
			json_object_put(o);
		}
	}
	if (best) {
		fill_good(g, best);
		ret = 1;
	}
out:
	json_object_put(best);
	free(buf);
	free(path);
	return ret;
}

void history_good_free(struct history_good *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->path[i]);
	free(g->path);
	free(g->old);
	images_free(&g->images);
	memset(g, 0, sizeof *g);
}
