/* images: what the compose project runs, kept and brought back.  See images.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "images.h"
#include "log.h"
#include "proc.h"
#include "strbuf.h"
#include "stack.h"
#include "util.h"

#define KEEP_REPO "autodeploy/keep:"

void images_add(struct images *im, const char *id, const char *container, const char *project,
                const char *service, const char *ref)
{
	ARRAY_GROW(im->v, im->n, im->cap);
	im->v[im->n++] = (struct image_rec){ xstrdup(id), xstrdup(container), xstrdup(project),
	                                     xstrdup(service), xstrdup(ref) };
}

void images_free(struct images *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->v[i].id);
		free(im->v[i].container);
		free(im->v[i].project);
		free(im->v[i].service);
		free(im->v[i].ref);
	}
	free(im->v);
	memset(im, 0, sizeof *im);
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Journal and history lines are space separated: a field that holds
 * white space (no engine makes one) cannot be recorded. */
static int plain(const char *s)
{
	return s && *s && !s[strcspn(s, " \t\r\n")];
}

static int by_service(const void *a, const void *b)
{
	const struct image_rec *x = a, *y = b;
	int c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->container, y->container);
}

int images_parse(struct images *im, const char *json, char *err)
{
	json_object *all = json_tokener_parse(json);
	int ret = -1;

	if (!all || !json_object_is_type(all, json_type_array)) {
		err_set(err, "docker inspect did not print a JSON array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *c = json_object_array_get_idx(all, i), *config = NULL, *labels = NULL;
		if (!c || !json_object_object_get_ex(c, "Config", &config) ||
		    !json_object_object_get_ex(config, "Labels", &labels))
			continue;
		const char *id = str_at(c, "Image"), *container = str_at(c, "Id"), *ref = str_at(config, "Image");
		const char *project = str_at(labels, "com.docker.compose.project");
		const char *service = str_at(labels, "com.docker.compose.service");
		const char *oneoff = str_at(labels, "com.docker.compose.oneoff");
		if (oneoff && strcasecmp(oneoff, "true") == 0)
			continue;
		if (plain(id) && plain(container) && plain(project) && plain(service) && plain(ref))
			images_add(im, id, container, project, service, ref);
	}
	if (im->n)
		qsort(im->v, im->n, sizeof *im->v, by_service);
	ret = 0;
out:
	json_object_put(all);
	return ret;
}

int images_scan(struct images *im, const char *compose_dir, char *err)
{
	char *real = realpath(compose_dir, NULL), *filter = NULL, *json = NULL;
	int ret;

	if (!real)
		return err_set(err, "cannot resolve '%s': %s", compose_dir, strerror(errno));
	filter = xasprintf("label=com.docker.compose.project.working_dir=%s", real);
	const char *ask[] = { "docker", "ps", "-q", "--no-trunc", "--filter", filter, NULL };
	ret = stack_inspect(&json, ask, compose_dir, err);
	if (ret == 0 && json)
		ret = images_parse(im, json, err);
	free(json);
	free(filter);
	free(real);
	return ret;
}

char *images_keep_tag(const struct image_rec *r)
{
	/* a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: project and service
	 * names are mostly that already; anything else becomes '_' */
	const char *hex = strncmp(r->id, "sha256:", 7) == 0 ? r->id + 7 : r->id;
	char *tag = xasprintf(KEEP_REPO "%.50s-%.50s-%.12s", r->project, r->service, hex);
	for (char *p = tag + strlen(KEEP_REPO); *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '.' && *p != '-')
			*p = '_';
	if (tag[strlen(KEEP_REPO)] == '.' || tag[strlen(KEEP_REPO)] == '-')
		tag[strlen(KEEP_REPO)] = '_';
	return tag;
}

/* Run the docker CLI; its stdout (IDs, names) is not ours to show, and
 * with quiet neither is its stderr (a question whose "no" is expected). */
static int docker(const char *const *argv, int quiet, char *err)
{
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), status, ret = 0;
	struct proc_opts o = { .null_stdin = 1, .timeout = STACK_ASK_TIMEOUT, .stdout_fd = devnull,
	                       .stderr_fd = quiet ? devnull : 0 };
	if (proc_run(&status, argv, &o, err) < 0)
		ret = -1;
	else if (status != 0)
		ret = err_set(err, "'docker %s %s %s' exited %d", argv[1], argv[2], argv[3] ? argv[3] : "", status);
	if (devnull >= 0)
		close(devnull);
	return ret;
}

/*
 * A tag alone keeps an image from `docker image prune`, not from `prune
 * -a`, which removes every image no container uses: each kept image gets
 * a container too, created and never started, with no network, named
 * after the tag (autodeploy-keep-NAME for autodeploy/keep:NAME).
 */
static int keep_one(const struct image_rec *r, const char *tag, char *err)
{
	char *name = xasprintf("autodeploy-keep-%s", tag + strlen(KEEP_REPO));
	const char *tag_argv[] = { "docker", "tag", r->id, tag, NULL };
	const char *ask[] = { "docker", "container", "inspect", name, NULL };
	const char *create[] = { "docker", "create", "--name", name, "--network", "none",
	                         "--label", "autodeploy.keep=1", r->id, "autodeploy-keep", NULL };
	int ret = docker(tag_argv, 0, err);
	if (ret == 0 && docker(ask, 1, err) < 0)
		ret = docker(create, 0, err);
	free(name);
	return ret;
}

/* The tag and the container of keep_one go. */
static int release_one(const char *tag, char *err)
{
	char *name = xasprintf("autodeploy-keep-%s", tag + strlen(KEEP_REPO));
	const char *ask[] = { "docker", "container", "inspect", name, NULL };
	const char *rm[] = { "docker", "rm", "-f", name, NULL };
	/* -f: a tag on an image a container still uses is only untagged */
	const char *untag[] = { "docker", "image", "rm", "-f", tag, NULL };
	int ret = 0;
	if (docker(ask, 1, err) == 0)
		ret = docker(rm, 0, err);
	if (ret == 0)
		ret = docker(untag, 0, err);
	free(name);
	return ret;
}

/* STATE_DIR/keep-images as a list of lines, and back. */
static void read_kept(struct strbuf *out, const char *path)
{
	char *buf = NULL, err[ERR_MAX];
	if (util_read_file(&buf, NULL, path, err) < 0) {
		if (errno != ENOENT)
			log_warn("%s", err);
		return;
	}
	strbuf_addstr(out, buf);
	free(buf);
}

/* Is line `tag` in the newline-separated list? */
static int listed(const char *list, const char *tag)
{
	size_t n = strlen(tag);
	for (const char *p = list; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, tag, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

int images_keep(const char *state_dir, const struct images *im, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, IMAGES_KEEP_NAME), e2[ERR_MAX];
	struct strbuf kept = STRBUF_INIT;
	int ret = 0;

	if (im->n == 0)
		goto out;
	read_kept(&kept, path);
	for (size_t i = 0; i < im->n && ret == 0; i++) {
		char *tag = images_keep_tag(&im->v[i]);
		ret = keep_one(&im->v[i], tag, err);
		if (ret == 0 && !listed(strbuf_str(&kept), tag))
			strbuf_addf(&kept, "%s\n", tag);
		free(tag);
	}
	/* listed even after a failure: what was tagged is released later */
	if (util_write_atomic(path, strbuf_str(&kept), kept.len, 0644, ret < 0 ? e2 : err) < 0)
		ret = -1;
out:
	strbuf_release(&kept);
	free(path);
	return ret;
}

/* A reference that names an image by digest or ID cannot be re-tagged,
 * and needs no re-tagging: it cannot move. */
static int movable(const char *ref)
{
	return !strchr(ref, '@') && strncmp(ref, "sha256:", 7) != 0;
}

int images_restore(const struct images *im, const char *phase, char *err)
{
	for (size_t i = 0; i < im->n; i++) {
		const struct image_rec *r = &im->v[i];
		const char *argv[] = { "docker", "tag", r->id, r->ref, NULL };
		if (!movable(r->ref))
			continue;
		if (docker(argv, 0, err) < 0)
			return -1;
		log_info("%s: '%s' is %.19s again (service '%s')", phase, r->ref, r->id, r->service);
	}
	return 0;
}

int images_release(const char *state_dir, const struct images *im, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, IMAGES_KEEP_NAME), e2[ERR_MAX];
	struct strbuf kept = STRBUF_INIT, still = STRBUF_INIT;
	char *save = NULL;
	int ret = 0;

	read_kept(&kept, path);
	for (size_t i = 0; i < im->n; i++) {
		char *tag = images_keep_tag(&im->v[i]);
		if (!listed(strbuf_str(&still), tag))
			strbuf_addf(&still, "%s\n", tag);
		free(tag);
	}
	for (char *t = kept.len ? strtok_r(kept.buf, "\n", &save) : NULL; t; t = strtok_r(NULL, "\n", &save)) {
		if (listed(strbuf_str(&still), t))
			continue;
		if (strncmp(t, KEEP_REPO, strlen(KEEP_REPO)) != 0 || release_one(t, e2) < 0) {
			log_warn("cannot release '%s': %s", t, e2);
			strbuf_addf(&still, "%s\n", t);
		} else {
			log_info("released '%s'", t);
		}
	}
	if (still.len == 0 ? unlink(path) < 0 && errno != ENOENT : 0)
		ret = err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	else if (still.len && util_write_atomic(path, strbuf_str(&still), still.len, 0644, err) < 0)
		ret = -1;
	strbuf_release(&still);
	strbuf_release(&kept);
	free(path);
	return ret;
}
