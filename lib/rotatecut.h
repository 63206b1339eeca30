/*
 * rotatecut: the lossless copytruncate of rotate-logs (SPEC.md
 * "rotate-logs"): the start of a live log moves into a rotated file while
 * its writers go on appending.  Which file and when is rotate.h's policy.
 *
 *   uint64_t copied;
 *   int lossless;
 *   int rc = rotatecut_cut(&copied, &lossless, dirfd, live_fd, name, err);
 *   rc < 0: failed (err); ROTATECUT_TOO_SHORT / ROTATECUT_CHANGED: nothing
 *   done, try at the next run; 0: done, !lossless when the file system could
 *   not collapse and lines written meanwhile may be lost.
 */
#ifndef AUTODEPLOY_ROTATECUT_H
#define AUTODEPLOY_ROTATECUT_H

#include <stdint.h>

#define ROTATECUT_TOO_SHORT 1
#define ROTATECUT_CHANGED 2

/*
 * Move the start of the live log (open read-write in dirfd) into a new file
 * `dst` in the same folder, written under a temporary name with the log's
 * owner and mode, fsynced and renamed.  The part moved is the longest
 * prefix that is a whole number of collapse units (the file system's
 * block, or its cluster: an EINVAL on an unchanged file doubles the unit)
 * and shorter than the file; it is then cut out of the live file with
 * FALLOC_FL_COLLAPSE_RANGE, so writers appending with O_APPEND lose
 * nothing, and the remainder (less than one unit, perhaps half a line)
 * stays for the next rotation.  Holes are not copied: a writer without
 * O_APPEND leaves one after each cut, and its NULs are not log lines.
 * Just before the cut the prefix is read again and must be unchanged, so a
 * log truncated and rewritten meanwhile is left whole.  Where the file
 * system cannot collapse, the rest of the file is copied too and the file
 * truncated: *lossless is then 0 and lines written meanwhile may be lost.
 * Returns 0; ROTATECUT_TOO_SHORT when the file is not longer than one unit,
 * ROTATECUT_CHANGED when it shrank or changed under us (both: nothing done);
 * or -1 (dst not left behind, live file untouched).
 */
int rotatecut_cut(uint64_t *copied, int *lossless, int dirfd, int live_fd, const char *dst, char *err);

#endif
