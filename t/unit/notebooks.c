/*
 * lib/nbsource and lib/publish: source entries, ref resolution, the tree
 * entry name check, and trees that git itself would not write (names
 * holding '/', '..', '.git'), built here byte by byte.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nbsource.h"
#include "publish.h"
#include "stage.h"
#include "remote.h"
#include "repo.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-notebooks.XXXXXX";
static git_repository *repo;

static void parses(const char *spec, const char *url, const char *ref, const char *subdir)
{
	struct nbsource s;
	char err[ERR_MAX] = "";
	if (!ok(nbsource_parse(&s, spec, err) == 0, "'%s' parses", spec)) {
		diag("%s", err);
		return;
	}
	is_str(s.url, url, "'%s': URL", spec);
	is_str(s.ref, ref, "'%s': REF", spec);
	is_str(s.subdir, subdir, "'%s': SUBDIR", spec);
	nbsource_free(&s);
}

static void refused(const char *spec, const char *needle)
{
	struct nbsource s;
	char err[ERR_MAX] = "";
	int rc = nbsource_parse(&s, spec, err);
	ok(rc == -1 && strstr(err, needle) != NULL, "'%s' is refused: %s", spec, err);
}

static void test_parse(void)
{
	parses("https://example.org/nb.git", "https://example.org/nb.git", NULL, "");
	parses("https://example.org/nb.git#main", "https://example.org/nb.git", "main", "");
	parses("https://example.org/nb.git#v1.2:docs/sub", "https://example.org/nb.git", "v1.2", "docs/sub");
	parses("https://example.org/nb.git#:docs", "https://example.org/nb.git", NULL, "docs");
	parses("https://example.org/nb.git#", "https://example.org/nb.git", NULL, "");
	parses("file:///srv/nb.git#refs/tags/2024.1:/a//b/", "file:///srv/nb.git", "refs/tags/2024.1", "a/b");
	/* scp-like URLs hold ':' and must not lose it to SUBDIR */
	parses("git@github.com:org/notebooks.git", "git@github.com:org/notebooks.git", NULL, "");
	parses("git@github.com:org/notebooks.git#dev:nb", "git@github.com:org/notebooks.git", "dev", "nb");
	parses("git@github.com:org/notebooks.git#:nb", "git@github.com:org/notebooks.git", NULL, "nb");
	parses("ssh://git@host:2222/x.git#main:a:b", "ssh://git@host:2222/x.git", "main", "a:b");

	refused("#main:docs", "no URL");
	refused("https://h/x.git#:../etc", "'..'");
	refused("https://h/x.git#:docs/.git", "'.git'");
	refused("https://h/x.git#:./docs", "'.'");
	refused("https://h/x.git#bad..ref", "not a valid ref name");
	refused("https://h/x.git#a~b", "not a valid ref name");
	refused("https://h/x.git#main:do\tcs", "control characters");

	/* the label is what messages show: never the token */
	struct nbsource s;
	char err[ERR_MAX] = "";
	ok(nbsource_parse(&s, "https://bob:s3cret@h/x.git#main:nb", err) == 0, "URL with a token parses");
	ok(strstr(s.label, "s3cret") == NULL && strstr(s.label, "#main:nb") != NULL,
	   "the label hides the token and keeps REF:SUBDIR: %s", s.label);
	nbsource_free(&s);
	nbsource_parse(&s, "https://bob:s3cret@h/x.git#:..", err);
	ok(strstr(err, "s3cret") == NULL, "a parse error hides the token too: %s", err);
}

static struct remote_ref mkref(const char *name, char digit)
{
	struct remote_ref r;
	char hex[GIT_OID_HEXSZ + 1];
	memset(hex, digit, GIT_OID_HEXSZ);
	hex[GIT_OID_HEXSZ] = '\0';
	r.name = (char *)name;
	git_oid_fromstr(&r.oid, hex);
	return r;
}

static void resolves(const struct remote_ref *refs, size_t n, const char *ref, const char *want, char digit)
{
	char *got = NULL, err[ERR_MAX] = "";
	git_oid oid, exp = mkref("", digit).oid;
	int rc = nbsource_resolve(&got, &oid, ref, refs, n, err);
	ok(rc == 0 && got && strcmp(got, want) == 0 && git_oid_equal(&oid, &exp),
	   "REF %s resolves to %s (got %s %s)", ref ? ref : "(default)", want, got ? got : "-", err);
	free(got);
}

static void test_resolve(void)
{
	struct remote_ref a[] = {
		mkref("HEAD", '2'), mkref("refs/heads/aaa", '1'), mkref("refs/heads/dev", '2'),
		mkref("refs/heads/main", '3'), mkref("refs/tags/dev", '4'), mkref("refs/tags/v1", '5'),
	};
	size_t na = sizeof a / sizeof *a;
	resolves(a, na, NULL, "refs/heads/dev", '2');
	resolves(a, na, "dev", "refs/heads/dev", '2');
	resolves(a, na, "v1", "refs/tags/v1", '5');
	resolves(a, na, "refs/tags/dev", "refs/tags/dev", '4');

	/* several branches at HEAD's commit: main is the likely default */
	struct remote_ref b[] = { mkref("HEAD", '7'), mkref("refs/heads/feature", '7'), mkref("refs/heads/main", '7') };
	resolves(b, 3, NULL, "refs/heads/main", '7');
	/* no branch at HEAD's commit (detached remote HEAD): fetch HEAD itself */
	struct remote_ref c[] = { mkref("HEAD", '8'), mkref("refs/heads/main", '9') };
	resolves(c, 2, NULL, "HEAD", '8');

	char *got = NULL, err[ERR_MAX] = "";
	git_oid oid;
	ok(nbsource_resolve(&got, &oid, "nope", a, na, err) == NBSOURCE_NOREF && !got && strstr(err, "'nope'"),
	   "a missing REF is NBSOURCE_NOREF: %s", err);
	ok(nbsource_resolve(&got, &oid, NULL, a + 1, na - 1, err) == NBSOURCE_NOREF,
	   "no advertised HEAD and no REF is NBSOURCE_NOREF: %s", err);
}

static void test_names(void)
{
	char longname[NAME_MAX + 2];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';

	ok(publish_name_check("", 0) != NULL, "an empty name is refused");
	ok(publish_name_check(".", 1) != NULL, "'.' is refused");
	ok(publish_name_check("..", 2) != NULL, "'..' is refused");
	ok(publish_name_check("a\nb.ipynb", 9) != NULL, "a newline is refused");
	ok(publish_name_check("\033[0m.ipynb", 10) != NULL, "an escape code is refused");
	ok(publish_name_check("caf\xc3\xa9.ipynb", 11) == NULL, "UTF-8 is fine");
	ok(publish_name_check(".git", 4) != NULL, "'.git' is refused");
	ok(publish_name_check(".GiT", 4) != NULL, "'.GiT' is refused (case-insensitive file systems)");
	ok(publish_name_check("a/b", 3) != NULL, "a name holding '/' is refused");
	ok(publish_name_check("a\0b", 3) != NULL, "a name holding NUL is refused");
	ok(publish_name_check(longname, strlen(longname)) != NULL, "a name longer than NAME_MAX is refused");
	ok(publish_name_check(longname, NAME_MAX) == NULL, "a name of NAME_MAX bytes is fine");
	ok(publish_name_check("...", 3) == NULL, "'...' is an ordinary name");
	ok(publish_name_check(".gitignore", 10) == NULL, "'.gitignore' is an ordinary name");
	ok(publish_name_check(".git2", 5) == NULL, "'.git2' is an ordinary name");
	ok(publish_name_check("a..b.ipynb", 10) == NULL, "'a..b.ipynb' is an ordinary name");
}

/* Write raw objects: no checks, as a hostile remote would. */
static git_oid put(const void *data, size_t len, git_object_t type)
{
	git_odb *odb;
	git_oid id;
	memset(&id, 0, sizeof id);
	if (git_repository_odb(&odb, repo) == 0) {
		git_odb_write(&id, odb, data, len, type);
		git_odb_free(odb);
	}
	return id;
}

struct ent { const char *mode, *name; git_oid id; };

static git_oid tree(const struct ent *e, size_t n)
{
	char buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(buf + len, sizeof buf - len, "%s %s", e[i].mode, e[i].name);
		len += (size_t)k + 1;   /* keep the NUL */
		memcpy(buf + len, e[i].id.id, GIT_OID_RAWSZ);
		len += GIT_OID_RAWSZ;
	}
	return put(buf, len, GIT_OBJECT_TREE);
}

static git_oid commit_of(git_oid t)
{
	char hex[GIT_OID_HEXSZ + 1];
	char *c = xasprintf("tree %s\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\ncrafted\n",
	                    git_oid_tostr(hex, sizeof hex, &t));
	git_oid id = put(c, strlen(c), GIT_OBJECT_COMMIT);
	free(c);
	return id;
}

static int collect(struct publish_set *set, git_oid top, const char *subdir, long max_files,
                   uint64_t max_bytes, char *err)
{
	struct publish_limits lim = { .max_files = max_files, .max_bytes = max_bytes, .dest = "/srv/nb" };
	git_oid c = commit_of(top);
	return publish_collect(set, repo, &c, subdir, &lim, "src", 0, err);
}

static void test_crafted_trees(void)
{
	struct publish_set set = { 0 };
	char err[ERR_MAX];
	git_oid nb = put("{\"cells\": []}\n", 14, GIT_OBJECT_BLOB);
	git_oid txt = put("hello\n", 6, GIT_OBJECT_BLOB);

	struct ent sub[] = { { "100644", "b.ipynb", nb } };
	git_oid subtree = tree(sub, 1);
	struct ent good[] = { { "100644", "a.ipynb", nb }, { "100644", "notes.txt", txt }, { "40000", "sub", subtree } };
	git_oid goodtree = tree(good, 3);

	is_int(collect(&set, goodtree, "", 10, 1000, err), 0, "a plain tree is collected");
	is_int((long long)set.n, 2, "only the two *.ipynb blobs are kept");
	publish_settle(&set, NULL, NULL);
	is_str(set.n == 2 ? set.files[1].path : NULL, "sub/b.ipynb", "sub-folders are kept in the path");
	publish_set_free(&set);

	struct ent top[] = { { "40000", "docs", goodtree } };
	git_oid toptree = tree(top, 1);
	is_int(collect(&set, toptree, "docs", 10, 1000, err), 0, "SUBDIR is walked");
	is_str(set.n ? set.files[0].path : NULL, "a.ipynb", "paths are relative to SUBDIR");
	publish_set_free(&set);
	is_int(collect(&set, toptree, "nope", 10, 1000, err), PUBLISH_NOSUBDIR, "a missing SUBDIR: %s", err);
	is_int(collect(&set, toptree, "docs/a.ipynb", 10, 1000, err), PUBLISH_NOSUBDIR,
	       "a SUBDIR that is a file: %s", err);

	const char *bad[] = { "..", ".", ".git", ".GIT", "a/b.ipynb" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct ent e[] = { { "100644", "ok.ipynb", nb }, { "100644", bad[i], nb } };
		int rc = collect(&set, tree(e, 2), "", 10, 1000, err);
		ok(rc == PUBLISH_REFUSED && strstr(err, "refusing 'src'"),
		   "a blob named '%s' is refused: %s", bad[i], err);
		is_int((long long)set.n, 0, "and nothing of that source is kept");
		struct ent d[] = { { "40000", bad[i], subtree } };
		rc = collect(&set, tree(d, 1), "", 10, 1000, err);
		ok(rc == PUBLISH_REFUSED, "a folder named '%s' is refused: %s", bad[i], err);
	}
	/* a refusal anywhere under SUBDIR, also in a file that is not a notebook */
	struct ent lnk[] = { { "100644", "a.ipynb", nb }, { "120000", "link", txt } };
	struct ent deep[] = { { "40000", "x", tree(lnk, 2) } };
	is_int(collect(&set, tree(deep, 1), "", 10, 1000, err), PUBLISH_REFUSED, "a symlink deep down: %s", err);
	ok(strstr(err, "'x/link'") != NULL, "the message names the path");
	struct ent gitlink[] = { { "160000", "mod", nb } };
	is_int(collect(&set, tree(gitlink, 1), "", 10, 1000, err), PUBLISH_REFUSED, "a submodule: %s", err);
	struct ent empty[] = { { "100644", "", nb } };
	ok(collect(&set, tree(empty, 1), "", 10, 1000, err) < 0 && set.n == 0,
	   "an empty name does not even parse: %s", err);
	/* modes as git checks them out, not as libgit2 normalizes them */
	struct ent xlink[] = { { "120755", "l.ipynb", txt } };
	is_int(collect(&set, tree(xlink, 1), "", 10, 1000, err), PUBLISH_REFUSED,
	       "a symlink with x bits (120755): %s", err);
	struct ent xmod[] = { { "160755", "m.ipynb", nb } };
	is_int(collect(&set, tree(xmod, 1), "", 10, 1000, err), PUBLISH_REFUSED,
	       "a submodule with x bits (160755): %s", err);
	struct ent sock[] = { { "140000", "s.ipynb", nb } };
	is_int(collect(&set, tree(sock, 1), "", 10, 1000, err), PUBLISH_REFUSED, "an unknown type: %s", err);
	struct ent notblob[] = { { "100644", "t.ipynb", subtree } };
	is_int(collect(&set, tree(notblob, 1), "", 10, 1000, err), PUBLISH_REFUSED,
	       "a file entry pointing at a tree: %s", err);
	struct ent old[] = { { "100664", "a.ipynb", nb } };
	is_int(collect(&set, tree(old, 1), "", 10, 1000, err), 0, "an old-style 100664 file is a file");
	publish_set_free(&set);

	is_int(collect(&set, goodtree, "", 1, 1000, err), PUBLISH_REFUSED, "more than max files: %s", err);
	is_int(collect(&set, goodtree, "", 10, 27, err), PUBLISH_REFUSED, "more than max bytes: %s", err);
	is_int(collect(&set, goodtree, "", 2, 28, err), 0, "exactly at both limits is fine");
	publish_set_free(&set);

	/* a path that cannot fit below the destination */
	char name[200];
	memset(name, 'd', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	git_oid t = tree(sub, 1);
	for (int i = 0; i < PATH_MAX / 200 + 1; i++) {
		struct ent e[] = { { "40000", name, t } };
		t = tree(e, 1);
	}
	is_int(collect(&set, t, "", 10, 1000, err), PUBLISH_REFUSED, "a path longer than PATH_MAX: %s", err);
	is_int((long long)set.n, 0, "nothing kept");
}

static void clash(const char *path, size_t loser, size_t winner, void *ctx)
{
	char *log = ctx;
	size_t len = strlen(log);
	snprintf(log + len, 512 - len, "%s:%zu<%zu;", path, loser, winner);
}

static void test_settle(void)
{
	struct publish_set set = { 0 };
	char err[ERR_MAX], log[512] = "";
	git_oid nb1 = put("one", 3, GIT_OBJECT_BLOB), nb2 = put("two", 3, GIT_OBJECT_BLOB);
	struct ent s0[] = { { "100644", "a.ipynb", nb1 }, { "100644", "b.ipynb", nb1 }, { "100644", "c.ipynb", nb1 } };
	struct ent inner[] = { { "100644", "x.ipynb", nb2 } };
	struct ent s1[] = { { "100644", "a.ipynb", nb2 }, { "40000", "b.ipynb", tree(inner, 1) } };
	struct publish_limits lim = { .max_files = 10, .max_bytes = 100, .dest = "/srv/nb" };
	git_oid c0 = commit_of(tree(s0, 3)), c1 = commit_of(tree(s1, 2));

	publish_collect(&set, repo, &c0, "", &lim, "zero", 0, err);
	publish_collect(&set, repo, &c1, "", &lim, "one", 1, err);
	publish_settle(&set, clash, log);
	is_int((long long)set.n, 3, "three paths remain");
	is_str(set.files[0].path, "a.ipynb", "a.ipynb is there once");
	ok(git_oid_equal(&set.files[0].blob, &nb2), "from the later source");
	is_str(set.files[1].path, "b.ipynb/x.ipynb", "the later source's folder beats the earlier file");
	is_str(set.files[2].path, "c.ipynb", "c.ipynb is untouched");
	is_str(log, "a.ipynb:0<1;b.ipynb:0<1;", "each clash is reported once, loser and winner");
	publish_set_free(&set);
}

static int count_entries(const char *dir)
{
	char *cmd = xasprintf("ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	free(cmd);
	return n;
}

static void test_write(void)
{
	struct publish_set set = { 0 };
	struct util_owner owner = { 0 };
	char err[ERR_MAX], *dest = xasprintf("%s/hub/nb", tmpdir), *hub = xasprintf("%s/hub", tmpdir);
	char *f = xasprintf("%s/sub/b.ipynb", dest);
	struct stat st;
	git_oid nb = put("{}", 2, GIT_OBJECT_BLOB);
	struct ent sub[] = { { "100644", "b.ipynb", nb } };
	struct ent top[] = { { "100644", "a.ipynb", nb }, { "40000", "sub", tree(sub, 1) } };
	struct publish_limits lim = { .max_files = 10, .max_bytes = 100, .dest = dest };
	git_oid c = commit_of(tree(top, 2));

	publish_collect(&set, repo, &c, "", &lim, "src", 0, err);
	publish_settle(&set, NULL, NULL);
	is_int(stage_write(&set, dest, &owner, err), 0, "first publish: %s", err);
	ok(stat(f, &st) == 0 && (st.st_mode & 07777) == 0444, "files are 0444");
	ok(stat(dest, &st) == 0 && (st.st_mode & 07777) == 0555, "folders are 0555");
	ino_t first = st.st_ino;
	is_int(count_entries(hub), 1, "nothing but the folder beside it");

	/* a blob that is not there: the write fails half way */
	struct publish_set broken = { 0 };
	git_oid c2 = commit_of(tree(top, 2));
	publish_collect(&broken, repo, &c2, "", &lim, "src", 0, err);
	publish_settle(&broken, NULL, NULL);
	memset(broken.files[1].blob.id, 0xab, GIT_OID_RAWSZ);
	is_int(stage_write(&broken, dest, &owner, err), -1, "a missing blob fails: %s", err);
	ok(stat(dest, &st) == 0 && st.st_ino == first && stat(f, &st) == 0, "the published folder is untouched");
	is_int(count_entries(hub), 1, "and no staging folder is left");
	publish_set_free(&broken);

	/* a staging folder from a killed run is cleared by the next one */
	char *stale = xasprintf("%s/.nb.staging.ABCDEF", hub);
	mkdir(stale, 0555);
	is_int(stage_write(&set, dest, &owner, err), 0, "second publish: %s", err);
	ok(stat(dest, &st) == 0 && st.st_ino != first, "swapped in: a new folder");
	is_int(count_entries(hub), 1, "old set and stale staging folder are gone");

	is_int(util_remove_tree(dest, err), 0, "a read-only set can be removed: %s", err);
	ok(lstat(dest, &st) < 0 && errno == ENOENT, "it is gone");
	is_int(util_remove_tree(dest, err), 0, "removing a missing path is fine");
	publish_set_free(&set);
	rmdir(hub);
	free(stale);
	free(f);
	free(hub);
	free(dest);
}

int main(void)
{
	char err[ERR_MAX];

	repo_global_init();   /* ref names are checked with libgit2 */
	test_parse();
	test_resolve();
	test_names();

	if (!mkdtemp(tmpdir) || git_repository_init(&repo, tmpdir, 1) < 0) {
		ok(0, "scratch repository");
		return done_testing();
	}
	test_crafted_trees();
	test_settle();
	test_write();
	git_repository_free(repo);
	util_remove_tree(tmpdir, err);
	repo_global_shutdown();
	return done_testing();
}
