#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static int n_tests, n_failed;

static int report(int pass, const char *fmt, va_list ap)
{
	n_tests++;
	if (!pass)
		n_failed++;
	printf("%sok %d - ", pass ? "" : "not ", n_tests);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return pass;
}

int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(cond != 0, fmt, ap);
	va_end(ap);
	return r;
}

int is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: %lld\n#  want: %lld\n", got, want);
	return r;
}

int is_str(const char *got, const char *want, const char *fmt, ...)
{
	int same = (got == NULL && want == NULL) ||
	           (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_list ap;
	va_start(ap, fmt);
	int r = report(same, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: %s%s%s\n#  want: %s%s%s\n",
		       got ? "'" : "", got ? got : "NULL", got ? "'" : "",
		       want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	return r;
}

void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

int done_testing(void)
{
	printf("1..%d\n", n_tests);
	if (n_failed)
		printf("# failed %d of %d\n", n_failed, n_tests);
	return n_failed ? 1 : 0;
}
