/* lib/log.c: line format, one line per call, concurrency, quiet/verbose,
 * start/end lines, URL redaction. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-log.XXXXXX";
static char logdir[256], logfile[512], errfile[512];
static int saved_stderr;

static char *slurp(const char *path)
{
	char *buf = NULL, err[ERR_MAX];
	if (util_read_file(&buf, NULL, path, err) < 0)
		return xstrdup("");
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The last line of a text (without its newline), in a static buffer. */
static const char *last_line(const char *s)
{
	static char line[16384];
	size_t n = strlen(s);
	if (n && s[n - 1] == '\n')
		n--;
	size_t b = n;
	while (b > 0 && s[b - 1] != '\n')
		b--;
	snprintf(line, sizeof line, "%.*s", (int)(n - b), s + b);
	return line;
}

static const char *last_log_line(void)
{
	char *s = slurp(logfile);
	const char *l = last_line(s);
	free(s);
	return l;
}

/* stderr goes to errfile, emptied here */
static void capture_stderr(void)
{
	fflush(stderr);
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
}

static char *captured(void)
{
	fflush(stderr);
	return slurp(errfile);
}

static void test_format(void)
{
	regex_t re;
	char pat[512], err[ERR_MAX];
	struct stat st;

	snprintf(logdir, sizeof logdir, "%s/var/log/x", tmpdir);
	snprintf(logfile, sizeof logfile, "%s/test.log", logdir);
	is_int(log_open_file(logdir, "test.log", err), 0, "log_open_file creates the folder and the file");
	ok(stat(logfile, &st) == 0 && (st.st_mode & 0777) == 0640, "the log file has mode 0640");

	capture_stderr();
	log_info("hello %d", 42);
	snprintf(pat, sizeof pat,
	         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2} "
	         "test-log\\[%ld\\]: info: hello 42$", (long)getpid());
	regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
	const char *l = last_log_line();
	ok(regexec(&re, l, 0, NULL, 0) == 0, "a line is 'ISO-time program[pid]: level: message': %s", l);
	char *e = captured();
	ok(regexec(&re, last_line(e), 0, NULL, 0) == 0, "and the same line is echoed to stderr");
	free(e);
	regfree(&re);

	log_warn("careful");
	ok(strstr(last_log_line(), "]: warning: careful") != NULL, "warnings have level 'warning'");
	log_error("broken");
	ok(strstr(last_log_line(), "]: error: broken") != NULL, "errors have level 'error'");

	char *before = slurp(logfile);
	int n0 = count_lines(before);
	free(before);
	log_error("first\nforged 2026-01-01T00:00:00+00:00 x[1]: info: ok\rcr\ttab\001ctl\177del");
	char *after = slurp(logfile);
	is_int(count_lines(after), n0 + 1, "a message with embedded newlines is still one line");
	free(after);
	is_str(strstr(last_log_line(), "error: "),
	       "error: first\\nforged 2026-01-01T00:00:00+00:00 x[1]: info: ok\\rcr\\ttab\\x01ctl\\x7fdel",
	       "control characters are written as visible escapes");
	log_info("utf-8 stays: caf\xc3\xa9");
	ok(strstr(last_log_line(), "caf\xc3\xa9") != NULL, "multibyte UTF-8 passes unchanged");

	char *big = malloc(20000);
	memset(big, 'z', 19999);
	big[19999] = '\0';
	before = slurp(logfile);
	n0 = count_lines(before);
	free(before);
	log_info("%s", big);
	after = slurp(logfile);
	is_int(count_lines(after), n0 + 1, "a 20 kB message is one line");
	free(after);
	l = last_log_line();
	ok(strlen(l) < 9000 && strstr(l, "zzz [...]") != NULL, "cut and marked ' [...]'");
	free(big);

	errno = EACCES;
	log_info("keeps errno");
	is_int(errno, EACCES, "logging keeps errno");
}

static void test_verbosity(void)
{
	char *e;

	log_set_verbosity(LOG_QUIET);
	capture_stderr();
	log_info("quiet info");
	log_debug("quiet debug");
	log_warn("quiet warning");
	log_error("quiet error");
	e = captured();
	ok(!strstr(e, "quiet info"), "quiet: info stays off stderr");
	ok(strstr(e, "warning: quiet warning") && strstr(e, "error: quiet error"),
	   "quiet: warnings and errors still reach stderr");
	free(e);
	char *f = slurp(logfile);
	ok(strstr(f, "info: quiet info") != NULL, "quiet: the file still gets info lines");
	ok(!strstr(f, "quiet debug"), "quiet: no debug lines anywhere");
	free(f);

	log_set_verbosity(LOG_NORMAL);
	capture_stderr();
	log_info("normal info");
	log_debug("normal debug");
	e = captured();
	ok(strstr(e, "info: normal info") != NULL, "normal: info reaches stderr");
	ok(!strstr(e, "normal debug"), "normal: debug does not reach stderr");
	free(e);
	f = slurp(logfile);
	ok(!strstr(f, "normal debug"), "normal: debug does not reach the file");
	free(f);

	log_set_verbosity(LOG_VERBOSE);
	capture_stderr();
	log_debug("verbose debug %s", "x");
	e = captured();
	ok(strstr(e, "info: verbose debug x") != NULL, "verbose: debug reaches stderr with level info");
	free(e);
	ok(strstr(last_log_line(), "]: info: verbose debug x") != NULL, "verbose: and the file");
	log_set_verbosity(LOG_NORMAL);
}

static void test_start_end(void)
{
	regex_t re;
	regmatch_t m[3];
	char start[64] = "", end_start[64] = "";

	log_start();
	const char *l = last_log_line();
	regcomp(&re, "info: start: START_TIME=([0-9T:+-]{25})$", REG_EXTENDED);
	ok(regexec(&re, l, 2, m, 0) == 0, "the start line gives the start time: %s", l);
	snprintf(start, sizeof start, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), l + m[1].rm_so);
	regfree(&re);

	log_end(EXIT_ROLLED_BACK);
	l = last_log_line();
	regcomp(&re, "error: end: START_TIME=([0-9T:+-]{25}) END_TIME=([0-9T:+-]{25}) "
	        "result=2 \\(deploy failed, old commits restored and started\\)$", REG_EXTENDED);
	ok(regexec(&re, l, 3, m, 0) == 0, "the end line gives start, end and result with its meaning: %s", l);
	snprintf(end_start, sizeof end_start, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), l + m[1].rm_so);
	regfree(&re);
	is_str(end_start, start, "the end line repeats the run's start time");
	log_end(0);
	ok(strstr(last_log_line(), "info: end: ") && strstr(last_log_line(), "result=0 (done)"),
	   "a successful end is an info line");
	log_end(75);
	ok(strstr(last_log_line(), "warning: end: ") != NULL, "a busy end is a warning");
}

#define PER_WRITER 2000

static void write_many(const char *who)
{
	for (int i = 0; i < PER_WRITER; i++)
		log_info("%s line %d padding-padding-padding-padding-padding-padding-padding-"
		         "padding-padding-padding-padding-padding-padding-padding end", who, i);
}

static void *thread_main(void *arg)
{
	write_many(arg);
	return NULL;
}

static void test_concurrency(void)
{
	char err[ERR_MAX];
	char path[512];

	/* a fresh file: two threads here and a forked process all append */
	snprintf(path, sizeof path, "%s/concurrent.log", logdir);
	log_open_file(logdir, "concurrent.log", err);
	log_set_verbosity(LOG_QUIET);
	pid_t pid = fork();
	if (pid == 0) {
		write_many("process");
		_exit(0);
	}
	pthread_t t1, t2;
	pthread_create(&t1, NULL, thread_main, (void *)"thread-a");
	pthread_create(&t2, NULL, thread_main, (void *)"thread-b");
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	int st;
	waitpid(pid, &st, 0);
	log_set_verbosity(LOG_NORMAL);

	char *s = slurp(path);
	regex_t re;
	regcomp(&re, "^[0-9T:+-]{25} test-log\\[[0-9]+\\]: info: (thread-a|thread-b|process) line [0-9]+ "
	        "(padding-){13}padding end$", REG_EXTENDED);
	int lines = 0, bad = 0, a = 0, b = 0, p = 0;
	char *save, *line;
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (regexec(&re, line, 0, NULL, 0) != 0) {
			if (bad++ < 3)
				diag("damaged line: %s", line);
			continue;
		}
		a += strstr(line, "thread-a") != NULL;
		b += strstr(line, "thread-b") != NULL;
		p += strstr(line, ": process") != NULL;
	}
	regfree(&re);
	free(s);
	is_int(lines, 3 * PER_WRITER, "2 threads and a process wrote %d lines each, all there", PER_WRITER);
	is_int(bad, 0, "no line is damaged or interleaved");
	ok(a == PER_WRITER && b == PER_WRITER && p == PER_WRITER, "each writer's lines are all intact (%d %d %d)", a, b, p);
	unlink(path);
}

static void test_open_failure(void)
{
	char err[ERR_MAX] = "", bad[512];
	snprintf(bad, sizeof bad, "%s/test.log/sub", logdir);
	is_int(log_open_file(bad, "x.log", err), -1, "a log folder that cannot be made is an error");
	ok(strstr(err, "test.log") != NULL, "naming it: %s", err);
	capture_stderr();
	log_close();
	log_warn("still on stderr");
	char *e = captured();
	ok(strstr(e, "warning: still on stderr") != NULL, "without a file the log goes on to stderr");
	free(e);
}


int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(errfile, sizeof errfile, "%s/stderr", tmpdir);
	saved_stderr = dup(2);
	log_init("test-log");
	is_str(log_program(), "test-log", "log_program gives the name from log_init");

	test_format();
	test_verbosity();
	test_start_end();
	test_concurrency();
	test_open_failure();
	dup2(saved_stderr, 2);

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
