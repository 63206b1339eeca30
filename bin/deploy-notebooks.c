/*
 * deploy-notebooks: publish the *.ipynb files of every notebook source
 * into AUTODEPLOY_NOTEBOOK_DIR, read-only and all at once (SPEC.md
 * "deploy-notebooks").  Steps: ask every remote for its tip (nothing is
 * written when no source moved since the last run), fetch what is missing
 * into the bare caches, read the trees (refusing what could escape the
 * folder), write a staging folder and swap it in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "birdhouse.h"
#include "cfg.h"
#include "cli.h"
#include "log.h"
#include "nbsource.h"
#include "publish.h"
#include "remote.h"
#include "repo.h"
#include "settings.h"
#include "stage.h"
#include "strbuf.h"
#include "util.h"
#include "verify.h"

#define SOURCES_KEY "AUTODEPLOY_NOTEBOOK_SOURCES"

static int opt_force, opt_dry_run;
static long opt_wait;

static struct poptOption options[] = {
	{ "force", 'f', POPT_ARG_NONE, &opt_force, 0, "publish even when no source moved since the last run", NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0,
	  "print what would be added, changed or removed; publish nothing", NULL },
	{ "wait", 'w', POPT_ARG_LONG, &opt_wait, 0, "wait up to SECONDS for the lock (default 0)", "SECONDS" },
	POPT_TABLEEND
};

/* Parse every entry first: a typo in the last one must not leave the
 * folder half updated from the others. */
static int parse_sources(struct nbsource **out, size_t *n, const struct cfg *cfg,
                         const struct settings *s, char *err)
{
	struct nbsource *src = xcalloc(s->n_notebook_sources + 1, sizeof *src);
	char why[ERR_MAX];

	*out = src;
	*n = 0;
	for (size_t i = 0; i < s->n_notebook_sources; i++) {
		if (nbsource_parse(&src[i], s->notebook_sources[i], why) < 0)
			return cfg_error(cfg, settings_key(cfg, SOURCES_KEY), err, "%s", why);
		*n = i + 1;
	}
	return 0;
}

static int remote_exit(int rc)
{
	return rc == NBSOURCE_NOREF ? EXIT_CONFIG : remote_exitcode(rc);
}

/* Where every source's REF points now, without fetching anything. */
static int list_sources(struct nbsource *src, size_t n, const struct settings *s)
{
	char err[ERR_MAX], hex[GIT_OID_HEXSZ + 1];
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct repo_auth auth = { .settings = s };
		if (nbsource_open_cache(&src[i], s->state_dir, err) < 0) {
			log_error("%s", err);
			return EXIT_IOERR;
		}
		auth.checkout = src[i].cache_path;
		if ((rc = nbsource_ls(&src[i], &auth, err)) < 0) {
			log_error("%s", err);
			return remote_exit(rc);
		}
		log_debug("'%s': %s is %s", src[i].label, src[i].remote_ref,
		          git_oid_tostr(hex, sizeof hex, &src[i].commit));
	}
	return EXIT_OK;
}

/* What the state file says after publishing these commits: when it reads
 * the same next time and the folder is there, nothing has moved. */
static char *state_text(const struct nbsource *src, size_t n, const struct settings *s)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct strbuf text = STRBUF_INIT;

	strbuf_addf(&text, "# deploy-notebooks: the commits last published; remove to republish\n"
	            "dir %s\n", s->notebook_dir);
	if (s->notebook_owner_set)
		strbuf_addf(&text, "owner %u:%u\n", s->notebook_uid, s->notebook_gid);
	else
		strbuf_addstr(&text, "owner -\n");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&text, "source %s %s\n", git_oid_tostr(hex, sizeof hex, &src[i].commit),
		            src[i].spec);
	return strbuf_detach(&text, NULL);
}

static int nothing_moved(const char *state_path, const char *state, const char *dest)
{
	char *old = NULL, ignored[ERR_MAX];
	struct stat st;
	int same;

	if (lstat(dest, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (util_read_file(&old, NULL, state_path, ignored) < 0)
		return 0;
	same = strcmp(old, state) == 0;
	free(old);
	return same;
}

static void on_clash(const char *path, size_t loser, size_t winner, void *ctx)
{
	const struct nbsource *src = ctx;
	log_warn("'%s': the one from '%s' replaces the one from '%s' (later sources win)",
	         path, src[winner].label, src[loser].label);
}

/* The commit the last run published for spec, from its state text
 * ("source HEX SPEC" lines): 1 when there is one. */
static int published_commit(git_oid *out, const char *old_state, const char *spec)
{
	for (const char *p = old_state; p && *p; p += strcspn(p, "\n"), p += *p == '\n') {
		size_t len = strcspn(p, "\n");
		if (len > 48 && strncmp(p, "source ", 7) == 0 && p[47] == ' ' && strlen(spec) == len - 48 &&
		    strncmp(p + 48, spec, len - 48) == 0 && git_oid_fromstrn(out, p + 7, GIT_OID_HEXSZ) == 0)
			return 1;
	}
	return 0;
}

/*
 * AUTODEPLOY_NOTEBOOK_VERIFY: the source's new commit (with all, every
 * commit since the one last published; the first publication, or one
 * whose old commit left the cache, has only the tip to go by) must be
 * signed by an allowed key, checked before any of its files is read.
 */
static int verify_source(const struct nbsource *src, const struct settings *s, const char *old_state)
{
	struct verify_keys k = { s->allowed_signers, s->gpg_keyring };
	struct verify_verdict v;
	enum verify_level level = s->notebook_verify;
	char err[ERR_MAX], what[512];
	git_oid old;
	int have_old = published_commit(&old, old_state, src->spec), rc;
	git_odb *odb = NULL;

	if (level == VERIFY_NO || (have_old && git_oid_equal(&old, &src->commit)))
		return EXIT_OK;
	if (have_old && (git_repository_odb(&odb, src->cache) < 0 || !git_odb_exists(odb, &old)))
		have_old = 0;
	git_odb_free(odb);
	if (level == VERIFY_ALL && !have_old)
		level = VERIFY_TIP;
	rc = verify_range(&v, src->cache, &k, level, have_old ? &old : NULL, &src->commit, NULL, err);
	if (rc == 0)
		return EXIT_OK;
	if (rc < 0) {
		log_error("'%s': cannot verify its signatures: %s; nothing published", src->label, err);
	} else {
		verify_describe(what, sizeof what, &v);
		log_error("'%s': unverified: %s (AUTODEPLOY_NOTEBOOK_VERIFY=%s): nothing published; it must be "
		          "signed by a key of AUTODEPLOY_ALLOWED_SIGNERS or AUTODEPLOY_GPG_KEYRING",
		          src->label, what, verify_level_name(s->notebook_verify));
	}
	return EXIT_DATAERR;
}

/* Fetch what moved, verify it, and read every tree into one settled set. */
static int collect(struct publish_set *set, struct nbsource *src, size_t n, const struct settings *s,
                   const char *old_state)
{
	struct publish_limits lim = {
		.max_files = s->notebook_max_files,
		.max_bytes = s->notebook_max_bytes,
		.max_entries = s->notebook_max_entries,
		.dest = s->notebook_dir,
	};
	char err[ERR_MAX], hex[GIT_OID_HEXSZ + 1];
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct repo_auth auth = { .settings = s, .checkout = src[i].cache_path };
		log_info("'%s': %s at %s", src[i].label, src[i].remote_ref,
		         git_oid_tostr(hex, sizeof hex, &src[i].commit));
		if ((rc = nbsource_fetch(&src[i], &auth, err)) < 0) {
			log_error("%s", err);
			return remote_exit(rc);
		}
		if ((rc = verify_source(&src[i], s, old_state)) != EXIT_OK)
			return rc;
		lim.into = src[i].into;
		lim.whole = src[i].whole;
		rc = publish_collect(set, src[i].cache, &src[i].commit, src[i].subdir, &lim,
		                     src[i].label, i, err);
		if (rc < 0) {
			log_error("%s", err);
			return rc == PUBLISH_REFUSED ? EXIT_DATAERR : rc == PUBLISH_NOSUBDIR ? EXIT_CONFIG : EXIT_IOERR;
		}
	}
	publish_settle(set, on_clash, src);
	return EXIT_OK;
}

static void print_change(const char *what, const char *path, void *ctx)
{
	size_t *count = ctx;
	char shown[4096];
	(*count)++;
	/* names come from a repository: escaped as the logs escape them */
	log_escape(shown, sizeof shown, path);
	printf("%s %s\n", what, shown);
}

/* --dry-run: what publishing would change, one line per file. */
static int show_changes(const struct publish_set *set, const char *dest)
{
	char err[ERR_MAX];
	size_t changes = 0;

	if (stage_diff(set, dest, print_change, &changes, err) < 0) {
		log_error("%s", err);
		return EXIT_IOERR;
	}
	log_info("--dry-run: %zu changes to '%s'; nothing published", changes, dest);
	return EXIT_OK;
}

/* Swap the set into the notebook folder, then remember what was published
 * (state) so that the next run can tell nothing moved. */
static int publish(const struct publish_set *set, size_t nsrc, const struct settings *sp,
                   const char *state_path, const char *state)
{
	struct util_owner owner = {
		.set = sp->notebook_owner_set, .uid = sp->notebook_uid, .gid = sp->notebook_gid,
	};
	char err[ERR_MAX];
	int rc = stage_write(set, sp->notebook_dir, &owner, err);

	if (rc < 0) {
		log_error("%s; '%s' left as it was", err, sp->notebook_dir);
		return EXIT_IOERR;
	}
	if (rc > 0)
		log_warn("published, but: %s", err);
	log_info("published %zu notebooks from %zu sources into '%s'", set->n, nsrc, sp->notebook_dir);
	if (util_write_atomic(state_path, state, strlen(state), 0600, err) < 0) {
		log_error("%s: the next run publishes again", err);
		return EXIT_IOERR;
	}
	return EXIT_OK;
}

int main(int argc, const char **argv)
{
	struct app a;
	struct nbsource *src = NULL;
	struct publish_set set = { 0 };
	char err[ERR_MAX], *state_path = NULL, *state = NULL, *old_state = NULL;
	int code;
	size_t nsrc = 0;
	time_t t0 = time(NULL);

	app_init(&a);
	if (cli_parse(argc, argv, options, "[--force] [--dry-run] [--wait SECONDS]", &code) < 0)
		return code;
	repo_global_init();
	if ((code = app_begin(&a, "notebookdeploy.log")) != EXIT_OK)
		goto out;
	birdhouse_marker("notebookdeploy", "START_TIME", t0);
	const struct settings *sp = &a.s;
	code = EXIT_CONFIG;

	if (parse_sources(&src, &nsrc, a.cfg, sp, err) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (nsrc == 0) {
		log_info("%s is empty: nothing to publish", SOURCES_KEY);
		code = EXIT_OK;
		goto out;
	}
	if (!sp->notebook_dir) {
		log_error("%s: AUTODEPLOY_NOTEBOOK_DIR is not set: set it to the folder to publish the notebooks in",
		          cfg_name(a.cfg));
		goto out;
	}

	if ((code = app_lock(&a, "notebooks.lock", opt_wait)) != EXIT_OK)
		goto out;

	if ((code = list_sources(src, nsrc, sp)) != EXIT_OK)
		goto out;
	state_path = xasprintf("%s/notebooks.state", sp->state_dir);
	state = state_text(src, nsrc, sp);
	if (!opt_force && !opt_dry_run && nothing_moved(state_path, state, sp->notebook_dir)) {
		log_info("no source moved since the last run: '%s' left as it is (--force republishes)",
		         sp->notebook_dir);
		goto out;
	}
	if (util_read_file(&old_state, NULL, state_path, err) < 0)
		old_state = NULL;       /* the first run: nothing published yet */
	if ((code = collect(&set, src, nsrc, sp, old_state)) != EXIT_OK)
		goto out;

	if (opt_dry_run)
		code = show_changes(&set, sp->notebook_dir);
	else
		code = publish(&set, nsrc, sp, state_path, state);
out:
	publish_set_free(&set);
	for (size_t i = 0; i < nsrc; i++)
		nbsource_free(&src[i]);
	free(src);
	free(old_state);
	free(state);
	free(state_path);
	if (a.started) {
		birdhouse_marker("notebookdeploy", "finished START_TIME", t0);
		birdhouse_marker("notebookdeploy", "finished   END_TIME", time(NULL));
	}
	code = app_end(&a, code);
	repo_global_shutdown();
	return code;
}
