#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "settings.h"
#include "stack.h"
#include "util.h"

void stack_init(struct stack *st, const struct settings *s)
{
	memset(st, 0, sizeof *st);
	st->s = s;
	st->cap = 16;
	st->env = xcalloc(st->cap, sizeof *st->env);
}

void stack_free(struct stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->env[i]);
	free(st->env);
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
	if (st->n + 2 > st->cap) {
		st->cap *= 2;
		st->env = xrealloc(st->env, st->cap * sizeof *st->env);
	}
	st->env[st->n++] = entry;
	st->env[st->n] = NULL;
}

int stack_command(struct stack *st, const char *phase, const char *command, long timeout)
{
	char err[ERR_MAX];
	int status = 127;

	if (!command || !*command)
		return 0;
	stack_setenv(st, "AUTODEPLOY_PHASE", "%s", phase);
	struct proc_opts o = {
		.cwd = st->s->compose_dir,
		.env = (const char *const *)st->env,
		.timeout = timeout,
		.null_stdin = 1,
	};
	log_info("%s: running '%s'", phase, command);
	if (proc_shell(&status, command, &o, err) < 0) {
		log_error("%s: %s", phase, err);
		return status ? status : 127;
	}
	if (status == PROC_TIMEOUT)
		log_error("%s: '%s' did not finish within %ld s and was killed", phase, command, timeout);
	else if (status != 0)
		log_error("%s: '%s' exited %d", phase, command, status);
	return status;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int stack_start(struct stack *st, const char *phase)
{
	const struct settings *s = st->s;
	char health_phase[64];
	size_t plen = strlen(phase);
	int status;

	if (stack_command(st, phase, s->start_command, 0) != 0)
		return -1;
	if (!s->healthcheck_command || !*s->healthcheck_command)
		return 0;
	/* "start" -> "healthcheck", "rollback-start" -> "rollback-healthcheck" */
	snprintf(health_phase, sizeof health_phase, "%.*shealthcheck",
	         plen >= 5 ? (int)(plen - 5) : 0, phase);
	double deadline = now() + (double)s->healthcheck_timeout;
	for (int attempt = 1;; attempt++) {
		double left = deadline - now();
		long limit = left < 1 ? 1 : (long)left;
		status = stack_command(st, health_phase, s->healthcheck_command, limit);
		if (status == 0) {
			log_info("%s: healthy after %d attempt(s)", health_phase, attempt);
			return 0;
		}
		if (now() + (double)s->healthcheck_interval > deadline) {
			log_error("%s: still unhealthy after %ld s (%d attempts)", health_phase,
			          s->healthcheck_timeout, attempt);
			return -1;
		}
		sleep((unsigned)s->healthcheck_interval);
	}
}
