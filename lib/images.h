/*
 * images: which image each container of the compose project runs, and
 * bringing exactly those images back (SPEC.md "Exact and final": a
 * rollback brings back what ran, not only the commits).
 *
 * The engine is asked through the docker CLI, argument vectors only: the
 * running containers whose compose label com.docker.compose.project.
 * working_dir is the compose dir (so the containers of every compose file
 * a wrapper such as birdhouse-compose.sh passes are found), then `docker
 * inspect` for each one's image ID and the reference it was created from.
 *
 * Bringing back = `docker tag ID REF` for each record, before `up -d`:
 * compose then finds the tag on the recorded image and recreates what
 * runs another one.  A tag of ours, autodeploy/keep:PROJECT-SERVICE-ID12,
 * and a container created from it and never started,
 * autodeploy-keep-PROJECT-SERVICE-ID12, keep each recorded image from
 * `docker image prune` (with -a too) until a later deploy succeeds;
 * STATE_DIR/keep-images lists the tags we made.
 *
 *   struct images im = { 0 };
 *   if (images_scan(&im, compose_dir, err) < 0) ... no engine: carry on
 *   images_keep(state_dir, &im, err);       before anything changes
 *   images_restore(&im, "rollback", err);   before the start command
 *   images_release(state_dir, &im, err);    after a success
 *   images_free(&im);
 */
#ifndef AUTODEPLOY_IMAGES_H
#define AUTODEPLOY_IMAGES_H

#include <stddef.h>

struct image_rec {
	char *id;         /* "sha256:..." */
	char *container;  /* full container ID */
	char *project;    /* com.docker.compose.project */
	char *service;    /* com.docker.compose.service */
	char *ref;        /* the reference it was created from (Config.Image) */
};

struct images {
	struct image_rec *v;
	size_t n, cap;
};

#define IMAGES_KEEP_NAME "keep-images"

/* Add a record (copies the strings). */
void images_add(struct images *im, const char *id, const char *container, const char *project,
                const char *service, const char *ref);

/* The running containers of the compose project in compose_dir into im
 * (sorted by service, then container).  -1 with err when the engine
 * cannot be asked; 0 with nothing when no container runs. */
int images_scan(struct images *im, const char *compose_dir, char *err);

/* Parse `docker inspect` output (a JSON array) into im: exposed for the
 * unit tests.  Containers without compose labels, one-off containers
 * (`compose run`) and fields holding white space are left out. */
int images_parse(struct images *im, const char *json, char *err);

/* Our tag for a record: "autodeploy/keep:PROJECT-SERVICE-ID12" (malloc'd). */
char *images_keep_tag(const struct image_rec *r);

/* Tag every record with its keep tag (and create its keep container)
 * and add the tags to STATE_DIR/keep-images.  -1 with err on the first
 * failure. */
int images_keep(const char *state_dir, const struct images *im, char *err);

/* Point each record's reference back at its recorded image, logging each
 * one under `phase`.  -1 with err on the first failure. */
int images_restore(const struct images *im, const char *phase, char *err);

/* A deploy succeeded: every keep tag listed in STATE_DIR/keep-images that
 * none of im's records has is removed with its container (the image
 * itself only when nothing else tags or uses it, as `docker image rm -f`
 * of a tag does); im's stay listed. */
int images_release(const char *state_dir, const struct images *im, char *err);

void images_free(struct images *im);

#endif
