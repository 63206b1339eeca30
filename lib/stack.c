#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "settings.h"
#include "stack.h"
#include "strbuf.h"
#include "util.h"

void stack_init(struct stack *st, const struct settings *s)
{
	memset(st, 0, sizeof *st);
	st->s = s;
	st->cwd = s->compose_dir;
	st->group_file = xasprintf("%s/children", s->state_dir);
	st->cap = 16;
	st->env = xcalloc(st->cap, sizeof *st->env);
}

void stack_free(struct stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->env[i]);
	free(st->env);
	free(st->group_file);
	memset(st, 0, sizeof *st);
}

void stack_setenv(struct stack *st, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *value, *entry;
	size_t klen = strlen(key);

	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) < 0)
		value = NULL;
	va_end(ap);
	if (!value)
		abort();
	entry = xasprintf("%s=%s", key, value);
	free(value);
	for (size_t i = 0; i < st->n; i++) {
		if (strncmp(st->env[i], key, klen) == 0 && st->env[i][klen] == '=') {
			free(st->env[i]);
			st->env[i] = entry;
			return;
		}
	}
	ARRAY_GROW(st->env, st->n + 1, st->cap);        /* and the NULL after it */
	st->env[st->n++] = entry;
	st->env[st->n] = NULL;
}

/* Not durable on purpose: after a crash of the machine nothing runs. */
static void record_group(pid_t pgid, void *arg)
{
	struct stack *st = arg;
	char line[32], err[ERR_MAX];
	int len = snprintf(line, sizeof line, "%ld\n", (long)pgid);
	int fd = open(st->group_file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || util_write_all(fd, line, (size_t)len) < 0) {
		err_set(err, "cannot record the command's process group in '%s': %s", st->group_file,
		        strerror(errno));
		log_warn("%s", err);
	}
	if (fd >= 0)
		close(fd);
}

void stack_kill_orphans(struct stack *st)
{
	char *buf = NULL, err[ERR_MAX], *end;
	struct stat sb;
	if (lstat(st->group_file, &sb) < 0 && errno == ENOENT)
		return;
	if (util_read_file(&buf, NULL, st->group_file, err) < 0) {
		log_warn("%s", err);
		return;
	}
	long pgid = strtol(buf, &end, 10);
	int well_formed = end != buf && *end == '\n';
	free(buf);
	if (pgid > 1 && well_formed && kill(-(pid_t)pgid, SIGKILL) == 0) {
		log_warn("killed what was left of an interrupted run's command (process group %ld)", pgid);
		/* they are not our children: wait until the group is empty */
		for (int i = 0; i < 500 && kill(-(pid_t)pgid, 0) == 0; i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	unlink(st->group_file);
}

const char *stack_detect_compose(void)
{
	const char *argv[] = { "docker", "compose", "version", NULL };
	char err[ERR_MAX];
	int status, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct proc_opts o = { .null_stdin = 1, .timeout = 20, .stdout_fd = devnull, .stderr_fd = devnull };
	int rc = proc_run(&status, argv, &o, err);
	if (devnull >= 0)
		close(devnull);
	return rc == 0 && status == 0 ? "docker compose" : "docker-compose";
}

size_t stack_compose_argv(const char **argv, const char *cli)
{
	/* "docker compose" is two words: an argument vector, no shell */
	if (strcmp(cli, "docker compose") == 0) {
		argv[0] = "docker";
		argv[1] = "compose";
		return 2;
	}
	argv[0] = cli;
	return 1;
}

int stack_inspect(char **json, const char *const *ask, const char *dir, char *err)
{
	const char **argv = NULL;
	char *ps = NULL, *save = NULL;
	size_t n = 0, cap = 0;
	int ret = -1;

	*json = NULL;
	if (proc_capture(&ps, ask, dir, STACK_ASK_TIMEOUT, err) < 0)
		goto out;
	/* every container in one inspect, however many the project runs:
	 * one left out would be a service not recreated, an image not kept */
	ARRAY_GROW(argv, n + 2, cap);
	argv[n++] = "docker";
	argv[n++] = "inspect";
	for (char *id = strtok_r(ps, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
		ARRAY_GROW(argv, n + 1, cap);
		argv[n++] = id;
	}
	argv[n] = NULL;
	ret = n == 2 ? 0 : proc_capture(json, argv, dir, STACK_ASK_TIMEOUT, err);
out:
	free(argv);
	free(ps);
	return ret;
}

int stack_command(struct stack *st, const char *phase, const char *command, long timeout)
{
	char err[ERR_MAX];
	int status = 127;

	if (!command || !*command)
		return 0;
	stack_setenv(st, "AUTODEPLOY_PHASE", "%s", phase);
	struct proc_opts o = {
		.cwd = st->cwd,
		.env = (const char *const *)st->env,
		.timeout = timeout,
		.null_stdin = 1,
		.cancel = st->cancel,
		.started = record_group,
		.started_arg = st,
	};
	log_info("%s: running '%s'", phase, command);
	int rc = proc_shell(&status, command, &o, err);
	unlink(st->group_file);
	if (rc < 0) {
		log_error("%s: %s", phase, err);
		return status ? status : 127;
	}
	if (status == PROC_CANCELLED)
		log_error("%s: '%s' was ended: run-deploy was asked to stop", phase, command);
	else if (status == PROC_TIMEOUT)
		log_error("%s: '%s' did not finish within %ld s and was killed", phase, command, timeout);
	else if (status != 0)
		log_error("%s: '%s' exited %d", phase, command, status);
	return status;
}

int stack_healthcheck(struct stack *st, const char *phase)
{
	const struct settings *s = st->s;
	char health_phase[64];
	size_t plen = strlen(phase);
	int status;

	if (!s->healthcheck_command || !*s->healthcheck_command)
		return 0;
	/* "start" -> "healthcheck", "rollback-start" -> "rollback-healthcheck" */
	snprintf(health_phase, sizeof health_phase, "%.*shealthcheck",
	         plen >= 5 ? (int)(plen - 5) : 0, phase);
	double deadline = util_monotonic() + (double)s->healthcheck_timeout;
	for (int attempt = 1;; attempt++) {
		double left = deadline - util_monotonic();
		long limit = left < 1 ? 1 : (long)left;
		status = stack_command(st, health_phase, s->healthcheck_command, limit);
		if (status == 0) {
			log_info("%s: healthy after %d attempt(s)", health_phase, attempt);
			return 0;
		}
		if (st->cancel && *st->cancel)
			return -1;
		if (util_monotonic() + (double)s->healthcheck_interval > deadline) {
			log_error("%s: still unhealthy after %ld s (%d attempts)", health_phase,
			          s->healthcheck_timeout, attempt);
			return -1;
		}
		/* a signal cuts the sleep short (no SA_RESTART) */
		sleep((unsigned)s->healthcheck_interval);
		if (st->cancel && *st->cancel)
			return -1;
	}
}

void stack_test_kill(const char *point)
{
	const char *at = getenv("AUTODEPLOY_TEST_KILL_AT");
	if (at && strcmp(at, point) == 0) {
		log_warn("AUTODEPLOY_TEST_KILL_AT=%s: killing myself", point);
		util_test_kill();
	}
}
