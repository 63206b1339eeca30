#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/*
 * Shared state is set up by main before any worker thread starts (program
 * name, start time) or is a single atomic word (descriptor, verbosity);
 * every line is built in buffers on the caller's stack, so the log
 * functions may be called from several threads at once.
 */
static char program[64] = "autodeploy";
static _Atomic int log_fd = -1;
static _Atomic int verbosity = LOG_NORMAL;
static time_t start_time;
static char start_iso[40];

#define MSG_MAX 4096
/* Escaping can turn one byte into four (\xNN); the prefix is short. */
#define LINE_MAX_LEN (MSG_MAX * 2 + 256)

void log_init(const char *program_name)
{
	snprintf(program, sizeof program, "%s", program_name ? program_name : "autodeploy");
	start_time = time(NULL);
	util_iso_time(start_iso, sizeof start_iso, start_time);
}

const char *log_program(void)
{
	return program;
}

void log_set_verbosity(enum log_verbosity v)
{
	atomic_store(&verbosity, (int)v);
}

int log_open_file(const char *log_dir, const char *file, char *err)
{
	if (util_mkdir_p(log_dir, 0755, err) < 0)
		return -1;
	char *path = xasprintf("%s/%s", log_dir, file);
	/* Never through a symlink: whoever could plant one in the log
	 * folder would have root append to, or create, any file. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0640);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		err_set(err, "cannot open log file '%s': %s", path,
		        errno == ELOOP ? "it is a symbolic link: remove it" :
		        errno == EINVAL ? "not a plain file of its own (a link or a special file): remove it" :
		        strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	int old = atomic_exchange(&log_fd, fd);
	if (old >= 0)
		close(old);
	return 0;
}

void log_close(void)
{
	int fd = atomic_exchange(&log_fd, -1);
	if (fd >= 0)
		close(fd);
}

/* Write the whole buffer; a short write (disk nearly full) is finished
 * rather than lost, though only the first write is atomic. */
static void write_line(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/*
 * Copy msg into dst (room bytes), turning every control character into a
 * visible escape so that no message can start a second, forged line.
 * Returns the number of bytes written; *cut says whether msg did not fit.
 */
static size_t escape_message(char *dst, size_t room, const char *msg, int *cut)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (const unsigned char *s = (const unsigned char *)msg; *s; s++) {
		char e[4];
		size_t k;
		if (*s >= 0x20 && *s != 0x7f) {
			e[0] = (char)*s;
			k = 1;
		} else if (*s == '\n' || *s == '\r' || *s == '\t') {
			e[0] = '\\';
			e[1] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
			k = 2;
		} else {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[*s >> 4];
			e[3] = hex[*s & 15];
			k = 4;
		}
		if (n + k > room) {
			*cut = 1;
			break;
		}
		memcpy(dst + n, e, k);
		n += k;
	}
	return n;
}

void log_escape(char *out, size_t len, const char *s)
{
	int cut = 0;
	if (len == 0)
		return;
	out[escape_message(out, len - 1, s, &cut)] = '\0';
}

static void emit(const char *level, int to_stderr, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[MSG_MAX];
	char line[LINE_MAX_LEN];
	char now[40];
	static const char more[] = " [...]";

	int m = vsnprintf(msg, sizeof msg, fmt, ap);
	util_iso_time(now, sizeof now, time(NULL));
	int p = snprintf(line, sizeof line, "%s %s[%ld]: %s: ", now, program, (long)getpid(), level);
	if (p < 0)
		p = 0;
	size_t n = (size_t)p;
	/* keep room for the truncation mark and the newline */
	size_t room = sizeof line - n - sizeof more - 1;
	int cut = m >= (int)sizeof msg;
	n += escape_message(line + n, room, m < 0 ? "(bad log format)" : msg, &cut);
	if (cut) {
		memcpy(line + n, more, sizeof more - 1);
		n += sizeof more - 1;
	}
	line[n++] = '\n';

	int fd = atomic_load(&log_fd);
	if (fd >= 0)
		write_line(fd, line, n);
	if (to_stderr)
		write_line(STDERR_FILENO, line, n);
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("info", atomic_load(&verbosity) > LOG_QUIET, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("warning", 1, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("error", 1, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (atomic_load(&verbosity) < LOG_VERBOSE)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit("info", 1, fmt, ap);
	va_end(ap);
}

void log_start(void)
{
	start_time = time(NULL);
	util_iso_time(start_iso, sizeof start_iso, start_time);
	log_info("start: START_TIME=%s", start_iso);
}

void log_end(int code)
{
	char end_iso[40];
	util_iso_time(end_iso, sizeof end_iso, time(NULL));
	if (!start_iso[0])
		snprintf(start_iso, sizeof start_iso, "%s", end_iso);
	/* The level follows the result, so `grep error:` finds failed runs. */
	if (code == EXIT_OK || code == EXIT_DUE)
		log_info("end: START_TIME=%s END_TIME=%s result=%d (%s)",
		         start_iso, end_iso, code, exitcode_meaning(code));
	else if (code == EXIT_BUSY)
		log_warn("end: START_TIME=%s END_TIME=%s result=%d (%s)",
		         start_iso, end_iso, code, exitcode_meaning(code));
	else
		log_error("end: START_TIME=%s END_TIME=%s result=%d (%s)",
		          start_iso, end_iso, code, exitcode_meaning(code));
}
