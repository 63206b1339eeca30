/*
 * gz: gzip files with zlib, on every core, in bounded memory.
 *
 * The input is cut into GZ_BLOCK-sized blocks that worker threads deflate
 * in parallel, each block primed with the previous block's last 32 KiB as
 * dictionary (as pigz does) so the ratio stays close to a single-threaded
 * deflate.  Each block ends with a sync flush, the blocks are written in
 * order and closed by an empty final block, then one trailer holds the CRC32
 * of the whole input (crc32_combine of the blocks' CRCs) and its size.  The
 * result is one ordinary gzip member: `gzip -t`, zcat and zlib read it.
 * Only a fixed number of blocks is ever in flight, so memory does not grow
 * with the file.
 *
 *   gz_file_at(dirfd, "x.log-20260101", "x.log-20260101.gz", 6, err)
 *       writes a temporary name beside dst, fsyncs it, renames it to dst
 *       and fsyncs the folder: dst appears only complete, or not at all.
 *   gz_stream(out_fd, in_fd, "name", mtime, level, 0, err)
 *       the streaming core, for callers that manage the files themselves.
 */
#ifndef AUTODEPLOY_GZ_H
#define AUTODEPLOY_GZ_H

#include <stdint.h>
#include <time.h>

#define GZ_BLOCK (128 * 1024)

/* The worker count gz uses when asked for 0: the number of online cores. */
int gz_default_threads(void);

/* Read in_fd to its end and write one gzip member to out_fd.  `name` (the
 * original file name, may be NULL) and `mtime` go into the header; level is
 * zlib's 1..9; threads 0 means gz_default_threads().  *in_bytes, when not
 * NULL, receives the number of bytes read. */
int gz_stream(int out_fd, int in_fd, const char *name, time_t mtime, int level,
              int threads, uint64_t *in_bytes, char *err);

/* Compress src (relative to dirfd, never through a symlink) into dst in the
 * same folder, atomically.  The header records src's name and mtime, and
 * dst gets src's owner (where allowed), mode and times.  On failure nothing
 * named dst or like the temporary name is left behind, and src is
 * untouched. */
int gz_file_at(int dirfd, const char *src, const char *dst, int level, char *err);

#endif
