/* lib/gz.c: parallel gzip that zlib reads back byte for byte. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gz.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-gz.XXXXXX";
static int dirfd_ = -1;

/* Log-like text: repetitive enough to compress, varied enough to matter. */
static unsigned char *make_text(size_t len)
{
	static const char *words[] = { "deploy", "fetch", "origin/main", "stack", "started",
	                               "healthy", "notebook", "warning", "checkout", "rotated" };
	unsigned char *buf = xmalloc(len);
	unsigned long long x = 88172645463325252ull;
	size_t n = 0;
	unsigned line = 0;
	while (n < len) {
		char tmp[160];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int k = snprintf(tmp, sizeof(tmp), "2026-11-22T00:%02u:%02u+0000 prog[%u]: info: %s %s %llx\n",
		                 line / 60 % 60, line % 60, 1000 + (unsigned)(x % 50),
		                 words[x % 10], words[(x >> 8) % 10], x >> 40);
		line++;
		size_t take = (size_t)k < len - n ? (size_t)k : len - n;
		memcpy(buf + n, tmp, take);
		n += take;
	}
	return buf;
}

/* Inflate a whole gzip file with zlib; the header's name and mtime are
 * returned too.  Returns the data (malloc'd) or NULL if zlib refuses it or
 * anything follows the member. */
static unsigned char *gunzip(const unsigned char *gz, size_t gzlen, size_t *outlen,
                             char *name, size_t namelen, time_t *mtime)
{
	z_stream zs;
	gz_header h;
	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	h.name = (Bytef *)name;
	h.name_max = (uInt)namelen;
	if (name)
		name[0] = '\0';
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return NULL;
	inflateGetHeader(&zs, &h);
	size_t cap = gzlen * 4 + 1024, n = 0;
	unsigned char *out = xmalloc(cap);
	zs.next_in = (Bytef *)gz;
	zs.avail_in = (uInt)gzlen;
	int rc;
	do {
		if (cap - n < 65536) {
			cap *= 2;
			out = xrealloc(out, cap);
		}
		zs.next_out = out + n;
		zs.avail_out = (uInt)(cap - n);
		rc = inflate(&zs, Z_NO_FLUSH);
		n = (size_t)(zs.next_out - out);
	} while (rc == Z_OK);
	int good = rc == Z_STREAM_END && zs.avail_in == 0;
	inflateEnd(&zs);
	if (!good) {
		free(out);
		return NULL;
	}
	*outlen = n;
	if (mtime)
		*mtime = (time_t)h.time;
	return out;
}

static int write_file(const char *name, const unsigned char *data, size_t len)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0)
		return -1;
	ssize_t w = len ? write(fd, data, len) : 0;
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static unsigned char *read_all(const char *name, size_t *len)
{
	char *data, err[ERR_MAX], path[600];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (util_read_file(&data, len, path, err) < 0)
		return NULL;
	return (unsigned char *)data;
}

/* Compress `len` bytes of text with gz_stream and check zlib gets them back. */
static void roundtrip(size_t len, int threads)
{
	unsigned char *text = make_text(len);
	char name[64];
	size_t gzlen = 0, outlen = 0;
	uint64_t in_bytes = 0;
	char err[ERR_MAX] = "";
	write_file("in", text, len);
	int in = openat(dirfd_, "in", O_RDONLY);
	int out = openat(dirfd_, "out.gz", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = gz_stream(out, in, "in.log", 1700000000, 6, threads, &in_bytes, err);
	close(in);
	close(out);
	unsigned char *gz = read_all("out.gz", &gzlen);
	unsigned char *back = gz ? gunzip(gz, gzlen, &outlen, name, sizeof(name), NULL) : NULL;
	ok(rc == 0 && in_bytes == len && back && outlen == len && memcmp(back, text, len) == 0,
	   "%zu bytes with %d thread(s) come back identical through zlib%s%s", len, threads,
	   rc < 0 ? ": " : "", err);
	free(back);
	free(gz);
	free(text);
}

static int temp_files_left(void)
{
	int found = 0;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp"))
			found = 1;
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	char err[ERR_MAX];

	if (!mkdtemp(tmpdir) || (dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY)) < 0) {
		ok(0, "cannot make a scratch folder");
		return done_testing();
	}

	ok(gz_default_threads() >= 1, "one worker per online core (%d here)", gz_default_threads());

	/* Block edges are where a parallel compressor goes wrong. */
	size_t sizes[] = { 0, 1, 1000, GZ_BLOCK - 1, GZ_BLOCK, GZ_BLOCK + 1, 5 * GZ_BLOCK + 123 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(sizes[i], 1);
		roundtrip(sizes[i], 3);
	}

	/* 20 MiB, every core and more workers than cores: byte-identical, and
	 * priming each block with its predecessor's 32 KiB keeps the size
	 * within 1% of one serial deflate of the whole file. */
	{
		size_t len = 20u << 20, gzlen = 0, outlen = 0;
		unsigned char *text = make_text(len);
		write_file("big", text, len);
		int in = openat(dirfd_, "big", O_RDONLY);
		int out = openat(dirfd_, "big.gz", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int rc = gz_stream(out, in, "big", 0, 6, 4, NULL, err);
		close(in);
		close(out);
		unsigned char *gz = read_all("big.gz", &gzlen);
		unsigned char *back = gz ? gunzip(gz, gzlen, &outlen, NULL, 0, NULL) : NULL;
		ok(rc == 0 && back && outlen == len && memcmp(back, text, len) == 0,
		   "20 MiB compressed by 4 workers decompresses byte-identical");
		uLongf serial = compressBound(len);
		unsigned char *ref = xmalloc(serial);
		compress2(ref, &serial, text, len, 6);
		diag("parallel %zu bytes, serial %lu bytes", gzlen, (unsigned long)serial);
		ok(gz && gzlen < serial + serial / 100, "parallel output is within 1%% of a serial deflate");
		free(ref);
		free(back);
		free(gz);
		free(text);
	}

	/* gz_file_at: the header names the original and keeps its mtime. */
	{
		unsigned char *text = make_text(300000);
		char name[64];
		size_t gzlen = 0, outlen = 0;
		time_t mtime = 0;
		struct stat st;
		write_file("x.log-20260101", text, 300000);
		struct timespec t[2] = { { 1600000000, 0 }, { 1600000000, 0 } };
		utimensat(dirfd_, "x.log-20260101", t, 0);
		int rc = gz_file_at(dirfd_, "x.log-20260101", "x.log-20260101.gz", 9, err);
		is_int(rc, 0, "gz_file_at compresses a rotated file");
		unsigned char *gz = read_all("x.log-20260101.gz", &gzlen);
		unsigned char *back = gz ? gunzip(gz, gzlen, &outlen, name, sizeof(name), &mtime) : NULL;
		ok(back && outlen == 300000 && memcmp(back, text, outlen) == 0, "its contents come back");
		is_str(name, "x.log-20260101", "the header holds the original name");
		is_int(mtime, 1600000000, "the header holds the original mtime");
		ok(fstatat(dirfd_, "x.log-20260101.gz", &st, 0) == 0 && (st.st_mode & 0777) == 0640 &&
		   st.st_mtime == 1600000000, "the .gz keeps the original's mode and mtime");
		ok(fstatat(dirfd_, "x.log-20260101", &st, 0) == 0 && st.st_size == 300000,
		   "the original is left for the caller to remove");
		ok(!temp_files_left(), "no temporary file is left");
		free(back);
		free(gz);
		free(text);
	}

	/* Failures leave nothing behind. */
	{
		struct stat st;
		ok(gz_file_at(dirfd_, "x.log-20260101", "bad.gz", 0, err) < 0 &&
		   fstatat(dirfd_, "bad.gz", &st, 0) < 0 && !temp_files_left(),
		   "a bad level is refused and leaves no file: %s", err);
		ok(gz_file_at(dirfd_, "missing", "missing.gz", 6, err) < 0 && strstr(err, "'missing'"),
		   "a missing source is named: %s", err);
		symlinkat("x.log-20260101", dirfd_, "link");
		ok(gz_file_at(dirfd_, "link", "link.gz", 6, err) < 0 && fstatat(dirfd_, "link.gz", &st, 0) < 0,
		   "a symbolic link is never followed: %s", err);
		int in = openat(dirfd_, "big", O_RDONLY);
		int full = open("/dev/full", O_WRONLY);
		if (full >= 0) {
			int rc = gz_stream(full, in, "big", 0, 1, 2, NULL, err);
			ok(rc < 0 && strstr(err, "write failed"), "a full disk fails the write: %s", err);
			close(full);
		} else {
			ok(1, "# skip no /dev/full");
		}
		close(in);
	}

	/* A pipe is read to its end like a file. */
	{
		int p[2];
		size_t gzlen = 0, outlen = 0;
		if (pipe(p) == 0) {
			ssize_t w = write(p[1], "hello\nworld\n", 12);
			close(p[1]);
			int out = openat(dirfd_, "pipe.gz", O_WRONLY | O_CREAT | O_TRUNC, 0600);
			int rc = gz_stream(out, p[0], NULL, 0, 6, 0, NULL, err);
			close(out);
			close(p[0]);
			unsigned char *gz = read_all("pipe.gz", &gzlen);
			unsigned char *back = gz ? gunzip(gz, gzlen, &outlen, NULL, 0, NULL) : NULL;
			ok(w == 12 && rc == 0 && back && outlen == 12 && memcmp(back, "hello\nworld\n", 12) == 0,
			   "input from a pipe, without a name in the header");
			free(back);
			free(gz);
		}
	}

	close(dirfd_);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
