/*
 * binds: which running compose services bind-mount files that a deploy
 * changed.  `up -d` recreates a service only when its compose config
 * changed; a service that reads a bind-mounted file at start (a web
 * server's config) would go on with the old one.  The running containers
 * are asked (`COMPOSE ps -q`, then `docker inspect`, read with json-c):
 * what runs is what matters, whichever compose file version made it.
 *
 *   struct binds b;
 *   binds_scan(&b, "docker-compose", compose_dir, changed, n, err);
 *   for (size_t i = 0; i < b.n; i++) b.service[i], b.id[i], b.path[i]
 *   binds_free(&b);
 */
#ifndef AUTODEPLOY_BINDS_H
#define AUTODEPLOY_BINDS_H

#include <stddef.h>

struct binds {
	char **service;   /* compose service name */
	char **id;        /* its container id when scanned */
	char **path;      /* the first changed path under one of its bind mounts */
	size_t n;
	size_t cap;       /* of each of the three arrays */
};

/* Containers of the compose project in `dir` with a bind mount whose
 * source is, or holds, one of the absolute paths `changed[0..nchanged)`.
 * `cli` is "docker compose" or "docker-compose".  -1 with err set when
 * the engine cannot be asked. */
int binds_scan(struct binds *b, const char *cli, const char *dir,
               const char *const *changed, size_t nchanged, char *err);

/* The id of the running container of `service` in b, or NULL. */
const char *binds_id(const struct binds *b, const char *service);

/* Parse `docker inspect` output (a JSON array) into b: exposed for the
 * fuzz target and unit tests.  0, or -1 when it is not such an array. */
int binds_parse(struct binds *b, const char *json, const char *const *changed, size_t nchanged, char *err);

void binds_free(struct binds *b);

#endif
