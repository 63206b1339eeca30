/*
 * treecheck: is a commit's tree safe to write?  Asked before any of it is
 * written anywhere (a checkout, the staged copy, published notebooks),
 * because libgit2's fetch does not run git fsck and its checkout writes
 * what a crafted tree holds: a symlink "link" and a folder "link/" in one
 * tree write link/evil through the symlink, outside the work tree.
 *
 *   rc = treecheck_commit(repo, &commit, err);
 *       0 safe, TREECHECK_REFUSED (err names the commit, the path and
 *       why: exit 65), -1 the objects could not be read (err)
 *
 * A submodule (a gitlink entry) is refused too: libgit2 checks it out as
 * an empty folder and nothing here would fetch its commit, so deploying
 * it would leave a hole where the operator expects files.
 *
 * Refused, as git fsck refuses them: two entries of one tree with the
 * same name (whatever their types: this is also how a path would go
 * through a symlink of the same tree), a name that is empty, ".", "..",
 * holds '/', or is ".git" in any case or in its NTFS ("git~1", trailing
 * dots and spaces, ":stream") and HFS+ (ignorable Unicode code points)
 * spellings.  Each distinct tree object is checked once, so a tree that
 * lists one subtree many times over costs one visit, not 16^12.
 */
#ifndef AUTODEPLOY_TREECHECK_H
#define AUTODEPLOY_TREECHECK_H

#include <stddef.h>
#include <git2.h>

#define TREECHECK_REFUSED (-2)

/* NULL when `name` (len bytes, not NUL-terminated) may be written as one
 * path component, else why not ("a .git folder", …). */
const char *treecheck_name(const char *name, size_t len);

/* Check the tree `tree` and every tree below it; `label` (e.g. "commit
 * ID") starts the message. */
int treecheck_tree(git_repository *r, const git_oid *tree, const char *label, char *err);

/* Check the tree of `commit`. */
int treecheck_commit(git_repository *r, const git_oid *commit, char *err);

#endif
