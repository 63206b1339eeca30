/*
 * log: one line per event, `ISO-8601-time program[pid]: level: message`,
 * appended to LOG_DIR/<file> with a single write(2) on an O_APPEND
 * descriptor (so lines from concurrent runs never interleave) and echoed to
 * stderr.  Levels are info, warning, error.
 *
 *   log_init("check-drift");                 first thing in main
 *   log_open_file(settings.log_dir, "autodeploy.log", err)   once config is read
 *   log_start();  ...  log_end(code);        the run's first and last lines
 *   log_close();
 *
 * --quiet keeps info lines off stderr (the file still gets them);
 * --verbose adds log_debug lines (written with level info, to both).
 * Control characters in a message are written as escapes (\n, \t, \xNN),
 * so one call is always exactly one line.  A message longer than 4 KiB is
 * cut and marked " [...]".  errno is preserved.  Every function may be
 * called from several threads at once (lines are built on the stack);
 * log_init/log_open_file/log_start belong to main, before threads start.
 * log_end's level follows the result: info for 0 and 1, warning for 75,
 * error otherwise.
 * Never pass a URL to the log without url_redact() (url.h): credentials become ***.
 */
#ifndef AUTODEPLOY_LOG_H
#define AUTODEPLOY_LOG_H

#include <stddef.h>

enum log_verbosity { LOG_QUIET = -1, LOG_NORMAL = 0, LOG_VERBOSE = 1 };

void log_init(const char *program);
const char *log_program(void);
void log_set_verbosity(enum log_verbosity v);

/* Create log_dir if needed (mkdir -p, 0755) and open log_dir/file for
 * appending (O_APPEND|O_CLOEXEC, created 0640); a second call replaces the
 * first file.  On
 * failure the log keeps going to stderr only and -1 is returned, so the
 * program can warn and carry on or refuse, as it sees fit. */
int log_open_file(const char *log_dir, const char *file, char *err);
void log_close(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s into out with control characters escaped as in log lines, so text
 * from a repository printed to a terminal or a plan cannot forge a line
 * or send escape codes; truncated to fit, always NUL-terminated. */
void log_escape(char *out, size_t len, const char *s);

/* "start: START_TIME=..." and "end: START_TIME=... END_TIME=... result=CODE (meaning)". */
void log_start(void);
void log_end(int code);

#endif
