/*
 * hookinst: install autodeploy's post-receive hook into a bare repository
 * (SPEC.md "install-units", --hook; install-units(1) "THE HOOK").
 *
 *   struct hookinst h = { .cfg = cfg, .s = &settings, .bindir = dir,
 *                         .root = NULL, .dry_run = 0 };
 *   switch (hookinst_install(&h, "/srv/git/stack.git", err)) {
 *   case -1: exit 78 (not a bare repository, a foreign hook, no ref to watch)
 *   case -2: exit 74 (the hook or the trigger could not be written)
 *   }
 *
 * It copies the hook binary found beside the programs (bindir/post-receive,
 * or bindir/../hooks/post-receive in a build folder), replacing only a hook
 * that carries HOOKIN_MARKER; records autodeploy.trigger and autodeploy.refs
 * in the repository's own git config, so the hook never reads env.local;
 * and creates the trigger file (root's, group AUTODEPLOY_TRIGGER_GROUP or
 * the repository's group, mode 0660; under root when that is set).
 * Needs git_libgit2_init().  Progress is logged with log_info().
 */
#ifndef AUTODEPLOY_HOOKINST_H
#define AUTODEPLOY_HOOKINST_H

struct cfg;
struct settings;

struct hookinst {
	const struct cfg *cfg;
	const struct settings *s;
	const char *bindir;     /* folder of install-units and the hook binary */
	const char *root;       /* NULL, or create the trigger under this folder */
	int dry_run;            /* say what would change, change nothing */
};

/* 0 when done; -1 (refused: bad configuration or target) or -2 (I/O) with err. */
int hookinst_install(const struct hookinst *h, const char *bare, char *err);

#endif
