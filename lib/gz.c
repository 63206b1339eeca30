#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gz.h"
#include "util.h"

/* deflate's window: a block primed with this much of its predecessor
 * compresses as if the stream had never been cut. */
#define DICT_SIZE (32 * 1024)
#define MAX_THREADS 64

/*
 * One block in flight.  The main thread owns a slot while it fills it and
 * while it writes its output; a worker owns it between taking the job and
 * setting `done`.  Ownership changes only under the pool's mutex.
 */
struct slot {
	unsigned char *in;
	size_t in_len;
	unsigned char dict[DICT_SIZE];
	size_t dict_len;
	unsigned char *out;
	size_t out_len, out_cap;
	uLong crc;
	int done;
	int failed;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a block was filled, or stop */
	pthread_cond_t done;    /* a block was compressed */
	struct slot *slots;
	size_t nslots;
	uint64_t filled;        /* blocks handed to the workers so far */
	uint64_t next_job;      /* the next block a worker takes */
	int stop;
	int level;
};

int gz_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Raw deflate of one block, ended by a sync flush so the next block's
 * output can follow it byte-aligned. */
static int deflate_block(z_stream *zs, struct slot *s)
{
	if (deflateReset(zs) != Z_OK)
		return -1;
	if (s->dict_len > 0 && deflateSetDictionary(zs, s->dict, (uInt)s->dict_len) != Z_OK)
		return -1;
	zs->next_in = s->in;
	zs->avail_in = (uInt)s->in_len;
	s->out_len = 0;
	for (;;) {
		if (s->out_cap - s->out_len < 64) {
			s->out_cap *= 2;
			s->out = xrealloc(s->out, s->out_cap);
		}
		zs->next_out = s->out + s->out_len;
		zs->avail_out = (uInt)(s->out_cap - s->out_len);
		int rc = deflate(zs, Z_SYNC_FLUSH);
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -1;
		s->out_len = (size_t)(zs->next_out - s->out);
		/* A flush is complete only when it left output space unused. */
		if (zs->avail_in == 0 && zs->avail_out != 0)
			break;
	}
	s->crc = crc32(crc32(0L, Z_NULL, 0), s->in, (uInt)s->in_len);
	return 0;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	int ready = deflateInit2(&zs, p->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next_job == p->filled)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct slot *s = &p->slots[p->next_job % p->nslots];
		p->next_job++;
		pthread_mutex_unlock(&p->mu);
		int failed = !ready || deflate_block(&zs, s) < 0;
		pthread_mutex_lock(&p->mu);
		s->failed = failed;
		s->done = 1;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	if (ready)
		deflateEnd(&zs);
	return NULL;
}

/* Fill buf as far as the input goes: a short count means end of input. */
static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* RFC 1952 header: deflate, FNAME when a name is known, mtime, XFL, OS=Unix. */
static int write_header(int fd, const char *name, time_t mtime, int level)
{
	unsigned char h[10] = { 0x1f, 0x8b, 8, name ? 0x08 : 0, 0, 0, 0, 0, 0, 3 };
	if (mtime > 0 && (uint64_t)mtime <= UINT32_MAX)
		put_le32(h + 4, (uint32_t)mtime);
	h[8] = level >= 9 ? 2 : level == 1 ? 4 : 0;
	if (write_full(fd, h, sizeof(h)) < 0)
		return -1;
	if (name && write_full(fd, (const unsigned char *)name, strlen(name) + 1) < 0)
		return -1;
	return 0;
}

/* Keep the last DICT_SIZE bytes seen: the next block's dictionary. */
static void keep_tail(unsigned char *tail, size_t *tail_len, const unsigned char *buf, size_t len)
{
	if (len >= DICT_SIZE) {
		memcpy(tail, buf + len - DICT_SIZE, DICT_SIZE);
		*tail_len = DICT_SIZE;
		return;
	}
	size_t keep = *tail_len + len > DICT_SIZE ? DICT_SIZE - len : *tail_len;
	memmove(tail, tail + *tail_len - keep, keep);
	memcpy(tail + keep, buf, len);
	*tail_len = keep + len;
}

/* Workers to start: the caller's number (0: one per CPU), at most
 * MAX_THREADS. */
static int pool_size(int in_fd, int threads)
{
	struct stat st;

	if (threads <= 0)
		threads = gz_default_threads();
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	/* No more workers than blocks: a small log needs no crowd. */
	if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t blocks = st.st_size / GZ_BLOCK + 1;
		if (blocks < threads)
			threads = (int)blocks;
	}
	return threads;
}

/* Set up p and start its workers; returns how many started. */
static int pool_start(struct pool *p, pthread_t *tids, int threads, int level)
{
	int started;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->level = level;
	/* Two blocks per worker keep them busy while the main thread reads
	 * and writes; that is also the bound on memory. */
	p->nslots = (size_t)threads * 2;
	p->slots = xcalloc(p->nslots, sizeof(*p->slots));
	for (size_t i = 0; i < p->nslots; i++) {
		p->slots[i].in = xmalloc(GZ_BLOCK);
		p->slots[i].out_cap = compressBound(GZ_BLOCK) + 64;
		p->slots[i].out = xmalloc(p->slots[i].out_cap);
	}
	for (started = 0; started < threads; started++)
		if (pthread_create(&tids[started], NULL, worker, p) != 0)
			break;
	return started;
}

/* Stop the workers (if the stream did not), wait for them, free p. */
static void pool_end(struct pool *p, pthread_t *tids, int started)
{
	if (started > 0 && !p->stop) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	for (size_t i = 0; i < p->nslots; i++) {
		free(p->slots[i].in);
		free(p->slots[i].out);
	}
	free(p->slots);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
}

/* The main thread's side of one stream. */
struct stream {
	int in_fd, out_fd;
	int eof;
	unsigned char tail[DICT_SIZE];  /* the next block's dictionary */
	size_t tail_len;
	uint64_t written;               /* blocks written out */
	uint64_t total;                 /* input bytes written out */
	uLong crc;
};

/* Read the next block into its slot and hand it to the workers.  Called
 * and returns with p->mu held; -1 on a read error. */
static int read_block(struct pool *p, struct stream *z, char *err)
{
	/* The slot of block `filled` was written out already: ours. */
	struct slot *s = &p->slots[p->filled % p->nslots];
	pthread_mutex_unlock(&p->mu);
	ssize_t n = read_full(z->in_fd, s->in, GZ_BLOCK);
	if (n > 0) {
		s->in_len = (size_t)n;
		memcpy(s->dict, z->tail, z->tail_len);
		s->dict_len = z->tail_len;
		s->done = 0;
		keep_tail(z->tail, &z->tail_len, s->in, s->in_len);
	}
	pthread_mutex_lock(&p->mu);
	if (n < 0)
		return err_set(err, "read failed: %s", strerror(errno));
	if (n < GZ_BLOCK)
		z->eof = 1;
	if (n > 0) {
		p->filled++;
		pthread_cond_signal(&p->work);
	}
	return 0;
}

/* Wait for the oldest block in flight and write it out.  Called and
 * returns with p->mu held; -1 on a deflate or write error. */
static int write_block(struct pool *p, struct stream *z, char *err)
{
	struct slot *s = &p->slots[z->written % p->nslots];
	while (!s->done)
		pthread_cond_wait(&p->done, &p->mu);
	if (s->failed)
		return err_set(err, "deflate failed");
	pthread_mutex_unlock(&p->mu);
	int w = write_full(z->out_fd, s->out, s->out_len);
	int saved = errno;
	z->crc = crc32_combine(z->crc, s->crc, (z_off_t)s->in_len);
	z->total += s->in_len;
	pthread_mutex_lock(&p->mu);
	if (w < 0)
		return err_set(err, "write failed: %s", strerror(saved));
	z->written++;
	return 0;
}

/* Read ahead while a slot is free, else write the oldest block, until
 * the input ends and every block is out; then stop the workers. */
static int pump(struct pool *p, struct stream *z, char *err)
{
	int ret = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!z->eof && p->filled - z->written < p->nslots)
			ret = read_block(p, z, err);
		else if (z->written == p->filled)
			break;
		else
			ret = write_block(p, z, err);
		if (ret < 0)
			break;
	}
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	return ret;
}

/* An empty final block closes the deflate stream; then CRC32 and ISIZE
 * (the size modulo 2^32) of the whole input. */
static int write_trailer(int fd, uLong crc, uint64_t total)
{
	unsigned char trailer[10] = { 0x03, 0x00 };
	put_le32(trailer + 2, (uint32_t)crc);
	put_le32(trailer + 6, (uint32_t)(total & 0xffffffffu));
	return write_full(fd, trailer, sizeof(trailer));
}

int gz_stream(int out_fd, int in_fd, const char *name, time_t mtime, int level,
              int threads, uint64_t *in_bytes, char *err)
{
	struct pool p;
	pthread_t tids[MAX_THREADS];
	struct stream z = { .in_fd = in_fd, .out_fd = out_fd, .crc = crc32(0L, Z_NULL, 0) };
	int started, ret = -1;

	if (level < 1 || level > 9)
		return err_set(err, "compression level %d is not within 1..9", level);
	started = pool_start(&p, tids, pool_size(in_fd, threads), level);
	if (started == 0) {
		err_set(err, "cannot start a compression thread");
		goto out;
	}
	if (write_header(out_fd, name, mtime, level) < 0) {
		err_set(err, "write failed: %s", strerror(errno));
		goto out;
	}
	if (pump(&p, &z, err) < 0)
		goto out;
	if (write_trailer(out_fd, z.crc, z.total) < 0) {
		err_set(err, "write failed: %s", strerror(errno));
		goto out;
	}
	if (in_bytes)
		*in_bytes = z.total;
	ret = 0;
out:
	pool_end(&p, tids, started);
	return ret;
}

int gz_file_at(int dirfd, const char *src, const char *dst, int level, char *err)
{
	char tmp[4096], why[ERR_MAX];
	int in = -1, out = -1, ret = -1, made = 0;
	struct stat st;

	in = openat(dirfd, src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		err_set(err, "cannot open '%s': %s", src, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, "cannot compress '%s': not a regular file", src);
		goto out;
	}
	out = util_open_temp(dirfd, dst, tmp, sizeof(tmp));
	if (out < 0) {
		err_set(err, "cannot create a temporary file for '%s': %s", dst, strerror(errno));
		goto out;
	}
	made = 1;
	if (gz_stream(out, in, src, st.st_mtime, level, 0, NULL, why) < 0) {
		err_set(err, "cannot compress '%s' to '%s': %s", src, dst, why);
		goto out;
	}
	/* As gzip does: the .gz keeps the original's owner, mode and times
	 * (the owner when we may give it: root, or the owner itself). */
	struct timespec times[2] = { st.st_atim, st.st_mtim };
	if ((fchown(out, st.st_uid, st.st_gid) < 0 && errno != EPERM) ||
	    fchmod(out, st.st_mode & 07777) < 0 || futimens(out, times) < 0 || fsync(out) < 0) {
		err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	int fd = out;
	out = -1;
	if (close(fd) < 0) {
		err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	made = 0;       /* util_temp_rename removes tmp if it cannot rename */
	ret = util_temp_rename(dirfd, tmp, dst, err);
out:
	if (out >= 0)
		close(out);
	if (made)
		unlinkat(dirfd, tmp, 0);
	if (in >= 0)
		close(in);
	return ret;
}
